"""The Python binding without a GPU (what CI runs): it finds libsattn.so,
compiles variants in process, and turns every failure into a SattnError
that carries the runtime's status and message. Needs no torch."""

import json
import os
import pathlib
import sys
import unittest

EXAMPLES = pathlib.Path(os.environ["SATTN_EXAMPLES_DIR"])

import sattn  # noqa: E402  (PYTHONPATH set by ctest)


class CompileTest(unittest.TestCase):
    def test_compiles_a_variant_file_for_each_arch(self):
        for arch in ("sm_80", "sm_90a"):
            ptx, manifest = sattn.compile(EXAMPLES / "wan2.1-480p.json", arch)
            self.assertIn(f".target {arch}", ptx)
            self.assertIn(".entry sattn_sparse_attention(", ptx)
            self.assertEqual(manifest["arch"], arch)
            names = [k["name"] for k in manifest["kernels"]]
            self.assertIn("sattn_sparse_attention", names)
            # The pools read q, k, v through the token order: no reorder.
            self.assertEqual(names[0], "sattn_pool")
            self.assertNotIn("sattn_reorder", names)

    def test_dict_text_and_path_give_the_same_kernels(self):
        path = EXAMPLES / "cogvideox-5b.json"
        text = path.read_text()
        as_dict = json.loads(text)
        first = sattn.compile(path, "sm_80")
        self.assertEqual(sattn.compile(text, "sm_80"), first)
        self.assertEqual(sattn.compile(as_dict, "sm_80"), first)

    def test_invalid_variant_raises_with_the_field(self):
        with self.assertRaises(sattn.SattnError) as caught:
            sattn.compile({"name": "x",
                           "problem": {"heads": 0, "grid": [1, 8, 8]}})
        self.assertEqual(caught.exception.status,
                         "SATTN_ERROR_INVALID_VARIANT")
        self.assertIn("problem.heads", str(caught.exception))

    def test_unknown_arch_and_wrong_types_raise(self):
        with self.assertRaises(sattn.SattnError) as caught:
            sattn.compile(EXAMPLES / "wan2.1-480p.json", arch="sm_70")
        self.assertEqual(caught.exception.status,
                         "SATTN_ERROR_INVALID_ARGUMENT")
        self.assertIn("sm_70", str(caught.exception))
        with self.assertRaises(sattn.SattnError):
            sattn.compile(42)

    def test_a_missing_library_is_named_in_the_error(self):
        import subprocess
        env = dict(os.environ, SATTN_LIBRARY="/nonexistent/libsattn.so")
        result = subprocess.run(
            [sys.executable, "-c",
             "import sattn\n"
             "try:\n"
             "    sattn.compile('{}')\n"
             "except sattn.SattnError as e:\n"
             "    print(e.status, e)\n"],
            env=env, capture_output=True, text=True, check=True)
        self.assertIn("SATTN_ERROR_IO", result.stdout)
        self.assertIn("SATTN_LIBRARY=/nonexistent/libsattn.so", result.stdout)


def _have_gpu():
    try:
        import torch
        return torch.cuda.is_available()
    except ImportError:
        return False


class SparseAttentionWithoutGpuTest(unittest.TestCase):
    """sattn.SparseAttention refuses what it cannot run before it needs
    torch or a GPU, and says so when there is none."""

    def test_an_invalid_variant_names_the_field(self):
        with self.assertRaises(sattn.SattnError) as caught:
            sattn.SparseAttention({"problem": {"heads": 0, "grid": [1, 8, 8]}})
        self.assertEqual(caught.exception.status,
                         "SATTN_ERROR_INVALID_VARIANT")
        self.assertIn("sattn_plan_create: problem.heads",
                      str(caught.exception))

    def test_the_linear_path_is_refused(self):
        with self.assertRaises(sattn.SattnError) as caught:
            sattn.SparseAttention({"name": "lin",
                                   "problem": {"heads": 2, "grid": [1, 8, 8]},
                                   "linear": {"enabled": True}})
        self.assertEqual(caught.exception.status,
                         "SATTN_ERROR_INVALID_VARIANT")
        self.assertIn("the linear path has no GPU kernels yet",
                      str(caught.exception))

    def test_a_json_text_that_does_not_parse_is_refused(self):
        with self.assertRaises(sattn.SattnError) as caught:
            sattn.SparseAttention('{"problem": ')
        self.assertEqual(caught.exception.status,
                         "SATTN_ERROR_INVALID_VARIANT")

    @unittest.skipIf(_have_gpu(), "a GPU is present")
    def test_no_gpu_is_a_clear_error(self):
        with self.assertRaises(sattn.SattnError) as caught:
            sattn.SparseAttention(EXAMPLES / "wan2.1-480p.json")
        self.assertIn(caught.exception.status,
                      ("SATTN_ERROR_NO_DRIVER", "SATTN_ERROR_NO_DEVICE"))


if __name__ == "__main__":
    sys.exit(unittest.main())
