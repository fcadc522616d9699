#!/usr/bin/env bash
# Benchmarks every concurrency model of `clab serve --model M` (release build) against
# reference servers, in one run, with wrk as the client on this machine.
#
# The models are read from `clab models` (first word of each line), so models added later are
# picked up without editing this script.
#
#   1. /plaintext, `wrk -tTHREADS -cCONNECTIONS`, ROUNDS interleaved rounds of DURATION per
#      server, the order rotated every round (this VM's speed drifts by ±30% from second to
#      second: only ratios within one run mean anything). Servers: every model with
#      `--workers WORKERS --latency none`, `async-multi --workers 1` (async-multi-w1), the hyper
#      hello world (crates/server/examples/hyper_hello.rs, one worker per core), and the
#      may_minihttp hello world (crates/server/examples/may_hello.rs) with WORKERS workers
#      (may_hello) and with 1 (may_hello-w1). Targets:
#        async-single    >= 0.9 x async-multi --workers 1
#        thread-per-core >= 1.0 x may_minihttp with the same workers, and >= 1.0 x async-multi
#        coroutines      >= 0.8 x may_minihttp with the same workers
#        event-loop      >= 1.0 x async-single, and >= 1.0 x one-worker may_minihttp
#        (and, for reference, async-multi / hyper)
#      Tracing cost: each model with `--trace` against itself without, interleaved the same
#      way; target traced >= 0.9 x untraced (<= 10% cost). Skipped, with a notice, while
#      `clab serve --help` does not list --trace.
#   2. Idle keep-alive memory: per model, the server's RSS (VmRSS) before and after IDLE
#      connections that each sent one `GET /plaintext`, read the answer and then sat idle
#      (scripts/lib/idle_conns.py, two client processes, sources spread over 127.0.0.1-200),
#      measured after 2 s of idling; RSS per idle connection = (after - before) / IDLE, and the
#      thread count. Kernel socket buffers are not in RSS. Targets: <= 2 KiB for async-single,
#      async-multi and thread-per-core; <= stack + 2 KiB for coroutines; <= 1 KiB for
#      event-loop. A model that cannot hold them (sync: one connection at a time; thread-pool:
#      503 beyond its queue; thread-per-request: a thread each) reports how many it held, the
#      failures by errno/status name and what stopped it.
#
# 3. With PG_URL (or CLAB_TEST_DATABASE_URL) set: GET /users/42 (two queries) on real
#    PostgreSQL, --latency none, --pool-size 16, event-loop against async-single, ROUNDS
#    interleaved rounds (target event-loop >= 0.9 x async-single).
#
# Env knobs: ONLY (space-separated model names: bench just those, plus the reference servers),
# ROUNDS (5), DURATION (3s per wrk run), CONNECTIONS (256), THREADS (wrk threads, 2),
# WORKERS (2, for the models and may_hello), IDLE (10000 idle connections), BASE_PORT (18300;
# the servers listen on consecutive ports from it), BUILD (1; 0 skips the cargo builds),
# KEEP (0; 1 keeps the raw outputs), WARMUP (1s: one discarded wrk run per server before the
# rounds, so no server's first round pays for its cold start; 0 skips it). Binaries are taken from $CARGO_TARGET_DIR/release (default
# target/release). Needs wrk (installed with apt-get if missing), python3 and curl.
#
# Client and servers share this machine's cores: other builds or benchmarks running at the same
# time distort the figures (and not evenly across servers). Run it on a quiet machine and read
# the ratios, not the absolute req/s.
set -euo pipefail

cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-3s}
CONNECTIONS=${CONNECTIONS:-256}
THREADS=${THREADS:-2}
WORKERS=${WORKERS:-2}
IDLE=${IDLE:-10000}
BASE_PORT=${BASE_PORT:-18300}
BUILD=${BUILD:-1}
KEEP=${KEEP:-0}
WARMUP=${WARMUP:-1s}
WRK_QUIET=1
# The path run_rounds and warm_up load (section 3 switches it to a PostgreSQL route).
ROUND_PATH=/plaintext
PG_URL=${PG_URL:-${CLAB_TEST_DATABASE_URL:-}}

BENCH_TAG=bench-models
# shellcheck source=scripts/lib/common.sh
. scripts/lib/common.sh
ensure_wrk

BIN_DIR="${CARGO_TARGET_DIR:-target}/release"
if [ "$BUILD" = 1 ]; then
  echo "bench-models: building (release) into ${CARGO_TARGET_DIR:-target}" >&2
  cargo build --release --quiet -p clab --bin clab
  cargo build --release --quiet -p clab-server --example hyper_hello --example may_hello
