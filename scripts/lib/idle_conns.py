#!/usr/bin/env python3
"""Open N idle HTTP/1.1 keep-alive connections to a server and hold them (scripts/bench-models.sh).

Each connection sends one `GET /plaintext`, reads the whole response, then sits idle. The
clients are split over --procs processes (the open-files limit is per process) and bind their
sockets to 127.0.0.(1 + i % 200), because a single source address has only ~28,000 ephemeral
ports per destination.

Output on stdout, one line each, in this order:

  ready open=K tried=T failed=F secs=S        every connection has been tried (or we stopped)
  errors: NAME xCOUNT, ...                    why the failed ones failed ("errors: none")
  limit: REASON                               what stopped the opening early ("limit: none")
  (then it holds the connections until it gets SIGUSR1)
  after open=K closed_while_idle=C            connections still open when SIGUSR1 came

Failure names: errno names (ECONNREFUSED, ECONNRESET, EMFILE, EADDRNOTAVAIL, ...), HTTP-503 and
the like for a non-200 answer, EOF-before-response, timeout-connect, timeout-response.
A server that stops answering (no new response for --stall seconds) stops the opening: the
connections then in flight count as timeouts and `limit:` says so. SIGTERM ends it at once.
"""

import argparse
import errno
import json
import os
import selectors
import signal
import socket
import sys
import time

IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)

CONNECTING, AWAITING, IDLE = 1, 2, 3


class Conn:
    __slots__ = ("sock", "state", "buf", "started")

    def __init__(self, sock):
        self.sock = sock
        self.state = CONNECTING
        self.buf = b""
        self.started = time.monotonic()


def errno_name(code):
    return errno.errorcode.get(code, f"errno-{code}")


