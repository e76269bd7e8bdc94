#!/usr/bin/env python3
"""Side-by-side timing of sattn against FlexAttention, SDPA flash and cuDNN.

Run on the GPU machine (torch with CUDA), after compiling the bench variants:

    for v in bench/variants/*.json; do
      build/bin/sattnc $v -o bench/kernels --fuse-reorder=false
    done
    python3 bench/compare.py --kernels bench/kernels

For each shape (wan2.1-480p: B=1, 24 heads, D=128, S=32760; cogvideox-5b:
B=1, 48 heads, D=64, S=17776), key group (128, 32) and density (10, 25, 50,
100 %), one random block mask (the same index lists for every
implementation) is timed with sattn and with FlexAttention, whose BlockMask
is built from those index lists at the same block size; SDPA's flash and
cuDNN backends time dense attention. CUDA events, warm-up, median of --runs,
inputs rotated between runs. Writes bench/results/compare-<device>-<date>.json
and prints a table.
"""

import argparse
import datetime
import json
import math
import os
import pathlib
import subprocess
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.nn.attention.flex_attention import BlockMask, flex_attention

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "runtime" / "python"))
import sattn  # noqa: E402

SHAPES = {
    # name: (batch, heads, seq, head_dim, variant prefix)
    "wan2.1-480p": (1, 24, 32760, 128, "wan2.1-480p-24h"),
    "cogvideox-5b": (1, 48, 17776, 64, "cogvideox-5b"),
}
BLOCK_Q = 128


