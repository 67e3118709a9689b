#!/usr/bin/env bash
# The PKI benchmarks of issue 3, each side by side in one run, with the same certificates
# and requests for every server:
#   - OCSP: OpenCPS (its OCSP listener, --ocsp-port, and its main port), `openssl ocsp` (OpenSSL's built-in responder) and cfssl `ocspserve`
#     (pre-signed responses), under the same wrk load, POST and GET;
#   - issuance: OpenCPS (its issuance listener, --issuance-port, and its main port; each certificate
#     stored and audited), cfssl `serve` under the
#     same wrk load (alternated, --rounds times: this machine's share of its cores varies from
#     minute to minute), and `openssl x509 -req` in a shell loop timed by hyperfine.
# It prints a markdown table for docs/benchmarks.md.
#
# Usage: bash Benchmarks/pki/run.sh [--algorithm p256|rsa2048] [--duration S] [--warmup S]
#                                   [--threads N] [--connections N] [--count N]
#                                   [--only ocsp|issuance] [--rounds N] [--markdown FILE] [--keep]
# Every option also reads an environment variable: PKI_BENCH_ALGORITHM, PKI_BENCH_DURATION,
# PKI_BENCH_WARMUP, PKI_BENCH_THREADS, PKI_BENCH_CONNECTIONS, PKI_BENCH_COUNT,
# PKI_BENCH_ONLY, PKI_BENCH_ROUNDS, PKI_BENCH_MARKDOWN; OPENCPS names the binary (default .build/release/opencps);
# PKI_BENCH_QUIET_BUDGET caps the seconds spent waiting for other work to leave the machine (180).
#
# Everything listens on 127.0.0.1 only, except `openssl ocsp`, whose -port binds every
# interface (OpenSSL 3.0 has no bind address for it); so when it can, the script runs itself
# in a private network namespace (`unshare -n`) where only the loopback interface exists.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OPENCPS=${OPENCPS:-$ROOT/.build/release/opencps}
ALGORITHM=${PKI_BENCH_ALGORITHM:-p256}
DURATION=${PKI_BENCH_DURATION:-15}
WARMUP=${PKI_BENCH_WARMUP:-3}
THREADS=${PKI_BENCH_THREADS:-2}
CONNECTIONS=${PKI_BENCH_CONNECTIONS:-32}
COUNT=${PKI_BENCH_COUNT:-1000}
MARKDOWN=${PKI_BENCH_MARKDOWN:-}
ONLY=${PKI_BENCH_ONLY:-all}
ROUNDS=${PKI_BENCH_ROUNDS:-1}
OPENSSL_SIGNINGS=200
KEEP=0
ORIGINAL_ARGS=("$@")

while [ $# -gt 0 ]; do
    case "$1" in
        --algorithm) ALGORITHM=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --warmup) WARMUP=$2; shift 2 ;;
        --threads) THREADS=$2; shift 2 ;;
        --connections) CONNECTIONS=$2; shift 2 ;;
        --count) COUNT=$2; shift 2 ;;
        --markdown) MARKDOWN=$2; shift 2 ;;
        --only) ONLY=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) echo "unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
done
case "$ALGORITHM" in p256|rsa2048) ;; *) echo "--algorithm is p256 or rsa2048" >&2; exit 2 ;; esac
case "$ONLY" in all|ocsp|issuance) ;; *) echo "--only is ocsp or issuance" >&2; exit 2 ;; esac
case "$DURATION$WARMUP" in *[!0-9]*) echo "--duration and --warmup are whole seconds" >&2; exit 2 ;; esac
case "$ROUNDS" in ''|0|*[!0-9]*) echo "--rounds is a whole number from 1" >&2; exit 2 ;; esac

# A private network namespace keeps openssl ocsp off every real interface.
NETNS_NOTE="host network namespace: openssl ocsp listened on all interfaces during its runs"
if [ -z "${PKI_BENCH_IN_NETNS:-}" ]; then
    if unshare -n true 2>/dev/null && command -v ip >/dev/null; then
        export PKI_BENCH_IN_NETNS=1
        exec unshare -n bash "$0" "${ORIGINAL_ARGS[@]}"
    fi
    echo "note: cannot create a network namespace; openssl ocsp will listen on every interface while it runs" >&2
else
    ip link set lo up
    NETNS_NOTE="private network namespace (unshare -n): loopback only"
fi

