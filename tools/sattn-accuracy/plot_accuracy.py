#!/usr/bin/env python3
"""Draws a sattn-accuracy JSON file (run by `sattn-accuracy --plot`).

usage: plot_accuracy.py RESULTS.json OUT.png

Sweeps: MSE against the kept fraction (log scale), one line per method and
bin count, plain top-k (0 bins) dashed. Step runs (rows with "step"): the
density and the true recall of every head against the denoising step.
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402


def title_of(doc):
    inputs = doc.get("inputs", {})
    what = (f"synthetic {inputs.get('name')} seed {inputs.get('seed')}"
            if inputs.get("source") == "synthetic" else "q, k, v from .npy")
    shape = "x".join(str(x) for x in inputs.get("grid", []))
    return (f"{what}: {inputs.get('heads')} heads, S={inputs.get('seq_len')} "
            f"({shape}), D={inputs.get('head_dim')}")


def plot_sweep(doc, rows, out):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    lines = {}
    for row in rows:
        key = (row["method"], row["bins"], row.get("tail", "full"))
        lines.setdefault(key, []).append((row["kept"], row["mse"]))
    for (method, bins, tail), points in sorted(lines.items()):
        points.sort()
        label = (f"{method}, {bins} bin{'s' if bins != 1 else ''}" if bins
                 else f"{method}, no bins")
        if tail != "full":
            label += f" ({tail})"
        ax.plot([p[0] for p in points], [max(p[1], 1e-300) for p in points],
                marker="o", linestyle="--" if bins == 0 else "-", label=label)
    ax.set_yscale("log")
    ax.set_xlabel("kept fraction")
    ax.set_ylabel("MSE against dense attention")
    ax.set_title(title_of(doc), fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def plot_steps(doc, rows, out):
    runs = {}
    for row in rows:
        runs.setdefault((row["method"], row["bins"]), []).append(row)
    fig, axes = plt.subplots(2, len(runs), figsize=(4.5 * len(runs), 6),
                             sharex=True, sharey="row", squeeze=False)
    for column, ((method, bins), run) in enumerate(sorted(runs.items())):
        run.sort(key=lambda r: r["step"])
        steps = [r["step"] for r in run]
        top, bottom = axes[0][column], axes[1][column]
        for h in range(len(run[0]["head_density"])):
            top.step(steps, [r["head_density"][h] for r in run], where="post",
                     label=f"head {h}")
            bottom.plot(steps, [r["head_recall"][h] for r in run], marker=".",
                        label=f"head {h}")
        top.set_title(f"{method}, {bins} bin{'s' if bins != 1 else ''}",
                      fontsize=9)
        bottom.set_xlabel("step")
        for ax in (top, bottom):
            ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel("density (kept pairs)")
    axes[1][0].set_ylabel("true recall")
    axes[0][0].legend(fontsize=7)
    fig.suptitle(title_of(doc), fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    rows = doc["rows"]
    if any("step" in r for r in rows):
        plot_steps(doc, rows, sys.argv[2])
    else:
        plot_sweep(doc, rows, sys.argv[2])


if __name__ == "__main__":
    main()
