# Sourced by the bench scripts: strict mode, paths, threads, the 128-token
# prompt, and random checkpoints generated once per work folder.
#   . "$(dirname "$0")/common.sh" DEFAULT_WORK_DIR "$@"
# sets root, bin ($LIQUID_BIN or build/bin), work (the script's first
# argument or DEFAULT_WORK_DIR, created), threads ($THREADS or 2), prompt.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${LIQUID_BIN:-$root/build/bin}"
work="${2:-$1}"
threads="${THREADS:-2}"
prompt=$(seq -s, 100 227)
mkdir -p "$work"

# checkpoint DIR FILE GEN_ARGS...: liquid-lfm2-gen GEN_ARGS into DIR (seed 1)
# unless DIR/FILE exists already.
checkpoint() {
  local dir="$1" file="$2"
  shift 2
  [ -f "$dir/$file" ] || "$bin/liquid-lfm2-gen" "$@" --out "$dir" --seed 1 --quiet
}
