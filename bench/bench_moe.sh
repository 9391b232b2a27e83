#!/usr/bin/env bash
# LFM2-MoE benchmark (random weights; not a test): the moe-mid shape (hidden
# 1024, 16 layers, attention as LFM2-350M, 16 experts top-4, expert width 512,
# first 2 layers dense) beside a dense model of the same active feed-forward
# width (ffn 2048 = 4 x 512), F32 weights, prefill of a 128-token prompt and
# 64 decoded tokens at 2 threads. Prints each model's memory plan (expert
# bytes read per token) and the --bench report (tok/s, GFLOP/s, GB/s), then
# the weight bytes one token's forward pass actually touched.
# The machine is a shared VM: run it twice and read the better numbers.
#   bench/bench_moe.sh [WORK_DIR]      (needs ~4 GB of disk)
. "$(dirname "$0")/common.sh" /tmp/liquid-bench-moe "$@"
checkpoint "$work/moe" config.json --preset moe-mid --gguf none
checkpoint "$work/dense" config.json --preset 350m --ffn 2048 --gguf none
for name in moe dense; do
  echo "== $name"
  "$bin/liquidc" "$work/$name" -o "$work/lm-$name" --max-context 512 --max-rows 128 \
    --print-memory-plan | grep -E "experts|arena"
  "$work/lm-$name" --prompt-ids "$prompt" --n-predict 65 --threads "$threads" --bench >/dev/null
done
# Weight bytes one token touches, measured: one forward pass from a cold page
# cache (dropping it needs root; otherwise large page-cache folios overcount).
if [ "$(id -u)" = 0 ]; then
  for name in moe dense; do
    sync && echo 1 >/proc/sys/vm/drop_caches
    echo "== $name, one token from a cold page cache"
    "$work/lm-$name" --prompt-ids 100 --n-predict 1 --bench 2>&1 >/dev/null | grep '^weights:'
  done
fi
