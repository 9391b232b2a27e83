#!/usr/bin/env bash
# Compiles the example CfC with liquidc into a static library + header, links
# main.c against it and runs it. Also builds the standalone executable.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
liquidc="${LIQUIDC:-$root/build/bin/liquidc}"
out="${OUT_DIR:-$root/build/examples/oscillator}"
mkdir -p "$out"
"$liquidc" "$here/oscillator.json" --emit=lib -o "$out/liboscillator.a" --print-memory-plan
cc -O2 -I "$out" "$here/main.c" "$out/liboscillator.a" -lm -o "$out/oscillator-demo"
"$liquidc" "$here/oscillator.json" -o "$out/oscillator"
echo "built $out/oscillator (try: $out/oscillator --help)"
"$out/oscillator-demo"
