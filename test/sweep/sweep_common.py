"""What the two differential sweeps (lm_sweep.py, cell_sweep.py) share: the
CPU target paths and how their programs run here, the emulator crashes that
are known bugs, and running one command."""
import os
import shutil
import subprocess
import time

QEMU_A64 = ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"]
QEMU_RV = ["qemu-riscv64", "-L", "/usr/riscv64-linux-gnu"]
QEMU_RVV = ["qemu-riscv64", "-cpu", "rv64,v=true,vlen=128", "-L", "/usr/riscv64-linux-gnu"]

# name -> liquidc options, the host CPU flag a native run needs, the qemu
# runner and cross C compiler of a cross target (last in each sweep's PATHS)
TARGET_PATHS = {
    "x86-64-v2": dict(args=["--target=x86-64-v2"]),
    "x86-64-v3": dict(args=["--target=x86-64-v3"], needs="avx2"),
    "x86-64-v4": dict(args=["--target=x86-64-v4"], needs="avx512f"),
    "aarch64": dict(args=["--target=aarch64-linux"], runner=QEMU_A64, cc="aarch64-linux-gnu-gcc"),
    "riscv64": dict(args=["--target=riscv64-linux"], runner=QEMU_RV, cc="riscv64-linux-gnu-gcc"),
    "riscv64-rvv": dict(args=["--target=riscv64-rvv"], runner=QEMU_RVV, cc="riscv64-linux-gnu-gcc"),
}

# runner crashes that are emulator bugs, not the program's: named in the cause (still a FAIL)
KNOWN_RUNNER_BUGS = {"decode_save_opc: Assertion": "QEMU 7.x bug (gitlab qemu issue #1441, fixed in 8.x): translating a "
                     "vector vf[n]cvt.rtz.* instruction asserts; the RVV code is valid"}


def known_runner_bug(log):
    """' [what it is]' for each known emulator bug `log` shows, else ''."""
    return "".join(f" [{hint}]" for pattern, hint in KNOWN_RUNNER_BUGS.items() if pattern in log)


def unavailable(spec):
    """Why this machine cannot run a path's programs (a missing CPU flag,
    emulator or cross compiler), or None."""
    flags = set()
    if os.path.exists("/proc/cpuinfo"):
        flags = {f for line in open("/proc/cpuinfo") if line.startswith("flags") for f in line.split()}
    if spec.get("needs") and spec["needs"] not in flags:
        return spec["needs"]
    missing = [t for t in spec.get("runner", [])[:1] + [spec.get("cc", "cc")] + spec.get("tools", [])
               if not shutil.which(t)]
    return " / ".join(missing) or None


def run(cmd, timeout):
    """(exit status, stdout, stderr, seconds); 124 on timeout."""
    t0 = time.time()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr, time.time() - t0
    except subprocess.TimeoutExpired:
        return 124, "", f"timeout after {timeout}s", time.time() - t0


def last_line(s):
    lines = [x for x in s.strip().splitlines() if x.strip()]
    return lines[-1][:300] if lines else ""
