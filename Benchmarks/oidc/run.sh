#!/usr/bin/env bash
# The OpenID Connect benchmark of issue 23, in one run on this machine:
#   - OpenCPS (`opencps serve --demo`, SQLite): complete card logins/s end to end and
#     introspections/s, driven by `opencps bench oidc` (a relying service and user agent in
#     Swift: authorize → card signs the challenge → code → tokens → ID token checked), then
#     introspections/s again under wrk (the peer's load generator);
#   - glewlwyd (Debian package, its SQLite backend, OIDC plugin with ES256 tokens) under the same
#     wrk load: client credentials grants/s, password grants/s and introspections/s (glewlwyd has
#     no card login: its password grant is the nearest complete login it offers).
# Each row gives the server's CPU seconds per operation, read from /proc/<pid>/stat.
# It prints a markdown table for docs/benchmarks.md.
#
# Usage: bash Benchmarks/oidc/run.sh [--logins N] [--introspections N] [--concurrency N]
#                                    [--duration S] [--connections N] [--threads N] [--keep]
# OPENCPS names the binary (default .build/release/opencps); it needs glewlwyd, sqlite3, wrk,
# curl and python3 with the cryptography package (apt-get install glewlwyd sqlite3 wrk curl
# python3-cryptography).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OPENCPS=${OPENCPS:-$ROOT/.build/release/opencps}
LOGINS=3000
INTROSPECTIONS=30000
CONCURRENCY=16
DURATION=15
CONNECTIONS=32
THREADS=2
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --logins) LOGINS=$2; shift 2 ;;
        --introspections) INTROSPECTIONS=$2; shift 2 ;;
        --concurrency) CONCURRENCY=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --connections) CONNECTIONS=$2; shift 2 ;;
        --threads) THREADS=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
done
for tool in glewlwyd sqlite3 wrk curl python3; do
    command -v "$tool" >/dev/null || { echo "$tool is needed (see --help)" >&2; exit 2; }
done
[ -x "$OPENCPS" ] || { echo "no $OPENCPS: swift build -c release first" >&2; exit 2; }

