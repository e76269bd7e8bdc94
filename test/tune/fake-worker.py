#!/usr/bin/env python3
"""A stand-in for `sattn-tune --worker` on machines without a GPU.

It gets the worker's arguments, checks that the candidate's kernels were
really compiled (the manifest and its PTX exist and name the kernel), logs
the call, and answers like the worker: a time that depends on the tile
parameters (fastest at key_tile=64, stages=3, warp_rows=32), or, with
--fault / --hang, dies the way a faulting or hanging kernel's process does.
"""

import json
import os
import signal
import sys
import time

args = sys.argv[1:]
value = {args[i]: args[i + 1] for i in range(len(args) - 1)
         if args[i].startswith("--")}
candidate = dict(kv.split("=") for kv in value["--candidate"].split())
with open(value["--manifest"]) as f:
    manifest = json.load(f)
folder = os.path.dirname(value["--manifest"])
with open(os.path.join(folder, manifest["ptx"])) as f:
    ptx = f.read()
assert ".entry sattn_sparse_attention(" in ptx, "no kernel in the PTX"

with open(os.environ["FAKE_WORKER_LOG"], "a") as log:
    log.write(value["--candidate"] + "\n")
time.sleep(float(os.environ.get("FAKE_WORKER_SECONDS", "0")))

if "--fault" in args:
    os.kill(os.getpid(), signal.SIGSEGV)
if "--hang" in args:
    time.sleep(3600)

kt, st, wr = (int(candidate[k]) for k in ("key_tile", "stages", "warp_rows"))
ms = 1.0 + abs(kt - 64) / 64 + abs(st - 3) * 0.1 + (0.05 if wr != 32 else 0)
print(json.dumps({"ok": True, "ms": ms, "rel_l2": 0.003}))
