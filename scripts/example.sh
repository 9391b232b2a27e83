#!/usr/bin/env bash
# Sets up, builds liquidc, compiles the bundled example model and runs it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh"
"$root/scripts/configure.sh" >/dev/null
cmake --build "${LIQUID_BUILD_DIR:-$root/build}" --target liquidc
exec "$root/examples/oscillator/run.sh"