for tool in wrk hyperfine openssl cfssl curl python3 pgrep /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 1; }
done
[ -x "$OPENCPS" ] || { echo "no OpenCPS binary at $OPENCPS (swift build -c release first)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/opencps-pki-bench.XXXXXX")
PEERS=$WORK/fixtures/peers
LOGS=$WORK/logs
RESULTS=$WORK/results.tsv
mkdir -p "$LOGS"
: > "$RESULTS"
PIDS=()

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        # shellcheck disable=SC2046
        kill "$pid" $(pgrep -P "$pid") 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
    if [ "$KEEP" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Picks a free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start NAME COMMAND...: runs a server in the background, output in $LOGS/NAME.log.
start() {
    local name=$1; shift
    "$@" > "$LOGS/$name.log" 2>&1 &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
}

# stop PID: ends a server this script started (and the processes it forked: `openssl ocsp
# -multi` waits for its children, which never exit once wedged), and forgets it.
stop() {
    local children
    children=$(pgrep -P "$1" || true)
    kill "$1" 2>/dev/null || true
    # shellcheck disable=SC2086
    [ -z "$children" ] || kill $children 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    local kept=() pid
    for pid in "${PIDS[@]}"; do [ "$pid" = "$1" ] || kept+=("$pid"); done
    PIDS=("${kept[@]}")
}

# wait_http NAME PID CURL_ARGS...: polls with a complete HTTP request (never a bare TCP
# connect: an empty connection wedges openssl ocsp) until it answers, for at most 30 s.
wait_http() {
    local name=$1 pid=$2; shift 2
    local tries=0
    until curl -s -m 2 -o /dev/null "$@"; do
        kill -0 "$pid" 2>/dev/null || { echo "$name exited; its log:" >&2; cat "$LOGS/$name.log" >&2; exit 1; }
        tries=$((tries + 1))
        [ $tries -lt 150 ] || { echo "$name did not answer within 30 s" >&2; exit 1; }
        sleep 0.2
    done
}

# record FIELD...: one result row; fields split by the unit separator (which, unlike a tab,
# `read` does not merge when a field is empty).
SEP=$'\x1f'
record() {
    local IFS=$SEP
    echo "$*" >> "$RESULTS"
}

# proc_ticks PID: CPU time (clock ticks) used so far by a process, its threads and the
# processes it forked (openssl ocsp -multi).
proc_ticks() {
    local total=0 p ticks
    for p in "$1" $(pgrep -P "$1" || true); do
        ticks=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)
        total=$((total + ticks))
    done
    echo "$total"
}

# machine_ticks: "busy total" clock ticks of all cores since boot; busy leaves out idle, I/O
# wait, and interrupt and softirq time (loopback traffic is charged there, to no process).
machine_ticks() {
    awk 'NR == 1 { for (i = 2; i <= NF; i++) total += $i; print total - $5 - $6 - $7 - $8, total }' /proc/stat
}

# wait_quiet: this machine is shared; before a measurement, wait until other work leaves it
# (under 10 % busy over one second), spending at most QUIET_BUDGET seconds in all.
QUIET_BUDGET=${PKI_BENCH_QUIET_BUDGET:-180}
QUIET_WAITED=0
wait_quiet() {
    local before after busy
    while :; do
        before=$(machine_ticks); sleep 1; after=$(machine_ticks)
        busy=$(awk -v b="$before" -v a="$after" 'BEGIN { split(b, x, " "); split(a, y, " ");
            printf "%d", (y[2] > x[2]) ? 100 * (y[1] - x[1]) / (y[2] - x[2]) : 0 }')
        [ "$busy" -ge 10 ] || return 0
        QUIET_WAITED=$((QUIET_WAITED + 1))
        if [ "$QUIET_WAITED" -ge "$QUIET_BUDGET" ]; then
            log "the machine is still ${busy}% busy with other work; measuring anyway"
            return 0
        fi
        [ $((QUIET_WAITED % 10)) != 1 ] || log "waiting for other work to leave the machine (${busy}% busy)"
    done
}

