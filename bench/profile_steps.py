#!/usr/bin/env python3
"""Runs a variant's pipeline for a few steps on random inputs, for a
profiler to look at (ncu, nsys): one refresh and one reuse step after
warm-up, with the same selection setup as plan_bench.py (topk at --density,
a refresh every two steps, no adaptive densities, no linear path).

    ncu --kernel-name regex:sattn_ --launch-skip 40 --section SpeedOfLight \\
        python3 bench/profile_steps.py examples/wan2.1-480p.json
"""

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "runtime",
                                "python"))
import sattn  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant")
    parser.add_argument("--density", type=float, default=0.1)
    parser.add_argument("--warmup", type=int, default=4,
                        help="steps before the two profiled ones")
    args = parser.parse_args()

    variant = json.load(open(args.variant))
    variant.pop("adaptive", None)
    variant["selection"]["rule"] = "topk"
    variant["selection"]["density"] = args.density
    variant["schedule"] = {"dense_warmup_steps": 0, "refresh_every": 2}
    variant["linear"] = {"enabled": False}
    problem = variant["problem"]
    grid = problem["grid"]
    B, H, D = problem["batch"], problem["heads"], problem["head_dim"]
    S = grid[0] * grid[1] * grid[2] + problem.get("text_tokens", 0)
    torch.manual_seed(0)
    q, k, v = (torch.randn(B, H, S, D, device="cuda", dtype=torch.bfloat16)
               for _ in range(3))
    attention = sattn.SparseAttention(variant)
    for step in range(args.warmup + 2):
        attention(q, k, v, step=step)
    torch.cuda.synchronize()
    print(f"ran {args.warmup + 2} steps of {variant['name']} "
          f"({B}x{H}x{S}x{D}); the last two: a refresh and a reuse")


if __name__ == "__main__":
    main()
