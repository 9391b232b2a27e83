#!/usr/bin/env bash
# Compiles the oscillator CfC for a microcontroller (default cortex-m55; or
# TARGET=cortex-m4f / rv32imafc) into a freestanding library + header, links
# main.c into a bare-metal program (gcc + picolibc, semihosting) and runs it
# under qemu-system with liquid-mcu-run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${LIQUIDC_BIN:-$root/build/bin}"
out="${OUT_DIR:-$root/build/examples/mcu}"
target="${TARGET:-cortex-m55}"
mkdir -p "$out"
"$bin/liquidc" "$root/examples/oscillator/oscillator.json" --target="$target" --emit=lib \
  -o "$out/liboscillator.a"
# the target's compiler and flags (its C library, semihosting, the board's
# flash and RAM), from liquidc's target registry, and the board qemu emulates
read -r -a cc <<< "$("$bin/liquidc" --print-link-flags --target="$target")"
case $target in
  cortex-m4f) board=mps2-an386 ;;
  cortex-m55) board=mps3-an547 ;;
  rv32imafc) board=riscv32-virt ;;
  *) echo "run.sh: TARGET must be cortex-m4f, cortex-m55 or rv32imafc" >&2; exit 2 ;;
esac
"${cc[@]}" -O2 -I "$out" "$here/main.c" "$out/liboscillator.a" -lm -o "$out/oscillator.elf"
"$bin/liquid-mcu-run" "$board" "$out/oscillator.elf"
