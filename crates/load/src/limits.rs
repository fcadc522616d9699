//! Machine limits that decide whether 10,000+ connections can be opened, checked before the
//! run so that a limit is named with the knob that moves it instead of showing up as a
//! mysterious pile of connect errors.

use crate::LoadError;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// File descriptors the process needs beyond its connections (epoll, stdio, slack).
const FD_SLACK: u64 = 64;

/// Raises the soft RLIMIT_NOFILE to the hard limit if `connections` need it. Returns a note
/// when the limit was raised, or an error naming the knob when even the hard limit is short.
pub fn ensure_fd_limit(connections: usize) -> Result<Option<String>, LoadError> {
    let needed = connections as u64 + FD_SLACK;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass; RLIMIT_NOFILE is a valid resource.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Ok(None); // Cannot read it: let connects report EMFILE if it matters.
    }
    if lim.rlim_cur >= needed {
        return Ok(None);
    }
    if lim.rlim_max < needed {
        return Err(LoadError::Limit(format!(
            "{connections} connections need about {needed} file descriptors but the hard limit \
             (RLIMIT_NOFILE) is {}: raise it with `ulimit -Hn {needed}` as root or `nofile` in \
             /etc/security/limits.conf, or use fewer connections",
            lim.rlim_max
        )));
    }
    let old = lim.rlim_cur;
    lim.rlim_cur = lim.rlim_max;
    // SAFETY: setrlimit reads the struct; raising soft up to hard is always permitted.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
        return Err(LoadError::Limit(format!(
            "could not raise the soft file-descriptor limit from {old} to {} (needed {needed})",
            lim.rlim_max
        )));
    }
    Ok(Some(format!(
        "raised the soft file-descriptor limit from {old} to {} for {connections} connections",
        lim.rlim_max
    )))
}

/// The kernel's ephemeral port range (`net.ipv4.ip_local_port_range`), as a count of ports.
pub fn ephemeral_ports() -> Option<u32> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let mut it = text.split_whitespace().map(|s| s.parse::<u32>().ok());
    let (lo, hi) = (it.next()??, it.next()??);
    Some(hi.saturating_sub(lo) + 1)
}

/// Decides whether to spread source addresses: each source IP has its own ephemeral ports
/// towards one server address, so on loopback 127.0.0.2.. multiply the usable ports.
/// Returns (spread, note) or an error naming the knob when the target is not on loopback.
pub fn plan_sources(
    addr: SocketAddr,
    connections: usize,
) -> Result<(bool, Option<String>), LoadError> {
    let Some(ports) = ephemeral_ports() else {
        return Ok((false, None));
    };
    // Leave room for TIME_WAIT sockets from reconnects and for other programs.
    let comfortable = (ports as usize * 7) / 10;
    if connections <= comfortable.min(20_000) {
        return Ok((false, None));
    }
    if is_loopback_v4(addr.ip()) {
        return Ok((
            true,
            Some(format!(
                "{connections} connections on loopback: spreading source addresses over 127.0.0.2-127.0.0.254 \
                 (the ephemeral port range net.ipv4.ip_local_port_range has {ports} ports per source address)"
            )),
        ));
    }
    if connections > ports as usize {
        return Err(LoadError::Limit(format!(
            "{connections} connections to one address need more ephemeral ports than \
             net.ipv4.ip_local_port_range provides ({ports}): widen it (sysctl -w \
             net.ipv4.ip_local_port_range=\"1024 65535\") or use fewer connections"
        )));
    }
    Ok((false, None))
}

pub fn is_loopback_v4(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V4(v4) if v4.is_loopback())
}

/// The source address of connection `index` when spreading: 127.0.0.2 ..= 127.0.0.254.
pub fn spread_source(index: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + (index % 253) as u8))
}

/// The listen backlog the server's kernel allows (`net.core.somaxconn`), for notes.
pub fn somaxconn() -> Option<u32> {
    std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_connections_need_nothing() {
        assert!(ensure_fd_limit(10).unwrap().is_none());
        let addr: SocketAddr = "127.0.0.1:80".parse().unwrap();
        assert_eq!(plan_sources(addr, 100).unwrap(), (false, None));
    }

    #[test]
    fn impossible_fd_counts_name_the_knob() {
        let err = ensure_fd_limit(usize::MAX / 2).unwrap_err().to_string();
        assert!(err.contains("ulimit -Hn"), "{err}");
    }

    #[test]
    fn spread_sources_stay_in_loopback() {
        for i in [0, 1, 252, 253, 10_000] {
            let ip = spread_source(i);
            assert!(
                is_loopback_v4(ip)
                    && ip != IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1))
                    && ip != IpAddr::V4(Ipv4Addr::new(127, 0, 0, 255))
            );
        }
    }
}
