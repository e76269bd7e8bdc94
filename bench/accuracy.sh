#!/usr/bin/env bash
# Reproduces every file of bench/results/accuracy-* (bench/ACCURACY.md says
# what each shows). Needs a build (scripts/dev.sh main or test). About 15
# minutes on 2 cores; each command prints its table and takes its own time.
#
#   bench/accuracy.sh [finding...]     findings: uta blocks schedule (default all)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tool=${SATTN_ACCURACY:-$root/build/bin/sattn-accuracy}
out=$root/bench/results
variants=$root/bench/variants
mkdir -p "$out"
cd "$root"

# A comma-separated list of the variant files matching a glob.
list() { local IFS=,; echo "$*"; }

uta() {
  # Finding 1: the UTA paper's Table 1 (oracle top-k with and without tail
  # bins), and the normalization-only ablation of its Fig. 7.
  "$tool" --synthetic video --seed 0 --oracle topk \
    --kept 0.1,0.2,0.3,0.4,0.5 --bins 0,1,2,4,8,16,32 \
    --json "$out/accuracy-uta-table1.json" --plot "$out/accuracy-uta-table1.png"
  "$tool" --synthetic video --seed 0 --oracle topk --tail normalization-only \
    --kept 0.1,0.2,0.3,0.4,0.5 --bins 0,1,2,4,8,16,32 \
    --json "$out/accuracy-uta-normalization-only.json" \
    --plot "$out/accuracy-uta-normalization-only.png"
  "$tool" --synthetic video --seed 0 --grid 4,16,16 --head-dim 32 --oracle topk \
    --tail normalization-only --kept 0.1,0.3,0.5 --bins 0,1,4 \
    --json "$out/accuracy-uta-normalization-only-small.json"
  # Tail bins on block selection (the bins summarize unselected groups).
  "$tool" --synthetic video --seed 0 \
    --variant "$variants/blocks-hilbert3d-k32-topdown-softmax.json" \
    --kept 0.1,0.2,0.3,0.4,0.5 --bins 0,1,2,4,8,16,32 \
    --json "$out/accuracy-block-tail.json" --plot "$out/accuracy-block-tail.png"
  # The same on a small grid (S = 1024, 8 query blocks), where more bins can
  # raise the MSE.
  "$tool" --synthetic video --seed 2 --grid 4,16,16 \
    --variant "$(list "$variants"/blocks-{identity,hilbert3d}-k16-softmax.json)" \
    --kept 0.05,0.1,0.2,0.3,0.5 --bins 0,1,2,4,8,16,32,64 \
    --json "$out/accuracy-block-tail-small.json"
}

blocks() {
  # Finding 2: recall at equal density across token orders, block-score
  # aggregates and single-level vs top-down key groups of 32 and 16.
  "$tool" --synthetic video --seed 0 \
    --variant "$(list "$variants"/blocks-*.json)" --kept 0.1,0.2,0.3 --bins 0 \
    --json "$out/accuracy-block-selection.json"
  "$tool" --synthetic video --seed 0 --kept 0.1,0.2,0.3,0.4,0.5 --bins 0 \
    --variant "$(list "$variants"/blocks-{identity,tile444,hilbert2d,hilbert3d}-k128-softmax.json)" \
    --json "$out/accuracy-block-reorder.json" --plot "$out/accuracy-block-reorder.png"
  "$tool" --synthetic video --seed 0 --kept 0.1,0.2,0.3,0.4,0.5 --bins 0 \
    --variant "$(list "$variants"/blocks-hilbert3d-{k32,k32-topdown,k16,k16-topdown}-{softmax,logit}.json)" \
    --json "$out/accuracy-block-levels.json" --plot "$out/accuracy-block-levels.png"
}

schedule() {
  # Finding 3: DFSAttn's decaying schedule, with the adaptive per-head
  # density, and the adaptive density refreshed every 4 steps, over 24
  # steps of inputs that drift by 5% per step.
  "$tool" --synthetic video --seed 0 --drift 0.05 --steps 24 \
    --variant "$(list "$variants"/schedule-{decay,adaptive,adaptive-refresh}.json)" \
    --json "$out/accuracy-schedule.json" --plot "$out/accuracy-schedule.png"
}

for finding in "${@:-uta blocks schedule}"; do
  for f in $finding; do
    "$f"
  done
done
