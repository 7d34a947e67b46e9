#!/usr/bin/env python3
"""Prints the figures of a benchmark run as a Markdown table: each Criterion group's
measured function (named tandem_*) beside its baselines, with times, throughput and the
ratio figure / baseline; then the FIGURE lines the custom measurements printed.

    bench_report.py TARGET/criterion RUN.log
"""
import json
import sys
from pathlib import Path


def human_time(ns):
    for unit, size in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= size:
            return f"{ns / size:.3g} {unit}"
    return f"{ns:.3g} ns"


def human_rate(throughput, ns):
    if not throughput:
        return ""
    (kind, amount), = throughput.items()
    per_second = amount / (ns / 1e9)
    if kind == "Bytes":
        return f"{per_second / 1e6:.1f} MB/s"
    return f"{per_second:,.0f} values/s"


def main(criterion_dir, log):
    groups = {}
    for estimates in sorted(Path(criterion_dir).glob("*/*/new/estimates.json")):
        function_dir = estimates.parent.parent
        meta = json.loads((estimates.parent / "benchmark.json").read_text())
        mean = json.loads(estimates.read_text())["mean"]
        groups.setdefault(meta["group_id"], []).append(
            (meta["function_id"], mean["point_estimate"], mean["confidence_interval"],
             meta.get("throughput"))
        )
    print("| group | function | mean (95% CI) | throughput | ratio to baseline |")
    print("|---|---|---|---|---|")
    for group, functions in groups.items():
        figures = [f for f in functions if f[0].startswith("tandem_")]
        for name, ns, ci, throughput in sorted(functions, key=lambda f: not f[0].startswith("tandem_")):
            ratio = ""
            if figures and not name.startswith("tandem_"):
                ratio = f"{figures[0][1] / ns:.2f}x"
            interval = f"{human_time(ci['lower_bound'])} .. {human_time(ci['upper_bound'])}"
            print(f"| {group} | {name} | {human_time(ns)} ({interval}) | "
                  f"{human_rate(throughput, ns)} | {ratio} |")
    print()
    for line in Path(log).read_text(errors="replace").splitlines():
        if line.startswith("FIGURE "):
            print(f"- {line[len('FIGURE '):]}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
