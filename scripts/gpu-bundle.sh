#!/usr/bin/env bash
# Packs what the GPU machine needs from a build made here into one folder,
# .carry/ (ignored by git), small enough to travel with the working tree
# (the device tool's `carry`, 64 MiB): the programs that need no LLVM or MLIR
# (the GPU tests, sattn-bench, the C++ example, LibraryTest), the
# self-contained libsattn.so and sattn-tune, the GPU tests' kernels and the
# benchmark variants' kernels, compressed. On the GPU machine,
# scripts/gpu-checks.sh unpacks and runs them.
#
#   scripts/gpu-bundle.sh            # after `ninja -C build`
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
carry=$root/.carry
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage/bin" "$stage/lib" "$stage/bench-kernels"
for program in SparseAttentionGpuTest PlanGpuTest sattn-bench sattn-tune \
               embed-cpp LibraryTest; do
  [[ -x $build/bin/$program ]] || { echo "missing $build/bin/$program" >&2; exit 1; }
  objcopy --strip-unneeded "$build/bin/$program" "$stage/bin/$program"
done
objcopy --strip-unneeded "$build/lib/libsattn.so" "$stage/lib/libsattn.so"
cp -r "$build/test/gpu/kernels" "$stage/gpu-kernels"
# The benchmark variants with each sm_90a attention template: mma.sync
# (bench-kernels), wgmma (bench-kernels-wgmma), and the warp-specialized
# wgmma-ws, the default there (bench-kernels-ws), also with the persistent
# grid (bench-kernels-ws-persistent); the
# attention kernel alone, on reordered inputs (--fuse-reorder=false).
for variant in "$root"/bench/variants/{wan2.1-480p-24h,cogvideox-5b}-k*.json; do
  "$build/bin/sattnc" "$variant" -o "$stage/bench-kernels" --arch sm_90a \
    --attention-template=mma --fuse-reorder=false --quiet
  "$build/bin/sattnc" "$variant" -o "$stage/bench-kernels-wgmma" --arch sm_90a \
    --attention-template=wgmma --fuse-reorder=false --quiet
  "$build/bin/sattnc" "$variant" -o "$stage/bench-kernels-ws" --arch sm_90a \
    --attention-template=wgmma-ws --fuse-reorder=false --quiet
  "$build/bin/sattnc" "$variant" -o "$stage/bench-kernels-ws-persistent" --arch sm_90a \
    --attention-template=wgmma-ws --fuse-reorder=false --persistent --quiet
done

# One variant as sattnc writes it by default: the attention kernel reads
# through the token order (sattn-bench passes the variant's order).
"$build/bin/sattnc" "$root/bench/variants/wan2.1-480p-24h-k32.json" \
  -o "$stage/bench-kernels-fused" --arch sm_90a --quiet

rm -rf "$carry" && mkdir -p "$carry"
tar -C "$stage" -cf - . | xz -T0 -6 > "$carry/bundle.tar.xz"
echo "gpu-bundle: $carry/bundle.tar.xz, $(du -h "$carry/bundle.tar.xz" | cut -f1)"
