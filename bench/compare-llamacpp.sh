#!/usr/bin/env bash
# liquidc against llama.cpp's llama-bench on the same GGUF files, on this
# machine, in one run, alternating the two round by round (not a test; the
# machine is shared: read the spread). llama.cpp is not part of liquidc:
# build llama-bench (and llama-quantize) yourself, outside this repository.
#
#   bench/compare-llamacpp.sh --llama-bench PATH [--llama-quantize PATH]
#       [--preset 350m] [--types "f16 q8_0 q4_0 q4_k_m"] [--rounds 3]
#       [--liquid-flags "--activations=q8"] [WORK_DIR]
#
# A random checkpoint of the preset's shape (liquid-lfm2-gen, seed 1) is
# written as F16 and Q8_0 GGUFs; q4_0 / q4_k_m / ... files are made from the
# F16 one by llama-quantize. liquidc compiles each file as it is stored (auto)
# with the extra flags (--activations=q8 only for the files with integer
# blocks). Per round and file: llama-bench -p 128 -n 64 -r 1,
# then the liquidc program (--bench, the same 128-token prompt, 64 decoded
# tokens). Prints a markdown table: tokens/s min-max over the rounds for
# prefill (pp128) and decode (tg64), and the median of the per-round ratios.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${LIQUID_BIN:-$root/build/bin}"
threads="${THREADS:-2}"
llama_bench="" llama_quantize="" preset=350m types="f16 q8_0 q4_0 q4_k_m" rounds=3 flags=""
work=/tmp/liquid-vs-llamacpp
while [ $# -gt 0 ]; do
  case "$1" in
    --llama-bench) llama_bench="$2"; shift 2 ;;
    --llama-quantize) llama_quantize="$2"; shift 2 ;;
    --preset) preset="$2"; shift 2 ;;
    --types) types="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --liquid-flags) flags="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) echo "compare-llamacpp.sh: unknown option $1" >&2; exit 2 ;;
    *) work="$1"; shift ;;
  esac
done
[ -x "$llama_bench" ] || { echo "compare-llamacpp.sh: --llama-bench PATH is required" >&2; exit 2; }
llama_quantize="${llama_quantize:-$(dirname "$llama_bench")/llama-quantize}"
mkdir -p "$work"
ck="$work/ckpt-$preset"
[ -f "$ck/model-f16.gguf" ] || "$bin/liquid-lfm2-gen" --preset "$preset" --gguf f16 --out "$ck" --seed 1 --quiet
prompt=$(seq -s, 100 227)
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
  "$bin/liquidc" "$f" -o "$work/lm-$preset-$t" --max-context 512 --max-rows 128 $tflags
done
results="$work/results.txt"
: > "$results"
for r in $(seq "$rounds"); do
  for t in $types; do
    "$llama_bench" -m "$ck/model-$t.gguf" -p 128 -n 64 -t "$threads" -r 1 -o json 2>/dev/null |
      python3 -c 'import json,sys
for e in json.load(sys.stdin):
    kind = "pp" if e["n_prompt"] else "tg"
    print("'"$t"'", "llama", kind, e["avg_ts"])' >> "$results"
    "$work/lm-$preset-$t" --prompt-ids "$prompt" --n-predict 65 --threads "$threads" --bench 2>&1 >/dev/null |
      python3 -c 'import re,sys
s = sys.stdin.read()
pp = re.search(r"prefill \d+ tokens: [\d.]+ s, ([\d.]+) tok/s", s)
tg = re.search(r"decode \d+ tokens: [\d.]+ s, ([\d.]+) tok/s", s)
print("'"$t"'", "liquid", "pp", pp.group(1)); print("'"$t"'", "liquid", "tg", tg.group(1))' >> "$results"
  done
done
python3 - "$results" "$rounds" "$threads" "$preset" "$flags" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
rounds, threads, preset, flags = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
types = list(dict.fromkeys(r[0] for r in rows))
def vals(t, who, kind):
    return [float(r[3]) for r in rows if r[0] == t and r[1] == who and r[2] == kind]
print(f"{preset} shape, {threads} threads, {rounds} alternating rounds; liquidc {flags or '(defaults)'}")
print("| file | llama.cpp pp128 | liquidc pp128 | ratio | llama.cpp tg64 | liquidc tg64 | ratio |")
print("|---|---|---|---|---|---|---|")
for t in types:
    cells = [t]
    for kind in ("pp", "tg"):
        l, q = vals(t, "llama", kind), vals(t, "liquid", kind)
        ratio = statistics.median(b / a for a, b in zip(l, q))
        cells += [f"{min(l):.0f}-{max(l):.0f}", f"{min(q):.0f}-{max(q):.0f}", f"{ratio:.2f}x"]
    print("| " + " | ".join(cells) + " |")
EOF
