#!/usr/bin/env bash
# Installs every system dependency liquidc needs, from Debian packages only.
# Idempotent and non-interactive; run as root (or with sudo available).
set -euo pipefail

PKGS=(
  cmake ninja-build ccache lld
  clang-22 libclang-rt-22-dev llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  libhalide14-0-dev
  nlohmann-json3-dev libgtest-dev
  g++-aarch64-linux-gnu libc6-dev-arm64-cross g++-riscv64-linux-gnu libc6-dev-riscv64-cross qemu-user
  gcc-arm-none-eabi picolibc-arm-none-eabi gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf
  qemu-system-arm qemu-system-misc
  python3 python3-numpy
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