fi
CLAB=$BIN_DIR/clab
HYPER=$BIN_DIR/examples/hyper_hello
MAY=$BIN_DIR/examples/may_hello
for bin in "$CLAB" "$HYPER" "$MAY"; do
  [ -x "$bin" ] || { echo "bench-models: $bin is missing (build it, or set CARGO_TARGET_DIR)" >&2; exit 1; }
done

# 10,000 idle connections need as many descriptors in the server (and in each client process).
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

WORK=$(mktemp -d /tmp/bench-models.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$KEEP" = 1 ]; then echo "bench-models: raw outputs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

mapfile -t MODELS < <("$CLAB" models | awk 'NF { print $1 }')
if [ -n "${ONLY:-}" ]; then
  # Keep only the models named in ONLY (space-separated), in `clab models` order.
  mapfile -t MODELS < <(printf '%s\n' "${MODELS[@]}" | grep -Fxf <(tr ' ' '\n' <<<"$ONLY"))
fi
if [ "${#MODELS[@]}" -eq 0 ]; then
  echo "bench-models: \`$CLAB models\` listed no models" >&2
  exit 1
fi
has_model() {
  local m
  for m in "${MODELS[@]}"; do [ "$m" = "$1" ] && return 0; done
  return 1
}
TRACE=0
if "$CLAB" serve --help 2>/dev/null | grep -q -- '--trace'; then TRACE=1; fi

echo "== bench-models: $(nproc) cores; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   models (from \`clab models\`): ${MODELS[*]}"
echo "   ROUNDS=$ROUNDS DURATION=$DURATION CONNECTIONS=$CONNECTIONS THREADS=$THREADS WORKERS=$WORKERS IDLE=$IDLE; open files: $(ulimit -n)"

# Servers by name: their address, their pid.
declare -A ADDR=() SPID=()
NEXT_PORT=$BASE_PORT
CLAB_OPTS=(--latency none --database-url "sqlite://$WORK/clab.db")
# Models whose worker count is fixed by nature (`clab models --long` says "workers: fixed")
# are started without --workers, which they refuse.
declare -A FIXED_WORKERS=()
while read -r name; do FIXED_WORKERS[$name]=1; done < <(
  "$CLAB" models --long | awk '/^[^ ]/ { m = $1 } /workers: fixed/ { print m }')
# model_opts MODEL: set MOPTS to the options `clab serve --model MODEL` is started with.
model_opts() {
  if [ -n "${FIXED_WORKERS[$1]:-}" ]; then
    MOPTS=("${CLAB_OPTS[@]}")
  else
    MOPTS=(--workers "$WORKERS" "${CLAB_OPTS[@]}")
  fi
}

# start_server NAME KIND ARGS...: KIND clab (`clab serve --listen ADDR ARGS`), hyper or may
# (`EXAMPLE ADDR ARGS`). Waits for its "listening" line and checks that /plaintext answers.
# Returns 1 (after saying why) if it did not start.
start_server() {
  local name=$1 kind=$2 addr cmd pid code
  shift 2
  addr=127.0.0.1:$NEXT_PORT
  NEXT_PORT=$((NEXT_PORT + 1))
  case $kind in
    clab) cmd=("$CLAB" serve --listen "$addr" "$@") ;;
    hyper) cmd=("$HYPER" "$addr" "$@") ;;
    may) cmd=("$MAY" "$addr" "$@") ;;
  esac
  echo "\$ ${cmd[*]}"
  "${cmd[@]}" >"$WORK/$name.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  if ! wait_for_line "$WORK/$name.log" "listening" "$pid" "$name did not start"; then
    echo "bench-models: $name left out" >&2
    stop_pid "$pid"
    return 1
  fi
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/plaintext" || true)
  echo "    $name: pid $pid, http://$addr, GET /plaintext -> $code"
  ADDR[$name]=$addr
  SPID[$name]=$pid
}

stop_servers() {
  local name
  for name in "$@"; do
    [ -n "${SPID[$name]:-}" ] && stop_pid "${SPID[$name]}"
    unset "SPID[$name]" "ADDR[$name]"
  done
}