# measure ID PID_VARIABLE GROUP SERVER NOTE URL SCRIPT [SCRIPT_ARGS...]: a warm-up, then the
# measured wrk run. BEFORE_MEASURE, when set, runs in between (openssl ocsp is restarted).
# Beside wrk's figures it records the CPU the server and wrk used, in cores, and the share of
# the machine used by anything else during the run (this machine is shared: it shows when a
# figure was taken on a busy machine).
measure() {
    local id=$1 pid_variable=$2 group=$3 server=$4 note=$5 url=$6 script=$7; shift 7
    local out=$LOGS/wrk-$id.txt
    if [ "$WARMUP" -gt 0 ]; then
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$HERE/$script" "$url" -- "$@" > "$LOGS/wrk-$id-warmup.txt" 2>&1
    fi
    if [ -n "${BEFORE_MEASURE:-}" ]; then $BEFORE_MEASURE; fi
    local pid=${!pid_variable}
    wait_quiet
    log "measuring $id: $server ($group), ${DURATION}s, -t$THREADS -c$CONNECTIONS"
    local server_before machine_before
    server_before=$(proc_ticks "$pid")
    machine_before=$(machine_ticks)
    /usr/bin/time -f 'WRKCPU %U %S' -o "$out.time" \
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency --timeout 10s -s "$HERE/$script" "$url" -- "$@" > "$out" 2>&1
    local server_after machine_after
    server_after=$(proc_ticks "$pid")
    machine_after=$(machine_ticks)
    local line
    line=$(grep '^RESULT ' "$out" || true)
    if [ -z "$line" ]; then
        echo "wrk gave no result for $id:" >&2; cat "$out" >&2; exit 1
    fi
    local rps p50 p99 non2xx errors cpu
    rps=$(sed -E 's/.* rps=([0-9.]+).*/\1/' <<< "$line")
    p50=$(sed -E 's/.* p50_ms=([0-9.]+).*/\1/' <<< "$line")
    p99=$(sed -E 's/.* p99_ms=([0-9.]+).*/\1/' <<< "$line")
    non2xx=$(sed -E 's/.* non2xx=([0-9]+).*/\1/' <<< "$line")
    errors=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^(connect|read|write)_errors=|^timeouts=/) { split($i, kv, "="); sum += kv[2] } } END { print sum + 0 }' <<< "$line")
    cpu=$(awk -v sb="$server_before" -v sa="$server_after" -v mb="$machine_before" -v ma="$machine_after" \
        -v hz="$(getconf CLK_TCK)" -v d="$DURATION" '/^WRKCPU/ {
            split(mb, b, " "); split(ma, a, " ")
            server = (sa - sb) / hz; wrk = $2 + $3; busy = (a[1] - b[1]) / hz; total = (a[2] - b[2]) / hz
            other = busy - server - wrk; if (other < 0) other = 0
            printf "%.2f%s%.2f%s%.0f%%", server / d, sep, wrk / d, sep, 100 * other / total }' sep="$SEP" "$out.time")
    record "$group" "$server" "$rps" "$p50" "$p99" "$non2xx" "$errors" "$cpu" "$note"
    log "  $line"
}

# check_ocsp NAME URL [REQUESTS_DIR]: three of the requests, sent as they are, must come back
# signed by the responder (chain to root.pem), say `good` for the right serial number and,
# when the request has a nonce, echo it (openssl ocsp warns otherwise).
check_ocsp() {
    local name=$1 url=$2 dir=${3:-$PEERS/requests} n
    for n in 0 $((COUNT / 2)) $((COUNT - 1)); do
        local file
        file=$(printf '%06d' "$n")
        local out=$WORK/check-$name-$file
        local ok=1
        openssl ocsp -reqin "$dir/$file.der" -url "$url" -CAfile "$WORK/chain.pem" -respout "$out.der" \
            > "$out.txt" 2>&1 || ok=0
        grep -q 'Response verify OK' "$out.txt" || ok=0
        if [ "$dir" != "$PEERS/requests" ] && grep -qi 'nonce' "$out.txt"; then ok=0; fi
        if [ $ok = 0 ]; then
            echo "$name: the response to $dir/$file.der does not verify (or lacks the nonce):" >&2; cat "$out.txt" >&2; exit 1
        fi
        check_status "$name" "$out.der" "$file"
    done
    log "$name answers correctly (3 requests from $(basename "$dir") checked with openssl ocsp)"
}

# check_status NAME RESPONSE_DER N: the response says `good` for leaf N's serial.
check_status() {
    local name=$1 der=$2 file=$3
    local serial text
    serial=$(openssl x509 -in "$PEERS/leaves/$file.pem" -noout -serial | cut -d= -f2)
    text=$(openssl ocsp -respin "$der" -resp_text -noverify 2>&1)
    if ! grep -q "Serial Number: $serial" <<< "$text" || ! grep -q 'Cert Status: good' <<< "$text"; then
        echo "$name: the response for leaf $file is not 'good' for serial $serial:" >&2; echo "$text" >&2; exit 1
    fi
}

