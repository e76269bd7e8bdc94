#!/usr/bin/env bash
# What a GPU machine without LLVM or MLIR needs of the shipped libsattn.so:
# it depends on nothing but glibc (libc, libm, the loader), asks for no
# glibc newer than Ubuntu 24.04's 2.39, exports the C API and nothing else,
# and stripped it is one artifact of at most 64 MiB.
set -euo pipefail
lib=$1 work=$2
fail() { echo "FAIL: $lib: $*" >&2; exit 1; }

needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
for so in $needed; do
  case $so in
  libc.so.6 | libm.so.6 | ld-linux-x86-64.so.2) ;;
  *) fail "depends on $so (needed: $needed)" ;;
  esac
done
echo "ok: needs only $needed"

newest=$(objdump -T "$lib" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
[[ $(printf '%s\n' "$newest" GLIBC_2.39 | sort -V | tail -1) == GLIBC_2.39 ]] ||
  fail "needs $newest, newer than glibc 2.39 (Ubuntu 24.04)"
echo "ok: newest glibc symbol version $newest"

exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TtWwDdBbVv]/ {print $3}' |
  sed 's/@.*//' | sort -u)
others=$(grep -v '^sattn_' <<<"$exported" | grep -v '^SATTN_0$' || true)
[[ -z $others ]] || fail "exports more than sattn_*: $(head -5 <<<"$others")"
echo "ok: exports $(wc -l <<<"$exported") symbols, all sattn_*"

mkdir -p "$work"
objcopy --strip-unneeded "$lib" "$work/libsattn.so"
bytes=$(stat -c %s "$work/libsattn.so")
((bytes <= 64 * 1024 * 1024)) || fail "stripped size $bytes bytes > 64 MiB"
echo "ok: stripped size $((bytes / 1024 / 1024)) MiB ($bytes bytes) <= 64 MiB"
rm -f "$work/libsattn.so"
