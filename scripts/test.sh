#!/usr/bin/env bash
# Runs the whole test suite on a Debian machine with Swift: installs the system packages it needs
# when they are missing, checks formatting, builds, and runs every test.
#
#   bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/system-packages.sh
ensure_packages "${CORE_PACKAGES[@]}" "${SQLITE_PACKAGES[@]}" python3 python3-pip chromium chromium-driver
# The known-answer vectors are checked with independent readers (msgpack, plistlib).
ensure_python_module msgpack msgpack
# The envelope vectors are opened with an independent XChaCha20-Poly1305 (cryptography).
ensure_python_module cryptography cryptography
# The browser test drives headless Chromium through WebDriver.
ensure_python_module selenium selenium

echo "== swift format lint"
swift format lint --strict --recursive Package.swift Sources Tests Examples Fuzz Benchmarks

# A throw-away PostgreSQL server on 127.0.0.1 for the PostgreSQL driver's tests, stopped on exit.
echo "== PostgreSQL for the tests"
pg_data="${TMPDIR:-/tmp}/sessionpipeline-pg-$$"
eval "$(bash scripts/postgres.sh start "$pg_data")"
trap 'bash scripts/postgres.sh stop "$pg_data" || true; rm -rf "$pg_data" "$pg_data.initdb.log"' EXIT
echo "server on $SESSION_TEST_POSTGRES"

# Every trait on: the core, the Hummingbird middleware and the database drivers, with all
# their tests. The default build (core and Hummingbird) is checked to compile on its own after.
echo "== build (all traits)"
swift build --build-tests --enable-all-traits

echo "== test (all traits)"
swift test --skip-build --enable-all-traits

echo "== browser: the CookieSessions page in headless Chromium"
for mode in client server hybrid; do
    echo "-- $mode mode"
    python3 scripts/browser_test.py .build/debug/CookieSessions --mode "$mode"
done

echo "== fuzz: a short run of every target"
log=$(mktemp)
for name in $(bash scripts/fuzz.sh --list); do
    if ! bash scripts/fuzz.sh "$name" "${FUZZ_SECONDS:-10}" > "$log" 2>&1; then
        tail -40 "$log"
        echo "fuzz target $name failed" >&2
        exit 1
    fi
    grep -E '^#[0-9]+.*(INITED|DONE)|^Done|^==' "$log" || true
done
rm -f "$log"

echo "== the default build on its own (core and Hummingbird, no database drivers)"
swift build
