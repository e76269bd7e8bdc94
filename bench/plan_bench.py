#!/usr/bin/env python3
"""Times a variant's whole pipeline (sattn.SparseAttention, i.e. sattn_run)
on the GPU, stage by stage, against FlexAttention given the mask the plan
chose, and the plan's creation, cold (empty kernel cache) and cached.

    python3 bench/plan_bench.py examples/wan2.1-480p.json --density 0.1 \\
        --json bench/results/plan-wan2.1-480p-....json

The variant's selection runs as topk at --density (with --adaptive, the
variant's adaptive per-head densities instead) and a schedule of one
refresh every two steps, so that refresh and reuse steps alternate. Times are CUDA-event
medians over --runs warmed-up calls on random normal bf16 inputs, all in
one process. FlexAttention gets the same reordered q, k, v and a block mask
built from the plan's index lists (query block x key group); its mask
construction (create_block_mask) is timed and counted, the tail bins are
not representable there (it attends the kept groups only).
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "runtime",
                                "python"))
import sattn  # noqa: E402


def cuda_ms(fn, runs, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times), min(times), max(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant")
    parser.add_argument("--density", type=float, default=0.1)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--json")
    parser.add_argument("--no-flex", action="store_true")
    parser.add_argument("--adaptive", action="store_true",
                        help="keep the variant's adaptive section")
    parser.add_argument("--separate-reorder", action="store_true",
                        help="also time the pipeline with reorder and "
                             "unreorder kernels (SATTN_FUSE_REORDER=0) "
                             "instead of reads through the token order")
    args = parser.parse_args()

    variant = json.load(open(args.variant))
    if not args.adaptive:
        variant.pop("adaptive", None)
    variant["selection"]["rule"] = "topk"
    variant["selection"]["density"] = args.density
    variant["schedule"] = {"dense_warmup_steps": 0, "refresh_every": 2}
    variant["linear"] = {"enabled": False}
    variant["name"] = variant["name"] + "-plan-bench"
    problem = variant["problem"]
    grid = problem["grid"]
    B, H, D = problem["batch"], problem["heads"], problem["head_dim"]
    S = grid[0] * grid[1] * grid[2] + problem.get("text_tokens", 0)
    dtype = torch.bfloat16 if problem.get("dtype", "bf16") == "bf16" \
        else torch.float16
    result = {
        "device": torch.cuda.get_device_name(),
        "driver": subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version",
             "--format=csv,noheader"], capture_output=True,
            text=True).stdout.strip(),
        "date": datetime.date.today().isoformat(),
        "command": " ".join(sys.argv),
        "variant": variant,
        "shape": [B, H, S, D],
    }

    # Plan creation: cold (empty cache: compile in process) and cached.
    cache = tempfile.mkdtemp(prefix="sattn-plan-bench-")
    os.environ["SATTN_CACHE_DIR"] = cache
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    attention = sattn.SparseAttention(variant)
    torch.cuda.synchronize()
    cold = time.perf_counter() - t0
    cached, parts = [], []
    for _ in range(5):
        t0 = time.perf_counter()
        again = sattn.SparseAttention(variant)
        torch.cuda.synchronize()
        cached.append(time.perf_counter() - t0)
        parts.append(again.describe())
        again.close()
    result["plan_create_cold_s"] = cold
    result["plan_create_cached_ms"] = 1e3 * statistics.median(cached)
    # Where a cached creation goes: the kernel cache read and checks, the
    # module load (cubin), the plan's workspace and constant tables; the
    # rest is the Python binding and the variant's parse.
    result["plan_create_cached_parts_ms"] = {
        key: statistics.median(p[key] for p in parts)
        for key in ("prepare_ms", "load_ms", "setup_ms")}
    result["plan_create_cached_cubin"] = parts[-1]["cubin"]
    result["describe"] = {k: v for k, v in attention.describe().items()
                          if isinstance(v, (int, float, str))}
    print(f"plan: cold {cold:.3f} s (compile and module load "
          f"{result['describe']['prepare_ms'] / 1e3:.3f} s, of which the "
          f"module load {result['describe']['load_ms'] / 1e3:.3f} s), cached "
          f"{result['plan_create_cached_ms']:.2f} ms (median of 5: kernels "
          f"{result['plan_create_cached_parts_ms']['prepare_ms']:.2f} ms, of "
          f"which the module load "
          f"{result['plan_create_cached_parts_ms']['load_ms']:.2f} ms from "
          f"cubin {result['plan_create_cached_cubin']}; plan setup "
          f"{result['plan_create_cached_parts_ms']['setup_ms']:.2f} ms)")

    torch.manual_seed(0)
    q, k, v = (torch.randn(B, H, S, D, device="cuda", dtype=dtype)
               for _ in range(3))
    out = torch.empty_like(q)
    time_steps(attention, q, k, v, out, args.runs, result)
    print(f"kept density {result['kept_density']:.4f}, estimated recall "
          f"{result['estimated_recall']:.4f}")

    # The other form of the pipeline: reorder and unreorder kernels over
    # q, k, v and the output instead of reads through the token order.
    if args.separate_reorder:
        os.environ["SATTN_FUSE_REORDER"] = "0"
        separate = sattn.SparseAttention(variant)
        del os.environ["SATTN_FUSE_REORDER"]
        print("with separate reorder and unreorder kernels:")
        result["separate_reorder"] = {}
        time_steps(separate, q, k, v, out, args.runs,
                   result["separate_reorder"])
        separate.close()

    if not args.no_flex:
        flex(attention, variant, q, k, v, result, args.runs)

    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")


def time_steps(attention, q, k, v, out, runs, result):
    """sattn_run at a refresh and at a reuse, then per stage with profiling
    events; fills `result` and prints a summary."""
    step = [0]

    def run(kind):
        # Even steps refresh, odd steps reuse (refresh_every 2).
        s = step[0] + (0 if (step[0] % 2 == 0) == (kind == "refresh") else 1)
        attention(q, k, v, step=s, out=out)
        step[0] = s + 1

    for kind in ("refresh", "reuse"):
        result[f"sattn_run_{kind}_ms"] = cuda_ms(lambda: run(kind), runs)
    stats = attention.stats()
    density = [d for row in stats["head_density"] for d in row]
    recall = [r for row in stats["head_recall"] for r in row]
    result["kept_density"] = statistics.mean(density)
    result["estimated_recall"] = statistics.mean(recall)

    # Per stage, with profiling events.
    attention.set_profiling(True)
    for kind in ("refresh", "reuse"):
        per_stage = {}
        for _ in range(runs):
            run(kind)
            # Stages of one op (the three reorders) summed per run.
            summed = {}
            for name, ms in attention.stats()["stage_ms"]:
                if ms >= 0:
                    summed[name] = summed.get(name, 0.0) + ms
            for name, ms in summed.items():
                per_stage.setdefault(name, []).append(ms)
        result[f"stage_ms_{kind}"] = {
            name: statistics.median(times) for name, times in per_stage.items()}
    attention.set_profiling(False)

    for kind in ("refresh", "reuse"):
        stages = result[f"stage_ms_{kind}"]
        attn = stages["sattn.sparse_attention"]
        rest = sum(ms for name, ms in stages.items()
                   if name != "sattn.sparse_attention")
        tail = stages.get("sattn.tail_bins", 0.0)
        result[f"pipeline_share_{kind}"] = rest / attn
        result[f"tail_share_{kind}"] = tail / attn
        print(f"{kind}: sattn_run {result[f'sattn_run_{kind}_ms'][0]:.3f} ms; "
              f"attention {attn:.3f} ms, other stages {rest:.3f} ms "
              f"({100 * rest / attn:.1f}% of attention), tail bins "
              f"{tail:.3f} ms ({100 * tail / attn:.1f}%)")
        print("   ", ", ".join(f"{n[6:]} {ms:.3f}" for n, ms in stages.items()))


def flex(attention, variant, q, k, v, result, runs):
    from torch.nn.attention.flex_attention import (create_block_mask,
                                                   flex_attention)
    # The plan's last mask: the final select stage's lists.
    _, manifest = sattn.compile(variant)
    select = [s for s in manifest["stages"] if s["op"] == "sattn.select"][-1]
    buffers = {b["name"]: b for b in manifest["buffers"]}
    groups_buf = buffers[select["outputs"][0]]
    counts_buf = buffers[select["outputs"][1]]
    attention.stats()  # wait for the last step
    groups = attention.buffer(groups_buf["name"], torch.int32,
                              groups_buf["shape"]).clone()
    counts = attention.buffer(counts_buf["name"], torch.int32,
                              counts_buf["shape"]).clone()
    B, H, NQ, G = groups.shape
    slot = torch.arange(G, device=groups.device)
    valid = slot.view(1, 1, 1, G) < counts.unsqueeze(-1)
    kept = torch.zeros(B, H, NQ, G, dtype=torch.bool, device=groups.device)
    kept.scatter_(3, groups.long().clamp(0, G - 1), valid)
    block_q = variant["block"]["q"]
    block_k = variant["block"]["k"]
    S = q.shape[2]
    order = attention.buffer("token_order", torch.int32, [S]).long().clone() \
        if "token_order" in buffers else None

    def mask_mod(b, h, q_idx, kv_idx):
        return kept[b, h, q_idx // block_q, kv_idx // block_k]

    def build():
        return create_block_mask(mask_mod, B, H, S, S, device="cuda",
                                 BLOCK_SIZE=(block_q, block_k),
                                 _compile=True)

    mask = build()
    compiled = torch.compile(flex_attention)
    # Key blocks of 32 need a kernel tile of at most 32 keys.
    options = {"BLOCK_M": block_q, "BLOCK_N": block_k}
    qr, kr, vr = ((x[:, :, order] if order is not None else x)
                  for x in (q, k, v))
    result["flex_create_block_mask_ms"] = cuda_ms(build, 5, warmup=1)
    result["flex_attention_ms"] = cuda_ms(
        lambda: compiled(qr, kr, vr, block_mask=mask,
                         kernel_options=options), runs)
    result["flex_reorder_ms"] = cuda_ms(
        lambda: [x[:, :, order] for x in (q, k, v)], runs) \
        if order is not None else [0.0, 0.0, 0.0]
    flex_total = (result["flex_create_block_mask_ms"][0] +
                  result["flex_attention_ms"][0] +
                  result["flex_reorder_ms"][0])
    result["flex_total_refresh_ms"] = flex_total
    ours = result["sattn_run_refresh_ms"][0]
    result["speedup_vs_flex_refresh"] = flex_total / ours
    result["speedup_vs_flex_reuse"] = (
        (result["flex_attention_ms"][0] + result["flex_reorder_ms"][0]) /
        result["sattn_run_reuse_ms"][0])
    print(f"flex: create_block_mask {result['flex_create_block_mask_ms'][0]:.3f}"
          f" ms, attention {result['flex_attention_ms'][0]:.3f} ms, reorder "
          f"{result['flex_reorder_ms'][0]:.3f} ms; sattn_run is "
          f"{result['speedup_vs_flex_refresh']:.2f}x at a refresh (mask "
          f"built), {result['speedup_vs_flex_reuse']:.2f}x at a reuse")


if __name__ == "__main__":
    main()
