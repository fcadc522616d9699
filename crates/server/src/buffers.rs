//! A small per-thread pool of connection buffers.
//!
//! An idle keep-alive connection should hold no buffer (see
//! [`crate::conn::Conn::release_idle_buffers`]), but a busy one goes idle for a few
//! microseconds after every response: freeing and re-allocating (and zeroing) 8 KiB each time
//! would cost more than the request. So released buffers go to a bounded free list of the
//! thread that released them and the next connection on that thread reuses one, already
//! initialised. Per thread, not global: no lock, no contention; a buffer taken on one thread
//! and given back on another (a migrated task) simply changes pools.

use std::cell::RefCell;

/// A read buffer's size: a typical request head fits several times over.
pub const SIZE: usize = 8 * 1024;
/// Buffers a thread keeps for reuse. Enough for the connections one worker switches between
/// in a burst; beyond it, buffers are freed (idle memory must fall back to near zero).
const KEEP: usize = 64;

thread_local! {
    static FREE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// A zero-filled read buffer of at least [`SIZE`] bytes (`len() == capacity`).
pub fn take() -> Vec<u8> {
    let reused = FREE.try_with(|f| f.borrow_mut().pop()).ok().flatten();
    match reused {
        Some(mut buf) => {
            // Contents are stale bytes of another connection; only the length matters: the
            // connection reads into it and parses what it read, never what was there.
            if buf.len() < SIZE {
                buf.resize(SIZE, 0);
            }
            buf
        }
        None => vec![0; SIZE],
    }
}

/// An empty buffer with room for a few responses (for encoding output).
pub fn take_empty() -> Vec<u8> {
    let mut buf = take();
    buf.clear();
    buf
}

/// Give a buffer back for reuse. Oversized buffers (a large request grew them) are freed.
pub fn give(mut buf: Vec<u8>) {
    if buf.capacity() > SIZE * 2 {
        return;
    }
    let len = buf.capacity();
    // Back to full length, so `take` can hand it out as a read buffer as is.
    buf.resize(len, 0);
    let _ = FREE.try_with(|f| {
        let mut f = f.borrow_mut();
        if f.len() < KEEP {
            f.push(buf);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_on_the_same_thread_and_bounded() {
        let a = take();
        assert_eq!(a.len(), SIZE);
        let ptr = a.as_ptr();
        give(a);
        let b = take();
        assert_eq!(b.as_ptr(), ptr, "reused");
        let many: Vec<_> = (0..KEEP + 10).map(|_| take()).collect();
        for buf in many {
            give(buf);
        }
        assert_eq!(FREE.with(|f| f.borrow().len()), KEEP);
        let out = take_empty();
        assert!(out.is_empty() && out.capacity() >= SIZE);
    }
}
