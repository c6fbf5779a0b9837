#!/usr/bin/env bash
# Runs the whole test suite on a Debian machine with Swift: installs the system packages it needs
# when they are missing, checks formatting, builds, and runs every test.
#
#   bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
phase() { echo "== $1 (at $(( $(date +%s) - started )) s)"; }
source scripts/system-packages.sh
ensure_packages "${CORE_PACKAGES[@]}" "${SQLITE_PACKAGES[@]}" python3 python3-pip chromium chromium-driver
# The known-answer vectors are checked with independent readers (msgpack, plistlib).
ensure_python_module msgpack msgpack
# The envelope vectors are opened with an independent XChaCha20-Poly1305 (cryptography).
ensure_python_module cryptography cryptography
# The browser test drives headless Chromium through WebDriver.
ensure_python_module selenium selenium

phase "swift format lint"
swift format lint --strict --recursive Package.swift Sources Tests Examples Fuzz Benchmarks

# A throw-away PostgreSQL server on 127.0.0.1 for the PostgreSQL driver's tests, stopped on exit.
phase "PostgreSQL for the tests"
pg_data="${TMPDIR:-/tmp}/sessionpipeline-pg-$$"
eval "$(bash scripts/postgres.sh start "$pg_data")"
trap 'bash scripts/postgres.sh stop "$pg_data" || true; rm -rf "$pg_data" "$pg_data.initdb.log"' EXIT
echo "server on $SESSION_TEST_POSTGRES"

# Every trait on: the core, the Hummingbird middleware and the database drivers, with all
# their tests. The default build (core and Hummingbird) is checked to compile on its own after.
phase "build (all traits)"
swift build --build-tests --enable-all-traits

phase "test (all traits)"
swift test --skip-build --enable-all-traits

phase "browser: the CookieSessions page in headless Chromium"
for mode in client server hybrid; do
    echo "-- $mode mode"
    python3 scripts/browser_test.py .build/debug/CookieSessions --mode "$mode"
done

phase "fuzz: a short run of every target, each its own product"
log=$(mktemp)
for name in $(bash scripts/fuzz.sh --list); do
    if ! bash scripts/fuzz.sh "$name" "${FUZZ_SECONDS:-5}" > "$log" 2>&1; then
        tail -40 "$log"
        echo "fuzz target $name failed" >&2
        exit 1
    fi
    grep -E '^#[0-9]+.*(INITED|DONE)|^Done|^==' "$log" || true
done
rm -f "$log"

# The core alone (no traits) under the sanitizers, each build in a scratch path of its own.
# ThreadSanitizer: the concurrency tests (drivers, the cache's single flight, the merge of
# concurrent requests, migration races); any report fails the run. Left out: tests of child
# processes' memory or of SIGKILLed writers, which measure or kill processes rather than race
# threads, and run in the plain run above; and the CustomLayer example's test, whose journal uses
# the standard library's Mutex as an application would: on Linux its contended hand-over goes
# through a priority-inheritance futex that ThreadSanitizer cannot see, so it reports a race that
# is not one (the library's own locks are pthread mutexes for this reason: Support/Locked.swift).
process_tests="theProcessStaysWithinTheByteBound|aLongLoopOfSeals|everyFileIsWholeAfterWritersAreKilled"
phase "ThreadSanitizer: the concurrency tests (core only)"
swift build --build-tests --disable-default-traits --sanitize=thread --scratch-path .build-tsan
# The conformance suites' concurrency check runs 100 tasks of 20 operations here instead of
# 1,000 of 100: ThreadSanitizer needs two unsynchronized accesses, not volume.
SESSION_CONFORMANCE_TASKS=100 SESSION_CONFORMANCE_OPERATIONS=20 TSAN_OPTIONS="halt_on_error=1" swift test --skip-build --disable-default-traits --sanitize=thread \
    --scratch-path .build-tsan \
    --filter "PipelineConformanceTests|CacheTests|EncryptionTests/anEmptyPayload|MemoryDriverTests|FileDriverTests/passesTheConformanceSuite|WebSessionTests/concurrentRequests|WebSessionTests/whenTwoRequests|HashedIDsAndMigrationTests" \
    --skip "$process_tests|theExampleAuditTrail|theRefusalCheckRuns"

# AddressSanitizer with LeakSanitizer: the whole core test suite (memory-measuring tests aside:
# the sanitizer's own shadow memory and quarantine make resident sizes meaningless; sessionctl's
# maintenance commands on 5,000 sessions instead of 100,000, for time).
phase "AddressSanitizer and LeakSanitizer: the core test suite"
swift build --build-tests --disable-default-traits --sanitize=address --scratch-path .build-asan
SESSIONCTL_TEST_SESSIONS=5000 ASAN_OPTIONS="detect_leaks=1" \
    LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0" \
    swift test --skip-build --disable-default-traits --sanitize=address --scratch-path .build-asan \
    --skip "$process_tests|Bomb|bomb"

# (The default build, core and Hummingbird without the database drivers, is not built on its own:
# the all-traits build compiles the Hummingbird code and the sanitizer builds compile the core
# without the drivers, which together cover what it would.)
phase "done"
