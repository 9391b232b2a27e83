#!/usr/bin/python3
"""The bad-input corpus: malformed checkpoints, specs, flags, paths and
runtime inputs given to liquidc and to the programs it builds.

Each case runs in a folder of its own holding only the files the case
writes, with TMPDIR an empty folder inside it, under a time limit and (when
not under a sanitizer) an address-space limit, and must:
  - exit with a status of 1 or 2 (not a signal, not 0);
  - print exactly one line on stderr, matching the case's pattern (which
    names the file, tensor, field or flag at fault), with no crash banner
    ("Stack dump", "LLVM ERROR", "Sanitizer") and no raw control
    characters (a checkpoint's strings are escaped);
  - leave the folder as it found it: no output, no temporary file, no
    temporary folder, every input unchanged.

  bad_inputs.py --liquidc PATH --fixtures DIR --work DIR [--only SUBSTR]
                [--no-limits]

Prints one PASS/FAIL line a case, then `bad inputs: N passed, M failed`.
"""
import argparse
import hashlib
import os
import re
import resource
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cases import all_cases  # noqa: E402

CRASH = re.compile(r"Stack dump|LLVM ERROR|Sanitizer|runtime error:|Segmentation|Aborted|terminate called")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # ESC, BEL, ...: a checkpoint's strings escaped
TIME_LIMIT = 60
MEMORY_LIMIT = 8 << 30


def snapshot(folder):
    """{relative path: sha256} of every file under `folder` (links by target)."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            p = os.path.join(root, name)
            rel = os.path.relpath(p, folder)
            if os.path.islink(p):
                out[rel] = "link:" + os.readlink(p)
            elif os.path.isfile(p):
                with open(p, "rb") as f:
                    out[rel] = hashlib.sha256(f.read()).hexdigest()
            else:
                out[rel] = "special"
        for d in dirs:
            rel = os.path.relpath(os.path.join(root, d), folder)
            out.setdefault(rel + "/", "dir")
    return out


def limits(no_limits):
    def apply():
        if not no_limits:
            resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def run_case(case, tools, work, no_limits):
    folder = os.path.join(work, case.name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    case.setup(folder)
    tmp = os.path.join(folder, "tmp")
    os.makedirs(tmp, exist_ok=True)
    before = snapshot(folder)
    argv = [tools.get(a, a) for a in case.argv]
    env = dict(os.environ, TMPDIR=tmp)
    t0 = time.monotonic()
    try:
        r = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True,
                           errors="replace", timeout=TIME_LIMIT, preexec_fn=limits(no_limits),
                           stdin=subprocess.DEVNULL)
        rc, err = r.returncode, r.stderr
    except subprocess.TimeoutExpired:
        return f"took more than {TIME_LIMIT} s"
    dt = time.monotonic() - t0
    lines = [l for l in err.splitlines() if l.strip()]
    after = snapshot(folder)
    problems = []
    if rc not in (1, 2):
        problems.append(f"exit status {rc}")
    if CRASH.search(err):
        problems.append("a crash report")
    if CONTROL.search(err):
        problems.append("raw control characters on the terminal")
    if len(lines) != 1:
        problems.append(f"{len(lines)} lines on stderr")
    elif not re.search(case.want, lines[0]):
        problems.append(f"the line does not match /{case.want}/")
    if after != before:
        added = sorted(set(after) - set(before))
        changed = sorted(k for k in before if k in after and after[k] != before[k])
        removed = sorted(set(before) - set(after))
        problems.append(f"files changed (added {added}, changed {changed}, removed {removed})")
    if problems:
        return "; ".join(problems) + f" | stderr: {err.strip()[:400]!r}"
    shutil.rmtree(folder, ignore_errors=True)
    case.line = lines[0]
    return None if dt < TIME_LIMIT else f"took {dt:.0f} s"


def build_programs(liquidc, fixtures, work):
    """The cell and language-model programs the runtime cases feed."""
    progs = os.path.join(work, "programs")
    os.makedirs(progs, exist_ok=True)
    cell = os.path.join(progs, "cell")
    lm = os.path.join(progs, "lm")
    spec = os.path.join(fixtures, "ncps", "cfc_fc32_4.json")
    for cmd in ([liquidc, spec, "--emit=exe", "-o", cell],
                [liquidc, spec, "--emit=exe", "-o", cell + "-lqw", "--embed-weights=false"],
                [liquidc, os.path.join(fixtures, "lfm2-small", "hf"), "-o", lm, "--max-context", "64",
                 "--max-rows", "4"]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            sys.exit(f"bad_inputs: cannot build a program: {' '.join(cmd)}: {r.stderr.strip()}")
    return {"CELL": cell, "CELL_LQW": cell + "-lqw", "LM": lm}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--liquidc", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--only", default="", help="run the cases whose name contains this")
    ap.add_argument("--no-limits", action="store_true",
                    help="no address-space limit (sanitizer builds reserve terabytes)")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each passing case's line")
    a = ap.parse_args()
    cases = [c for c in all_cases(a.fixtures) if a.only in c.name]
    if a.list:
        print("\n".join(f"{c.name}: {' '.join(c.argv)}" for c in cases))
        return 0
    names = [c.name for c in cases]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        sys.exit(f"bad_inputs: duplicate case names {sorted(dup)}")
    work = os.path.abspath(a.work)
    os.makedirs(work, exist_ok=True)
    tools = {"LIQUIDC": os.path.abspath(shutil.which(a.liquidc) or a.liquidc)}
    tools.update(build_programs(tools["LIQUIDC"], a.fixtures, work))
    os.environ["BAD_INPUTS_PROGRAMS"] = os.path.join(work, "programs")
    failed = 0
    for c in cases:
        why = run_case(c, tools, work, a.no_limits)
        shown = f": {why}" if why else (f"  [{c.line}]" if a.verbose else "")
        print(f"{'FAIL' if why else 'PASS'} {c.name}{shown}", flush=True)
        failed += bool(why)
    print(f"bad inputs: {len(cases) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
