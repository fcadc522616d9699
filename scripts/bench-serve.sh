#!/usr/bin/env bash
# Speed benchmark of `clab serve` (release build), with wrk as the client on this machine.
#
#   1. /plaintext: a minimal hyper 1.x hello-world server (crates/server/examples/hyper_hello.rs)
#      and `clab serve --model async-multi --latency none`, measured in the same run with the
#      same wrk command, in ROUNDS interleaved short runs (this VM's speed drifts by tens of
#      percent from second to second; scripts/lib/rounds.awk sums the rounds up).
#      Target: clab >= 0.9 x hyper.
#   2. /users/{id} with random ids (scripts/users-random.lua) on SQLite, --latency none.
#      Target: >= 10,000 req/s.
#
# Env knobs: ROUNDS (5), DURATION (4s per run), CONNECTIONS (256), THREADS (wrk threads, 1),
# MODEL (async-multi). Other builds running on the same cores distort the figures: run it on a
# quiet machine.
set -euo pipefail

cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-4s}
CONNECTIONS=${CONNECTIONS:-256}
THREADS=${THREADS:-1}
MODEL=${MODEL:-async-multi}
HYPER_ADDR=127.0.0.1:18081
CLAB_ADDR=127.0.0.1:18082

BENCH_TAG=bench-serve
# shellcheck source=scripts/lib/common.sh
. scripts/lib/common.sh
ensure_wrk

echo "bench-serve: building (release)" >&2
cargo build --release --quiet -p clab --bin clab
cargo build --release --quiet -p clab-server --example hyper_hello
BIN_DIR="${CARGO_TARGET_DIR:-target}/release"

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN_DIR/examples/hyper_hello" "$HYPER_ADDR" 2>"$WORK/hyper.log" &
PIDS+=($!)
wait_for_line "$WORK/hyper.log" "listening"

CLAB_CMD=("$BIN_DIR/clab" serve --model "$MODEL" --listen "$CLAB_ADDR" --latency none
  --database-url "sqlite://$WORK/clab.db")
echo "\$ ${CLAB_CMD[*]}"
"${CLAB_CMD[@]}" 2>"$WORK/clab.log" &
PIDS+=($!)
wait_for_line "$WORK/clab.log" "listening on"
sed 's/^/    /' "$WORK/clab.log"

echo
echo "== /plaintext: hyper reference vs clab $MODEL, $ROUNDS interleaved rounds"
: >"$WORK/runs.tsv"
for r in $(seq "$ROUNDS"); do
  # Alternate who goes first, so a drift within a round favours neither.
  if ((r % 2)); then order=(hyper clab); else order=(clab hyper); fi
  for who in "${order[@]}"; do
    if [ "$who" = hyper ]; then addr=$HYPER_ADDR; else addr=$CLAB_ADDR; fi
    run_wrk "http://$addr/plaintext"
    echo "plaintext $who $r $N $SECS" >>"$WORK/runs.tsv"
  done
done

echo
echo "== /users/{id}: random ids, SQLite, --latency none"
run_wrk -s scripts/users-random.lua "http://$CLAB_ADDR"
USERS_RPS=$RPS

echo
echo "== summary (load while measuring: $(cut -d' ' -f1-3 /proc/loadavg))"
awk -v groups=plaintext -v tools="hyper clab" -v pairs="clab/hyper" -f scripts/lib/rounds.awk "$WORK/runs.tsv"
echo "  target for clab/hyper: >= 0.90"
awk -v u="$USERS_RPS" -v m="$MODEL" 'BEGIN {
  printf "clab %-12s /users/{id} %11.0f req/s  (target >= 10000)\n", m, u
}'
