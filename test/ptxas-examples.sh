#!/usr/bin/env bash
# Compiles every example variant for sm_80 and sm_90a with sattnc and has
# ptxas assemble each PTX, with -v: a kernel that spills is listed, and one
# whose wgmma ptxas serializes fails the test: warning C7513 (an operand of
# an in-flight wgmma defined by another instruction) or C7509 (a call in the
# function). The runtime gets its cubins from the driver's linker, which
# compiles PTX as relocatable code (ptxas -c), where an IEEE division or
# reciprocal becomes a call to a slow-path subroutine: each PTX is also
# assembled with -c. A setmaxnreg that the whole-program compile ignores
# (C7508: the warp-specialized kernel's roles are not one if/else) fails
# too; the -c compile always ignores it (C7504), which is why the runtime
# loads such PTX whole. Exit 77 (ctest: skipped) when there is no ptxas.
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
    "$ptxas" -v -arch="$arch" "$out/$name.ptx" -o "$out/$name.cubin" \
      >"$out/$name.ptxas.log" 2>&1 || { cat "$out/$name.ptxas.log"; exit 1; }
    "$ptxas" -c -arch="$arch" "$out/$name.ptx" -o "$out/$name.o" \
      >>"$out/$name.ptxas.log" 2>&1 || { cat "$out/$name.ptxas.log"; exit 1; }
    if grep -qE "C7513|C7509|C7508" "$out/$name.ptxas.log"; then
      grep -E "C7513|C7509|C7508" "$out/$name.ptxas.log"
      echo "FAIL: $name $arch: ptxas serializes wgmma or ignores setmaxnreg"
      exit 1
    fi
    spills=$(grep -c "[1-9][0-9]* bytes spill stores" "$out/$name.ptxas.log" || true)
    echo "ok: $name $arch ($("$ptxas" --version | tail -1)), $spills kernel(s) spilling"
    count=$((count + 1))
  done
done
echo "ptxas accepted $count PTX files"
