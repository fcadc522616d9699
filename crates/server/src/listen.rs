//! Binding and accepting: the listen backlog, `SO_REUSEPORT`, the blocking `Listener` of the
//! thread models and accept back-off.
//!
//! A model receives a [`Listen`]: one socket already bound (so a bad `--listen` fails before
//! the database is prepared, and tests learn the port of `127.0.0.1:0`), plus the means to
//! bind more on the same address: `thread-per-core` gives each core its own listener and lets
//! the kernel spread connections over them.

use crate::drivers::{POLL_IN, poll_wait};
use crate::idle::IdleConns;
use crate::{ServerError, Shutdown};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::Duration;

/// How long an acceptor backs off after `accept` failed for lack of resources (EMFILE and
/// friends): pending clients wait in the backlog meanwhile instead of the acceptor spinning.
pub(crate) const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// A bound, listening socket and how to bind its siblings.
#[derive(Debug)]
pub struct Listen {
    listener: TcpListener,
    addr: SocketAddr,
    backlog: i32,
    reuse_port: bool,
}

impl Listen {
    /// Bind `addr` and listen with `backlog` (default: the kernel's `somaxconn`, so 500
    /// simultaneous connects do not overflow a short queue and wait for SYN retries, which a
    /// latency test would charge to the server). `reuse_port` lets more listeners bind the
    /// same address later ([`Listen::bind_sibling`]); a model that needs it says so in its
    /// capabilities.
    pub fn bind(addr: SocketAddr, backlog: Option<u32>, reuse_port: bool) -> io::Result<Self> {
        let backlog = i32::try_from(backlog.unwrap_or_else(somaxconn)).unwrap_or(i32::MAX);
        let listener = bind_socket(addr, backlog, reuse_port)?;
        let addr = listener.local_addr()?;
        Ok(Self {
            listener,
            addr,
            backlog,
            reuse_port,
        })
    }

