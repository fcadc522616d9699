# Shell helpers shared by the bench scripts (scripts/bench-serve.sh, scripts/bench-models.sh).
# Source it after `set -euo pipefail` and `cd` to the repository root:
#
#   BENCH_TAG=bench-foo   # prefix of this file's messages (default: the script's name)
#   . scripts/lib/common.sh
#
# run_wrk reads THREADS, CONNECTIONS and DURATION; WRK_QUIET=1 makes it print one line per run
# (plus wrk's error lines) instead of wrk's whole report.
# shellcheck shell=bash
# shellcheck disable=SC2034  # run_wrk leaves its results (N, SECS, ...) for the caller
# shellcheck disable=SC2001

BENCH_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_TAG=${BENCH_TAG:-$(basename "$0" .sh)}

# Install wrk with apt-get if it is missing.
ensure_wrk() {
  command -v wrk >/dev/null && return 0
  echo "$BENCH_TAG: installing wrk (apt-get)" >&2
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
}

# wait_for_line FILE PATTERN [PID [WHAT]]: wait (up to 60 s) until FILE contains a line
# matching PATTERN (a server's startup line). With PID, gives up as soon as that process has
# exited. On failure prints "WHAT" (default: server did not start) and the file, and returns 1
# (which ends a `set -e` script unless the caller tests it).
wait_for_line() {
  local file=$1 pattern=$2 pid=${3:-} what=${4:-server did not start}
  for _ in $(seq 1 600); do
    grep -q "$pattern" "$file" 2>/dev/null && return 0
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      grep -q "$pattern" "$file" 2>/dev/null && return 0
      break
    fi
    sleep 0.1
  done
  echo "$BENCH_TAG: $what; its log:" >&2
  cat "$file" >&2
  return 1
}

# run_wrk ARGS...: run wrk, echo the exact command, print its output, leave req/s in $RPS,
# responses in $N, the measured seconds in $SECS, non-2xx/3xx responses in $NON2XX and socket
# errors (connect + read + write + timeout) in $SOCK_ERRS.
run_wrk() {
  local cmd=(wrk "-t$THREADS" "-c$CONNECTIONS" "-d$DURATION" --latency "$@")
  local out
  [ "${WRK_QUIET:-0}" = 1 ] || echo "\$ ${cmd[*]}"
  out=$("${cmd[@]}")
  RPS=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
  N=$(echo "$out" | awk '/requests in/ { print $1 }')
  SECS=$(echo "$out" | awk -f "$BENCH_LIB/wrk-seconds.awk")
  NON2XX=$(echo "$out" | awk '/Non-2xx or 3xx responses:/ { n = $NF } END { print n + 0 }')
  SOCK_ERRS=$(echo "$out" | awk '/Socket errors:/ { gsub(/,/, ""); n = $4 + $6 + $8 + $10 } END { print n + 0 }')
  if [ "${WRK_QUIET:-0}" = 1 ]; then
    printf '$ %s  ->  %s req/s\n' "${cmd[*]}" "$RPS"
    echo "$out" | grep -E 'Socket errors|Non-2xx' | sed 's/^/    /' || true
  else
    echo "$out" | sed 's/^/    /'
  fi
}

# proc_status PID FIELD: a field of /proc/PID/status without its name (VmRSS in kB, Threads).
proc_status() {
  awk -v f="$2:" '$1 == f { print $2; exit }' "/proc/$1/status" 2>/dev/null
}

# stop_pid PID: SIGTERM, then SIGKILL if it is still there after 5 s; reaps it.
stop_pid() {
  local pid=$1
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
