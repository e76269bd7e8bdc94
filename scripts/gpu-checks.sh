#!/usr/bin/env bash
# Runs on the GPU machine, from the repository root, with .carry/ made by
# scripts/gpu-bundle.sh. Each named group writes its logs and JSON results
# under $OUT (default: out-gpu) and prints a summary line.
#
#   scripts/gpu-checks.sh tests sanitize plan sanitize-plan library bench tune-test
#   scripts/gpu-checks.sh sweeps        # sattn-tune on wan2.1-480p and
#                                       # cogvideox-5b at 10 % and 50 %
#                                       # (SWEEP_VARIANTS, SWEEP_BUDGET)
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
out=${OUT:-$root/out-gpu}
mkdir -p "$out"
carry=$root/.carry/unpacked
# Unpacked again whenever the bundle changed: the device machine keeps
# ignored folders between calls, so an old unpacked copy may be there.
stamp=$(md5sum <.carry/bundle.tar.xz | cut -d' ' -f1)
if [[ $(cat "$carry/.bundle-md5" 2>/dev/null) != "$stamp" ]]; then
  rm -rf "$carry" && mkdir -p "$carry" &&
    xz -dc .carry/bundle.tar.xz | tar -C "$carry" -xf - &&
    echo "$stamp" >"$carry/.bundle-md5"
fi
export LD_LIBRARY_PATH=$carry/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export SATTN_LIBRARY=$carry/lib/libsattn.so PYTHONPATH=$root/runtime/python
export SATTN_CACHE_DIR=$out/cache PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader

group_tests() {
  # The float64 reference of each case is most of a case's time: shards in
  # parallel processes (one GPU) use the machine's cores for it.
  local start=$(date +%s) shards=${TEST_SHARDS:-8} i rc=0
  for ((i = 0; i < shards; ++i)); do
    GTEST_TOTAL_SHARDS=$shards GTEST_SHARD_INDEX=$i \
      SATTN_GPU_KERNELS=$carry/gpu-kernels "$carry/bin/SparseAttentionGpuTest" \
      --gtest_output=json:"$out/gpu-tests-$i.json" >"$out/gpu-tests-$i.log" 2>&1 &
  done
  for ((i = 0; i < shards; ++i)); do wait -n || rc=$?; done
  cat "$out"/gpu-tests-*.log >"$out/gpu-tests.log"
  local passed failed
  passed=$(grep -hE '^\[  PASSED  \] [0-9]+' "$out"/gpu-tests-*.log |
    awk '{n += $4} END {print n + 0}')
  failed=$(grep -hE '^\[  FAILED  \] [0-9]+ tests?, listed below' \
    "$out"/gpu-tests-*.log | awk '{n += $4} END {print n + 0}')
  echo "tests: rc=$rc in $(($(date +%s) - start)) s, $shards shards;" \
    "$passed passed, $failed failed"
  grep -hE '^\[  FAILED  \]' "$out"/gpu-tests-*.log | sort -u | head -10
}

# The wgmma cases of the GPU tests alone (TEST_FILTER narrows further).
group_tests_wgmma() {
  export GTEST_FILTER=${TEST_FILTER:-*wgmma*}
  group_tests
  unset GTEST_FILTER
}

# bench/compare.py with the sattn templates (mma.sync, wgmma, wgmma-ws, or
# the builds COMPARE_KERNELS names) against FlexAttention and SDPA, in one run.
group_compare() {
  python3 bench/compare.py --out "$out" --runs "${COMPARE_RUNS:-20}" \
    --warmup 3 --kernels "${COMPARE_KERNELS:-wgmma-ws=$carry/bench-kernels-ws,wgmma=$carry/bench-kernels-wgmma,mma=$carry/bench-kernels}" \
    ${COMPARE_ARGS:-} 2>&1 | grep -v Warning | tee "$out/compare.log" | tail -60
}

group_sanitize() {
  export SATTN_GPU_KERNELS=$carry/gpu-kernels
  compute-sanitizer --tool memcheck --error-exitcode 9 \
    "$carry/bin/SparseAttentionGpuTest" --gtest_filter="${SANITIZE_FILTER:-*_S128_*:*lse*}" \
    >"$out/memcheck.log" 2>&1
  echo "memcheck: rc=$? $(tail -1 "$out/memcheck.log")"
  compute-sanitizer --tool racecheck --error-exitcode 9 \
    "$carry/bin/SparseAttentionGpuTest" --gtest_filter="${SANITIZE_FILTER:-*_S128_*}" \
    >"$out/racecheck.log" 2>&1
  echo "racecheck: rc=$? $(tail -1 "$out/racecheck.log")"
}

