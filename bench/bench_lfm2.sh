#!/usr/bin/env bash
# LFM2-350M-shaped benchmark (random weights; not a test): prefill of a
# 128-token prompt and 64 decoded tokens at 2 threads, for F32 and F16
# weights, with GFLOP/s (prefill), GB/s of weights (decode) and peak RSS.
# The machine is a shared VM: run it twice and read the better numbers.
#   bench/bench_lfm2.sh [WORK_DIR]      (needs ~6 GB of disk)
. "$(dirname "$0")/common.sh" /tmp/liquid-bench-lfm2 "$@"
checkpoint "$work/ckpt" model-f16.gguf --preset 350m --gguf f16
for kind in f32:ckpt f16:ckpt/model-f16.gguf; do
  name=${kind%%:*}
  src=$work/${kind#*:}
  "$bin/liquidc" "$src" -o "$work/lm-$name" --max-context 512 --max-rows 128
  echo "== LFM2-350M shape, $name weights"
  "$work/lm-$name" --prompt-ids "$prompt" --n-predict 65 --threads "$threads" --bench >/dev/null
done