    /// The address actually bound (the port of `:0` resolved).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn backlog(&self) -> i32 {
        self.backlog
    }

    /// Another listener on the same address, its own accept queue (`SO_REUSEPORT`).
    pub fn bind_sibling(&self) -> io::Result<TcpListener> {
        if !self.reuse_port {
            return Err(io::Error::other("listener was bound without SO_REUSEPORT"));
        }
        bind_socket(self.addr, self.backlog, true)
    }

    /// Report `Ready` (the backend is connected, the model about to accept) and hand over the
    /// listener: the last step of every model's start-up.
    pub(crate) fn announce(
        self,
        model: crate::Model,
        workers: usize,
        backend: &impl clab_backend::Backend,
        on_ready: &mut dyn FnMut(&crate::Ready),
    ) -> Result<TcpListener, ServerError> {
        on_ready(&crate::Ready::new(model, workers, self.addr, backend));
        self.into_listener()
    }

    /// Have the kernel hand out a connection only once its first bytes have arrived, holding a
    /// silent one for up to `wait` (rounded up to whole seconds) before handing it out anyway
    /// (Linux's `TCP_DEFER_ACCEPT`, what Apache's default `AcceptFilter http data` sets). For the
    /// thread models a connection costs a thread, or a worker's time, from its accept: deferred,
    /// a client that connects and says nothing costs nothing but a kernel entry meanwhile, and a
    /// worker never takes a connection whose request is still on its way (which the queue's
    /// pressure would otherwise close early under it). Best effort: without it the server
    /// works as before, so a failure is only logged. Call it before [`Listen::announce`]: a
    /// client that connects once the model is ready must find it in force.
    pub(crate) fn defer_accept(&self, wait: Duration) {
        let secs = libc::c_int::try_from(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
            .unwrap_or(libc::c_int::MAX)
            .max(1);
        // SAFETY: setsockopt reads one live c_int of the size given.
        let rc = unsafe {
            libc::setsockopt(
                self.listener.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_DEFER_ACCEPT,
                (&raw const secs).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            let err = io::Error::last_os_error();
            tracing::debug!(%err, "cannot set TCP_DEFER_ACCEPT; silent clients are accepted at once");
        }
    }

    /// The bound listener, non-blocking (tokio needs it; the blocking acceptor must never
    /// hang in `accept(2)` after `poll` said ready).
    pub fn into_listener(self) -> Result<TcpListener, ServerError> {
        self.listener
            .set_nonblocking(true)
            .map_err(ServerError::io("listener non-blocking"))?;
        Ok(self.listener)
    }
}

fn bind_socket(addr: SocketAddr, backlog: i32, reuse_port: bool) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // A restarted server must not wait out TIME_WAIT of its previous run's connections.
    socket.set_reuse_address(true)?;
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    socket.bind(&SockAddr::from(addr))?;
    socket.listen(backlog)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// The kernel's cap on a listen backlog (`/proc/sys/net/core/somaxconn`; 4096 if unreadable,
/// the default of current kernels).
pub fn somaxconn() -> u32 {
    std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(4096)
}

/// At shutdown, the connections already waiting in the accept queue: their `connect`
/// succeeded and their request may already be sent, so closing the listener (which makes the
/// kernel reset them) would lose it. At most `limit` (a backlog's worth).
///
/// The kernel keeps completing handshakes until the listener is closed, and a client whose
/// handshake completes between the last `accept` and the `close` is reset after it sent its
/// request. So first new handshakes are stopped ([`refuse_new_handshakes`]: a client's SYN is
/// dropped, it retransmits a second later, finds the port closed and is *refused*, before it
/// sent anything); handshakes already under way get [`HANDSHAKE_SETTLE`] to land in the
/// queue; then the queue is emptied and the caller closes the listener.
pub(crate) fn sweep_backlog(listener: &TcpListener, limit: usize) -> Vec<TcpStream> {
    if let Err(err) = refuse_new_handshakes(listener) {
        tracing::debug!(%err, "cannot filter SYNs on the listener; a late client may be reset");
    }
    std::thread::sleep(HANDSHAKE_SETTLE);
    let mut swept = Vec::new();
    while swept.len() < limit {
        match listener.accept() {
            Ok((stream, _peer)) => swept.push(stream),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if err.kind() == io::ErrorKind::ConnectionAborted => {}
            Err(_) => break,
        }
    }
    swept
}

/// Long enough for a handshake already under way (SYN-ACK sent) to complete on any network a
/// lab runs on; short enough not to matter to a drain.
const HANDSHAKE_SETTLE: Duration = Duration::from_millis(20);

/// Attach a classic BPF socket filter to the listener that drops segments with SYN set and
/// ACK clear (new connection attempts) and passes everything else, so handshakes in progress
/// still complete. The kernel runs a listener's filter with the packet starting at the TCP
/// header, whose byte 13 holds the flags.
fn refuse_new_handshakes(listener: &TcpListener) -> io::Result<()> {
    const SYN: u32 = 0x02;
    const ACK: u32 = 0x10;
    let code = [
        // A = tcp[13] (flags)
        libc::sock_filter {
            code: (libc::BPF_LD | libc::BPF_B | libc::BPF_ABS) as u16,
            jt: 0,
            jf: 0,
            k: 13,
        },
        // A &= SYN | ACK
        libc::sock_filter {
            code: (libc::BPF_ALU | libc::BPF_AND | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: SYN | ACK,
        },
        // if A == SYN: drop, else pass
        libc::sock_filter {
            code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            jt: 0,
            jf: 1,
            k: SYN,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: 0,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: u32::MAX,
        },
    ];
    let prog = libc::sock_fprog {
        len: code.len() as u16,
        filter: code.as_ptr().cast_mut(),
    };
    // SAFETY: `prog` points at `code`, both alive across the call; the kernel copies them.
    let rc = unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            (&raw const prog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Every connection a blocking acceptor hands out: those accepted until shutdown, then the
/// ones already waiting in the accept queue at the trigger ([`sweep_backlog`]).
pub(crate) fn connections<'a>(
    listener: &'a TcpListener,
    shutdown: &'a Shutdown,
    idle: &'a IdleConns,
    sweep_limit: usize,
) -> impl Iterator<Item = TcpStream> + 'a {
    std::iter::from_fn(move || accept(listener, shutdown, idle))
        .chain(std::iter::once_with(move || sweep_backlog(listener, sweep_limit)).flatten())
}

/// The blocking `Listener` of the thread models: the next accepted connection, or `None` once
/// shutdown is triggered. Sleeps in `poll(2)` on the listener and the shutdown eventfd, so a
/// server at rest makes no wake-ups. Out of descriptors, it sheds idle connections of `idle`.
pub(crate) fn accept(
    listener: &TcpListener,
    shutdown: &Shutdown,
    idle: &IdleConns,
) -> Option<TcpStream> {
    let wake = match shutdown.wake_fd() {
        Ok(fd) => fd,
        Err(err) => {
            tracing::error!(%err, "cannot create the shutdown eventfd");
            return None;
        }
    };
    loop {
        if shutdown.is_triggered() {
            return None;
        }
        match listener.accept() {
            Ok((stream, _peer)) => return Some(stream),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                if let Err(err) =
                    poll_wait([(listener.as_raw_fd(), POLL_IN), (wake, POLL_IN)], None)
                {
                    tracing::warn!(%err, "poll on listener failed");
                    std::thread::sleep(ACCEPT_BACKOFF);
                }
            }
            // The client gave up before we took it, or a signal: try again.
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if err.kind() == io::ErrorKind::ConnectionAborted => {}
            Err(err) => {
                // EMFILE and friends: back off instead of spinning; the backlog keeps waiting.
                crate::accept_errors::accept_failed(&err, idle);
                std::thread::sleep(ACCEPT_BACKOFF);
            }
        }
    }
}
