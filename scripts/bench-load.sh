#!/usr/bin/env bash
# Compares `clab load` with wrk and oha on this machine (issue 3, "Speed and memory"):
#   1. req/s and CPU µs per request (user+sys from /usr/bin/time / requests) at -c 64 and 256,
#      one thread per core, against the same fast hello-world server;
#   2. max RSS of `clab load` after 1,000,000 and 10,000,000 requests (-n);
#   3. 10,000 connections held for 30 s at 1 request per connection-second: all connected? RSS?
# Client and server share the cores, so every µs the client spends is taken from the server.
#
# Usage: scripts/bench-load.sh            (DUR=10 seconds per run; N_BIG=10000000; HOLD=30)
#        DUR=5 N_BIG=2000000 HOLD=10 scripts/bench-load.sh   (quicker, smaller)
# Installs wrk (apt-get) and oha (`cargo install oha --locked`, takes several minutes) if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

DUR=${DUR:-10}
N_BIG=${N_BIG:-10000000}
N_SMALL=${N_SMALL:-1000000}
HOLD=${HOLD:-30}
HOLD_CONNS=${HOLD_CONNS:-10000}
PORT=${PORT:-18480}
CORES=$(nproc)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
OUT=$(mktemp -d /tmp/bench-load.XXXXXX)
ulimit -n "$(ulimit -Hn)"

echo "== building (release)"
cargo build --release -q -p clab
CLAB=$CARGO_TARGET_DIR/release/clab

if ! command -v wrk >/dev/null; then
    echo "== installing wrk with apt-get"
    apt-get install -y -q wrk >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }
fi
if ! command -v oha >/dev/null; then
    echo "== installing oha with 'cargo install oha --locked' (this takes several minutes)"
    CARGO_TARGET_DIR=/tmp/oha-build cargo install oha --locked -q
fi

# The server: the repo's hyper hello-world reference if present, else `clab serve`, else the
# load crate's own thread-per-connection hello server (slow: ratios then say less).
SERVER_PID=
stop_server() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null; SERVER_PID=; true; }
trap stop_server EXIT
if [ -f crates/server/examples/hyper_hello.rs ]; then
    cargo build --release -q -p clab-server --example hyper_hello
    "$CARGO_TARGET_DIR/release/examples/hyper_hello" "127.0.0.1:$PORT" >"$OUT/server.log" 2>&1 &
    SERVER_PID=$!; URL="http://127.0.0.1:$PORT/"; SERVER_NAME="hyper_hello example"
elif "$CLAB" serve --help 2>/dev/null | grep -q -- --model; then
    "$CLAB" serve --model async-multi --listen "127.0.0.1:$PORT" >"$OUT/server.log" 2>&1 &
    SERVER_PID=$!; URL="http://127.0.0.1:$PORT/plaintext"; SERVER_NAME="clab serve --model async-multi"
else
    cargo build --release -q -p clab-load --example hello_server
    "$CARGO_TARGET_DIR/release/examples/hello_server" "127.0.0.1:$PORT" >"$OUT/server.log" 2>&1 &
    SERVER_PID=$!; URL="http://127.0.0.1:$PORT/"; SERVER_NAME="clab-load hello_server example (thread per connection)"
fi
for _ in $(seq 50); do curl -s -o /dev/null "$URL" && break; sleep 0.2; done
echo "== server: $SERVER_NAME at $URL; $CORES cores; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"

# time_run NAME CMD...: runs CMD under /usr/bin/time, leaves "user sys maxrss_kb" in $OUT/NAME.time.
time_run() { local name=$1; shift; /usr/bin/time -f '%U %S %M' -o "$OUT/$name.time" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"; }
cpu_s() { awk '{print $1 + $2}' "$OUT/$1.time"; }
rss_mib() { awk '{printf "%.1f", $3 / 1024}' "$OUT/$1.time"; }

printf '\n%-6s %-5s %12s %14s %10s\n' tool conns "req/s" "CPU us/req" "RSS MiB"
for C in 64 256; do
    time_run "wrk$C" wrk -t "$CORES" -c "$C" -d "${DUR}s" "$URL"
    wrk_n=$(awk '/requests in/ {print $1}' "$OUT/wrk$C.out")
    wrk_rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/wrk$C.out")

    time_run "oha$C" oha --no-tui -c "$C" -z "${DUR}s" "$URL"
    oha_n=$(grep -oE '\[[0-9]+\] [0-9]+ responses' "$OUT/oha$C.out" | awk '{s += $2} END {print s + 0}')
    oha_rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/oha$C.out")

    time_run "clab$C" "$CLAB" load "$URL" -c "$C" -t "$CORES" -d "${DUR}s" --quiet --json
    clab_n=$(grep -m1 '"responses"' "$OUT/clab$C.out" | tr -dc '0-9')
    clab_rps=$(grep -m1 '"throughput"' "$OUT/clab$C.out" | grep -oE '[0-9.]+')

    for t in wrk oha clab; do
        n_var=${t}_n; rps_var=${t}_rps
        cpu=$(cpu_s "$t$C")
        printf '%-6s %-5s %12.0f %14.2f %10s\n' "$t" "$C" "${!rps_var}" \
            "$(echo "$cpu * 1000000 / ${!n_var}" | bc -l)" "$(rss_mib "$t$C")"
    done
    printf '  ratios at -c %s: clab/wrk req/s %.2f, clab/oha req/s %.2f, clab/wrk CPU per request %.2f\n' "$C" \
        "$(echo "$clab_rps / $wrk_rps" | bc -l)" "$(echo "$clab_rps / $oha_rps" | bc -l)" \
        "$(echo "($(cpu_s "clab$C") / $clab_n) / ($(cpu_s "wrk$C") / $wrk_n)" | bc -l)"
done

echo
echo "== memory: max RSS of clab load after N requests (-c 64)"
for N in "$N_SMALL" "$N_BIG"; do
    time_run "n$N" "$CLAB" load "$URL" -c 64 -t "$CORES" -n "$N" --quiet --json
    got=$(grep -m1 '"responses"' "$OUT/n$N.out" | tr -dc '0-9')
    echo "  -n $N: $got responses, max RSS $(rss_mib "n$N") MiB"
done

echo
echo "== $HOLD_CONNS connections held ${HOLD}s at $HOLD_CONNS req/s (one per connection-second)"
time_run hold "$CLAB" load "$URL" -c "$HOLD_CONNS" -t "$CORES" --rate "$HOLD_CONNS" -d "${HOLD}s" --timeout 10s --quiet --json
connects=$(grep -m1 '"connects"' "$OUT/hold.out" | tr -dc '0-9')
connect_errors=$(grep -m1 '"connect":' "$OUT/hold.out" | tr -dc '0-9')
echo "  connections made: ${connects:-?} of $HOLD_CONNS, connect errors: ${connect_errors:-?}, max RSS $(rss_mib hold) MiB"
grep -A3 '"notes"' "$OUT/hold.out" | sed 's/^/  /' || true
cat "$OUT/hold.err" | sed 's/^/  stderr: /' || true
echo
echo "raw outputs: $OUT"
