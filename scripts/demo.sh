#!/usr/bin/env bash
# The main job: builds and runs the demo of a session pipeline, installing the system packages it
# needs when they are missing.
#
#   bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/system-packages.sh
ensure_packages "${CORE_PACKAGES[@]}"
swift run FileSessions "$@"
