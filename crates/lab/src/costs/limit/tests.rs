use super::*;

fn facts() -> Facts {
    Facts {
        pid_max: Some(32_768),
        threads_max: Some(192_729),
        max_map_count: Some(65_530),
        system_tasks: Some(5_000),
        map_count: Some(10_000),
        rlimit_nproc: None,
        uid: 0,
        uid_tasks: None,
        mem_available: Some(20 << 30),
        mem_total: Some(24 << 30),
        errno: Some(libc::EAGAIN),
    }
}

#[test]
fn diagnose_names_each_limit() {
    assert_eq!(diagnose(&facts()), LimitKind::Unknown);
    let maps = Facts {
        map_count: Some(65_529),
        ..facts()
    };
    assert_eq!(diagnose(&maps), LimitKind::MaxMapCount);
    let pids = Facts {
        system_tasks: Some(32_760),
        ..facts()
    };
    assert_eq!(diagnose(&pids), LimitKind::PidMax);
    let nproc = Facts {
        uid: 1000,
        rlimit_nproc: Some(100),
        uid_tasks: Some(100),
        ..facts()
    };
    assert_eq!(diagnose(&nproc), LimitKind::RlimitNproc);
    // Root is exempt from RLIMIT_NPROC, so the count does not matter for uid 0.
    assert_eq!(diagnose(&Facts { uid: 0, ..nproc }), LimitKind::Unknown);
    let fds = Facts {
        errno: Some(libc::EMFILE),
        ..facts()
    };
    assert_eq!(diagnose(&fds), LimitKind::FdLimit);
    let mem = Facts {
        mem_available: Some(1 << 30),
        ..facts()
    };
    assert_eq!(diagnose(&mem), LimitKind::Memory);
}

#[test]
fn guard_stops_short_of_shared_limits() {
    let near_pids = Facts {
        system_tasks: Some(32_768 - 500),
        ..facts()
    };
    assert_eq!(guard(&near_pids, 2), Err((LimitKind::PidMax, 500)));
    let near_maps = Facts {
        map_count: Some(65_530 - 40),
        ..facts()
    };
    assert_eq!(guard(&near_maps, 2), Err((LimitKind::MaxMapCount, 20)));
    assert_eq!(guard(&near_maps, 4), Err((LimitKind::MaxMapCount, 10)));
    let gap = guard(&facts(), 4).unwrap();
    // Never plan past the mappings left: 55,530 free / 4 per unit, halved.
    assert!(gap <= (65_530 - 10_000 - MAP_RESERVE) / 4 / 2);
    assert!((1..=4096).contains(&gap));
}

#[test]
fn errno_is_read_from_may_panic_messages() {
    let msg = "failed to alloc sys stack: IoError(Os { code: 12, kind: OutOfMemory })";
    assert_eq!(errno_in(msg), Some(12));
    assert_eq!(errno_in("no code here"), None);
}

#[test]
fn a_small_cap_stops_the_probes_and_releases_everything() {
    let _serial = crate::costs::TEST_LOCK.lock();
    let r = threads(50);
    assert_eq!(
        (r.stopped_by, r.reached, r.guarded),
        (LimitKind::Cap, 50, false)
    );
    assert!(r.capped() && r.error.is_none());
    assert_eq!(crate::costs::parked::parked_threads_alive(), 0);
    let (t, m) = tasks(5_000).unwrap();
    assert_eq!(
        (t.stopped_by, t.reached, m.units),
        (LimitKind::Cap, 5_000, 5_000)
    );
    #[cfg(feature = "coroutines")]
    {
        let c = coroutines(200);
        assert_eq!((c.stopped_by, c.reached), (LimitKind::Cap, 200));
    }
}

/// Environment variable that turns [`limit_probe_child`] on, with the cap as its value.
const CHILD_ENV: &str = "CLAB_LIMIT_PROBE_CHILD";

/// Runs only inside the subprocess of [`lowered_rlimit_nproc_is_named`]: probe threads and print
/// the result as one JSON line.
#[test]
#[ignore = "runs only as the subprocess of lowered_rlimit_nproc_is_named"]
fn limit_probe_child() {
    let Some(cap) = std::env::var(CHILD_ENV).ok().and_then(|v| v.parse().ok()) else {
        return;
    };
    let r = threads(cap);
    println!(
        "LIMIT_RESULT {} {} {}",
        serde_json::to_string(&r.stopped_by).unwrap(),
        r.reached,
        r.error.unwrap_or_default()
    );
}

/// Under a lowered `RLIMIT_NPROC` the probe must stop at that limit and name it. Root is exempt
/// from RLIMIT_NPROC, so as root the child runs as `nobody` (uid 65534); the test binary is
/// copied to a world-readable temp dir first, since the target dir may not be readable by it.
/// A subprocess keeps the lowered limit from affecting this test process.
#[test]
fn lowered_rlimit_nproc_is_named() {
    use std::os::unix::process::CommandExt;
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let uid: u32 = if root {
        65_534
    } else {
        unsafe { libc::getuid() }
    };
    const HEADROOM: u64 = 40;
    let limit = procfs::tasks_of_uid(uid) + HEADROOM;

    let dir = std::env::temp_dir().join(format!("clab-limit-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let exe = dir.join("probe");
    std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();

    let mut cmd = std::process::Command::new(&exe);
    cmd.args([
        "--ignored",
        "--exact",
        "costs::limit::tests::limit_probe_child",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_ENV, "1000")
    .current_dir(&dir);
    if root {
        cmd.uid(uid).gid(uid);
    }
    // SAFETY: setrlimit is async-signal-safe; the closure touches nothing but its own copy.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_NPROC, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("LIMIT_RESULT ").map(|(_, rest)| rest))
        .unwrap_or_else(|| {
            panic!(
                "child printed no result:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let mut parts = line.splitn(3, ' ');
    let kind = parts.next().unwrap();
    let reached: u64 = parts.next().unwrap().parse().unwrap();
    assert_eq!(kind, "\"RlimitNproc\"", "{line}");
    // The child's own threads (main, test runner) and the uid's other tasks use some of the
    // headroom; the probe must get close to, and never beyond, the rest.
    assert!((HEADROOM / 2..=HEADROOM).contains(&reached), "{line}");
}
