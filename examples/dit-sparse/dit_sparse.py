"""A DiT-style transformer block whose attention is sattn's sparse pipeline.

The block is the usual one (adaLN-free for brevity): LayerNorm, a qkv
Linear, multi-head attention, the output projection, LayerNorm, MLP, with
residuals. `--attention sdpa` uses F.scaled_dot_product_attention; the
default swaps in sattn.SparseAttention(variant) -- one line -- and runs a
few denoising steps: the variant's schedule makes the first steps dense
(warm-up), then refreshes the sparse mask every few steps and reuses it in
between. Per step it prints the step kind, the attention time and the whole
block's time (CUDA events), and the relative L2 error of the block output
against the same block with SDPA.

    PYTHONPATH=runtime/python python3 examples/dit-sparse/dit_sparse.py

Needs torch with CUDA, and libsattn.so (build/lib, or $SATTN_LIBRARY).
"""

import argparse
import pathlib
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "runtime" / "python"))
import sattn  # noqa: E402


class DiTBlock(nn.Module):
    def __init__(self, dim, heads, attention):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(),
                                 nn.Linear(4 * dim, dim))
        # attention(q, k, v, step) on [B, H, S, D]
        self.attention = attention

    def forward(self, x, step):
        B, S, C = x.shape
        qkv = self.qkv(self.norm1(x)).view(B, S, 3, self.heads,
                                           C // self.heads)
        # [B, S, H, D] slices viewed as [B, H, S, D]: no copy (sattn takes
        # any strides with head_dim contiguous).
        q, k, v = (qkv[:, :, i].transpose(1, 2) for i in range(3))
        o = self.attention(q, k, v, step)
        x = x + self.proj(o.transpose(1, 2).reshape(B, S, C))
        return x + self.mlp(self.norm2(x))


def sdpa(q, k, v, step):
    return F.scaled_dot_product_attention(q, k, v)


def timed(fn):
    start = torch.cuda.Event(enable_timing=True)
    stop = torch.cuda.Event(enable_timing=True)
    start.record()
    result = fn()
    stop.record()
    stop.synchronize()
    return result, start.elapsed_time(stop)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variant", default=str(HERE / "dit-sparse.json"))
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--attention", choices=["sattn", "sdpa"],
                        default="sattn")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("dit_sparse: needs a CUDA GPU (torch.cuda.is_available() "
                 "is False)")

    torch.manual_seed(0)
    attention = None
    if args.attention == "sattn":
        try:
            attention = sattn.SparseAttention(args.variant)
        except sattn.SattnError as e:
            sys.exit(f"dit_sparse: {e}")
        problem = attention.variant["problem"]
        attend = lambda q, k, v, step: attention(q, k, v, step=step)  # noqa
    else:
        import json
        problem = json.loads(pathlib.Path(args.variant).read_text())["problem"]
        attend = sdpa
    T, Hh, W = problem["grid"]
    heads, head_dim = problem["heads"], problem.get("head_dim", 128)
    dim = heads * head_dim
    tokens = T * Hh * W + problem.get("text_tokens", 0)

    block = DiTBlock(dim, heads, attend).cuda().to(torch.bfloat16).eval()
    reference = DiTBlock(dim, heads, sdpa).cuda().to(torch.bfloat16).eval()
    reference.load_state_dict(block.state_dict())
    # A latent with spatial and temporal structure, drifting over the steps
    # like a denoising trajectory.
    grid = torch.stack(torch.meshgrid(
        torch.linspace(-1, 1, T), torch.linspace(-1, 1, Hh),
        torch.linspace(-1, 1, W), indexing="ij"), -1).view(1, -1, 3).cuda()
    basis = torch.randn(3, dim, device="cuda")
    x = (torch.sin(4 * grid @ basis) +
         0.5 * torch.randn(1, tokens, dim, device="cuda"))
    noise = torch.randn_like(x)

    print(f"dit_sparse: B=1, tokens={tokens} (grid {T}x{Hh}x{W}), "
          f"heads={heads}, head_dim={head_dim}, bf16, "
          f"attention={args.attention}")
    print(f"{'step':>4}  {'kind':<8} {'attn ms':>8} {'sdpa ms':>8} "
          f"{'block ms':>9} {'density':>8} {'rel L2 vs SDPA':>15}")
    with torch.no_grad():
        for step in range(args.steps):
            xs = (x + 0.05 * step * noise).to(torch.bfloat16)
            q, k, v = (t.transpose(1, 2) for t in
                       block.qkv(block.norm1(xs)).view(
                           1, tokens, 3, heads, head_dim).unbind(2))
            # Attention alone: sattn's plan, then SDPA. The plan is run at
            # this step first so its schedule sees each step once, then the
            # block repeats the same step (a refresh recomputes the mask).
            _, attn_ms = timed(lambda: attend(q, k, v, step))
            _, sdpa_ms = timed(lambda: sdpa(q, k, v, step))
            out, block_ms = timed(lambda: block(xs, step))
            want = reference(xs, step)
            rel = ((out.double() - want.double()).norm() /
                   want.double().norm()).item()
            kind, density = "sdpa", 1.0
            if attention is not None:
                stats = attention.stats()
                kind = stats["last_kind"]
                if stats["head_density"]:
                    row = stats["head_density"][0]
                    density = sum(row) / len(row)
            print(f"{step:>4}  {kind:<8} {attn_ms:>8.3f} {sdpa_ms:>8.3f} "
                  f"{block_ms:>9.3f} {density:>8.3f} {rel:>15.3e}")


if __name__ == "__main__":
    main()
