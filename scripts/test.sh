#!/usr/bin/env bash
# The test command: set up the machine (idempotent), then run the whole test suite (XCTest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
command -v swift >/dev/null 2>&1 || export PATH=/opt/swift/usr/bin:$PATH
log=$(mktemp)
set +e
swift test --disable-swift-testing 2>&1 | tee "$log" | grep -vE "^\[[0-9]+/[0-9]+\] |^Test Case .* started|^Test Suite .* (started|passed)"
status=${PIPESTATUS[0]}
set -e
# One plain closing line for whoever reads the end of the log.
summary=$(grep -E "^\s*Executed [0-9]+ tests?, with ([0-9]+ tests? skipped and )?[0-9]+ failures?" "$log" | tail -1)
if [[ $summary =~ Executed\ ([0-9]+)\ tests?,\ with\ (([0-9]+)\ tests?\ skipped\ and\ )?([0-9]+)\ failure ]]; then
    total=${BASH_REMATCH[1]} skipped=${BASH_REMATCH[3]:-0} failed=${BASH_REMATCH[4]}
    echo "$((total - skipped - failed)) passed, $failed failed, $skipped skipped"
fi
rm -f "$log"
exit "$status"