# The pipeline's kernels (pool, score, select, tail bins, the attention
# kernel through the token order) under memcheck and racecheck: the plan
# tests' small variants.
group_sanitize_plan() {
  local tool
  for tool in memcheck racecheck; do
    SATTN_GPU_KERNELS=$carry/gpu-kernels compute-sanitizer --tool $tool \
      --error-exitcode 9 "$carry/bin/PlanGpuTest" \
      --gtest_filter="${SANITIZE_PLAN_FILTER:-*Variants*:*ReferenceAcrossSteps/BHSD}" \
      >"$out/plan-$tool.log" 2>&1
    echo "plan $tool: rc=$? $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$out/plan-$tool.log" | tail -1)"
  done
}

group_plan() {
  SATTN_GPU_KERNELS=$carry/gpu-kernels "$carry/bin/PlanGpuTest" \
    --gtest_output=json:"$out/plan-tests.json" >"$out/plan-tests.log" 2>&1
  echo "plan tests: rc=$?;" \
    "$(grep -E '^\[  (PASSED|FAILED) ' "$out/plan-tests.log" | tr '\n' ' ')"
  grep -E '^\[  FAILED  \]|Failure|Expected|Which is|error' \
    "$out/plan-tests.log" | head -30
  (cd test/python && python3 test_plan_gpu.py -v) >"$out/python-plan.log" 2>&1
  echo "python plan test: rc=$? $(tail -1 "$out/python-plan.log")"
  python3 examples/dit-sparse/dit_sparse.py >"$out/dit-sparse.log" 2>&1
  echo "dit example: rc=$?"; tail -12 "$out/dit-sparse.log"
}

group_plan_bench() {
  python3 bench/plan_bench.py examples/wan2.1-480p.json --density 0.1 \
    --separate-reorder \
    --json "$out/plan-wan2.1-480p-d0.1.json" 2>&1 | tee "$out/plan-bench.log" |
    grep -v Warning | tail -20
  python3 bench/plan_bench.py examples/wan2.1-480p.json --adaptive --no-flex \
    --json "$out/plan-wan2.1-480p-adaptive.json" 2>&1 |
    tee "$out/plan-bench-adaptive.log" | grep -v Warning | tail -8
}

# ncu: every pipeline kernel of one refresh and one reuse step of
# wan2.1-480p (10 %), and the wgmma attention kernel alone in detail
# (wan2.1-480p, 24 heads, 128x128 at 10 %).
group_profile() {
  ncu --kernel-name regex:sattn_ --section SpeedOfLight --section Occupancy \
    --section LaunchStats python3 bench/profile_steps.py \
    examples/wan2.1-480p.json --warmup 0 >"$out/ncu-plan.txt" 2>&1
  echo "ncu plan: rc=$? $(grep -c 'sattn_' "$out/ncu-plan.txt") kernel lines"
  ncu --kernel-name sattn_sparse_attention --launch-skip 3 --launch-count 1 \
    --set full "$carry/bin/sattn-bench" bench/variants/wan2.1-480p-24h-k128.json \
    --kernels "$carry/bench-kernels-wgmma" --density 0.1 >"$out/ncu-attention.txt" 2>&1
  echo "ncu attention: rc=$?"
}

group_library() {
  "$carry/bin/LibraryTest" >"$out/library-test.log" 2>&1
  echo "LibraryTest: rc=$? $(tail -1 "$out/library-test.log")"
  "$carry/bin/embed-cpp" 2>&1 | tee "$out/embed-cpp.log"
  (cd test/python && python3 test_sattn_gpu.py -v) >"$out/python-gpu.log" 2>&1
  echo "python gpu test: rc=$? $(tail -1 "$out/python-gpu.log")"
}

