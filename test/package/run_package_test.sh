#!/usr/bin/env bash
# liquidc as an installed package, used the way an application would:
#   1. cmake --install the build into a fresh prefix;
#   2. configure and build examples/oscillator (a cell, EMIT lib; with the
#      aarch64 cross target when its compiler and qemu are here) and
#      examples/chat (a language model with its tokenizer) against that
#      prefix with find_package(liquidc) + liquid_add_model();
#   3. run them: the oscillator demo, the aarch64 executable under qemu, the
#      chat program, whose replies must equal the installed liquidc's own
#      `lm --chat` on the same input;
#   4. a second build runs liquidc again only when the checkpoint changed.
# usage: run_package_test.sh BUILD_DIR FIXTURES_DIR [REQUIRE_FIXTURES: ON|OFF]
set -euo pipefail
build="$(cd "$1" && pwd)"
fixtures="$2"
require="${3:-OFF}"
src="$(cd "$(dirname "$0")/../.." && pwd)"
out="$build/test/package"
rm -rf "$out" && mkdir -p "$out"
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; exit 1; }

cmake --install "$build" --prefix "$out/prefix" >/dev/null
for f in bin/liquidc bin/liquid-halide-gen lib/cmake/liquidc/liquidcConfig.cmake \
         lib/cmake/liquidc/LiquidAddModel.cmake; do
  [ -e "$out/prefix/$f" ] || fail "install: $f missing"
done
[ -z "$(find "$out/prefix" -name '*.a' -o -name '*.so' | head -1)" ] || fail "install: libraries installed"
pass "install: liquidc, liquid-halide-gen and the CMake package under the prefix, nothing else"
if command -v dpkg-deb >/dev/null; then
  (cd "$build" && cpack -G DEB -B "$out/deb" >/dev/null)
  listing="$(dpkg-deb -c "$out"/deb/liquidc_*.deb)"
  for f in usr/bin/liquidc usr/bin/liquid-halide-gen usr/lib/cmake/liquidc/liquidcConfig.cmake; do
    echo "$listing" | grep -q "\./$f\$" || fail "cpack: $f not in the .deb"
  done
  pass "cpack -G DEB: $(basename "$out"/deb/liquidc_*.deb) holds liquidc and the package"
fi

# A cell: the example's sources copied (their timestamps are the test's to change).
cp -r "$src/examples/oscillator" "$out/osc-src"
a64=OFF
if command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64 >/dev/null; then a64=ON; fi
cmake -S "$out/osc-src" -B "$out/osc" -G Ninja -DCMAKE_PREFIX_PATH="$out/prefix" \
      -DOSCILLATOR_AARCH64=$a64 >/dev/null
cmake --build "$out/osc" >/dev/null
demo="$("$out/osc/oscillator-demo")"
echo "$demo" | tail -1 | grep -q "mean |prediction - clean wave|" || fail "oscillator-demo: $demo"
pass "cell library through liquid_add_model: oscillator-demo runs ($(echo "$demo" | tail -1))"
if [ $a64 = ON ]; then
  qemu-aarch64 -L /usr/aarch64-linux-gnu "$out/osc/liquid/oscillator_a64/oscillator_a64" --help \
    | grep -q "usage" || fail "aarch64 executable under qemu"
  pass "cross-compiled aarch64 executable runs under qemu-aarch64"
fi
log="$(cmake --build "$out/osc" -- -d explain 2>&1 || true)"
echo "$log" | grep -q "liquidc:" && fail "a second build ran liquidc again: $log"
touch "$out/osc-src/oscillator.safetensors"
log="$(cmake --build "$out/osc")"
echo "$log" | grep -q "liquidc: oscillator.json" || fail "a changed checkpoint did not rebuild: $log"
pass "liquidc runs again only when the checkpoint changed"

# A language model with its tokenizer: the chat example against `lm --chat`.
model="$fixtures/lfm2-text/hf"
if [ ! -d "$model" ]; then
  [ "$require" = ON ] && fail "no fixtures at $fixtures (LIQUID_REQUIRE_FIXTURES)"
  echo "SKIPPED the chat example: NO FIXTURES at $fixtures"
  exit 0
fi
cmake -S "$src/examples/chat" -B "$out/chat" -G Ninja -DCMAKE_PREFIX_PATH="$out/prefix" \
      -DCHAT_MODEL="$model" >/dev/null
cmake --build "$out/chat" >/dev/null
printf 'Hello!\nTell me more about it.\n' > "$out/input.txt"
"$out/chat/chat" --system "Answer briefly." -n 12 < "$out/input.txt" > "$out/chat.txt"
"$out/prefix/bin/liquidc" "$model" -o "$out/lm" --max-context 2048 >/dev/null
"$out/lm" --chat --system "Answer briefly." -n 12 < "$out/input.txt" > "$out/lm.txt"
[ "$(wc -l < "$out/chat.txt")" -eq 2 ] || fail "chat example: $(cat "$out/chat.txt")"
cmp -s "$out/chat.txt" "$out/lm.txt" || fail "chat example differs from lm --chat"
pass "language-model library through liquid_add_model: the chat example's 2 replies equal lm --chat's"
echo "package: 0 failed"
