#!/usr/bin/env python3
"""Writes the variant files of the accuracy findings (bench/ACCURACY.md).

usage: bench/variants/generate.py   (rewrites bench/variants/blocks-*.json
                                     and schedule-*.json)

Shape: the synthetic default, 8 x 32 x 32 latent (S = 8192), 4 heads,
head_dim 64, no text. Finding 2 crosses the token order, the block-score
aggregate and the key-group hierarchy; finding 3 is DFSAttn's decaying
schedule with and without the adaptive per-head density, and the adaptive
density refreshed every 4 steps without decay.
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
PROBLEM = {"batch": 1, "heads": 4, "head_dim": 64, "grid": [8, 32, 32]}

REORDERS = {
    "identity": {"kind": "identity"},
    "tile444": {"kind": "tile", "tile": [4, 4, 4]},
    "hilbert2d": {"kind": "hilbert2d"},
    "hilbert3d": {"kind": "hilbert3d"},
}
# name: (block.k, levels)
GROUPS = {
    "k128": (128, [128]),
    "k32": (32, [32]),
    "k32-topdown": (32, [128, 32]),
    "k16": (16, [16]),
    "k16-topdown": (16, [128, 16]),
}
AGGREGATES = {"softmax": "softmax-sum", "logit": "logit"}


def write(name, variant):
    variant = {"name": name, **variant}
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump(variant, f, indent=2)
        f.write("\n")


def main():
    for r_name, reorder in REORDERS.items():
        for g_name, (block_k, levels) in GROUPS.items():
            for a_name, aggregate in AGGREGATES.items():
                write(f"blocks-{r_name}-{g_name}-{a_name}", {
                    "problem": PROBLEM,
                    "reorder": reorder,
                    "block": {"q": 128, "k": block_k},
                    "scoring": {"pool": {"q": 16, "k": 16},
                                "aggregate": aggregate, "levels": levels},
                    "selection": {"rule": "topk", "density": 0.1,
                                  "keep": ["diagonal"]},
                })
    schedule = {
        "problem": PROBLEM,
        "reorder": {"kind": "hilbert3d"},
        "block": {"q": 128, "k": 32},
        "scoring": {"pool": {"q": 16, "k": 16}, "aggregate": "softmax-sum",
                    "levels": [128, 32]},
        "selection": {"rule": "topk", "density": 0.3, "keep": ["diagonal"]},
        "schedule": {"dense_warmup_steps": 4, "refresh_every": 4,
                     "density_decay": 0.1, "min_density": 0.1},
        "tail": {"bins": 4},
    }
    write("schedule-decay", schedule)
    adaptive = {"target_recall": 0.8, "min_density": 0.03,
                "max_density": 0.5}
    write("schedule-adaptive", {**schedule, "adaptive": adaptive})
    # Refreshing every 4 steps for good, so the per-head densities follow
    # the drifting inputs.
    write("schedule-adaptive-refresh", {
        **schedule,
        "schedule": {"dense_warmup_steps": 4, "refresh_every": 4},
        "adaptive": adaptive,
    })


if __name__ == "__main__":
    main()
