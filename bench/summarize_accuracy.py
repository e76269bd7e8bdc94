#!/usr/bin/env python3
"""Prints the tables of bench/ACCURACY.md from bench/results/accuracy-*.json.

usage: bench/summarize_accuracy.py [RESULTS_DIR]
"""

import collections
import json
import os
import sys

RESULTS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "results")
PAPER = {0.1: "6.03e-03 / -85.89%", 0.2: "2.27e-03 / -91.81%",
         0.3: "1.02e-03 / -94.58%", 0.4: "4.88e-04 / -96.29%",
         0.5: "2.32e-04 / -97.40%"}


def load(name):
    with open(os.path.join(RESULTS, f"accuracy-{name}.json")) as f:
        return json.load(f)


def change(mse, base):
    """The MSE change against `base` in %, with enough digits to tell
    -99.99% from -99.999%."""
    ratio = mse / base
    digits = 2 if ratio > 1e-2 else 3 if ratio > 1e-3 else 4
    return f"{100 * (ratio - 1):+.{digits}f}%"


def table(header, rows):
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()


def by(rows, *keys):
    out = {}
    for r in rows:
        out[tuple(r[k] for k in keys)] = r
    return out


def uta():
    full = by(load("uta-table1")["rows"], "kept", "bins")
    norm = by(load("uta-normalization-only")["rows"], "kept", "bins")
    kept = sorted({k for k, _ in full})
    bins = sorted({b for _, b in full})
    rows = [["UTA paper, Wan2.1-14B: top-k / + UTA"] + [PAPER[k] for k in kept],
            ["top-k, MSE (recall)"] +
            [f"{full[k, 0]['mse']:.2e} ({full[k, 0]['recall']:.3f})" for k in kept]]
    for b in bins[1:]:
        rows.append([f"+ {b} bin{'s' if b > 1 else ''}"] +
                    [f"{full[k, b]['mse']:.2e} / {change(full[k, b]['mse'], full[k, 0]['mse'])}"
                     for k in kept])
    for b in (1, 4, 32):
        rows.append([f"normalization-only, {b} bin{'s' if b > 1 else ''}"] +
                    [f"{norm[k, b]['mse']:.2e} / {change(norm[k, b]['mse'], norm[k, 0]['mse'])}"
                     for k in kept])
    table(["MSE / change vs top-k"] + [f"{k:.0%} kept" for k in kept], rows)


def block_tail():
    for name in ("block-tail", "block-tail-small"):
        doc = load(name)
        rows = doc["rows"]
        runs = collections.defaultdict(list)
        for r in rows:
            runs[(r["method"], r["kept"])].append(r)
        increases, pairs = [], 0
        for (method, kept), run in sorted(runs.items()):
            run.sort(key=lambda r: r["bins"])
            for a, b in zip(run, run[1:]):
                pairs += 1
                if b["mse"] > a["mse"]:
                    increases.append(f"{method} kept {kept}: {a['bins']}->{b['bins']} bins "
                                     f"{a['mse']:.4e} -> {b['mse']:.4e}")
        grid = "x".join(str(x) for x in doc["inputs"]["grid"])
        print(f"{name} ({grid}, seed {doc['inputs']['seed']}): MSE rose in "
              f"{len(increases)} of {pairs} steps to the next bin count")
        for line in increases:
            print(f"  - {line}")
        print()
    full = by(load("block-tail")["rows"], "kept", "bins")
    kept = sorted({k for k, _ in full})
    rows = [["no bins, MSE (recall)"] +
            [f"{full[k, 0]['mse']:.2e} ({full[k, 0]['recall']:.3f})" for k in kept]]
    for b in (1, 4, 32):
        rows.append([f"+ {b} bin{'s' if b > 1 else ''}"] +
                    [change(full[k, b]['mse'], full[k, 0]['mse']) for k in kept])
    table(["hilbert3d, 128x32 top-down"] + [f"{k:.0%}" for k in kept], rows)


def block_selection():
    rows = load("block-selection")["rows"]
    recall = {}
    for r in rows:
        # blocks-<order>-<groups>-<aggregate>
        parts = r["method"].split("-")
        order, aggregate = parts[1], parts[-1]
        groups = "-".join(parts[2:-1])
        recall[(order, groups, aggregate, r["kept"])] = r
    orders = ["identity", "tile444", "hilbert2d", "hilbert3d"]
    groups = ["k128", "k32", "k32-topdown", "k16", "k16-topdown"]
    for kept in (0.1, 0.3):
        out = []
        for g in groups:
            for a in ("softmax", "logit"):
                out.append([f"128x{g[1:].split('-')[0]}" +
                            (" top-down" if "topdown" in g else "") +
                            f", {'softmax-sum' if a == 'softmax' else 'logit'}"] +
                           [f"{recall[(o, g, a, kept)]['recall']:.3f}" for o in orders])
        print(f"Recall at kept {kept} (density "
              f"{min(recall[(o, g, 'softmax', kept)]['density'] for o in orders for g in groups):.3f}"
              f"-{max(recall[(o, g, 'softmax', kept)]['density'] for o in orders for g in groups):.3f}):")
        print()
        table(["groups, score"] + orders, out)
    heads = []
    for o in orders:
        for g in ("k128", "k16"):
            r = recall[(o, g, "softmax", 0.1)]
            heads.append([f"{o}, 128x{g[1:]}"] + [f"{x:.2f}" for x in r["head_recall"]])
    print("Per head at kept 0.1, softmax-sum (heads: local, temporal, semantic, sink):")
    print()
    table(["order, groups", "local", "temporal", "semantic", "sink"], heads)


def schedule():
    doc = load("schedule")
    runs = collections.defaultdict(list)
    for r in doc["rows"]:
        runs[r["method"]].append(r)
    for method, run in runs.items():
        run.sort(key=lambda r: r["step"])
        out = []
        for r in run:
            if r["dense"]:
                continue
            out.append([str(r["step"]), "refresh" if r["refreshed"] else "reuse",
                        f"{r['kept']:.2f}",
                        " ".join(f"{x:.3f}" for x in r["schedule_density"]),
                        " ".join(f"{x:.3f}" for x in r["head_recall"]),
                        f"{r['recall']:.3f}", f"{r['mse']:.2e}"])
        print(f"{method} (steps {run[0]['step']}-{run[-1]['step']}; dense: "
              f"{sum(r['dense'] for r in run)} steps):")
        print()
        table(["step", "mask", "schedule density", "topk density per head",
               "true recall per head", "recall", "MSE"], out)


for section in (uta, block_tail, block_selection, schedule):
    print(f"## {section.__name__}")
    print()
    try:
        section()
    except FileNotFoundError as e:
        print(f"(missing: {e.filename})")
        print()
