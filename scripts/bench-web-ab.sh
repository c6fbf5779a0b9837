#!/usr/bin/env bash
# Compares two builds of the CookieSessions server over HTTP in one run, alternating them so
# that this machine's drift falls on both alike: each round starts each server in client mode
# and measures /plain then /counter with wrk (every request carrying the 1 KiB reference
# session's cookie), and the summary gives each server's medians.
#
#   bash scripts/bench-web-ab.sh ROUNDS SECONDS OLD_BINARY NEW_BINARY
#
# Build a binary with `swift build -c release --product CookieSessions` and copy
# .build/release/CookieSessions aside before and after a change.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=$1
seconds=$2
shift 2
source scripts/web-server.sh
COOKIE=$(sealed_cookie "$1")
export COOKIE
# A server that stops answering fails the run, with what it wrote to stderr.
died() {
    echo "$binary stopped answering ($(kill -0 "$pid" 2> /dev/null && echo "still running" || echo "exited")):" >&2
    cat "$work/err" >&2
    exit 1
}
rate() { wrk -t 1 -c 32 -d "${seconds}s" -s Benchmarks/web/cookie.lua "$1" | awk '/Requests\/sec/ {print $2}'; }
for round in $(seq 1 "$rounds"); do
    for binary in "$@"; do
        start_server "$binary" --mode client
        wrk -t 1 -c 32 -d 1s -s Benchmarks/web/cookie.lua "$base/plain" > /dev/null || died # warm-up
        plain=$(rate "$base/plain")
        counter=$(rate "$base/counter")
        [ -n "$plain" ] && [ -n "$counter" ] || died
        stop_server
        echo "$binary $plain $counter" >> "$work/results"
        echo "round $round, $binary: /plain $plain req/s, /counter $counter req/s"
    done
done
python3 - "$work/results" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    binary, plain, counter = line.split()
    runs[binary].append((float(plain), float(counter)))
for binary, rounds in runs.items():
    print("%s: median /plain %.0f req/s, /counter %.0f req/s, median ratio %.1f%%" % (
        binary, statistics.median(p for p, _ in rounds), statistics.median(c for _, c in rounds),
        100 * statistics.median(c / p for p, c in rounds)))
PY
