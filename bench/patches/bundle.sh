#!/usr/bin/env bash
# Builds the GPU bundle for measuring the patches in this folder, then puts
# the tree back: .carry/ (scripts/gpu-bundle.sh) with lazy-rescale.patch
# applied, so that the GPU tests and the bench kernels are the lazy ones,
# and .carry/exp/ws-fma{4,2}: the wgmma-ws bench kernels with
# exp2-on-fma.patch on top, every 4th / 2nd n8 tile's exponentials on the
# FMA pipe (SATTN_EXP2_FMA_EVERY, read when sattnc runs). Then, on the
# GPU machine (carry: [".carry"]):
#
#   bench/patches/gpu.sh tests sass bench    # then: gpu.sh compare ncu
#
#   bench/patches/bundle.sh        # from a clean tree, after ninja -C build
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD_DIR:-$root/build}
cd "$root"
git diff --quiet -- templates || { echo "bundle.sh: templates/ has changes" >&2; exit 1; }
trap 'git checkout -- templates' EXIT
git apply bench/patches/lazy-rescale.patch
ninja -C "$build" -j"${JOBS:-2}" >/dev/null
scripts/gpu-bundle.sh
git apply bench/patches/exp2-on-fma.patch
ninja -C "$build" -j"${JOBS:-2}" sattnc >/dev/null
for every in 4 2; do
  for v in wan2.1-480p-24h-k128 wan2.1-480p-24h-k32 cogvideox-5b-k128; do
    SATTN_EXP2_FMA_EVERY=$every "$build/bin/sattnc" "bench/variants/$v.json" \
      -o .carry/exp/ws-fma$every --arch sm_90a --attention-template=wgmma-ws \
      --fuse-reorder=false --quiet
  done
done
echo "bundle.sh: .carry ready; rebuild (ninja -C $build) for the committed templates"
