#!/usr/bin/env bash
# Self-contained tests of the liquidc C runtime (runtime/); liquidc not needed.
#
# usage: [CC=cc] [CFLAGS=...] [PYTHON=python3] test/runtime/run_runtime_tests.sh BUILD_DIR
#   CC      C compiler (default cc); may include arguments
#   CFLAGS  extra flags (default -O2), e.g. "-fsanitize=address,undefined -g"
#   PYTHON  a python3 with numpy (default: the first of python3, /usr/bin/python3
#           that can import numpy)
# Builds into BUILD_DIR, prints one line per check and a summary
# "runtime: N passed, M failed"; exits 0 iff every check passed.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export CC="${CC:-cc}"

py="${PYTHON:-}"
if [ -z "$py" ]; then
  for cand in python3 /usr/bin/python3 /usr/local/bin/python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import numpy' >/dev/null 2>&1; then
      py="$cand"
      break
    fi
  done
fi
if [ -z "$py" ]; then
  echo "runtime: error: no python3 with numpy found (set PYTHON)" >&2
  echo "runtime: 0 passed, 1 failed"
  exit 1
fi

exec "$py" "$here/runtime_tests.py" "$1"
