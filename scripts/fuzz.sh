#!/usr/bin/env bash
# Builds the libFuzzer harnesses (test/fuzz, ASan + UBSan, in build-fuzz/),
# makes their seed corpora, replays the kept regression inputs
# (test/fuzz/regressions/HARNESS/), then fuzzes each harness.
#   scripts/fuzz.sh                      # every harness, 60 s each
#   scripts/fuzz.sh --seconds 600 gguf   # one harness, 10 minutes
#   scripts/fuzz.sh --runs 1000000       # stop each at 10^6 executions
#   scripts/fuzz.sh --replay-only        # build, replay the regressions, no fuzzing
#   scripts/fuzz.sh --no-build npy lqw   # use the harnesses and seeds already built
# A crash leaves its input in build-fuzz/findings/HARNESS/; copy it to
# test/fuzz/regressions/HARNESS/ with the fix. Exit 1 on any finding.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds=60 runs=-1 replay_only=0 build_it=1 harnesses=()
all=(safetensors gguf hf-checkpoint tokenizer tokenizer-image ncps npy lqw mlir)
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --replay-only) replay_only=1; shift ;;
    --no-build) build_it=0; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) harnesses+=("$1"); shift ;;
  esac
done
[ ${#harnesses[@]} -gt 0 ] || harnesses=("${all[@]}")
for h in "${harnesses[@]}"; do
  [[ " ${all[*]} " == *" $h "* ]] || { echo "fuzz.sh: no harness '$h' (have: ${all[*]})" >&2; exit 2; }
done

build="${LIQUID_FUZZ_BUILD_DIR:-$root/build-fuzz}"
fixtures="${LIQUID_FIXTURES_DIR:-$root/../shared/fixtures}"
if [ "$build_it" = 1 ]; then
  LIQUID_BUILD_DIR="$build" "$root/scripts/configure.sh" -DLIQUID_FUZZ=ON >/dev/null
  cmake --build "$build" --target liquid-fuzzers
  echo "== seeds"
  /usr/bin/python3 "$root/test/fuzz/make_seeds.py" --out "$build/seeds" --fixtures "$fixtures" \
    --lfm2-gen "$build/bin/liquid-lfm2-gen" --tokenize "$build/bin/liquid-tokenize"
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
for h in "${harnesses[@]}"; do
  bin="$build/bin/liquid-fuzz-$h"
  regress="$root/test/fuzz/regressions/$h"
  if [ -d "$regress" ] && [ -n "$(ls -A "$regress")" ]; then
    echo "== $h: replaying $(ls "$regress" | wc -l) regression inputs"
    ASAN_OPTIONS="$ASAN_OPTIONS$([ "$h" = mlir ] && echo :allow_user_poisoning=0)" \
      "$bin" -rss_limit_mb=4096 -timeout=10 "$regress"/* >"$build/replay-$h.log" 2>&1 ||
      { echo "FAIL $h: a regression input fails again (see $build/replay-$h.log)"; status=1; }
  fi
  [ "$replay_only" = 1 ] && continue
  corpus="$build/corpus/$h" findings="$build/findings/$h"
  mkdir -p "$corpus" "$findings"
  dict="$root/test/fuzz/$(case $h in safetensors|hf-checkpoint|tokenizer|ncps) echo json ;;
                                      gguf) echo gguf ;; npy) echo npy ;; lqw) echo lqw ;;
                                      mlir) echo mlir ;; *) echo none ;; esac).dict"
  dictarg=() ; [ -f "$dict" ] && dictarg=(-dict="$dict")
  # The prebuilt MLIR libraries are not instrumented; LLVM's allocators poison
  # memory from the instrumented inline code only, so that poisoning is off.
  hopts=$ASAN_OPTIONS; [ "$h" = mlir ] && hopts="$hopts:allow_user_poisoning=0"
  echo "== $h: fuzzing (at most ${seconds} s$([ "$runs" = -1 ] || echo ", $runs runs"))"
  log="$build/fuzz-$h.log"
  if ASAN_OPTIONS="$hopts" "$bin" "$corpus" "$build/seeds/$h" "${dictarg[@]}" -max_total_time="$seconds" -runs="$runs" \
       -max_len=131072 -rss_limit_mb=4096 -timeout=30 -artifact_prefix="$findings/" \
       -print_final_stats=1 >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    echo "   ok: ${execs:-?} executions (${rate:-?}/s), ${cov:-cov: ?}, corpus $(ls "$corpus" | wc -l)"
  else
    echo "FAIL $h: finding in $findings (log $log):"
    grep -m 3 -E 'ERROR|runtime error|liquid-fuzz:' "$log" | sed 's/^/   /'
    status=1
  fi
done
exit $status
