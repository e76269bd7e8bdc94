#!/usr/bin/env python3
"""Summarizes a run of scripts/gpu-checks.sh (groups tests, sanitize) into
bench/results/gpu-tests-<device>-<date>.json: the device and driver, the
number of cases run and failed per attention template, the worst relative L2
error against the float64 reference per template, and the compute-sanitizer
verdicts.

    scripts/summarize-gpu-tests.py OUT_DIR --device "NVIDIA H100 80GB HBM3" \
        --driver 580.159.04 --command "..." [--out FILE]

OUT_DIR holds gpu-tests-*.json (GoogleTest's output per shard) and
memcheck.log / racecheck.log when the sanitize group ran.
"""
import argparse
import collections
import datetime
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=pathlib.Path)
    parser.add_argument("--command", required=True,
                        help="the command that ran the checks")
    parser.add_argument("--device", required=True)
    parser.add_argument("--driver", required=True)
    parser.add_argument("--out", type=pathlib.Path)
    args = parser.parse_args()

    shards = sorted(args.out_dir.glob("gpu-tests-*.json"))
    if not shards:
        sys.exit(f"summarize-gpu-tests: no gpu-tests-*.json in {args.out_dir}")
    runs = collections.Counter()
    failed = collections.Counter()
    worst = {}
    failures = []
    for shard in shards:
        for suite in json.loads(shard.read_text())["testsuites"]:
            for case in suite["testsuite"]:
                name = case["name"].split("/", 1)[-1]
                # sm_90a_wgmma_bf16_...: the template is the second field.
                fields = name.split("_")
                template = (f"{fields[0]}_{fields[1]}-{fields[2]}"
                            if len(fields) > 2 else "other")
                runs[template] += 1
                if case.get("failures"):
                    failed[template] += 1
                    failures.append(name)
                if "rel_l2" in case:
                    worst[template] = max(worst.get(template, 0.0),
                                          float(case["rel_l2"]))

    summary = {
        "device": args.device,
        "driver": args.driver,
        "date": datetime.date.today().isoformat(),
        "command": args.command,
        "tests": sum(runs.values()),
        "failed": sum(failed.values()),
        "per_template": {
            t: {"tests": runs[t], "failed": failed[t],
                "worst_rel_l2": round(worst.get(t, 0.0), 5)}
            for t in sorted(runs)},
        "failures": failures,
    }
    sanitizer = {}
    for tool in ("memcheck", "racecheck"):
        path = args.out_dir / f"{tool}.log"
        if path.exists():
            text = path.read_text(errors="replace")
            ran = re.search(r"\[==========\] (\d+) tests? from", text)
            verdict = re.findall(r"========= (.*SUMMARY.*)", text)
            sanitizer[tool] = (f"{ran.group(1) if ran else '?'} tests: "
                               + (verdict[-1] if verdict else "no summary"))
    if sanitizer:
        summary["compute_sanitizer"] = sanitizer

    slug = summary["device"].replace(" ", "-")
    out = args.out or ROOT / "bench" / "results" / \
        f"gpu-tests-{slug}-{summary['date']}.json"
    out.write_text(json.dumps(summary, indent=1) + "\n")
    print(f"summarize-gpu-tests: {summary['tests']} tests, "
          f"{summary['failed']} failed -> {out}")


if __name__ == "__main__":
    main()