# check_get NAME URL_PREFIX: tries one GET; prints the HTTP status, and checks the answer when 200.
check_get() {
    local name=$1 prefix=$2
    local line status
    line=$(head -1 "$PEERS/requests-get.txt")
    status=$(curl -s -m 5 -o "$WORK/get-$name.der" -w '%{http_code}' "$prefix/$line" || true)
    if [ "$status" = 200 ]; then
        if ! openssl ocsp -respin "$WORK/get-$name.der" -CAfile "$WORK/chain.pem" > "$WORK/get-$name.txt" 2>&1 \
            || ! grep -q 'Response verify OK' "$WORK/get-$name.txt"; then
            echo "$name: the GET response does not verify" >&2; cat "$WORK/get-$name.txt" >&2; exit 1
        fi
        check_status "$name" "$WORK/get-$name.der" 000000
    fi
    echo "$status"
}

START=$(date +%s)
# The binary may be rebuilt while this runs (the repository is shared); the server keeps the
# one it started with, so the table names that one.
BINARY_STAMP=$(date -u -r "$OPENCPS" +%Y-%m-%dT%H:%M:%SZ)
log "work folder $WORK; $NETNS_NOTE"

# 1. Fixtures: one CA, one responder, COUNT certificates, one OCSP request each.
log "writing fixtures: $COUNT certificates, CA and responder $ALGORITHM"
"$OPENCPS" bench pki-fixtures --out "$WORK/fixtures" --count "$COUNT" \
    --ca-algorithm "$ALGORITHM" --responder-algorithm "$ALGORITHM" > "$LOGS/fixtures.log" 2>&1 \
    || { cat "$LOGS/fixtures.log" >&2; exit 1; }
cat "$PEERS/root.pem" "$PEERS/ca.pem" > "$WORK/chain.pem"

# cfssl ocspserve serves pre-signed responses: one `cfssl ocspsign` per certificate, base64 DER
# one a line (what `cfssl ocspdump` writes and `ocspserve -responses` reads).
log "pre-signing $COUNT responses for cfssl ocspserve"
find "$PEERS/leaves" -name '*.pem' -print0 | sort -z \
    | xargs -0 -P "$(nproc)" -I{} cfssl ocspsign -ca "$PEERS/ca.pem" -responder "$PEERS/responder.pem" \
        -responder-key "$PEERS/responder.key" -cert {} -loglevel 5 \
    | python3 -c 'import json, sys
for line in sys.stdin:
    if line.strip():
        print(json.loads(line)["ocspResponse"])' > "$WORK/cfssl-responses.txt"
[ "$(wc -l < "$WORK/cfssl-responses.txt")" -eq "$COUNT" ] || { echo "cfssl ocspsign did not sign every response" >&2; exit 1; }

# A second request set with a nonce: OpenCPS reuses signed responses only for requests
# without one (RFC 5019), so these measure its signing path.
log "writing $COUNT OCSP requests with a nonce (OpenCPS's signing path)"
mkdir -p "$WORK/nonce-requests"
for n in $(seq 0 $((COUNT - 1))); do printf '%06d\n' "$n"; done \
    | xargs -P "$(nproc)" -I{} openssl ocsp -issuer "$PEERS/ca.pem" -cert "$PEERS/leaves/{}.pem" -nonce \
        -reqout "$WORK/nonce-requests/{}.der" > /dev/null 2>&1

PORT_OURS=$(free_port)
PORT_OURS_OCSP=$(free_port)
PORT_OURS_ISSUANCE=$(free_port)
TOKEN=bench-operator-token-0123
start opencps env OPENCPS_KEYSTORE_PASSPHRASE_FILE="$WORK/fixtures/data/keystore-passphrase" \
    OPENCPS_OPERATOR_TOKENS="bench=$TOKEN" \
    "$OPENCPS" serve --data "$WORK/fixtures/data" --hostname 127.0.0.1 --port "$PORT_OURS" --ocsp-port "$PORT_OURS_OCSP" \
        --issuance-port "$PORT_OURS_ISSUANCE" --log-level warning
OURS_PID=$LAST_PID
wait_http opencps "$OURS_PID" "http://127.0.0.1:$PORT_OURS/health"
# The main server's OCSP endpoint, and the listener that serves OCSP alone (--ocsp-port).
OURS_OCSP=http://127.0.0.1:$PORT_OURS/ocsp/forte-personnes
OURS_OCSP_LISTENER=http://127.0.0.1:$PORT_OURS_OCSP/ocsp/forte-personnes

