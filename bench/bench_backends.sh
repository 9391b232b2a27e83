#!/usr/bin/env bash
# LLVM-backend vs Halide-backend kernels on the LFM2-350M shape (random
# weights; not a test), in one run: F32 (HF), F16 (GGUF) and int8
# (--quantize=q8) weights, prefill of a 128-token prompt and 64 decoded tokens
# at 2 threads, alternating the two backends. Also writes the product list
# and the Halide kernels' dumps (statement, assembly, schedule, cost) to
# WORK_DIR/kernels-<weights>/. Then the kernel-level breakdown: F32 and int8
# builds with --halide-profile (Halide's sampling profiler) run the same
# prompt, and bench/kernel_breakdown.py joins the report with the dumps.
# The machine is a shared VM: run it twice and read the better numbers.
#   bench/bench_backends.sh [WORK_DIR]      (needs ~8 GB of disk)
. "$(dirname "$0")/common.sh" /tmp/liquid-bench-lfm2 "$@"
checkpoint "$work/ckpt" model-f16.gguf --preset 350m --gguf f16
for kind in f32:ckpt: f16:ckpt/model-f16.gguf: q8:ckpt:--quantize=q8; do
  IFS=: read -r name src extra <<<"$kind"
  for be in llvm halide; do
    dump=()
    [ "$be" = halide ] && dump=(--dump-kernels "$work/kernels-$name")
    "$bin/liquidc" "$work/$src" -o "$work/lm-$name-$be" --max-context 512 --max-rows 128 \
      --backend "$be" ${extra:+"$extra"} "${dump[@]}"
  done
done
for round in 1 2; do
  for name in f32 f16 q8; do
    for be in llvm halide; do
      printf '%-4s %-7s ' "$name" "$be"
      "$work/lm-$name-$be" --prompt-ids "$prompt" --n-predict 65 --threads "$threads" --bench \
        2>&1 >/dev/null | grep '^threads'
    done
  done
done
for name in f32 q8; do
  extra=""
  [ "$name" = q8 ] && extra=--quantize=q8
  "$bin/liquidc" "$work/ckpt" -o "$work/lm-$name-profile" --max-context 512 --max-rows 128 \
    --backend halide --halide-profile --dump-kernels "$work/kernels-$name-profile" ${extra:+"$extra"}
  "$work/lm-$name-profile" --prompt-ids "$prompt" --n-predict 65 --threads "$threads" \
    >/dev/null 2>"$work/profile-$name.txt"
  echo "== kernel breakdown, $name weights (prefill 128 + decode 64 tokens, $threads threads)"
  python3 "$root/bench/kernel_breakdown.py" "$work/profile-$name.txt" "$work/kernels-$name-profile" \
    --tokens 192 --head-rows 65 --threads "$threads" | sed -n '1,12p;/^by kind/,$p'
done
