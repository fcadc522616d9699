//! The loop's raw **callback** API: the chapter's §07 first stage, before futures.
//!
//! "When this timer fires / when this socket is readable, call this closure." That is all an
//! event loop offers underneath; a handler written this way nests one closure per wait
//! ("callback hell"), and every error path is a branch that must remember to call `done`.
//! `await` is the compiler writing these closures (as a state machine) for you. The server's
//! `--handler-style callbacks` serves `/users/{id}` with these (see `clab-app`'s
//! `handlers/users_callbacks.rs`, side by side with the async handler).
//!
//! A callback runs on the loop thread, once, inside a turn; it must not block. One whose socket
//! is dropped first is dropped uncalled.

use std::time::{Duration, Instant};

use crate::context;
use crate::net::TcpStream;
use crate::reactor::Direction;
use crate::timers::Action;

/// Call `f` once `d` has passed.
pub fn after(d: Duration, f: impl FnOnce() + 'static) {
    let deadline = Instant::now() + d;
    context::with(|core| {
        core.timers
            .borrow_mut()
            .insert(deadline, Action::Call(Box::new(f)));
    });
}

/// Call `f` on the loop's next turn.
pub fn soon(f: impl FnOnce() + 'static) {
    context::with(|core| core.calls.borrow_mut().push(Box::new(f)));
}

/// Call `f` once `stream` is readable (or closed): at the next turn if it already is.
pub fn when_readable(stream: &TcpStream, f: impl FnOnce() + 'static) {
    when(stream, Direction::Read, Box::new(f));
}

/// Call `f` once `stream` is writable (or closed).
pub fn when_writable(stream: &TcpStream, f: impl FnOnce() + 'static) {
    when(stream, Direction::Write, Box::new(f));
}

fn when(stream: &TcpStream, dir: Direction, f: Box<dyn FnOnce()>) {
    context::with(|core| {
        let now = core.reactor.borrow_mut().on_ready(stream.token(), dir, f);
        if let Some(f) = now {
            core.calls.borrow_mut().push(f);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Runtime, net::TcpListener};
    use std::cell::RefCell;
    use std::future::poll_fn;
    use std::io::Write;
    use std::rc::Rc;
    use std::task::Poll;

    /// Block the root future until `flag` is set by a callback.
    async fn until(flag: &Rc<RefCell<Vec<&'static str>>>, n: usize) {
        poll_fn(|cx| {
            if flag.borrow().len() >= n {
                Poll::Ready(())
            } else {
                // The test's callbacks run on the loop; re-poll each turn.
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
        .await;
    }

    #[test]
    fn nested_timer_callbacks_run_in_order() {
        let rt = Runtime::new().unwrap();
        let log = Rc::new(RefCell::new(Vec::new()));
        let started = Instant::now();
        rt.block_on(async {
            let l = Rc::clone(&log);
            after(Duration::from_millis(20), move || {
                l.borrow_mut().push("first");
                let l2 = Rc::clone(&l);
                after(Duration::from_millis(20), move || {
                    l2.borrow_mut().push("second")
                });
            });
            let l = Rc::clone(&log);
            soon(move || l.borrow_mut().push("soon"));
            until(&log, 3).await;
        })
        .unwrap();
        assert_eq!(*log.borrow(), ["soon", "first", "second"]);
        assert!(started.elapsed() >= Duration::from_millis(40));
    }

    #[test]
    fn a_readable_callback_runs_when_bytes_arrive() {
        let rt = Runtime::new().unwrap();
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let log = Rc::new(RefCell::new(Vec::new()));
        let writer = std::thread::spawn(move || {
            let mut c = std::net::TcpStream::connect(addr).unwrap();
            std::thread::sleep(Duration::from_millis(50));
            c.write_all(b"x").unwrap();
            std::thread::sleep(Duration::from_millis(200));
        });
        rt.block_on(async {
            let listener = TcpListener::from_std(std_listener).unwrap();
            let (conn, _) = listener.accept().await.unwrap();
            let conn = Rc::new(conn);
            let mut buf = [0u8; 8];
            assert!(conn.try_read(&mut buf).is_err(), "nothing sent yet");
            let (l, c) = (Rc::clone(&log), Rc::clone(&conn));
            when_readable(&conn, move || {
                let n = c.try_read(&mut [0u8; 8]).unwrap();
                assert_eq!(n, 1);
                l.borrow_mut().push("read");
            });
            until(&log, 1).await;
        })
        .unwrap();
        writer.join().unwrap();
    }
}