# 2. OCSP.
if [ "$ONLY" != issuance ]; then
check_ocsp opencps "$OURS_OCSP"
[ "$(check_get opencps "$OURS_OCSP")" = 200 ] || { echo "OpenCPS refused GET" >&2; exit 1; }
check_ocsp opencps-listener "$OURS_OCSP_LISTENER"
[ "$(check_get opencps-listener "$OURS_OCSP_LISTENER")" = 200 ] || { echo "OpenCPS's OCSP listener refused GET" >&2; exit 1; }
measure ours-listener-post OURS_PID "OCSP POST" "OpenCPS, OCSP listener (--ocsp-port)" "responses reused per request (RFC 5019 cache)" \
    "$OURS_OCSP_LISTENER" ocsp-post.lua "$PEERS/requests" "$COUNT"
measure ours-listener-get OURS_PID "OCSP GET" "OpenCPS, OCSP listener (--ocsp-port)" "responses reused per request (RFC 5019 cache)" \
    "$OURS_OCSP_LISTENER" ocsp-get.lua "$PEERS/requests-get.txt"
measure ours-post OURS_PID "OCSP POST" "OpenCPS, main port" "responses reused per request (RFC 5019 cache)" \
    "$OURS_OCSP" ocsp-post.lua "$PEERS/requests" "$COUNT"
measure ours-get OURS_PID "OCSP GET" "OpenCPS, main port" "responses reused per request (RFC 5019 cache)" \
    "$OURS_OCSP" ocsp-get.lua "$PEERS/requests-get.txt"
check_ocsp opencps-nonce "$OURS_OCSP" "$WORK/nonce-requests"
measure ours-post-nonce OURS_PID "OCSP POST, nonce" "OpenCPS, main port" "every response signed (nonce: never reused)" \
    "$OURS_OCSP" ocsp-post.lua "$WORK/nonce-requests" "$COUNT"

# openssl ocsp: single process; `-multi N` forks N. wrk closing its connections at the end of
# a run leaves OpenSSL 3.0's responder spinning on the EOF, so each wrk run gets a fresh one.
PORT_OPENSSL=$(free_port)
OPENSSL_MULTI=()
openssl_ocsp_start() {
    start openssl-ocsp openssl ocsp -index "$PEERS/index.txt" -CA "$PEERS/ca.pem" \
        -rsigner "$PEERS/responder.pem" -rkey "$PEERS/responder.key" -port "$PORT_OPENSSL" -nmin 60 "${OPENSSL_MULTI[@]}"
    OPENSSL_PID=$LAST_PID
    wait_http openssl-ocsp "$OPENSSL_PID" -H 'Content-Type: application/ocsp-request' \
        --data-binary "@$PEERS/requests/000000.der" "http://127.0.0.1:$PORT_OPENSSL/"
}
openssl_ocsp_restart() {
    stop "$OPENSSL_PID"
    openssl_ocsp_start
}
openssl_ocsp_start
check_ocsp openssl-ocsp "http://127.0.0.1:$PORT_OPENSSL/"
OPENSSL_GET=$(check_get openssl-ocsp "http://127.0.0.1:$PORT_OPENSSL")
openssl_ocsp_restart
BEFORE_MEASURE=openssl_ocsp_restart
measure openssl-post OPENSSL_PID "OCSP POST" "openssl ocsp" "single process; signs every response" \
    "http://127.0.0.1:$PORT_OPENSSL/" ocsp-post.lua "$PEERS/requests" "$COUNT"
if [ "$OPENSSL_GET" = 200 ]; then
    measure openssl-get OPENSSL_PID "OCSP GET" "openssl ocsp" "single process; signs every response" \
        "http://127.0.0.1:$PORT_OPENSSL/" ocsp-get.lua "$PEERS/requests-get.txt"
else
    record "OCSP GET" "openssl ocsp" "refused" "" "" "" "" "" "" "" "GET answered HTTP $OPENSSL_GET"
fi
stop "$OPENSSL_PID"
OPENSSL_MULTI=(-multi "$(nproc)")
openssl_ocsp_start
measure openssl-multi-post OPENSSL_PID "OCSP POST" "openssl ocsp -multi $(nproc)" "$(nproc) processes; signs every response" \
    "http://127.0.0.1:$PORT_OPENSSL/" ocsp-post.lua "$PEERS/requests" "$COUNT"
BEFORE_MEASURE=
stop "$OPENSSL_PID"

