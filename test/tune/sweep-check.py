#!/usr/bin/env python3
"""The sweep of sattn-tune without a GPU: a stand-in worker (fake-worker.py)
answers for the GPU, everything else is real: candidates compiled in process
and pruned, results merged into the tuning DB as they come, a crashing and a
hanging candidate isolated, Ctrl-C, and --resume measuring only the rest.

usage: sweep-check.py SATTN_TUNE VARIANT.json WORKDIR
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

tune, variant, work = sys.argv[1:4]
here = os.path.dirname(os.path.abspath(__file__))
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
db = os.path.join(work, "tuning.json")
log = os.path.join(work, "calls.log")
env = dict(os.environ,
           SATTN_TUNE_WORKER=os.path.join(here, "fake-worker.py"),
           SATTN_TUNE_FAKE_GPU="Fake GPU;13000;sm_80;101376",
           SATTN_CACHE_DIR=os.path.join(work, "cache"),
           FAKE_WORKER_LOG=log)
failures = []


def expect(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message)


def entry():
    with open(db) as f:
        entries = json.load(f)["entries"]
    expect(len(entries) == 1, f"one DB entry, got {len(entries)}")
    return entries[0]


def calls():
    with open(log) as f:
        return f.read().splitlines()


# 1. A sweep with candidate 2 crashing and candidate 3 hanging.
summary = os.path.join(work, "summary.json")
run = subprocess.run([tune, variant, "--db", db, "--timeout", "3",
                      "--inject-fault", "2", "--inject-hang", "3",
                      "--json", summary], env=env, capture_output=True,
                     text=True, timeout=600)
print(run.stderr)
expect(run.returncode == 0, f"sweep exit code {run.returncode}")
e = entry()
failed = [m for m in e["measured"] if "failure" in m]
expect(any("signal 11" in m["failure"] for m in failed),
       "the crashing candidate is recorded as killed by signal 11")
expect(any("timed out" in m["failure"] for m in failed),
       "the hanging candidate is recorded as timed out")
pruned = [m for m in failed if m["failure"].startswith("pruned: ")]
expect(any("64 threads cannot load 128-row key tiles" in m["failure"]
           for m in pruned),
       "a combination the template cannot take is pruned, not run")
expect(e.get("best", {}).get("params") == {"template": "mma", "key_tile": 64,
                                           "stages": 3, "warp_rows": 32},
       f"best is key_tile 64, stages 3, warp_rows 32: {e.get('best')}")
expect("default" in e, "the default's time is recorded")
with open(summary) as f:
    rows = json.load(f)["rows"]
expect(len(rows) == 1 and rows[0]["best"]["ms"] == 1.0,
       f"summary row: {rows}")
expect("[ 1/19]" in run.stderr and "ETA" in run.stderr,
       "progress lines with count and ETA")
first_calls = len(calls())
expect(first_calls == len(e["measured"]) - len(pruned),
       f"one worker call per candidate that was not pruned ({first_calls} "
       f"calls, {len(e['measured'])} results, {len(pruned)} pruned)")

# 2. --resume with everything measured: no worker call at all.
run = subprocess.run([tune, variant, "--db", db, "--resume"], env=env,
                     capture_output=True, text=True, timeout=600)
expect(run.returncode == 0, f"resume exit code {run.returncode}")
expect(len(calls()) == first_calls,
       f"--resume measured again: {calls()[first_calls:]}")

# 3. Ctrl-C in the middle of another density, then --resume.
os.remove(log)
slow = dict(env, FAKE_WORKER_SECONDS="0.4")
sweep = subprocess.Popen([tune, variant, "--db", db, "--densities", "0.5"],
                         env=slow, stderr=subprocess.PIPE, text=True)
time.sleep(0.1)
while not os.path.exists(log) or len(calls()) < 4:
    time.sleep(0.1)
sweep.send_signal(signal.SIGINT)
_, stderr = sweep.communicate(timeout=120)
print(stderr)
expect(sweep.returncode == 130, f"interrupted exit code {sweep.returncode}")
expect("--resume continues" in stderr, "says how to continue")
with open(db) as f:
    entries = json.load(f)["entries"]
expect(len(entries) == 2, f"the interrupted density has its entry: "
                          f"{len(entries)} entries")
half = [x for x in entries if x["shape_bucket"].endswith("d0.5")]
kept = len(half[0]["measured"]) if half else 0
expect(kept >= 3, f"what was measured before Ctrl-C is kept ({kept})")
before = len(calls())
run = subprocess.run([tune, variant, "--db", db, "--densities", "0.5",
                      "--resume"], env=env, capture_output=True, text=True,
                     timeout=600)
expect(run.returncode == 0, f"resume exit code {run.returncode}")
resumed = calls()[before:]
expect(not (set(resumed) & {
    "template=mma key_tile=%d stages=%d warp_rows=%d" % (
        m["params"]["key_tile"], m["params"]["stages"],
        m["params"]["warp_rows"])
    for m in half[0]["measured"]}),
    "--resume measured a candidate the DB already held")
with open(db) as f:
    half = [x for x in json.load(f)["entries"]
            if x["shape_bucket"].endswith("d0.5")]
expect(half[0].get("best", {}).get("ms") == 1.0,
       "after --resume the best is found")

# 4. A GPU with less shared memory: candidates that need more are pruned
#    before they run, and the best is one that fits.
small_db = os.path.join(work, "small-gpu.json")
os.remove(log)
small = dict(env, SATTN_TUNE_FAKE_GPU="Small GPU;13000;sm_80;49152")
run = subprocess.run([tune, variant, "--db", small_db], env=small,
                     capture_output=True, text=True, timeout=600)
expect(run.returncode == 0, f"small-GPU sweep exit code {run.returncode}")
with open(small_db) as f:
    e = json.load(f)["entries"][0]
too_big = [m for m in e["measured"]
           if "B of shared memory; the GPU has 49152" in m.get("failure", "")]
expect(too_big, "candidates needing more shared memory are pruned")
expect(len(calls()) == sum("failure" not in m for m in e["measured"]),
       "pruned candidates never reach a worker")
expect(e["best"]["params"]["stages"] == 2,
       f"the best fits in 48 KB: {e['best']}")

# 5. An sm_90a GPU: the three templates are searched, wgmma and wgmma-ws
# with one row count.
hopper_db = os.path.join(work, "hopper-gpu.json")
os.remove(log)
hopper = dict(env, SATTN_TUNE_FAKE_GPU="Fake H100;13000;sm_90a;232448")
run = subprocess.run([tune, variant, "--db", hopper_db], env=hopper,
                     capture_output=True, text=True, timeout=600)
expect(run.returncode == 0, f"sm_90a sweep exit code {run.returncode}")
with open(hopper_db) as f:
    e = json.load(f)["entries"][0]
measured = [m["params"] for m in e["measured"] if "failure" not in m]
wgmma = [p for p in measured if p["template"] == "wgmma"]
expect(len(wgmma) >= 3 and all(p["warp_rows"] == 0 for p in wgmma),
       f"wgmma candidates measured, each with the template's rows: {wgmma}")
ws = [p for p in measured if p["template"] == "wgmma-ws"]
expect(len(ws) >= 3 and all(p["warp_rows"] == 0 for p in ws),
       f"wgmma-ws candidates measured, each with the template's rows: {ws}")
expect(any(p["template"] == "mma" for p in measured),
       "mma.sync candidates are measured on sm_90a too")
expect(measured and measured[0]["template"] == "auto",
       f"the defaults (template auto) come first: {measured[:1]}")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("ok: sweep, isolation, interrupt and resume, both templates on sm_90a")
