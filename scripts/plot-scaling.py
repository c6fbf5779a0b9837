#!/usr/bin/env python3
"""Plots how the library scales, from the JSON that the benchmarks' `scaling` suite writes:

    swift run -c release --package-path Benchmarks SessionBenchmarks scaling  # docs/scaling.json
    python3 scripts/plot-scaling.py [INPUT.json] [OUTPUT.png]   # default docs/scaling.{json,png}

Three panels: the cookie round trip of each pipeline against the session's JSON size, next to the
C floor for the same work (dashed); store get (solid) and set (dashed) against the number of stored
sessions; and the cost of deleting expired sessions per removed row. When matplotlib is missing, it
is installed into .build/plot-venv and the script runs again with that environment's python.
"""
import json
import math
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".build", "plot-venv")

try:
    import matplotlib
except ImportError:
    python = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        sys.exit(f"matplotlib is missing from {VENV}; remove that directory and try again")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    if subprocess.run([python, "-c", "import matplotlib"], capture_output=True).returncode:
        subprocess.run([python, "-m", "pip", "install", "--quiet", "matplotlib"], check=True)
    os.execv(python, [python, os.path.abspath(__file__), *sys.argv[1:]])

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogFormatter, NullLocator  # noqa: E402


def series(rows, key, x):
    """Groups rows by rows[key], each group as x-sorted rows."""
    groups = {}
    for row in rows:
        groups.setdefault(row[key], []).append(row)
    return {name: sorted(group, key=lambda r: r[x]) for name, group in groups.items()}


def byte_label(n):
    for unit in ("B", "KiB", "MiB"):
        if n < 1024 or unit == "MiB":
            return f"{n:g} {unit}"
        n /= 1024


def count_label(n, _pos=None):
    div, suffix = (1e6, "M") if n >= 1e6 else (1e3, "k") if n >= 1e3 else (1, "")
    return f"{n / div:g}{suffix}"


def finish(ax, title, xlabel, ylabel):
    if ax.get_yscale() == "log":  # plain numbers (60, not 6×10¹) on the µs axis
        ax.yaxis.set_major_formatter(LogFormatter())
        ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(1, 0.4)))
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.4)
    ax.grid(True, which="minor", alpha=0.15)
    ax.legend(fontsize="x-small")


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "docs", "scaling.json")
    target = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "docs", "scaling.png")
    if not os.path.exists(source):
        sys.exit(f"{source} not found; write it with\n  swift run -c release"
                 " --package-path Benchmarks SessionBenchmarks scaling")
    with open(source) as f:
        data = json.load(f)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, (sizes, stores, expiry) = plt.subplots(1, 3, figsize=(12, 4))

    for i, (pipeline, rows) in enumerate(series(data["sizes"], "pipeline", "json_bytes").items()):
        xs = [r["json_bytes"] for r in rows]
        colour = colours[i % len(colours)]
        sizes.plot(xs, [r["swift_us"] for r in rows], "o-", color=colour, label=pipeline)
        sizes.plot(xs, [r["floor_us"] for r in rows], "--", color=colour, label=f"{pipeline} floor")
    sizes.set_xscale("log", base=2)
    sizes.set_yscale("log")
    all_bytes = [r["json_bytes"] for r in data["sizes"]]
    low, high = round(math.log2(min(all_bytes))), round(math.log2(max(all_bytes)))
    step = max(1, math.ceil((high - low) / 5))
    ticks = [2**e for e in range(low, high + 1, step)]
    sizes.set_xticks(ticks, [byte_label(t) for t in ticks])
    sizes.xaxis.set_minor_locator(NullLocator())
    finish(sizes, "Cookie round trip vs session size", "session JSON size", "µs per round trip")

    drivers = series(data["stores"], "driver", "sessions")
    for i, (driver, rows) in enumerate(drivers.items()):
        xs = [r["sessions"] for r in rows]
        colour = colours[i % len(colours)]
        stores.plot(xs, [r["get_us"] for r in rows], "o-", color=colour, label=f"{driver} get")
        stores.plot(xs, [r["set_us"] for r in rows], "s--", color=colour, label=f"{driver} set")
        rows = [r for r in rows if r["deleted"]]
        per_row = [r["delete_expired_ms"] * 1000 / r["deleted"] for r in rows]
        expiry.plot([r["sessions"] for r in rows], per_row, "o-", color=colour, label=driver)
    for ax in (stores, expiry):
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(count_label))
    stores.set_yscale("log")
    expiry.margins(y=0.25)  # headroom for the legend
    expiry.set_ylim(bottom=0)
    finish(stores, "Store get/set vs store size", "sessions in store", "µs per operation")
    finish(expiry, "Delete-expired per removed row", "sessions in store", "µs per removed row")

    fig.suptitle(f"{data.get('machine', '')}  ·  {data.get('command', '')}", fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
    fig.savefig(target, dpi=120, metadata={"Software": None})
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
