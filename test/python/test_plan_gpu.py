"""sattn.SparseAttention on a GPU (ctest label gpu; exit 77, skipped,
without torch or CUDA): the whole pipeline through the plan API on torch
tensors in [B, H, S, D] and [B, S, H, D] views, on the current torch
stream, across dense, refresh and reuse steps, checked against float64
attention; stats; bad inputs raised as sattn.SattnError. Needs a kernel for
every stage: until they land the plan tests are skipped with the runtime's
reason ("stage ... has no GPU kernel yet")."""

import math
import os
import sys
import tempfile
import unittest

try:
    import torch
    HAVE_GPU = torch.cuda.is_available()
except ImportError:
    HAVE_GPU = False

import sattn  # noqa: E402  (PYTHONPATH set by ctest)

# Density 1: every key group is kept, so the output is dense attention and
# float64 SDPA is the reference. Steps 0-1 dense, refresh at 2 and 4, reuse
# at 3 and 5.
VARIANT = {"name": "py-plan", "problem": {"heads": 2, "head_dim": 64,
                                          "grid": [2, 8, 16]},
           "reorder": {"kind": "hilbert2d"}, "block": {"q": 64, "k": 32},
           "selection": {"rule": "topk", "density": 1.0},
           "schedule": {"dense_warmup_steps": 2, "refresh_every": 2},
           "tail": {"bins": 2}}
KINDS = ["dense", "dense", "refresh", "reuse", "refresh", "reuse"]


def dense_reference(q, k, v):
    scale = 1 / math.sqrt(q.shape[-1])
    logits = q.double() @ k.double().transpose(-1, -2) * scale
    return torch.softmax(logits, -1) @ v.double()


def rel_l2(got, want):
    return ((got.double() - want).norm() / want.norm()).item()


@unittest.skipUnless(HAVE_GPU, "no torch with CUDA")
class PlanGpuTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cache = tempfile.TemporaryDirectory()
        os.environ["SATTN_CACHE_DIR"] = cls.cache.name
        cls.skip_reason = None
        try:
            cls.attention = sattn.SparseAttention(VARIANT)
        except sattn.SattnError as e:
            if "has no GPU kernel yet" not in str(e):
                raise
            cls.skip_reason = f"SKIP: {e}"

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "attention", None) is not None:
            cls.attention.close()
        cls.cache.cleanup()

    def setUp(self):
        if self.skip_reason:
            self.skipTest(self.skip_reason)

    def inputs(self, layout, seed):
        g = torch.Generator(device="cuda").manual_seed(seed)
        B, H, S, D = 1, 2, 256, 64
        shape = (B, H, S, D) if layout == "bhsd" else (B, S, H, D)
        qkv = [torch.randn(shape, generator=g, device="cuda",
                           dtype=torch.bfloat16) for _ in range(3)]
        if layout == "bshd":
            qkv = [t.transpose(1, 2) for t in qkv]  # [B, H, S, D] views
        return qkv

    def test_matches_dense_attention_across_steps(self):
        for layout in ("bhsd", "bshd"):
            plan = sattn.SparseAttention(VARIANT)
            for step, kind in enumerate(KINDS):
                with self.subTest(layout=layout, step=step):
                    q, k, v = self.inputs(layout, seed=step)
                    side = torch.cuda.Stream()
                    with torch.cuda.stream(side):
                        out = plan(q, k, v, step=step)
                    side.synchronize()
                    self.assertEqual(out.shape, q.shape)
                    self.assertEqual(out.dtype, torch.bfloat16)
                    self.assertLessEqual(
                        rel_l2(out, dense_reference(q, k, v)), 1e-2)
                    stats = plan.stats()
                    self.assertEqual(stats["last_kind"], kind)
                    self.assertEqual(stats["steps_run"], step + 1)
                    if kind != "dense":
                        self.assertEqual(len(stats["head_density"]), 1)
                        for d in stats["head_density"][0]:
                            self.assertAlmostEqual(d, 1.0, places=5)
            plan.close()

    def test_profiling_reports_each_stage(self):
        self.attention.set_profiling(True)
        q, k, v = self.inputs("bhsd", seed=1)
        self.attention(q, k, v, step=2)
        stats = self.attention.stats()
        self.assertTrue(stats["stage_ms"])
        for stage, ms in stats["stage_ms"]:
            self.assertTrue(stage.startswith("sattn."))
            self.assertGreaterEqual(ms, 0.0)
        self.attention.set_profiling(False)

    def test_bad_inputs_raise_with_the_runtime_message(self):
        q, k, v = self.inputs("bhsd", seed=2)
        with self.assertRaises(sattn.SattnError) as caught:
            self.attention(q[:, :, :128], k[:, :, :128], v[:, :, :128])
        self.assertIn("the plan's shape is [1, 2, 256, 64]",
                      str(caught.exception))
        with self.assertRaises(sattn.SattnError) as caught:
            self.attention(q.float(), k, v)
        self.assertIn("bfloat16 or float16", str(caught.exception))
        with self.assertRaises(sattn.SattnError) as caught:
            self.attention(q.cpu(), k, v)
        self.assertIn("not a CUDA device", str(caught.exception))
        with self.assertRaises(sattn.SattnError) as caught:
            self.attention(q, k, v, step=-1)
        self.assertIn("step is -1", str(caught.exception))
        with self.assertRaises(sattn.SattnError):
            self.attention(q.transpose(2, 3), k, v)  # head_dim not contiguous


if __name__ == "__main__":
    if not HAVE_GPU:
        print("SKIP: no torch with CUDA")
        sys.exit(77)
    sys.exit(unittest.main())
