#!/usr/bin/env bash
# The main job: a private hybrid generation on the bundled models, end to end over loopback HTTP.
# Extra arguments go to `obclip demo` (e.g. a prompt, --output FILE, --size 128).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
command -v swift >/dev/null 2>&1 || export PATH=/opt/swift/usr/bin:$PATH
swift build --product obclip 2>&1 | grep -E "error|warning: unre" || true
exec "$(swift build --show-bin-path)/obclip" demo "$@"
