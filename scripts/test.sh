#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite (lit: dialect, passes, liquidc,
# end to end against ../shared/fixtures; GoogleTest units; runtime checks).
#   scripts/test.sh               # build/ ; fixtures skipped (loudly) when absent
#   CI=true scripts/test.sh       # fixtures required
#   LIQUID_SANITIZE=1 scripts/test.sh   # ASan+UBSan build in build-asan/
#   LIQUID_FUZZ_SECONDS=N scripts/test.sh   # then fuzz each harness N s (CI: 10)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh"
args=()
if [ "${CI:-}" = "true" ]; then args+=(-DLIQUID_REQUIRE_FIXTURES=ON); fi
if [ "${LIQUID_SANITIZE:-0}" = "1" ]; then
  export LIQUID_BUILD_DIR="${LIQUID_BUILD_DIR:-$root/build-asan}"
  export LIQUID_BUILD_TYPE=RelWithDebInfo
  args+=(-DLIQUID_ENABLE_SANITIZERS=ON)
fi
build="${LIQUID_BUILD_DIR:-$root/build}"
"$root/scripts/configure.sh" "${args[@]}" >/dev/null
cmake --build "$build"
(cd "$build" && ctest --output-on-failure)
# The libFuzzer harnesses (their own ASan+UBSan build tree, build-fuzz/):
# the kept regression inputs replayed, then a bounded run of each.
fuzz_seconds="${LIQUID_FUZZ_SECONDS:-}"
if [ -z "$fuzz_seconds" ] && [ "${CI:-}" = "true" ]; then fuzz_seconds=10; fi
if [ -n "$fuzz_seconds" ] && [ "$fuzz_seconds" != 0 ]; then
  "$root/scripts/fuzz.sh" --seconds "$fuzz_seconds"
fi
