#!/usr/bin/env bash
# Compares two builds of the benchmark executable on the client-mode cookie cases, alternating
# them RUNS times, and prints for each case both medians and the median of the per-pair ratios
# (new ÷ old): on a machine whose speed drifts, ratios of runs made seconds apart are what holds.
#
#   bash scripts/bench-cookies-ab.sh OLD_BINARY NEW_BINARY [CASE_TEXT] [RUNS]
#
# Build with `swift build -c release --package-path Benchmarks` and copy
# Benchmarks/.build/release/SessionBenchmarks aside before and after a change. CASE_TEXT selects
# cases as BENCHMARK_CASE does (default "binary: ", the 1 KiB binary cases); SUITE=NAME compares
# the cases of another suite (default cookies).
set -euo pipefail
old=$1
new=$2
selection=${3:-"binary: "}
suite=${SUITE:-cookies}
runs=${4:-8}
for _ in $(seq 1 "$runs"); do
    BENCHMARK_CASE="$selection" "$old" "$suite" 2>&1 | grep "µs" | sed 's/^/old|/'
    BENCHMARK_CASE="$selection" "$new" "$suite" 2>&1 | grep "µs" | sed 's/^/new|/'
done | python3 -c '
import collections, re, statistics, sys
runs = collections.defaultdict(lambda: collections.defaultdict(list))
for line in sys.stdin:
    which, rest = line.split("|", 1)
    match = re.match(r"(.*): ([\d.]+) µs", rest.strip())
    if match:
        runs[match.group(1)][which].append(float(match.group(2)))
for case, times in runs.items():
    ratios = [b / a for a, b in zip(times["old"], times["new"])]
    print("%-55s old %7.2f µs  new %7.2f µs  new/old %.3f" % (
        case, statistics.median(times["old"]), statistics.median(times["new"]), statistics.median(ratios)))
'