group_bench() {
  for v in wan2.1-480p-24h-k128 wan2.1-480p-24h-k32 cogvideox-5b-k128; do
    "$carry/bin/sattn-bench" "bench/variants/$v.json" \
      --kernels "$carry/bench-kernels-wgmma" --density 0.1 \
      --json "$out/sattn-bench-$v-d0.1.json" | tail -1
  done
  # The default form (reading through the token order), same variant.
  "$carry/bin/sattn-bench" bench/variants/wan2.1-480p-24h-k32.json \
    --kernels "$carry/bench-kernels-fused" --density 0.1 \
    --json "$out/sattn-bench-wan2.1-480p-24h-k32-fused-d0.1.json" | tail -1
}

# The warp-specialized kernel against the wgmma one, same run: sattn-bench
# at 10 % on each bench variant, and its SASS (HGMMA count, local memory).
group_ws() {
  local v kernels
  for v in wan2.1-480p-24h-k128 wan2.1-480p-24h-k32 wan2.1-480p-24h-k16 \
           cogvideox-5b-k128; do
    for kernels in bench-kernels-ws bench-kernels-ws-persistent bench-kernels-wgmma; do
      echo "$v $kernels: $("$carry/bin/sattn-bench" "bench/variants/$v.json" \
        --kernels "$carry/$kernels" --density ${WS_DENSITY:-0.1} \
        --json "$out/sattn-bench-$v-$kernels.json" 2>&1 | tail -1)"
    done
  done
  # Compiled whole, as the runtime loads PTX that has setmaxnreg (the
  # relocatable -c compile ignores it and spills).
  local ptx=$carry/bench-kernels-ws/wan2.1-480p-24h-k128.ptx
  ptxas -arch=sm_90a -v "$ptx" -o "$out/ws-k128.cubin" 2>&1 |
    grep -A3 "entry function 'sattn_sparse" | tail -3
  cuobjdump -sass "$out/ws-k128.cubin" >"$out/ws-k128.sass" 2>&1
  echo "sass: $(grep -c HGMMA "$out/ws-k128.sass") HGMMA," \
    "$(grep -cE 'LDL|STL' "$out/ws-k128.sass") local-memory instructions"
}

# The persistent grid against one CTA per item, same run: sattn-bench on
# the k128 and k32 variants at 10 % and 50 %, with equal and with spread
# per-head densities (PERSISTENT_SPREADS), then its GPU tests and
# racecheck on small shapes, one that walks several items per CTA.
group_persistent() {
  local v d f kernels
  for v in wan2.1-480p-24h-k128 wan2.1-480p-24h-k32; do
    for d in 0.1 0.5; do
      for f in ${PERSISTENT_SPREADS:-0 0.9}; do
        for kernels in bench-kernels-ws bench-kernels-ws-persistent; do
          echo "$v d=$d spread=$f $kernels: $("$carry/bin/sattn-bench" \
            "bench/variants/$v.json" --kernels "$carry/$kernels" --density $d \
            --head-spread $f --runs 50 \
            --json "$out/sattn-bench-$v-d$d-f$f-$kernels.json" 2>&1 | tail -1)"
        done
      done
    done
  done
  TEST_FILTER='*wgmmaws*_p_*' TEST_SHARDS=16 group_tests_wgmma
  SANITIZE_FILTER='*wgmmaws*_p_S128_*:*wgmmaws*_q64_k128_b0_p_S4097*' \
    group_sanitize
}

group_tune_test() {
  python3 test/tune/gpu-sweep.py "$carry/bin/sattn-tune" \
    test/inputs/tune-small.json "$out/tune-test" 2>"$out/tune-test.log"
  echo "gpu tune test: rc=$?"
}

group_sweeps() {
  local date=$(date -u +%Y-%m-%d)
  for v in ${SWEEP_VARIANTS:-wan2.1-480p-24h-k128 cogvideox-5b-k128}; do
    "$carry/bin/sattn-tune" "bench/variants/$v.json" --densities 0.1,0.5 \
      --budget "${SWEEP_BUDGET:-8m}" --timeout 60 --db "$out/tuning.json" \
      --json "$out/tune-$v-$date.json" 2>"$out/tune-$v.log"
    echo "sweep $v: rc=$? $(grep -E 'best' "$out/tune-$v.log" | tail -2 | tr '\n' ' ')"
  done
}

for group in "$@"; do
  "group_${group//-/_}"
done
