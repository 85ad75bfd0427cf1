#!/usr/bin/env bash
# Checks the deployment files with the real tools, offline:
#   nginx -t            on deploy/nginx/obclip.conf (the TLS site, with a throwaway certificate)
#   systemd-analyze     verify on deploy/systemd/obclip@.service (an instance of it)
#   kubernetes-validate on deploy/kubernetes/*.yaml (OpenAPI schemas of Kubernetes 1.33, strict:
#                       unknown fields are errors; installed from PyPI into a private venv)
# Usage: deploy/validate.sh   (exit status non-zero if any check fails)
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0

echo "== nginx -t (deploy/nginx/obclip.conf)"
if command -v nginx >/dev/null 2>&1; then
    mkdir -p "$work/nginx/obclip"
    cp nginx/*.conf "$work/nginx/obclip/"
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
        -keyout "$work/privkey.pem" -out "$work/fullchain.pem" 2>/dev/null
    sed -i -e "s#/etc/ssl/obclip/#$work/#" -e "s#/var/log/nginx/#$work/#" "$work/nginx/obclip/obclip.conf"
    cat > "$work/nginx/nginx.conf" <<CONF
pid $work/nginx.pid;
error_log stderr;
events {}
http {
    access_log off;
    client_body_temp_path $work/body;
    proxy_temp_path $work/proxy;
    include obclip/obclip.conf;
}
CONF
    nginx -t -q -p "$work/nginx" -c "$work/nginx/nginx.conf" -e stderr && echo "ok" || status=1
else
    echo "nginx not installed (scripts/setup.sh installs it)"; status=1
fi

echo "== systemd-analyze verify (deploy/systemd/obclip@.service)"
if command -v systemd-analyze >/dev/null 2>&1; then
    # verify needs the binary ExecStart names; point a copy of the unit at one that exists.
    sed "s#/usr/local/bin/obclip#$(command -v true)#" systemd/obclip@.service > "$work/obclip@.service"
    cp "$work/obclip@.service" "$work/obclip@8081.service"
    # verify exits 0 on settings it ignores; any line it prints is a finding.
    findings=$(systemd-analyze verify --man=no "$work/obclip@8081.service" 2>&1) || status=1
    if [ -n "$findings" ]; then echo "$findings"; status=1; else echo "ok"; fi
else
    echo "systemd-analyze not available; skipped"
fi

echo "== kubernetes-validate (deploy/kubernetes/*.yaml)"
venv=${OBCLIP_VALIDATE_VENV:-$HOME/.cache/obclip/kubernetes-validate}
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
    python3 -m venv "$venv" && "$venv/bin/pip" install -q 'kubernetes-validate>=1.33' || { echo "cannot install kubernetes-validate"; exit 1; }
fi
"$venv/bin/kubernetes-validate" --strict -k 1.33.0 kubernetes/*.yaml || status=1
exit $status
