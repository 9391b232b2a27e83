#!/usr/bin/env bash
# liquidc against llama.cpp's llama-bench on the same GGUF files, on this
# machine, in one run, alternating the two round by round (not a test; the
# machine is shared: read the spread). llama.cpp is not part of liquidc:
# build llama-bench (and llama-quantize) yourself, outside this repository.
#
#   bench/compare-llamacpp.sh --llama-bench PATH [--llama-quantize PATH]
#       [--preset 350m] [--types "f16 q8_0 q4_0 q4_k_m"] [--rounds 3]
#       [-p 128] [-n 64] [-d 0[,4096]] [--liquid-flags "--activations=q8"] [WORK_DIR]
#
# A random checkpoint of the preset's shape (liquid-lfm2-gen, seed 1) is
# written as F16 and Q8_0 GGUFs; q4_0 / q4_k_m / ... files are made from the
# F16 one by llama-quantize. liquidc compiles each file as it is stored (auto)
# with the extra flags (--activations=q8 only for the files with integer
# blocks). Per round and file: llama-bench -p P -n N -d D -r 1 -o json, then
# the liquidc program's llama-bench mode with the same arguments
# (`--bench -p P -n N -d D -r 1 -o json`: random ids, a warm-up run per test,
# the depth evaluated untimed). Prints a markdown table per depth: tokens/s
# min-max over the rounds for prefill (ppP) and decode (tgN), and the median
# of the per-round ratios.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${LIQUID_BIN:-$root/build/bin}"
threads="${THREADS:-2}"
llama_bench="" llama_quantize="" preset=350m types="f16 q8_0 q4_0 q4_k_m" rounds=3 flags=""
np=128 ng=64 depths=0
work=/tmp/liquid-vs-llamacpp
while [ $# -gt 0 ]; do
  case "$1" in
    --llama-bench) llama_bench="$2"; shift 2 ;;
    --llama-quantize) llama_quantize="$2"; shift 2 ;;
    --preset) preset="$2"; shift 2 ;;
    --types) types="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --liquid-flags) flags="$2"; shift 2 ;;
    -p) np="$2"; shift 2 ;;
    -n) ng="$2"; shift 2 ;;
    -d) depths="$2"; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    -*) echo "compare-llamacpp.sh: unknown option $1" >&2; exit 2 ;;
    *) work="$1"; shift ;;
  esac
done
[ -x "$llama_bench" ] || { echo "compare-llamacpp.sh: --llama-bench PATH is required" >&2; exit 2; }
llama_quantize="${llama_quantize:-$(dirname "$llama_bench")/llama-quantize}"
mkdir -p "$work"
ck="$work/ckpt-$preset"
[ -f "$ck/model-f16.gguf" ] || "$bin/liquid-lfm2-gen" --preset "$preset" --gguf f16 --out "$ck" --seed 1 --quiet
maxd=$(echo "$depths" | tr , '\n' | sort -n | tail -1)
ctx=$((maxd + (np > ng ? np : ng)))
for t in $types; do
  f="$ck/model-$t.gguf"
  if [ ! -f "$f" ]; then
    case "$t" in
      f16) ;;
      q8_0) tmp="$work/gen-q8"; "$bin/liquid-lfm2-gen" --preset "$preset" --gguf q8_0 --out "$tmp" --seed 1 --quiet
            mv "$tmp/model-q8_0.gguf" "$f" ;;
      *) [ -x "$llama_quantize" ] || { echo "compare-llamacpp.sh: $t needs llama-quantize" >&2; exit 2; }
         "$llama_quantize" "$ck/model-f16.gguf" "$f" "$(echo "$t" | tr a-z A-Z)" > "$work/quantize-$t.log" 2>&1 ;;
    esac
  fi
  tflags="$flags"
  case "$t" in f16|f32|bf16) tflags="${flags//--activations=q8/}" ;; esac # (float weights)
  # shellcheck disable=SC2086
  "$bin/liquidc" "$f" -o "$work/lm-$preset-$t" --max-context "$ctx" --max-rows 128 $tflags
done
results="$work/results.txt"
: > "$results"
# this machine's memory bandwidth (STREAM-style triad), to read decode against
cc -O2 -march=native -pthread "$root/bench/machine_peak.c" -o "$work/machine_peak"
peak=$("$work/machine_peak" --threads "$threads")
echo "machine: $peak"
for r in $(seq "$rounds"); do
  for t in $types; do
    for who in llama liquid; do
      if [ $who = llama ]; then
        "$llama_bench" -m "$ck/model-$t.gguf" -p "$np" -n "$ng" -d "$depths" -t "$threads" -r 1 -o json 2>/dev/null
      else
        "$work/lm-$preset-$t" --bench -p "$np" -n "$ng" -d "$depths" -t "$threads" -r 1 -o json
      fi | python3 -c 'import json,sys
for e in json.load(sys.stdin):
    kind = "pp" if e["n_prompt"] else "tg"
    print("'"$t"'", "'"$who"'", kind, e.get("n_depth", 0), e["avg_ts"], e.get("weights_gbs", 0))' >> "$results"
    done
  done
done
python3 - "$results" "$rounds" "$threads" "$preset" "$flags" "$np" "$ng" "$peak" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
rounds, threads, preset, flags, np_, ng = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7]
triad = float(dict(kv.split("=") for kv in sys.argv[8].split())["triad_gbs_all"])
types = list(dict.fromkeys(r[0] for r in rows))
depths = list(dict.fromkeys(r[3] for r in rows))
def vals(t, who, kind, d):
    return [float(r[4]) for r in rows if r[0] == t and r[1] == who and r[2] == kind and r[3] == d]
print(f"{preset} shape, {threads} threads, {rounds} alternating rounds; liquidc {flags or '(defaults)'}")
for d in depths:
    at = "" if d == "0" else f" @ d{d}"
    print(f"| file | llama.cpp pp{np_}{at} | liquidc | ratio | llama.cpp tg{ng}{at} | liquidc | ratio | liquidc GB/s (of triad) |")
    print("|---|---|---|---|---|---|---|---|")
    for t in types:
        cells = [t]
        for kind in ("pp", "tg"):
            l, q = vals(t, "llama", kind, d), vals(t, "liquid", kind, d)
            if not l or not q:  # -p 0 or -n 0
                cells += ["-", "-", "-"]
                continue
            ratio = statistics.median(b / a for a, b in zip(l, q))
            cells += [f"{min(l):.0f}-{max(l):.0f}", f"{min(q):.0f}-{max(q):.0f}", f"{ratio:.2f}x"]
        gbs = [float(r[5]) for r in rows if r[0] == t and r[1] == "liquid" and r[2] == "tg" and r[3] == d]
        cells.append(f"{max(gbs):.1f} ({100 * max(gbs) / triad:.0f}%)" if gbs else "-")
        print("| " + " | ".join(cells) + " |")
EOF
