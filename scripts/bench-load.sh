#!/usr/bin/env bash
# Compares `clab load` with wrk and oha on this machine (issue 3, "Speed and memory"):
#   1. req/s and CPU µs per request (user+sys from /usr/bin/time / requests) at -c 64 and 256,
#      one thread per core, against the same fast hello-world server;
#   2. max RSS of `clab load` after 1,000,000 and 10,000,000 requests (-n);
#   3. 10,000 connections held for 30 s at 1 request per connection-second: all connected? RSS?
# Client and server share the cores, so every µs the client spends is taken from the server.
#
# Usage: scripts/bench-load.sh   (ROUNDS=10 interleaved runs of DUR=3 s per tool; N_BIG=10000000;
#                                 HOLD=30)
#        ROUNDS=3 N_BIG=2000000 HOLD=10 scripts/bench-load.sh   (quicker, smaller)
# Installs wrk (apt-get) and oha (`cargo install oha --locked`, takes several minutes) if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-10}
DUR=${DUR:-3}
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

# run_tool TOOL C ROUND: one run of TOOL at C connections; appends "C tool round n secs cpu rss_kb"
# to $OUT/runs.tsv.
run_tool() {
    local tool=$1 c=$2 r=$3 name="$1-c$2-r$3" n secs
    case $tool in
        wrk)
            time_run "$name" wrk -t "$CORES" -c "$c" -d "${DUR}s" "$URL"
            n=$(awk '/requests in/ {print $1}' "$OUT/$name.out")
            secs=$(awk -f scripts/lib/wrk-seconds.awk "$OUT/$name.out") ;;
        oha)
            time_run "$name" oha --no-tui -c "$c" -z "${DUR}s" "$URL"
            n=$(grep -oE '\[[0-9]+\] [0-9]+ responses' "$OUT/$name.out" | awk '{s += $2} END {print s + 0}')
            secs=$(awk '/Total:/ {v = $2; if ($3 == "ms") v /= 1000; print v; exit}' "$OUT/$name.out") ;;
        clab | clab-normal)
            local sched=auto; [ "$tool" = clab-normal ] && sched=normal
            time_run "$name" "$CLAB" load "$URL" -c "$c" -t "$CORES" -d "${DUR}s" --sched "$sched" --quiet --json
            n=$(grep -m1 '"responses"' "$OUT/$name.out" | tr -dc '0-9')
            secs=$(grep -m1 '"elapsed_s"' "$OUT/$name.out" | grep -oE '[0-9.]+') ;;
    esac
    echo "$c $tool $r $n $secs $(cpu_s "$name") $(awk '{print $3}' "$OUT/$name.time")" >>"$OUT/runs.tsv"
}

# Client and server share the cores, and this machine's speed drifts by tens of percent from
# second to second (a VM): one long run per tool compares the machine's moods, not the tools.
# So each tool runs ROUNDS short times, interleaved, in a rotating order (scripts/lib/rounds.awk
# sums them up).
# `clab-normal` is clab with `--sched normal`: what the SCHED_BATCH policy contributes.
TOOLS=(wrk oha clab clab-normal)
echo "== $ROUNDS interleaved rounds of ${DUR}s per tool and connection count"
: >"$OUT/runs.tsv"
for C in 64 256; do
    for r in $(seq "$ROUNDS"); do
        for i in "${!TOOLS[@]}"; do
            run_tool "${TOOLS[$(((i + r) % ${#TOOLS[@]}))]}" "$C" "$r"
        done
    done
done
awk -v groups="64 256" -v tools="${TOOLS[*]}" -v pairs="clab/wrk clab/oha clab-normal/wrk" \
    -v cpu_pairs="clab/wrk" -f scripts/lib/rounds.awk "$OUT/runs.tsv"

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