def response_complete(buf):
    """None while incomplete, else the status code of the (first) complete response."""
    head_end = buf.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    head = buf[:head_end].decode("latin-1").split("\r\n")
    try:
        status = int(head[0].split()[1])
    except (IndexError, ValueError):
        return -1
    body = buf[head_end + 4 :]
    length = None
    chunked = False
    for line in head[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        return status if b"0\r\n\r\n" in body else None
    if length is None:
        return status  # no body framing: take the head as the whole answer
    return status if len(body) >= length else None


def worker(args, first, count, control_fd, out):
    """Opens connections first..first+count-1, reports, holds them until control_fd is readable."""
    sel = selectors.DefaultSelector()
    sel.register(control_fd, selectors.EVENT_READ, None)
    request = f"GET /plaintext HTTP/1.1\r\nHost: {args.host}:{args.port}\r\n\r\n".encode()
    errors = {}
    inflight = {}  # fd -> Conn, connecting or awaiting the response
    idle = {}  # fd -> Conn
    limit = None
    started = time.monotonic()
    last_progress = started
    nxt = 0

    def fail(conn, name):
        errors[name] = errors.get(name, 0) + 1
        fd = conn.sock.fileno()
        try:
            sel.unregister(fd)
        except (KeyError, ValueError):
            pass
        inflight.pop(fd, None)
        idle.pop(fd, None)
        conn.sock.close()

    while True:
        now = time.monotonic()
        if limit is None and now - started > args.deadline:
            limit = f"deadline: opening took more than {args.deadline:g} s"
        if limit is None and inflight and now - last_progress > args.stall:
            limit = (f"stalled: no new response for {args.stall:g} s "
                     f"({len(inflight)} connections of one client process waiting)")
        if limit is not None:
            for conn in list(inflight.values()):
                fail(conn, "timeout-connect" if conn.state == CONNECTING else "timeout-response")
        while limit is None and nxt < count and len(inflight) < args.inflight:
            i = first + nxt
            nxt += 1
            try:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            except OSError as e:
                errors[errno_name(e.errno)] = errors.get(errno_name(e.errno), 0) + 1
                limit = f"client: socket() failed with {errno_name(e.errno)} (open-files limit?)"
                break
            sock.setblocking(False)
            conn = Conn(sock)
            try:
                sock.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
                sock.bind((f"127.0.0.{1 + i % 200}", 0))
                rc = sock.connect_ex((args.host, args.port))
            except OSError as e:
                rc = e.errno
            if rc not in (0, errno.EINPROGRESS):
                errors[errno_name(rc)] = errors.get(errno_name(rc), 0) + 1
                sock.close()
                continue
            inflight[sock.fileno()] = conn
            sel.register(sock.fileno(), selectors.EVENT_WRITE, conn)
        if limit is None and nxt >= count and not inflight:
            break
        if limit is not None and not inflight:
            break

        for key, events in sel.select(timeout=0.1):
            conn = key.data
            if conn is None:
                os._exit(1)  # the control pipe hit EOF: the parent is gone
            fd = key.fd
            if conn.state == CONNECTING:
                rc = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if rc:
                    fail(conn, errno_name(rc))
                    continue
                try:
                    conn.sock.send(request)
                except OSError as e:
                    fail(conn, errno_name(e.errno))
                    continue
                conn.state = AWAITING
                sel.modify(fd, selectors.EVENT_READ, conn)
                continue
            try:
                data = conn.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError as e:
                fail(conn, errno_name(e.errno))
                continue
            if conn.state == IDLE:
                if not data:
                    fail(conn, "closed-after-response")
                continue
            if not data:
                fail(conn, "EOF-before-response")
                continue
            conn.buf += data
            status = response_complete(conn.buf)
            if status is None:
                continue
            if status != 200:
                fail(conn, f"HTTP-{status}" if status > 0 else "bad-response")
                continue
            conn.state = IDLE
            conn.buf = b""
            del inflight[fd]
            idle[fd] = conn
            last_progress = time.monotonic()

    report = {
        "open": len(idle),
        "tried": nxt,
        "errors": errors,
        "limit": limit,
        "secs": time.monotonic() - started,
    }
    out.write(json.dumps(report) + "\n")
    out.flush()

    # Hold; watch for the server closing idle connections; stop when told to.
    closed = 0
    while True:
        told = False
        for key, _ in sel.select(timeout=1.0):
            if key.data is None:
                told = True
                continue
            try:
                data = key.data.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                closed += 1
                sel.unregister(key.fd)
                idle.pop(key.fd, None)
                key.data.sock.close()
        if told:
            break
    out.write(json.dumps({"open": len(idle), "closed": closed}) + "\n")
    out.flush()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("-n", "--count", type=int, default=10000)
    p.add_argument("--procs", type=int, default=2)
    p.add_argument("--inflight", type=int, default=64,
                   help="connections per process connecting or awaiting a response at once")
    p.add_argument("--stall", type=float, default=5.0)
    p.add_argument("--deadline", type=float, default=45.0)
    args = p.parse_args()

    # SIGUSR1 is taken with sigwait below; block it before anything so an early one waits.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    children = []
    share = [args.count // args.procs + (1 if k < args.count % args.procs else 0)
             for k in range(args.procs)]
    first = 0
    for k in range(args.procs):
        report_r, report_w = os.pipe()
        control_r, control_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(report_r)
            os.close(control_w)
            for _, _, cr, cw in children:
                os.close(cr)
                os.close(cw)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            try:
                worker(args, first, share[k], control_r, os.fdopen(report_w, "w"))
            finally:
                os._exit(0)
        os.close(report_w)
        os.close(control_r)
        children.append((pid, os.fdopen(report_r), report_r, control_w))
        first += share[k]

    def read_all():
        rows = []
        for _, reader, _, _ in children:
            line = reader.readline()
            rows.append(json.loads(line) if line else None)
        return rows

    ready = read_all()
    opened = sum(r["open"] for r in ready if r)
    tried = sum(r["tried"] for r in ready if r)
    errors = {}
    limits = []
    for r in ready:
        if r is None:
            limits.append("a client process died")
            continue
        for name, n in r["errors"].items():
            errors[name] = errors.get(name, 0) + n
        if r["limit"] and r["limit"] not in limits:
            limits.append(r["limit"])
    secs = max((r["secs"] for r in ready if r), default=0.0)
    failed = sum(errors.values())
    print(f"ready open={opened} tried={tried} failed={failed} secs={secs:.1f}")
    print("errors: " + (", ".join(f"{k} x{v}" for k, v in sorted(errors.items())) or "none"))
    print("limit: " + ("; ".join(limits) or "none"))
    sys.stdout.flush()

    signal.sigwait({signal.SIGUSR1})
    for _, _, _, control_w in children:
        os.write(control_w, b"x")
    after = read_all()
    print(f"after open={sum(r['open'] for r in after if r)} "
          f"closed_while_idle={sum(r['closed'] for r in after if r)}")
    sys.stdout.flush()
    for pid, _, _, _ in children:
        os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
