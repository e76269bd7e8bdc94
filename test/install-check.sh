#!/usr/bin/env bash
# A user's view of the installed runtime: `cmake --install` into a fresh
# prefix, then the C++ embedding example built on its own against it with
# find_package(sattn), and run (it compiles its variant in process and, with
# a GPU, runs and checks it). Exit 77 (ctest: skipped) without a CUDA Toolkit.
set -euo pipefail
build=$1 source=$2 work=$3

if [[ ! -d /usr/local/cuda ]]; then
  echo "SKIP: no CUDA Toolkit at /usr/local/cuda (the example needs cudart)"
  exit 77
fi
rm -rf "$work" && mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" --strip >"$work/install.log"
echo "ok: installed $(find "$work/prefix" -type f | wc -l) files"
cmake -G Ninja -S "$source/examples/embed-cpp" -B "$work/example" \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCUDAToolkit_ROOT=/usr/local/cuda \
  >"$work/configure.log"
cmake --build "$work/example" >"$work/build.log"
# ldd's whole output first: `ldd | grep -q` under pipefail fails whenever
# grep exits before ldd has written everything (SIGPIPE).
libraries=$(ldd "$work/example/embed-cpp")
grep -q "$work/prefix/lib/libsattn.so" <<<"$libraries" ||
  { echo "FAIL: embed-cpp does not use the installed libsattn.so" >&2; exit 1; }
echo "ok: the example built against $work/prefix"
"$work/example/embed-cpp"