PORT_CFSSL_OCSP=$(free_port)
start cfssl-ocspserve cfssl ocspserve -address 127.0.0.1 -port "$PORT_CFSSL_OCSP" -responses "$WORK/cfssl-responses.txt" -loglevel 3
CFSSL_OCSP_PID=$LAST_PID
wait_http cfssl-ocspserve "$CFSSL_OCSP_PID" -H 'Content-Type: application/ocsp-request' \
    --data-binary "@$PEERS/requests/000000.der" "http://127.0.0.1:$PORT_CFSSL_OCSP/"
check_ocsp cfssl-ocspserve "http://127.0.0.1:$PORT_CFSSL_OCSP/"
CFSSL_GET=$(check_get cfssl-ocspserve "http://127.0.0.1:$PORT_CFSSL_OCSP")
measure cfssl-post CFSSL_OCSP_PID "OCSP POST" "cfssl ocspserve" "pre-signed responses" \
    "http://127.0.0.1:$PORT_CFSSL_OCSP/" ocsp-post.lua "$PEERS/requests" "$COUNT"
if [ "$CFSSL_GET" = 200 ]; then
    measure cfssl-get CFSSL_OCSP_PID "OCSP GET" "cfssl ocspserve" "pre-signed responses" \
        "http://127.0.0.1:$PORT_CFSSL_OCSP/" ocsp-get.lua "$PEERS/requests-get.txt"
else
    record "OCSP GET" "cfssl ocspserve" "refused" "" "" "" "" "" "" "" "GET answered HTTP $CFSSL_GET"
fi
stop "$CFSSL_OCSP_PID"

fi

# 3. Issuance from the same P-256 CSR.
if [ "$ONLY" != ocsp ]; then
python3 - "$PEERS/p256.csr" "$WORK/issue.json" "$WORK/cfssl-sign.json" <<'EOF'
import json, sys
csr = open(sys.argv[1]).read()
json.dump({"profile": "authentication", "csr": csr, "givenName": "A", "surname": "B", "idNat": "810100271385",
           "professionTitle": "Médecin",
           "cardSerialNumber": "1000000001"}, open(sys.argv[2], "w"), ensure_ascii=False)
json.dump({"certificate_request": csr}, open(sys.argv[3], "w"))
EOF
# Issuance names a professional the registry knows, by the registry's names: register the holder.
status=$(curl -s -m 10 -o "$WORK/registered.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' --data-binary '{"idNat": "810100271385", "lastName": "B", "firstName": "A",
     "exercises": [{"professionCode": "10", "activities": [{"mode": "S", "department": "25"}]}]}' \
    "http://127.0.0.1:$PORT_OURS/api/v1/professionals")
[ "$status" = 201 ] || [ "$status" = 409 ] || { echo "registering the bench holder answered $status:" >&2; cat "$WORK/registered.json" >&2; exit 1; }
# The main server's issuance endpoint, and the listener that serves issuance alone (--issuance-port).
ISSUE_URL=http://127.0.0.1:$PORT_OURS/api/v1/certificates
ISSUE_LISTENER_URL=http://127.0.0.1:$PORT_OURS_ISSUANCE/api/v1/certificates
for url in "$ISSUE_URL" "$ISSUE_LISTENER_URL"; do
    status=$(curl -s -m 10 -o "$WORK/issued.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' --data-binary "@$WORK/issue.json" "$url")
    [ "$status" = 201 ] || { echo "OpenCPS issuance at $url answered $status:" >&2; cat "$WORK/issued.json" >&2; exit 1; }
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pem"], end="")' "$WORK/issued.json" > "$WORK/issued.pem"
    openssl verify -CAfile "$WORK/chain.pem" "$WORK/issued.pem" > /dev/null
done
count_rows() {
    python3 -c 'import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
print(db.execute("select count(*) from certificates").fetchone()[0], db.execute("select count(*) from audit_log").fetchone()[0])' \
        "$WORK/fixtures/data/opencps.sqlite"
}
PORT_CFSSL=$(free_port)
start cfssl-serve cfssl serve -address 127.0.0.1 -port "$PORT_CFSSL" -ca "$PEERS/ca.pem" -ca-key "$PEERS/ca.key" -loglevel 3
CFSSL_PID=$LAST_PID
wait_http cfssl-serve "$CFSSL_PID" "http://127.0.0.1:$PORT_CFSSL/api/v1/cfssl/health"
status=$(curl -s -m 10 -o "$WORK/cfssl-signed.json" -w '%{http_code}' --data-binary "@$WORK/cfssl-sign.json" \
    "http://127.0.0.1:$PORT_CFSSL/api/v1/cfssl/sign")
[ "$status" = 200 ] || { echo "cfssl sign answered $status" >&2; cat "$WORK/cfssl-signed.json" >&2; exit 1; }
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["result"]["certificate"])' "$WORK/cfssl-signed.json" > "$WORK/cfssl-signed.pem"
openssl verify -CAfile "$WORK/chain.pem" "$WORK/cfssl-signed.pem" > /dev/null

