#!/usr/bin/env bash
# On the GPU machine, with the .carry/ that bench/patches/bundle.sh made.
# Parts (default: all, about 10 minutes; split them over two calls):
#   tests    the wgmma GPU tests and the sanitizers on the lazy kernels
#   sass     registers, spills, HGMMA and MUFU.EX2 of the kernels
#   bench    sattn-bench, lazy against lazy + exponentials on the FMA pipe
#            (two alternating invocations each, median of 50; DENSITIES)
#   compare  bench/compare.py with the lazy kernels, every key group
#   ncu      ncu --set full of the lazy 128x128 kernel at 10 %
# Writes under $OUT.
#
#   bench/patches/gpu.sh tests sass bench     # then: gpu.sh compare ncu
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out=${OUT:-out-gpu}
mkdir -p "$out"
c=.carry/unpacked
kernels=("$c/bench-kernels-ws" .carry/exp/ws-fma4 .carry/exp/ws-fma2)

part_tests() {
  TEST_SHARDS=${TEST_SHARDS:-16} scripts/gpu-checks.sh tests-wgmma sanitize
}
part_sass() {
  local k v n
  for k in "${kernels[@]}"; do
    for v in wan2.1-480p-24h-k128 cogvideox-5b-k128; do
      n=$(basename "$k")-$v
      echo "$n: $(ptxas -arch=sm_90a -v "$k/$v.ptx" -o "/tmp/$n.cubin" 2>&1 |
        grep -A2 "entry function 'sattn_sparse" | tail -1 | sed 's/.*: //')"
      cuobjdump -sass "/tmp/$n.cubin" >"/tmp/$n.sass"
      echo "  $(grep -c HGMMA "/tmp/$n.sass") HGMMA," \
        "$(grep -cE 'LDL|STL' "/tmp/$n.sass") LDL/STL," \
        "$(grep -c MUFU.EX2 "/tmp/$n.sass") MUFU.EX2, $(grep -c FFMA "/tmp/$n.sass") FFMA"
    done
  done
}
part_bench() {
  local v d rep k
  for v in wan2.1-480p-24h-k128 cogvideox-5b-k128 wan2.1-480p-24h-k32; do
    for d in ${DENSITIES:-0.1 0.5 1.0}; do
      for rep in 1 2; do
        for k in "${kernels[@]}"; do
          echo "$v d=$d $(basename "$k") #$rep: $("$c/bin/sattn-bench" \
            "bench/variants/$v.json" --kernels "$k" --density "$d" --runs 50 \
            --json "$out/fma-$v-d$d-$(basename "$k")-$rep.json" 2>&1 | tail -1)"
        done
      done
    done
  done
}
part_compare() {
  COMPARE_KERNELS="wgmma-ws=$c/bench-kernels-ws" scripts/gpu-checks.sh compare
}
part_ncu() {
  ncu --kernel-name sattn_sparse_attention --launch-skip 3 --launch-count 1 \
    --set full "$c/bin/sattn-bench" bench/variants/wan2.1-480p-24h-k128.json \
    --kernels "$c/bench-kernels-ws" --density 0.1 >"$out/ncu-ws-lazy.txt" 2>&1
  echo "ncu: rc=$?"
}

# The first part unpacks the bundle (scripts/gpu-checks.sh with no group).
scripts/gpu-checks.sh
export LD_LIBRARY_PATH=$c/lib SATTN_LIBRARY=$c/lib/libsattn.so \
  PYTHONPATH=runtime/python SATTN_CACHE_DIR=/tmp/sattn-cache
(($#)) || set -- tests sass bench compare ncu
for part in "$@"; do "part_$part"; done
rm -rf "$out/cache"