WORK=$(mktemp -d /tmp/opencps-bench-oidc.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ "$KEEP" = 0 ]; then rm -rf "$WORK"; else echo "kept $WORK" >&2; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
wait_for() {
    for _ in $(seq 1 120); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" != 000 ] && return 0
        sleep 0.5
    done
    echo "nothing answers $1" >&2; exit 1
}
# wrk under the given label; prints "label|rate|server CPU ms per request|non-2xx".
wrk_row() {
    local label=$1 pid=$2 url=$3 body=$4 authorization=$5 before after out
    wrk -t "$THREADS" -c "$CONNECTIONS" -d 3 -s "$HERE/post-form.lua" "$url" -- "$body" "$authorization" >/dev/null
    before=$(cpu_seconds "$pid")
    out=$(wrk -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" -s "$HERE/post-form.lua" "$url" -- "$body" "$authorization" | grep '^RESULT')
    after=$(cpu_seconds "$pid")
    python3 - "$label" "$before" "$after" "$out" <<'EOF'
import sys
label, before, after, line = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
fields = dict(item.split("=") for item in line.split()[1:])
requests, seconds = int(fields["requests"]), float(fields["seconds"])
cpu = after - before
print(f"{label}|{requests / seconds:,.0f}/s|{1000 * cpu / requests:.3f} ms ({100 * cpu / seconds:.0f} % of one core)|{fields['non2xx']}")
EOF
}

ROWS=()

# OpenCPS: the demo (PKI, cards with software tokens, demo-service), SQLite in WAL mode.
PORT=$(free_port)
"$OPENCPS" serve --demo --data "$WORK/opencps" --hostname 127.0.0.1 --port "$PORT" --log-level error >"$WORK/opencps.log" 2>&1 &
PIDS+=($!)
OPENCPS_PID=$!
wait_for "http://127.0.0.1:$PORT/.well-known/openid-configuration"
"$OPENCPS" bench oidc --url "http://127.0.0.1:$PORT" --data "$WORK/opencps" --logins "$LOGINS" --introspections "$INTROSPECTIONS" \
    --concurrency "$CONCURRENCY" --server-pid "$OPENCPS_PID" --access-token-file "$WORK/access-token" | tee "$WORK/opencps-bench.txt"
python3 - "$WORK/opencps-bench.txt" "$CONCURRENCY" >"$WORK/opencps-rows" <<'EOF'
import re, sys
for line in open(sys.argv[1]):
    m = re.match(r"(.+): (\d+) in ([\d.]+) s = (\d+)/s; server CPU ([\d.]+) s \((\d+) % of one core, ([\d.]+) ms per operation\)", line)
    if m:
        label = {"complete card logins": "OpenCPS: complete card logins (authorize, signed challenge, code, tokens, ID token checked)",
                 "introspections": "OpenCPS: introspections"}[m.group(1)]
        print(f"{label}, opencps bench oidc, {sys.argv[2]} in flight|{int(m.group(4)):,}/s|{m.group(7)} ms ({m.group(6)} % of one core)|0")
EOF
while IFS= read -r row; do ROWS+=("$row"); done <"$WORK/opencps-rows"
BASIC="Basic $(printf '%s' 'demo-service:demo-service-secret-0123456789' | base64 -w0)"
ROWS+=("$(wrk_row "OpenCPS: introspections, wrk" "$OPENCPS_PID" "http://127.0.0.1:$PORT/oidc/introspect" "token=$(cat "$WORK/access-token")" "$BASIC")")
kill "$OPENCPS_PID"

# glewlwyd: its SQLite schema and default admin, an OIDC plugin instance, a client and a user.
G="$WORK/glewlwyd"
mkdir -p "$G"
sqlite3 "$G/glewlwyd.db" </usr/share/dbconfig-common/data/glewlwyd/install/sqlite3
GPORT=$(free_port)
python3 - "$G" "$GPORT" <<'EOF'
import sys
folder, port = sys.argv[1], sys.argv[2]
text = open("/etc/glewlwyd/glewlwyd.conf").read()
text = text.replace("port=4593", f"port={port}").replace('#bind_address="127.0.0.1"', 'bind_address="127.0.0.1"')
text = text.replace('external_url="http://localhost:4593/"', f'external_url="http://127.0.0.1:{port}/"')
text = text.replace('log_level="INFO"', 'log_level="ERROR"').replace('log_file="/var/log/glewlwyd.log"', f'log_file="{folder}/glewlwyd.log"')
text = text.replace('@include "/etc/glewlwyd/glewlwyd-db.conf"', f'database =\n{{\n  type = "sqlite3"\n  path = "{folder}/glewlwyd.db"\n}};')
open(f"{folder}/glewlwyd.conf", "w").write(text)
EOF
glewlwyd --config-file="$G/glewlwyd.conf" >"$G/stdout.log" 2>&1 &
PIDS+=($!)
GLEWLWYD_PID=$!
API="http://127.0.0.1:$GPORT/api"
wait_for "$API/mod/plugin/"
admin() { curl -sf -b "$G/cookies" -c "$G/cookies" -X POST -H 'Content-Type: application/json' "$@" >/dev/null; }
admin -d '{"username":"admin","password":"password"}' "$API/auth/"
python3 "$HERE/glewlwyd-plugin.py" /usr/share/glewlwyd/webapp/admin.js "$G/plugin.json"
admin -d @"$G/plugin.json" "$API/mod/plugin/"
admin -d '{"name":"bench","display_name":"bench","description":"bench","password_required":false,"scheme":{}}' "$API/scope/"
admin -d '{"client_id":"bench","name":"bench","enabled":true,"confidential":true,"client_secret":"bench-secret-0123456789","redirect_uri":["http://127.0.0.1:8765/callback"],"authorization_type":["code","client_credentials","password","refresh_token"],"scope":["bench","openid"],"token_endpoint_auth_method":["client_secret_basic"]}' "$API/client/"
admin -d '{"username":"bench","name":"Bench","password":"bench-password-0123","scope":["openid","bench"],"enabled":true}' "$API/user/"
GBASIC="Basic $(printf '%s' 'bench:bench-secret-0123456789' | base64 -w0)"
GTOKEN=$(curl -sf -H "Authorization: $GBASIC" -d 'grant_type=client_credentials&scope=bench' "$API/oidc/token" | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
ROWS+=("$(wrk_row "glewlwyd 2.7.5: client credentials grants, wrk" "$GLEWLWYD_PID" "$API/oidc/token" "grant_type=client_credentials&scope=bench" "$GBASIC")")
ROWS+=("$(wrk_row "glewlwyd 2.7.5: password grants (ID token), wrk" "$GLEWLWYD_PID" "$API/oidc/token" "grant_type=password&username=bench&password=bench-password-0123&scope=openid" "$GBASIC")")
ROWS+=("$(wrk_row "glewlwyd 2.7.5: introspections, wrk" "$GLEWLWYD_PID" "$API/oidc/introspect" "token=$GTOKEN" "$GBASIC")")

echo
echo "| Figure | Rate | Server CPU per operation | Non-2xx |"
echo "|---|---|---|---|"
for row in "${ROWS[@]}"; do echo "| ${row//|/ | } |"; done
echo
echo "$(date -u '+%Y-%m-%d %H:%M') UTC, $(git -C "$ROOT" rev-parse --short HEAD), load average $(cut -d' ' -f1-3 /proc/loadavg), wrk -t $THREADS -c $CONNECTIONS -d $DURATION"