# Both servers run; each round measures OpenCPS's issuance listener, cfssl, then OpenCPS's main port.
read -r CERTS_BEFORE AUDIT_BEFORE < <(count_rows)
for round in $(seq "$ROUNDS"); do
    suffix=""
    [ "$ROUNDS" = 1 ] || suffix=", round $round"
    measure "ours-issue-listener-$round" OURS_PID "Issuance" "OpenCPS, issuance listener (--issuance-port)$suffix" "stored and audited" \
        "$ISSUE_LISTENER_URL" post-json.lua "$WORK/issue.json" "Bearer $TOKEN"
    measure "cfssl-sign-$round" CFSSL_PID "Issuance" "cfssl serve$suffix" "signed only: nothing stored (no -db-config)" \
        "http://127.0.0.1:$PORT_CFSSL/api/v1/cfssl/sign" post-json.lua "$WORK/cfssl-sign.json"
    measure "ours-issue-$round" OURS_PID "Issuance" "OpenCPS, main port$suffix" "stored and audited" \
        "$ISSUE_URL" post-json.lua "$WORK/issue.json" "Bearer $TOKEN"
done
read -r CERTS_AFTER AUDIT_AFTER < <(count_rows)
ISSUED_REQUESTS=$(cat "$LOGS"/wrk-ours-issue-*.txt 2>/dev/null | grep '^RESULT' \
    | sed -E 's/.*requests=([0-9]+).*/\1/' | awk '{ sum += $1 } END { print sum + 0 }')
log "certificates stored: $CERTS_BEFORE -> $CERTS_AFTER, audit entries: $AUDIT_BEFORE -> $AUDIT_AFTER (wrk counted $ISSUED_REQUESTS answers)"
stop "$CFSSL_PID"
stop "$OURS_PID"
if OPENCPS_KEYSTORE_PASSPHRASE_FILE="$WORK/fixtures/data/keystore-passphrase" \
    "$OPENCPS" audit verify --data "$WORK/fixtures/data" --log-level warning > "$LOGS/audit-verify.log" 2>&1; then
    AUDIT_CHECK="audit chain verified intact afterwards (opencps audit verify)"
else
    AUDIT_CHECK="opencps audit verify FAILED (exit $?; see its log)"
    cat "$LOGS/audit-verify.log" >&2
fi
log "$AUDIT_CHECK"

# openssl x509 -req: one process per certificate, so start-up is included.
log "timing $OPENSSL_SIGNINGS x openssl x509 -req with hyperfine"
cat > "$WORK/openssl-sign.sh" <<EOF
for i in \$(seq $OPENSSL_SIGNINGS); do
    openssl x509 -req -in "$PEERS/p256.csr" -CA "$PEERS/ca.pem" -CAkey "$PEERS/ca.key" -CAserial "$WORK/ca.srl" \
        -CAcreateserial -days 365 -sha256 -out "$WORK/openssl-signed.pem" 2> /dev/null
