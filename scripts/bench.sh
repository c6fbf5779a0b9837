#!/usr/bin/env bash
# Runs the release-mode benchmarks (docs/BENCHMARKS.md), installing the system libraries they link
# (libsodium, zstd, zlib) when they are missing.
#
#   bash scripts/bench.sh [SUITE ...]     # no suite: every suite but scaling
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/system-packages.sh
ensure_packages "${CORE_PACKAGES[@]}"
exec swift run -c release --package-path Benchmarks SessionBenchmarks "$@"
