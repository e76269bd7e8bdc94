"""The Python binding on a GPU (ctest label gpu; exit 77, skipped, without
torch or CUDA): kernels compiled in process through the kernel cache,
block-sparse attention on torch tensors in [B, H, S, D] and [B, S, H, D]
layouts on the current torch stream, checked against float64; and the
errors a caller meets raised as sattn.SattnError with the runtime's
message."""

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

VARIANT = {"name": "py-gpu", "problem": {"heads": 4, "head_dim": 64,
                                         "grid": [1, 25, 40]},
           "block": {"q": 64, "k": 32}, "tail": {"bins": 2}}


def reference(q, k, v, kept, counts, tail, bq, kg):
    """Float64 attention of each query block over its kept key groups and
    tail bins."""
    B, H, S, D = q.shape
    scale = 1 / math.sqrt(D)
    qd, kd, vd = q.double(), k.double(), v.double()
    ref = torch.zeros_like(qd)
    tk, tv, tn = tail
    for i in range(math.ceil(S / bq)):
        rows = slice(i * bq, min(S, (i + 1) * bq))
        for b in range(B):
            for h in range(H):
                groups = kept[b, h, i, :counts[b, h, i]].tolist()
                keys = torch.cat([torch.arange(g * kg, min(S, (g + 1) * kg))
                                  for g in groups]).to(q.device)
                logits = qd[b, h, rows] @ kd[b, h, keys].T * scale
                lt = qd[b, h, rows] @ tk[b, h, i].double().T * scale \
                    + tn[b, h, i].double()
                probs = torch.softmax(torch.cat([logits, lt], -1), -1)
                vals = torch.cat([vd[b, h, keys], tv[b, h, i].double()], 0)
                ref[b, h, rows] = probs @ vals
    return ref


@unittest.skipUnless(HAVE_GPU, "no torch with CUDA")
class GpuTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cache = tempfile.TemporaryDirectory()
        os.environ["SATTN_CACHE_DIR"] = cls.cache.name
        cls.kernels = sattn.Kernels.compile(VARIANT)

    @classmethod
    def tearDownClass(cls):
        cls.kernels.close()
        cls.cache.cleanup()

    def inputs(self, bshd=False):
        torch.manual_seed(0)
        B, H, S, D = 1, 4, 1000, 64
        shape = (B, S, H, D) if bshd else (B, H, S, D)
        q, k, v = (torch.randn(*shape, device="cuda", dtype=torch.bfloat16)
                   for _ in range(3))
        if bshd:  # views in [B, H, S, D] order over [B, S, H, D] memory
            q, k, v = (t.transpose(1, 2) for t in (q, k, v))
        nq, G = math.ceil(S / 64), math.ceil(S / 32)
        keep = max(1, round(0.3 * G))
        kept = torch.rand(B, H, nq, G, device="cuda").topk(keep, -1) \
            .indices.sort(-1).values.int().contiguous()
        counts = torch.full((B, H, nq), keep, dtype=torch.int32,
                            device="cuda")
        tail = (0.5 * torch.randn(B, H, nq, 2, D, device="cuda"),
                0.5 * torch.randn(B, H, nq, 2, D, device="cuda"),
                torch.log(torch.randint(1, 400, (B, H, nq, 2),
                                        device="cuda").float()))
        return q, k, v, kept, counts, tail

    def check(self, bshd):
        q, k, v, kept, counts, tail = self.inputs(bshd)
        stream = torch.cuda.Stream()
        with torch.cuda.stream(stream):
            out = self.kernels.sparse_attention(q, k, v, kept, counts, *tail)
        stream.synchronize()
        ref = reference(q, k, v, kept, counts, tail, 64, 32)
        err = ((out.double() - ref).norm() / ref.norm()).item()
        self.assertFalse(torch.isnan(out).any().item())
        self.assertLessEqual(err, 1e-2)
        return err

    def test_compiled_in_process_and_cached(self):
        info = self.kernels.describe()
        self.assertIn(info["arch"], ("sm_80", "sm_90a"))
        self.assertGreater(info["registers"], 0)
        self.assertTrue(info["tuning"].startswith("defaults ("),
                        info["tuning"])
        again = sattn.Kernels.compile(VARIANT)
        self.assertTrue(again.describe()["from_cache"])
        again.close()

    def test_matches_float64_in_both_layouts(self):
        print("rel L2: BHSD %.2e, BSHD %.2e" % (self.check(False),
                                                 self.check(True)),
              file=sys.stderr)

    def test_errors_are_exceptions_with_the_message(self):
        q, k, v, kept, counts, tail = self.inputs()
        cases = [
            ((q.cpu(), k, v), "not a CUDA device"),
            ((q.float(), k, v), "bfloat16 or float16"),
            ((q[..., :32], k, v), None),
            ((q.flatten(), k, v), "dimensions"),
        ]
        for (tq, tk, tv), text in cases:
            with self.assertRaises(sattn.SattnError) as caught:
                self.kernels.sparse_attention(tq, tk, tv, kept, counts,
                                              *tail)
            if text:
                self.assertIn(text, str(caught.exception))
        with self.assertRaises(sattn.SattnError) as caught:
            self.kernels.sparse_attention(q, k, v, kept, counts)
        self.assertIn("tail", str(caught.exception))
        with self.assertRaises(sattn.SattnError) as caught:
            sattn.Kernels.compile({"name": "bad", "problem": {"heads": 0}})
        self.assertEqual(caught.exception.status,
                         "SATTN_ERROR_INVALID_VARIANT")


if __name__ == "__main__":
    if not HAVE_GPU:
        print("SKIP: no torch with CUDA")
        sys.exit(77)
    unittest.main()
