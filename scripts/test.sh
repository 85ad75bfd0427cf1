#!/usr/bin/env bash
# The test command: set up the machine (idempotent), then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
command -v swift >/dev/null 2>&1 || export PATH=/opt/swift/usr/bin:$PATH
swift test 2>&1 | tee /tmp/obclip-test.log | grep -vE "^\[[0-9]+/[0-9]+\] (Compiling|Emitting)|^Test Case .* started"
exit "${PIPESTATUS[0]}"