def timed(fn, inputs, runs, warmup):
    """Median milliseconds of fn(*inputs[i % len(inputs)]) over `runs`."""
    for i in range(warmup):
        fn(*inputs[i % len(inputs)])
    torch.cuda.synchronize()
    events = [(torch.cuda.Event(enable_timing=True),
               torch.cuda.Event(enable_timing=True)) for _ in range(runs)]
    for i, (start, end) in enumerate(events):
        start.record()
        fn(*inputs[i % len(inputs)])
        end.record()
    torch.cuda.synchronize()
    times = sorted(start.elapsed_time(end) for start, end in events)
    return times[len(times) // 2], times[0], times[-1]


def random_mask(batch, heads, seq, key_group, density, generator):
    """Index lists: each (batch, head, query block) keeps the same number of
    uniformly drawn key groups, ascending."""
    nq = math.ceil(seq / BLOCK_Q)
    groups = math.ceil(seq / key_group)
    keep = max(1, min(groups, round(density * groups)))
    scores = torch.rand(batch, heads, nq, groups, device="cuda",
                        generator=generator)
    kept = scores.topk(keep, dim=-1).indices.sort(dim=-1).values
    counts = torch.full((batch, heads, nq), keep, dtype=torch.int32,
                        device="cuda")
    # Kept query-key pairs, for effective FLOPs: partial last blocks count
    # only their tokens.
    q_tokens = torch.full((nq,), BLOCK_Q, dtype=torch.float64)
    q_tokens[-1] = seq - (nq - 1) * BLOCK_Q
    g_tokens = torch.full((groups,), key_group, dtype=torch.float64,
                          device="cuda")
    g_tokens[-1] = seq - (groups - 1) * key_group
    keys = g_tokens[kept].sum(-1).cpu()  # [B, H, NQ]
    pairs = float((keys * q_tokens).sum())
    return kept.to(torch.int32).contiguous(), counts, pairs


def flex_block_mask(kept, counts, seq, key_group):
    """FlexAttention's BlockMask from the same index lists: every kept block
    is a full block (no mask_mod needed inside it)."""
    batch, heads, nq, keep = kept.shape
    groups = math.ceil(seq / key_group)
    indices = torch.zeros(batch, heads, nq, groups, dtype=torch.int32,
                          device="cuda")
    indices[..., :keep] = kept
    empty = torch.zeros_like(counts)
    return BlockMask.from_kv_blocks(
        empty, indices, full_kv_num_blocks=counts, full_kv_indices=indices,
        BLOCK_SIZE=(BLOCK_Q, key_group), seq_lengths=(seq, seq))


def flex_coarse_mask(kept, counts, seq, key_group):
    """The same mask for FlexAttention at 128 x 128 blocks (the block size
    its kernels are tuned for): a 128-key block is full when all its key
    groups are kept, partial when some are, and a mask_mod reads the kept
    groups inside partial blocks."""
    batch, heads, nq, keep = kept.shape
    groups = math.ceil(seq / key_group)
    per_block = BLOCK_Q // key_group
    blocks = math.ceil(seq / BLOCK_Q)
    dense = torch.zeros(batch, heads, nq, blocks * per_block,
                        dtype=torch.bool, device="cuda")
    dense.scatter_(-1, kept.long(), True)
    # Groups past the sequence end count as kept, so that a final partial
    # block is not demoted for lack of keys that do not exist.
    dense[..., groups:] = True
    by_block = dense.view(batch, heads, nq, blocks, per_block)
    full = by_block.all(-1)
    partial = by_block.any(-1) & ~full
    lookup = dense.contiguous()

    def to_lists(flags):
        counts = flags.sum(-1, dtype=torch.int32)
        order = torch.sort(flags.to(torch.int8), dim=-1, descending=True,
                           stable=True).indices
        return counts, order.to(torch.int32).contiguous()

    partial_counts, partial_indices = to_lists(partial)
    full_counts, full_indices = to_lists(full)

    def mask_mod(b, h, q_idx, kv_idx):
        return lookup[b, h, q_idx // BLOCK_Q, kv_idx // key_group]

    return BlockMask.from_kv_blocks(
        partial_counts, partial_indices, full_kv_num_blocks=full_counts,
        full_kv_indices=full_indices, BLOCK_SIZE=(BLOCK_Q, BLOCK_Q),
        mask_mod=mask_mod, seq_lengths=(seq, seq))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", required=True,
                        help="folder where sattnc wrote the bench variants, "
                        "or LABEL=DIR,... to time several builds of them "
                        "(rows 'sattn-LABEL'; e.g. mma=k1,wgmma=k2)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--densities", default="0.1,0.25,0.5,1.0")
    parser.add_argument("--key-groups", default="128,32,16")
    args = parser.parse_args()
    kernel_folders = [tuple(item.split("=", 1)) if "=" in item
                      else ("", item) for item in args.kernels.split(",")]

    torch.manual_seed(0)
    generator = torch.Generator(device="cuda").manual_seed(0)
    flex = torch.compile(flex_attention, dynamic=False)
    device = torch.cuda.get_device_name()
    driver = subprocess.run(
        ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
        capture_output=True, text=True).stdout.strip()
    rows = []
    date = datetime.date.today().isoformat()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    slug = device.replace(" ", "-").replace("/", "-")
    path = out / f"compare-{slug}-{date}.json"

    def save():
        """The results so far, replaced atomically after every row."""
        header = {"device": device, "driver": driver,
                  "torch": torch.__version__, "date": date,
                  "command": " ".join([os.path.basename(sys.argv[0])]
                                      + sys.argv[1:]),
                  "rows": rows}
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(header, indent=1) + "\n")
        tmp.replace(path)

    def record(shape, impl, density, key_group, ms, pairs, head_dim,
               **extra):
        median, low, high = ms
        tflops = 4 * pairs * head_dim / (median * 1e-3) / 1e12
        row = {"shape": shape, "impl": impl, "density": round(density, 4),
               "key_group": key_group, "ms": round(median, 4),
               "ms_min": round(low, 4), "ms_max": round(high, 4),
               "tflops_effective": round(tflops, 1), **extra}
        rows.append(row)
        save()
        print(f"{shape:13} {impl:14} kg {str(key_group):4} density "
              f"{density:5.3f}  {median:8.3f} ms  {tflops:6.1f} TFLOP/s"
              + (f"  {extra}" if extra else ""), flush=True)

    for shape in args.shapes.split(","):
        batch, heads, seq, head_dim, prefix = SHAPES[shape]
        inputs = [tuple(torch.randn(batch, heads, seq, head_dim,
                                    dtype=torch.bfloat16, device="cuda")
                        for _ in range(3)) for _ in range(3)]
        dense_pairs = float(batch * heads) * seq * seq
        for backend, name in ((SDPBackend.FLASH_ATTENTION, "sdpa-flash"),
                              (SDPBackend.CUDNN_ATTENTION, "sdpa-cudnn")):
            with sdpa_kernel(backend):
                ms = timed(F.scaled_dot_product_attention, inputs, args.runs,
                           args.warmup)
            record(shape, name, 1.0, None, ms, dense_pairs, head_dim)
        for key_group in (int(g) for g in args.key_groups.split(",")):
            builds = [(f"sattn-{label}" if label else "sattn",
                       sattn.Kernels(pathlib.Path(folder) /
                                     f"{prefix}-k{key_group}.manifest.json"))
                      for label, folder in kernel_folders]
            kernels = builds[0][1]
            for density in (float(d) for d in args.densities.split(",")):
                kept, counts, pairs = random_mask(batch, heads, seq,
                                                  key_group, density,
                                                  generator)
                q, k, v = inputs[0]
                ours = kernels.sparse_attention(q, k, v, kept, counts)
                # FlexAttention at the mask's own block size and, for small
                # key groups, at 128 x 128 with a mask_mod; the faster counts.
                candidates = [("flex", flex_block_mask,
                               {"BLOCK_N": key_group} if key_group < 128
                               else None)]
                if key_group < 128:
                    candidates.append(("flex-128+mask_mod", flex_coarse_mask,
                                       None))
                for name, make_mask, options in candidates:
                    try:
                        mask = make_mask(kept, counts, seq, key_group)
                        theirs = flex(q, k, v, block_mask=mask,
                                      kernel_options=options)
                        ms = timed(lambda q, k, v: flex(
                            q, k, v, block_mask=mask, kernel_options=options),
                            inputs, args.runs, args.warmup)
                    except Exception as error:  # noqa: BLE001 - report, go on
                        print(f"{name} failed: {type(error).__name__}: "
                              + " ".join(str(error).split())[:300])
                        continue
                    err = float((ours.float() - theirs.float()).norm()
                                / theirs.float().norm())
                    record(shape, name, pairs / dense_pairs, key_group, ms,
                           pairs, head_dim, rel_l2_vs_sattn=round(err, 5))
                for impl, build in builds:
                    extra = {}
                    if build is not kernels:
                        out = build.sparse_attention(q, k, v, kept, counts)
                        extra["rel_l2_vs_first"] = round(float(
                            (out.float() - ours.float()).norm()
                            / ours.float().norm()), 5)
                    ms = timed(lambda q, k, v: build.sparse_attention(
                        q, k, v, kept, counts), inputs, args.runs,
                        args.warmup)
                    record(shape, impl, pairs / dense_pairs, key_group, ms,
                           pairs, head_dim, **extra)
            for _, build in builds:
                build.close()

    print(f"wrote {path}")


if __name__ == "__main__":
    main()
