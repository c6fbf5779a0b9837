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
source scripts/system-packages.sh
ensure_packages wrk
rounds=$1
seconds=$2
shift 2
export SESSION_KEYS="1:$(head -c 32 /dev/urandom | base64 -w0)"
COOKIE=$("$1" --mode client --seal-session Tests/Fixtures/session_1k.json 2>/dev/null)
export COOKIE
work=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
    rm -rf "$work"
}
trap cleanup EXIT
rate() { wrk -t 1 -c 32 -d "${seconds}s" -s Benchmarks/web/cookie.lua "$1" | awk '/Requests\/sec/ {print $2}'; }
for round in $(seq 1 "$rounds"); do
    for binary in "$@"; do
        "$binary" --port 0 --quiet --mode client > "$work/out" 2>/dev/null &
        pid=$!
        for _ in $(seq 1 300); do grep -q "listening on" "$work/out" && break; sleep 0.1; done
        base=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/out")
        wrk -t 1 -c 32 -d 1s -s Benchmarks/web/cookie.lua "$base/plain" > /dev/null # warm-up
        plain=$(rate "$base/plain")
        counter=$(rate "$base/counter")
        kill "$pid"; wait "$pid" 2>/dev/null || true
        pid=
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
