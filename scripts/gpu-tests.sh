#!/usr/bin/env bash
# End-to-end tests of the CUDA targets on a machine with an NVIDIA GPU: the
# fixtures' LFM2 checkpoints compiled with --target=cuda-sm80 or cuda-sm90
# (chosen from the GPU's compute capability, or $LIQUID_CUDA_TARGET) and run
# against llama.cpp's goldens with the CPU tolerances: lfm2-small F32 (prefill
# and decode, 2 threads, 6 rows a call), its F16 GGUF, int8 weights, and
# lfm2moe-small. Without a GPU it says so and exits 0 without running
# anything: the PTX is still checked by ptxas in the lit suite
# (test/liquidc/cuda-ptxas.test), and the kernels' C entry points on the CPU
# (test/e2e/cuda-entry-points.test).
#   scripts/gpu-tests.sh [BUILD_DIR]      (default: build)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
fixtures="${LIQUID_FIXTURES_DIR:-$root/../shared/fixtures}"
python="${LIQUID_PYTHON:-python3}"

if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
  echo "gpu-tests: SKIPPED: no NVIDIA GPU here (nvidia-smi lists none); nothing was run"
  exit 0
fi
if [ ! -d "$fixtures/lfm2-small" ]; then
  echo "gpu-tests: error: no fixtures at $fixtures (set LIQUID_FIXTURES_DIR)" >&2
  exit 1
fi
cap="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d ' .')"
target="${LIQUID_CUDA_TARGET:-}"
if [ -z "$target" ]; then
  if [ "$cap" -ge 90 ]; then target=cuda-sm90; elif [ "$cap" -ge 80 ]; then target=cuda-sm80; else
    echo "gpu-tests: error: compute capability $cap is below 8.0 (liquidc targets sm_80 and sm_90)" >&2
    exit 1
  fi
fi
echo "gpu-tests: $(nvidia-smi -L | head -1); target $target"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
e2e=("$python" "$root/test/e2e_helpers/lfm2_e2e.py" --liquidc "$build/bin/liquidc" --target "$target")
failed=0
check() {
  local name="$1"; shift
  if "${e2e[@]}" "$@" --out "$work/$name" | tee "$work/$name.log" && ! grep -q '^FAIL' "$work/$name.log"; then
    echo "gpu-tests: $name passed"
  else
    echo "gpu-tests: $name FAILED"
    failed=$((failed + 1))
  fi
}
check f32 --fixture "$fixtures/lfm2-small" --checkpoint hf --threads 2 --max-rows 6
check f16 --fixture "$fixtures/lfm2-small" --checkpoint lfm2-small-f16.gguf \
  --golden logits_llamacpp_f16gguf --argmax-against none --tol 5e-2 --no-decode
check q8 --fixture "$fixtures/lfm2-small" --checkpoint hf --quantize q8 --tol 0.3 \
  --argmax-against none --no-decode
check moe --fixture "$fixtures/lfm2moe-small" --checkpoint hf
echo "gpu-tests: $failed failed"
[ "$failed" -eq 0 ]
