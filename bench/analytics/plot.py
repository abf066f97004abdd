"""Plots build/analytics_bench.tsv (from bench/run_analytics_bench.sh) as time against
population size, one line per engine, to docs/analytics_bench.png."""
import csv
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

tsv = sys.argv[1] if len(sys.argv) > 1 else "build/analytics_bench.tsv"
png = sys.argv[2] if len(sys.argv) > 2 else "docs/analytics_bench.png"
series = defaultdict(list)
with open(tsv) as f:
    for row in csv.DictReader(f, delimiter="\t"):
        series[row["engine"]].append((int(row["patients"]), float(row["seconds"])))
        if float(row["load_seconds"]) > 0:
            series[row["engine"] + " (+ load)"].append(
                (int(row["patients"]), float(row["seconds"]) + float(row["load_seconds"])))
fig, ax = plt.subplots(figsize=(7, 4.5))
for name, points in sorted(series.items()):
    points.sort()
    style = "--" if "load" in name else "-"
    ax.plot([p[0] for p in points], [p[1] for p in points], style, marker="o", label=name)
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("patients (medhub gen)")
ax.set_ylabel("seconds (wall), log scale")
ax.set_title("stroke-risk-factors job, 2 cores, one machine")
ax.grid(True, which="both", alpha=0.3)
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(png, dpi=110)
print(png)
