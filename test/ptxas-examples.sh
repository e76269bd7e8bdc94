#!/usr/bin/env bash
# Compiles every example variant for sm_80 and sm_90a with sattnc and has
# ptxas assemble each PTX. Exit 77 (ctest: skipped) when there is no ptxas.
set -euo pipefail
sattnc=$1 ptxas=$2 examples=$3 work=$4

if [[ -z "$ptxas" || ! -x "$ptxas" ]]; then
  echo "SKIP: ptxas not found (the CUDA Toolkit at /usr/local/cuda supplies it)"
  exit 77
fi
rm -rf "$work" && mkdir -p "$work"
count=0
for variant in "$examples"/*.json; do
  for arch in sm_80 sm_90a; do
    out="$work/$arch"
    "$sattnc" "$variant" -o "$out" --arch="$arch" --emit=ptx --quiet
    name=$(basename "$variant" .json)
    "$ptxas" -arch="$arch" "$out/$name.ptx" -o "$out/$name.cubin"
    echo "ok: $name $arch ($("$ptxas" --version | tail -1))"
    count=$((count + 1))
  done
done
echo "ptxas accepted $count PTX files"
