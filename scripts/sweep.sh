#!/usr/bin/env bash
# Differential sweeps of any size against the float64 oracles in
# ../shared/tools: random LFM2 / LFM2-MoE configurations (test/sweep/lm_sweep.py)
# and random ncps cells (test/sweep/cell_sweep.py), on every path (weight
# format, backend, target) or the ones named.
#   scripts/sweep.sh --n N --seed S [--paths P,...] [--jobs J] [--keep-failures DIR]
# --n: configurations per path. --paths: names from `lm_sweep.py --list-paths`
# and `cell_sweep.py --list-paths`; a name both know (x86-64-v3, aarch64, ...)
# runs in both, `lm` / `cells` select a whole sweep. Each failure prints the
# command that reproduces it. Exit status 1 if any configuration failed.
# Needs a build (scripts/test.sh or scripts/configure.sh + cmake --build build).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
py=/usr/bin/python3
n=5 seed=0 paths=all jobs=2 keep=()
while [ $# -gt 0 ]; do
  case "$1" in
    --n) n="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --paths) paths="$2"; shift 2 ;;
    --jobs|-j) jobs="$2"; shift 2 ;;
    --keep-failures) keep=(--keep-failures "$2"); shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "sweep.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
lm_known=$($py "$root/test/sweep/lm_sweep.py" --list-paths)
cell_known=$($py "$root/test/sweep/cell_sweep.py" --list-paths)
lm=() cell=()
if [ "$paths" = all ]; then
  lm=(all) cell=(all)
else
  for p in ${paths//,/ }; do
    found=0
    if [ "$p" = lm ]; then lm+=(all); found=1; fi
    if [ "$p" = cells ]; then cell+=(all); found=1; fi
    if grep -qx -- "$p" <<<"$lm_known"; then lm+=("$p"); found=1; fi
    if grep -qx -- "$p" <<<"$cell_known"; then cell+=("$p"); found=1; fi
    if [ $found = 0 ]; then
      echo "sweep.sh: unknown path '$p'; LM paths: $(echo $lm_known | tr ' ' ,); cell paths: $(echo $cell_known | tr ' ' ,)" >&2
      exit 2
    fi
  done
fi
join() { local IFS=,; if [[ " $* " == *" all "* ]]; then echo all; else echo "$*"; fi; }
status=0
if [ ${#lm[@]} -gt 0 ]; then
  $py "$root/test/sweep/lm_sweep.py" --n "$n" --seed "$seed" --paths "$(join "${lm[@]}")" \
    --jobs "$jobs" "${keep[@]}" || status=1
fi
if [ ${#cell[@]} -gt 0 ]; then
  $py "$root/test/sweep/cell_sweep.py" --n "$n" --seed "$seed" --paths "$(join "${cell[@]}")" \
    --jobs "$jobs" "${keep[@]}" || status=1
fi
exit $status
