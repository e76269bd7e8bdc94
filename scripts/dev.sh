#!/usr/bin/env bash
# sattn's two developer commands, for a fresh Debian 12 machine:
#
#   scripts/dev.sh main   install what is missing, build, and compile the
#                         default example (examples/wan2.1-480p.json) with sattnc
#   scripts/dev.sh test   install what is missing, build, and run every test
#                         (lit + FileCheck, GoogleTest, ptxas, GPU) through ctest
#
# Packages come from Debian's archive (apt); run as root or with sudo.
# Environment: BUILD_DIR (default: build), JOBS (default: 2), OUT (main job
# output directory, default: out).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
jobs=${JOBS:-2}

packages=(cmake ninja-build g++ llvm-22-dev llvm-22-tools libmlir-22-dev
          mlir-22-tools nlohmann-json3-dev libgtest-dev zlib1g-dev libzstd-dev
          libxtensor-dev python3-matplotlib)

install_missing() {
  local missing=() p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  echo "sattn: installing ${missing[*]}"
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
    --no-install-recommends "${missing[@]}"
}

configure_and_build() {
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir >/dev/null
  ninja -C "$build" -j"$jobs"
}

case "${1:-}" in
main)
  install_missing
  configure_and_build
  "$build/bin/sattnc" "$root/examples/wan2.1-480p.json" -o "${OUT:-$root/out}"
  ;;
test)
  install_missing
  configure_and_build
  cd "$build"
  ctest -j"$jobs" --output-on-failure
  ;;
*)
  echo "usage: scripts/dev.sh main|test" >&2
  exit 2
  ;;
esac