# run_rounds TSV NAMES...: ROUNDS rounds of one wrk run per server, order rotated each round;
# appends "plaintext NAME ROUND RESPONSES SECONDS" and "errors NAME ROUND NON2XX SOCKERRS".
run_rounds() {
  local tsv=$1 r i name
  shift
  local names=("$@")
  for r in $(seq "$ROUNDS"); do
    echo "-- round $r of $ROUNDS"
    for i in "${!names[@]}"; do
      name=${names[$(((i + r) % ${#names[@]}))]}
      printf '%-20s ' "$name"
      run_wrk "http://${ADDR[$name]}$ROUND_PATH"
      echo "plaintext $name $r ${N:-0} ${SECS:-0}" >>"$tsv"
      echo "errors $name $r ${NON2XX:-0} ${SOCK_ERRS:-0}" >>"$tsv"
    done
  done
}

# warm_up NAMES...: one discarded wrk run of WARMUP per server (unless WARMUP=0).
warm_up() {
  [ "$WARMUP" = 0 ] && return 0
  local name
  for name in "$@"; do
    wrk "-t$THREADS" "-c$CONNECTIONS" "-d$WARMUP" "http://${ADDR[$name]}$ROUND_PATH" >/dev/null 2>&1 || true
  done
  echo "-- warm-up: one discarded ${WARMUP} run per server"
}

# Why NAME has no figures: the model behind it is not in `clab models`, or it did not start.
why_missing() {
  local name=$1 model=$1
  [ "$name" = async-multi-w1 ] && model=async-multi
  case $name in
    hyper | may_hello | may_hello-w1) echo "$name did not start" ;;
    *) if has_model "$model"; then echo "$name did not start"; else echo "$model is not in \`clab models\`"; fi ;;
  esac
}

# ratio_line TSV A B [TARGET]
ratio_line() {
  local tsv=$1 a=$2 b=$3 target=${4:-} x
  for x in "$a" "$b"; do
    if [ -z "${ADDR[$x]:-}" ] && ! grep -q "^plaintext $x " "$tsv"; then
      echo "ratio $a / $b: skipped ($(why_missing "$x"))"
      return 0
    fi
  done
  awk -v mode=ratio -v a="$a" -v b="$b" -v target="$target" -f scripts/lib/ratios.awk "$tsv"
}

# ---------------------------------------------------------------------------------------------
echo
echo "== 1. /plaintext: starting the servers"
NAMES=()
for m in "${MODELS[@]}"; do
  model_opts "$m"
  start_server "$m" clab --model "$m" "${MOPTS[@]}" && NAMES+=("$m")
done
if has_model async-multi; then
  start_server async-multi-w1 clab --model async-multi --workers 1 --latency none \
    --database-url "sqlite://$WORK/clab.db" && NAMES+=(async-multi-w1)
fi
start_server hyper hyper && NAMES+=(hyper)
start_server may_hello may "$WORKERS" && NAMES+=(may_hello)
start_server may_hello-w1 may 1 && NAMES+=(may_hello-w1)

echo
echo "== 1. /plaintext: $ROUNDS interleaved rounds, wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
RUNS=$WORK/runs.tsv
: >"$RUNS"
warm_up "${NAMES[@]}"
run_rounds "$RUNS" "${NAMES[@]}"

echo
echo "== 1. summary (load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
grep '^plaintext ' "$RUNS" | awk -v groups=plaintext -v tools="${NAMES[*]}" -v pairs="" -f scripts/lib/rounds.awk
echo
echo "total req/s over all rounds, and the per-round range:"
awk -v mode=ranges -v tools="${NAMES[*]}" -f scripts/lib/ratios.awk "$RUNS"
echo
ratio_line "$RUNS" async-single async-multi-w1 0.90
ratio_line "$RUNS" thread-per-core may_hello 1.00
ratio_line "$RUNS" thread-per-core async-multi 1.00
ratio_line "$RUNS" coroutines may_hello 0.80
ratio_line "$RUNS" event-loop async-single 1.00
ratio_line "$RUNS" event-loop may_hello-w1 1.00
ratio_line "$RUNS" async-multi hyper

echo
if [ "$TRACE" = 1 ]; then
  echo "== 1b. tracing cost: each model with --trace vs without, $ROUNDS interleaved rounds"
  stop_servers async-multi-w1 hyper may_hello may_hello-w1
  TNAMES=()
  for m in "${MODELS[@]}"; do
    [ -n "${ADDR[$m]:-}" ] || continue
    model_opts "$m"
    start_server "$m+trace" clab --model "$m" "${MOPTS[@]}" --trace && TNAMES+=("$m" "$m+trace")
  done
  TRUNS=$WORK/trace.tsv
  : >"$TRUNS"
  if [ "${#TNAMES[@]}" -gt 0 ]; then
    warm_up "${TNAMES[@]}"
    run_rounds "$TRUNS" "${TNAMES[@]}"
    echo
    awk -v mode=ranges -v tools="${TNAMES[*]}" -f scripts/lib/ratios.awk "$TRUNS"
    echo
    for m in "${MODELS[@]}"; do
      if [ -n "${ADDR[$m+trace]:-}" ]; then
        ratio_line "$TRUNS" "$m+trace" "$m" 0.90
      else
        echo "ratio $m+trace / $m: skipped ($m or $m --trace did not start)"
      fi
    done
  fi
else
  echo "== 1b. tracing cost: skipped: \`clab serve --help\` does not list --trace yet"
fi

for name in "${!SPID[@]}"; do stop_servers "$name"; done

# ---------------------------------------------------------------------------------------------
echo
echo "== 2. idle keep-alive memory: $IDLE connections per model, each after one GET /plaintext"
for m in "${MODELS[@]}"; do
  echo
  model_opts "$m"
  start_server "$m-idle" clab --model "$m" "${MOPTS[@]}" || continue
  pid=${SPID[$m-idle]}
  port=${ADDR[$m-idle]##*:}
  rss_before=$(proc_status "$pid" VmRSS)
  out=$WORK/$m-idle.conns
  python3 scripts/lib/idle_conns.py --port "$port" -n "$IDLE" --procs 2 >"$out" 2>&1 &
  helper=$!
  PIDS+=("$helper")
  if ! wait_for_line "$out" '^limit:' "$helper" "the idle-connection helper did not report"; then
    echo "$m: no figures (the helper did not finish opening; see above)"
    stop_pid "$helper"
    stop_servers "$m-idle"
    continue
  fi
  sleep 2
  if kill -0 "$pid" 2>/dev/null; then
    rss_after=$(proc_status "$pid" VmRSS)
    threads=$(proc_status "$pid" Threads)
    fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  else
    rss_after=
  fi
  kill -USR1 "$helper" 2>/dev/null || true
  wait_for_line "$out" '^after ' "$helper" "the idle-connection helper did not count its connections" || true
  stop_pid "$helper"
  ready=$(grep -m1 '^ready ' "$out" || true)
  opened=$(grep -m1 -oE '^after open=[0-9]+' "$out" | grep -oE '[0-9]+$' || true)
  closed=$(grep -m1 -oE 'closed_while_idle=[0-9]+' "$out" | grep -oE '[0-9]+$' || true)
  if [ -z "$rss_after" ]; then
    echo "$m: the server exited during the test ($(grep -m1 -oE 'open=[0-9]+' <<<"$ready") when it was last seen); its log ends:"
    tail -5 "$WORK/$m-idle.log" | sed 's/^/    /'
  else
    awk -v m="$m" -v b="$rss_before" -v a="$rss_after" -v n="$IDLE" -v t="$threads" -v k="${opened:-0}" 'BEGIN {
      printf "%s: RSS per idle connection = %.0f bytes, threads = %d", m, (a - b) * 1024 / n, t
      if (k > 0 && k < n) printf " (per connection actually open: %.0f bytes)", (a - b) * 1024 / k
      printf "\n"
      printf "    RSS %.1f MiB before, %.1f MiB after\n", b / 1024, a / 1024
    }'
    echo "    connections open after 2 s idle: ${opened:-?} of $IDLE (closed by the server while idle: ${closed:-?}; server fds: $fds)"
  fi
  sed -n 's/^ready /    opening: /p; s/^errors: /    failures: /p; s/^limit: /    stopped by: /p' "$out"
  stop_servers "$m-idle"
done

# ---------------------------------------------------------------------------------------------
echo
if [ -z "$PG_URL" ]; then
  echo "== 3. /users/42 on PostgreSQL: skipped (set PG_URL or CLAB_TEST_DATABASE_URL)"
elif ! has_model event-loop || ! has_model async-single; then
  echo "== 3. /users/42 on PostgreSQL: skipped (needs event-loop and async-single)"
else
  echo "== 3. /users/42 on PostgreSQL (PG_URL): event-loop vs async-single, $ROUNDS interleaved rounds"
  PNAMES=()
  for m in event-loop async-single; do
    start_server "$m-pg" clab --model "$m" --latency none --database-url "$PG_URL" --pool-size 16 \
      && PNAMES+=("$m-pg")
  done
  ROUND_PATH=/users/42
  PRUNS=$WORK/pg.tsv
  : >"$PRUNS"
  warm_up "${PNAMES[@]}"
  run_rounds "$PRUNS" "${PNAMES[@]}"
  echo
  awk -v mode=ranges -v tools="${PNAMES[*]}" -f scripts/lib/ratios.awk "$PRUNS"
  ratio_line "$PRUNS" event-loop-pg async-single-pg 0.90
  stop_servers "${PNAMES[@]}"
fi
