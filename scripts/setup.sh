#!/usr/bin/env bash
# Installs what a fresh Debian machine needs to build and test obclip.
# Idempotent: re-running only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v swift >/dev/null 2>&1; then
    if [ -x /opt/swift/usr/bin/swift ]; then export PATH=/opt/swift/usr/bin:$PATH
    else echo "setup: Swift 6 toolchain not found (expected on PATH or in /opt/swift)" >&2; exit 1; fi
fi

# Debian packages the build and tools use. libpng-dev writes the PNGs (the CPNG system
# library target). libopenblas is only the GEMM peer that
# `obclip bench gemm` measures against (loaded at run time if present). nginx is the load
# balancer of deploy/nginx, which the scale-out test and `obclip bench scale` run on loopback
# with their own configuration (the package's default site is not used). chromium is the
# headless browser the `obclip ui` tests drive (about 290 MB installed with its libraries;
# the first install took about 2 minutes here, apt-get update included).
# openssl and curl are the TLS test's certificate authority and verifying client; libpng-dev
# is the PNG writer's library.
packages=(pkg-config libpng-dev libopenblas0-pthread nginx chromium openssl curl)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "setup: ready ($(swift --version 2>/dev/null | head -1))" >&2
