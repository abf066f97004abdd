"""Plots build/analytics_bench.tsv (from bench/run_analytics_bench.sh) as time against
population size, one line per engine, to docs/analytics_bench.png: wall seconds on the
left, CPU seconds (steadier on a shared machine; not measured for PostgreSQL) on the
right."""
import csv
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

tsv = sys.argv[1] if len(sys.argv) > 1 else "build/analytics_bench.tsv"
png = sys.argv[2] if len(sys.argv) > 2 else "docs/analytics_bench.png"
series = defaultdict(list)
cpu = defaultdict(list)
with open(tsv) as f:
    for row in csv.DictReader(f, delimiter="\t"):
        series[row["engine"]].append((int(row["patients"]), float(row["seconds"])))
        if float(row["load_seconds"] or 0) > 0:
            series[row["engine"] + " (+ load)"].append(
                (int(row["patients"]), float(row["seconds"]) + float(row["load_seconds"])))
        if row.get("cpu_seconds"):
            cpu[row["engine"]].append((int(row["patients"]), float(row["cpu_seconds"])))
fig, (ax, ax_cpu) = plt.subplots(1, 2, figsize=(11, 4.5))
for axis, data, label in ((ax, series, "seconds (wall), log scale"),
                          (ax_cpu, cpu, "CPU seconds (user + system), log scale")):
    for name, points in sorted(data.items()):
        points.sort()
        style = "--" if "load" in name else "-"
        axis.plot([p[0] for p in points], [p[1] for p in points], style, marker="o", label=name)
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("patients (medhub gen)")
    axis.set_ylabel(label)
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8)
ax.set_title("stroke-risk-factors job, 2 cores, one shared machine")
ax_cpu.set_title("CPU time of the engine's processes")
fig.tight_layout()
fig.savefig(png, dpi=110)
print(png)
