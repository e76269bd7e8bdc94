#!/usr/bin/env python3
"""sattn-tune on a real GPU (ctest label gpu): a short sweep of a small
variant in which the second measured candidate is made to fault on the GPU
(--inject-fault 2) and the third to hang (--inject-hang 3). The sweep must go
on, record both as failed, and choose a candidate that passed its check
against the float64 reference. Exit 77 (skipped) without a GPU.

usage: gpu-sweep.py SATTN_TUNE VARIANT.json WORKDIR
"""

import json
import os
import shutil
import subprocess
import sys

tune, variant, work = sys.argv[1:4]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
db = os.path.join(work, "tuning.json")
env = dict(os.environ, SATTN_CACHE_DIR=os.path.join(work, "cache"))
env.pop("SATTN_TUNE_WORKER", None)
env.pop("SATTN_TUNE_FAKE_GPU", None)
run = subprocess.run([tune, variant, "--db", db, "--timeout", "20",
                      "--inject-fault", "2", "--inject-hang", "3",
                      "--budget", "5m"], env=env, capture_output=True,
                     text=True, timeout=900)
sys.stderr.write(run.stderr)
if run.returncode == 3 and "no GPU to tune on" in run.stderr:
    print("SKIP: no GPU:", run.stderr.strip().splitlines()[-1])
    sys.exit(77)
failures = []


def expect(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message)


expect(run.returncode == 0, f"exit code {run.returncode}")
with open(db) as f:
    entry = json.load(f)["entries"][0]
measured = entry["measured"]
failed = [m["failure"] for m in measured if "failure" in m]
expect(any("ILLEGAL_ADDRESS" in f or "illegal" in f.lower() for f in failed),
       f"the faulting candidate is recorded with its CUDA error: {failed}")
expect(any("timed out" in f for f in failed),
       f"the hanging candidate is recorded as timed out: {failed}")
passed = [m for m in measured if "failure" not in m]
expect(len(passed) >= 3, f"the sweep went on after the fault: {len(passed)}")
expect(all(m["rel_l2"] <= 1e-2 for m in passed),
       "every measured candidate passed the reference check")
best = entry.get("best")
expect(best is not None and best["ms"] == min(m["ms"] for m in passed),
       f"the best is the fastest that passed: {best}")
# The runtime plans with the tuned entry (sattn_plan_create reads the same
# database): where the library is at hand, a plan of the same variant says
# which parameters it took.
library = os.environ.get("SATTN_LIBRARY")
if library and best is not None:
    here = os.path.dirname(os.path.abspath(__file__))
    plan_env = dict(env, SATTN_TUNING_DB=db, PYTHONPATH=os.path.join(
        here, "..", "..", "runtime", "python"))
    code = ("import sattn, sys\n"
            "print(sattn.SparseAttention(sys.argv[1]).describe()['tuning'])")
    plan = subprocess.run([sys.executable, "-c", code, variant], env=plan_env,
                          capture_output=True, text=True, timeout=300)
    said = plan.stdout.strip()
    print("plan tuning:", said or plan.stderr.strip()[-500:])
    text = " ".join(f"{k}={v}" for k, v in best["params"].items())
    expect(said.startswith("tuned (") and text in said,
           f"the plan takes the tuned entry {text}: {said}")
if failures:
    sys.exit(1)
print(f"ok: {len(passed)} candidates measured, {len(failed)} failed; best "
      f"{best['params']} at {best['ms']:.3f} ms")
