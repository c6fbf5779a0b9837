#!/usr/bin/env bash
# Runs one libFuzzer target for a while.
#
#   bash scripts/fuzz.sh --list            names the targets
#   bash scripts/fuzz.sh NAME SECONDS      builds NAME's product with -sanitize=fuzzer,address and runs it
#
# Each target is a product of its own (Fuzz/FuzzNAME/main.swift over the harnesses in
# Fuzz/FuzzTargets), built into .build-fuzz; the library modules they share are compiled once there.
# A run starts from the committed seed corpus (Fuzz/Corpus/NAME: the known-answer vectors, or seeds
# made by FuzzTarget.generatedSeeds()) and keeps what it finds in .build-fuzz/corpus/NAME; a crash
# is written to fuzz-artifacts/ and fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."

# NAME:PRODUCT for every target (FuzzTarget in Fuzz/FuzzTargets; a test checks the two agree).
targets=(
    json:FuzzJSON binary:FuzzBinary plist-binary:FuzzPlistBinary plist-xml:FuzzPlistXML
    envelope:FuzzEnvelope signing:FuzzSigning compression:FuzzCompression
    cookie-chunks:FuzzCookieChunks cookie-header:FuzzCookieHeader configuration:FuzzConfiguration
)

if [ "${1:-}" = "--list" ]; then
    printf '%s\n' "${targets[@]%%:*}"
    exit 0
fi
product=
for entry in "${targets[@]}"; do
    if [ "${entry%%:*}" = "${1:-}" ]; then product=${entry#*:}; fi
done
if [ $# -ne 2 ] || [ -z "$product" ]; then
    echo "usage: scripts/fuzz.sh --list | NAME SECONDS  (NAME: ${targets[*]%%:*})" >&2
    exit 2
fi
name=$1
seconds=$2

source scripts/system-packages.sh
ensure_packages "${CORE_PACKAGES[@]}"

build() {
    # The sanitizers go to the compiler as one flag. Given as two (`--sanitize=fuzzer
    # --sanitize=address`), the compiler driver keeps only the last, and SwiftPM orders them
    # differently from run to run: each build then recompiled everything, with either coverage or
    # AddressSanitizer but never both. `--sanitize=fuzzer` alone makes SwiftPM build the
    # executable for libFuzzer's `main`. Whole-module optimization (on in release builds) is
    # turned off: under it swiftc drops the fuzzer's coverage instrumentation.
    swift build -c release --product "$product" --scratch-path .build-fuzz --sanitize=fuzzer \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -no-whole-module-optimization 2>&1 |
        grep -vE '^\[[0-9]+/[0-9]+\]' || true
}
instrumented() {
    # (Not `readelf | grep -q`: under pipefail, grep -q closing the pipe early fails the check.)
    local sections symbols
    [ -x "$binary" ] || return 1
    sections=$(readelf -S "$binary" 2>/dev/null) && [[ "$sections" == *__sancov_cntrs* ]] || return 1
    symbols=$(nm "$binary" 2>/dev/null) && [[ "$symbols" == *__asan_report_load* ]]
}
binary=.build-fuzz/release/$product
build
# A harness without coverage feedback would only pretend to fuzz, and one without AddressSanitizer
# would miss memory errors: check that the binary carries libFuzzer's counters and ASan's checks.
instrumented || { echo "build of $product failed or lacks coverage or AddressSanitizer instrumentation" >&2; exit 1; }

corpus=.build-fuzz/corpus/$name
mkdir -p "$corpus" fuzz-artifacts
echo "== fuzzing $name for ${seconds}s"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
SWIFT_BACKTRACE=enable=no "$binary" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="fuzz-artifacts/$name-" "$corpus" "Fuzz/Corpus/$name" 2>&1 | tee "$log" || status=$?
[ "$status" -eq 0 ] || exit "$status"
# libFuzzer reports covered edges as "cov: N"; without them the target never reached the decoder.
grep -q ' cov: ' "$log" || { echo "the $name run reported no coverage: the harness is not fuzzing" >&2; exit 1; }
