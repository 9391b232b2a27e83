#!/usr/bin/env bash
# LFM2-350M-shaped benchmark (random weights; not a test): prefill of a
# 128-token prompt and 64 decoded tokens at 2 threads, for F32 and F16
# weights, with GFLOP/s (prefill), GB/s of weights (decode) and peak RSS.
# The machine is a shared VM: run it twice and read the better numbers.
#   bench/bench_lfm2.sh [WORK_DIR]      (needs ~6 GB of disk)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${LIQUID_BIN:-$root/build/bin}"
work="${1:-/tmp/liquid-bench-lfm2}"
threads="${THREADS:-2}"
mkdir -p "$work"
if [ ! -f "$work/ckpt/model-f16.gguf" ]; then
  "$bin/liquid-lfm2-gen" --preset 350m --out "$work/ckpt" --seed 1 --gguf f16 --quiet
fi
prompt=$(seq -s, 100 227)
for kind in f32:ckpt f16:ckpt/model-f16.gguf; do
  name=${kind%%:*}
  src=$work/${kind#*:}
  "$bin/liquidc" "$src" -o "$work/lm-$name" --max-context 512 --max-rows 128
  echo "== LFM2-350M shape, $name weights"
  "$work/lm-$name" --prompt-ids "$prompt" --n-predict 65 --threads "$threads" --bench >/dev/null
done