done
EOF
wait_quiet
machine_before=$(machine_ticks)
hyperfine --warmup 1 --runs 5 --export-json "$WORK/hyperfine.json" "bash $WORK/openssl-sign.sh" > "$LOGS/hyperfine.txt" 2>&1
openssl verify -CAfile "$WORK/chain.pem" "$WORK/openssl-signed.pem" > /dev/null
# hyperfine's user and system times are per run; all runs (warm-up included) count as the
# signing processes' own CPU when working out what else ran.
read -r OPENSSL_RATE OPENSSL_MS OPENSSL_CORES OPENSSL_USER < <(python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
n = int(sys.argv[2])
runs = len(r["times"]) + 1
print("%.1f %.3f %.2f %.2f" % (n / r["mean"], r["mean"] / n * 1000, (r["user"] + r["system"]) / r["mean"], (r["user"] + r["system"]) * runs))' \
    "$WORK/hyperfine.json" "$OPENSSL_SIGNINGS")
OPENSSL_CPU=$(awk -v mb="$machine_before" -v ma="$(machine_ticks)" -v hz="$(getconf CLK_TCK)" -v user="$OPENSSL_USER" 'BEGIN {
    split(mb, b, " "); split(ma, a, " "); busy = (a[1] - b[1]) / hz; total = (a[2] - b[2]) / hz
    printf "%.0f%%", 100 * (busy - user) / total }')
record "Issuance" "openssl x509 -req" "$OPENSSL_RATE" "$OPENSSL_MS" "" "0" "0" "$OPENSSL_CORES" "" "$OPENSSL_CPU" \
    "one process per certificate, sequential (start-up included); p50 column: mean per certificate"

fi

# 4. The table.
END=$(date +%s)
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
case "$(readlink -f "$OPENCPS")" in */release/*) MODE=release ;; */debug/*) MODE=debug ;; *) MODE="unknown (not under .build/release)" ;; esac
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$ROOT" status --porcelain --untracked-files=no -- Sources Package.swift 2>/dev/null | wc -l)
{
    echo "### PKI benchmarks ($(date -u +%Y-%m-%d), CA and responder $ALGORITHM)"
    echo
    echo "Machine: $(nproc) CPUs ($CPU), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM," \
        "Linux $(uname -r). wrk and the server share the same $(nproc) cores."
    echo "OpenCPS: $MODE build (binary of $BINARY_STAMP$([ "$(date -u -r "$OPENCPS" +%Y-%m-%dT%H:%M:%SZ)" = "$BINARY_STAMP" ] || echo "; rebuilt since, the server ran this one")), tree at commit $COMMIT$([ "$DIRTY" -gt 0 ] && echo " with $DIRTY uncommitted source changes")," \
        "SQLite. Peers: $(openssl version | cut -d' ' -f1-2), cfssl $(cfssl version | awk '/Version/ { print $2 }')," \
        "$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)."
    echo "Load: wrk -t$THREADS -c$CONNECTIONS, ${WARMUP} s warm-up then ${DURATION} s measured, $COUNT certificates and" \
        "requests rotated; $NETNS_NOTE. Whole run: $((END - START)) s, of which ${QUIET_WAITED} s waiting for other work to leave the machine."
    echo
    echo "| Benchmark | Server | Requests/s (issuance: certificates/s) | p50 (ms) | p99 (ms) | Non-2xx | Socket errors | Server CPU (cores) | wrk CPU (cores) | Other CPU on the machine | Notes |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    while IFS=$SEP read -r group server rps p50 p99 non2xx errors server_cpu wrk_cpu other note; do
        if [ "$rps" = refused ]; then rps="refused"; p50="—"; p99="—"; non2xx="—"; errors="—"; fi
        case "$rps" in [0-9]*) rps=$(printf '%.0f' "$rps") ;; esac
        case "$p50" in [0-9]*) p50=$(printf '%.2f' "$p50") ;; esac
        case "$p99" in [0-9]*) p99=$(printf '%.2f' "$p99") ;; esac
        echo "| $group | $server | $rps | $p50 | ${p99:-—} | $non2xx | $errors | ${server_cpu:-—} | ${wrk_cpu:-—} | ${other:-—} | $note |"
    done < "$RESULTS"
    echo
    [ -z "${CERTS_BEFORE:-}" ] || echo "OpenCPS issuance: certificates in the database $CERTS_BEFORE → $CERTS_AFTER, audit entries $AUDIT_BEFORE → $AUDIT_AFTER" \
        "(wrk counted $ISSUED_REQUESTS answers over warm-up and measurement); $AUDIT_CHECK."
    if [ -n "${CERTS_BEFORE:-}" ]; then
        for ours in "OpenCPS, issuance listener" "OpenCPS, main port"; do
            awk -F"$SEP" -v ours="$ours" 'index($2, ours) == 1 && $1 == "Issuance" { mine[++n] = $3 }
                $1 == "Issuance" && $2 ~ /^cfssl serve/ { peer[++m] = $3 }
                END {
                    for (i = 1; i <= n && i <= m; i++) { r[i] = 100 * mine[i] / peer[i]; list = list (i > 1 ? ", " : "") sprintf("%.0f %%", r[i]) }
                    if (n > 1) {
                        # the median of the ratios, round by round
                        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
                        median = (n % 2) ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
                        printf "%s against cfssl serve, round by round: %s (median %.0f %%).\n", ours, list, median
                    } else if (n == 1) printf "%s against cfssl serve: %s.\n", ours, list
                }' "$RESULTS"
        done
    fi
} > "$WORK/table.md"
cat "$WORK/table.md"
if [ -n "$MARKDOWN" ]; then cp "$WORK/table.md" "$MARKDOWN"; fi
