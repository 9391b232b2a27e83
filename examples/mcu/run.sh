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
# the target's compiler and flags, and where the board keeps flash and RAM
case $target in
  cortex-m4f) cc=(arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16)
    mem=(__flash=0x0 __flash_size=0x400000 __ram=0x20000000 __ram_size=0x400000) board=mps2-an386 ;;
  cortex-m55) cc=(arm-none-eabi-gcc -mcpu=cortex-m55 -mthumb -mfloat-abi=hard)
    mem=(__flash=0x0 __flash_size=0x80000 __ram=0x21000000 __ram_size=0x200000) board=mps3-an547 ;;
  rv32imafc) cc=(riscv64-unknown-elf-gcc -march=rv32imafc -mabi=ilp32f -mcmodel=medany)
    mem=(__flash=0x80000000 __flash_size=0x400000 __ram=0x80400000 __ram_size=0x400000) board=riscv32-virt ;;
  *) echo "run.sh: TARGET must be cortex-m4f, cortex-m55 or rv32imafc" >&2; exit 2 ;;
esac
"${cc[@]}" -O2 --specs=picolibc.specs --oslib=semihost --crt0=semihost -Wl,--gc-sections -Wl,--no-warn-execstack \
  "${mem[@]/#/-Wl,--defsym=}" -I "$out" "$here/main.c" "$out/liboscillator.a" -lm -o "$out/oscillator.elf"
"$bin/liquid-mcu-run" "$board" "$out/oscillator.elf"
