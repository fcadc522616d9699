#!/usr/bin/env python3
"""Fresh-connection probes for scripts/bench-robustness.sh: for DURATION seconds, one request at
a time, each on a new connection (`Connection: close`), GAP ms apart; prints one JSON object
with what they got.

Each probe is timed from before its connect to its complete response (head and
Content-Length body). Probes answered with a status below 500 (other than 408 and 429) are
"accepted"; their latencies give accepted_p50/p99; 503s are counted with how many lacked a
Retry-After header, and timed too. A probe that got no complete answer within TIMEOUT (connect
refused or reset, timeout, a malformed answer) counts as unanswered, by reason.

  probe.py --port 18400 --path /users/42 --duration 4 [--host 127.0.0.1] [--gap-ms 10]
           [--timeout 2]
"""

import argparse
import json
import math
import socket
import sys
import time


def quantile(values, q):
    """Nearest-rank quantile (as scripts and clab-attack compute it); None when empty."""
    if not values:
        return None
    s = sorted(values)
    rank = min(max(math.ceil(q * len(s)), 1), len(s))
    return s[rank - 1]


def probe(host, port, path, timeout):
    """One request on a fresh connection: (status, retry_after, seconds) or (None, reason, s)."""
    started = time.perf_counter()
    deadline = started + timeout
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode()
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(request)
            buf = b""
            head_end = -1
            while head_end < 0:
                sock.settimeout(max(deadline - time.perf_counter(), 0.001))
                chunk = sock.recv(65536)
                if not chunk:
                    return None, "closed", time.perf_counter() - started
                buf += chunk
                head_end = buf.find(b"\r\n\r\n")
            lines = buf[:head_end].decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) < 2 or not parts[1].isdigit():
                return None, "bad_response", time.perf_counter() - started
            status = int(parts[1])
            length = 0
            retry_after = False
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length" and value.strip().isdigit():
                    length = int(value.strip())
                elif name == "retry-after":
                    retry_after = True
            while len(buf) - head_end - 4 < length:
                sock.settimeout(max(deadline - time.perf_counter(), 0.001))
                chunk = sock.recv(65536)
                if not chunk:
                    return None, "closed", time.perf_counter() - started
                buf += chunk
            return status, retry_after, time.perf_counter() - started
    except socket.timeout:
        return None, "timeout", time.perf_counter() - started
    except ConnectionRefusedError:
        return None, "refused", time.perf_counter() - started
    except (ConnectionResetError, BrokenPipeError):
        return None, "reset", time.perf_counter() - started
    except OSError as e:
        return None, f"errno_{e.errno}", time.perf_counter() - started


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", default="/")
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--gap-ms", type=float, default=10.0)
    p.add_argument("--timeout", type=float, default=2.0)
    a = p.parse_args()

    accepted, shed, statuses, unanswered = [], [], {}, {}
    shed_without_retry_after = 0
    end = time.monotonic() + a.duration
    while time.monotonic() < end:
        status, extra, took = probe(a.host, a.port, a.path, a.timeout)
        if status is None:
            unanswered[extra] = unanswered.get(extra, 0) + 1
        else:
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            if status == 503:
                shed.append(took * 1000.0)
                if not extra:
                    shed_without_retry_after += 1
            elif status < 500 and status not in (408, 429):
                accepted.append(took * 1000.0)
        time.sleep(a.gap_ms / 1000.0)

    probes = sum(statuses.values()) + sum(unanswered.values())
    json.dump(
        {
            "tool": "scripts/lib/probe.py",
            "path": a.path,
            "probes": probes,
            "status_codes": statuses,
            "unanswered": unanswered,
            "accepted": len(accepted),
            "accepted_p50_ms": quantile(accepted, 0.5),
            "accepted_p99_ms": quantile(accepted, 0.99),
            "accepted_max_ms": quantile(accepted, 1.0),
            "shed_503": len(shed),
            "shed_503_without_retry_after": shed_without_retry_after,
            "shed_503_p99_ms": quantile(shed, 0.99),
        },
        sys.stdout,
        indent=2,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
