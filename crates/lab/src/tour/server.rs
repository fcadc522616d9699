//! A `clab serve` child process for an experiment, and what is sampled of it from outside:
//! CPU (utime + stime of `/proc/<pid>/stat`), RSS and threads (`/proc/<pid>/status`). A child,
//! not a thread of the tour, so the figures are the server's alone.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use clab_http::{ParsedResponse, encode_request, parse_response};

/// A running `clab serve`, stopped (SIGTERM, then kill) when dropped.
#[derive(Debug)]
pub struct ChildServer {
    child: Child,
    pub addr: SocketAddr,
}

/// What `/proc` says of a process at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcSample {
    /// utime + stime, seconds.
    pub cpu_s: f64,
    pub rss_bytes: u64,
    pub threads: u64,
}

impl ChildServer {
    /// `clab serve --listen 127.0.0.1:0 ARGS` from the binary `clab`; waits for its
    /// "listening on" line. `cpu`: pin the whole server (every thread it will start) to that
    /// CPU.
    pub fn start(clab: &Path, args: &[&str], cpu: Option<usize>) -> Result<Self, String> {
        let mut command = Command::new(clab);
        command
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // Built before the fork: between fork and exec only async-signal-safe calls.
        // SAFETY: an all-zero cpu_set_t is the empty set; CPU_SET writes inside it.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        if let Some(cpu) = cpu {
            unsafe { libc::CPU_SET(cpu, &mut set) };
        }
        // SAFETY: the closure only calls prctl and sched_setaffinity (both async-signal-safe)
        // on values it owns; the child then execs, and every thread it starts inherits the
        // mask. PR_SET_PDEATHSIG: a tour killed without its Drop (SIGKILL, SIGTERM) takes
        // its servers with it instead of leaving them listening.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut command, move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if cpu.is_some()
                    && libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", clab.display()))?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let mut seen = Vec::new();
        let addr = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(rest) = line.split("listening on http://").nth(1) {
                        let addr = rest.split(';').next().unwrap_or_default();
                        break addr
                            .parse::<SocketAddr>()
                            .map_err(|e| format!("{addr}: {e}"))?;
                    }
                    seen.push(line);
                }
                _ => {
                    let _ = child.kill();
                    return Err(format!(
                        "clab serve {} did not start: {}",
                        args.join(" "),
                        seen.join(" / ")
                    ));
                }
            }
        };
        // Keep draining its stderr so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Self { child, addr })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sample the server's `/proc` entries now.
    pub fn sample(&self) -> Result<ProcSample, String> {
        let pid = self.pid();
        let stat =
            std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| e.to_string())?;
        // Fields after the command name (which may hold spaces) start after the last ')'.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).ok_or("bad stat")?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of stat, i.e. 12 and 13 after the name.
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let hz = crate::costs::procfs::clock_ticks().max(1) as f64;
        let status =
            std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
        Ok(ProcSample {
            cpu_s: (ticks(11) + ticks(12)) as f64 / hz,
            rss_bytes: crate::costs::procfs::field(&status, "VmRSS").unwrap_or(0) * 1024,
            threads: crate::costs::procfs::field(&status, "Threads").unwrap_or(0),
        })
    }

    /// One `GET path` on a fresh connection; the body of a 200.
    pub fn get(&self, path: &str) -> Result<Vec<u8>, String> {
        get(self.addr, path)
    }

    /// `http://ADDR` of the server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// One `GET path` to `addr` on a fresh connection; the body of a 200.
pub fn get(addr: SocketAddr, path: &str) -> Result<Vec<u8>, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let mut req = Vec::new();
    encode_request(
        "GET",
        path,
        "clab-tour",
        &[("Connection", "close")],
        b"",
        &mut req,
    );
    stream.write_all(&req).map_err(|e| e.to_string())?;
    let (status, body) = read_response(&mut stream).map_err(|e| format!("GET {path}: {e}"))?;
    if status != 200 {
        return Err(format!("GET {path}: status {status}"));
    }
    Ok(body)
}

/// Read one whole response off `stream`: its status and body.
pub fn read_response(stream: &mut TcpStream) -> Result<(u16, Vec<u8>), String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Ok(ParsedResponse::Complete {
            status,
            body_start,
            body_len,
            ..
        }) = parse_response(&buf, false)
        {
            return Ok((status, buf[body_start..body_start + body_len].to_vec()));
        }
        let n = stream.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed before a whole response".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        // SAFETY: kill(2) with our child's pid and SIGTERM: no memory involved.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        for _ in 0..100 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
