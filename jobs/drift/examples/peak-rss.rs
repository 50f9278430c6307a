//! Runs a command and writes its wall time, CPU time and peak RSS as one JSON object — the meter
//! of `bench/drift`.
//!
//!     peak-rss OUT.json COMMAND [ARGS...]
//!
//! Why not `os.wait4` in the bench's Python: Linux counts into a process's peak RSS (`ru_maxrss`)
//! the peak of the address space it had *before* `exec`, which for a child of Python is Python's
//! own (the bench's 17 MiB, above a small job's real peak). This process is about 2 MiB, so the
//! child it spawns starts from that, and `wait4` reports the child's own usage. Exits with the
//! child's exit code (128 + the signal's number when a signal killed it).

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn main() -> std::process::ExitCode {
    use std::process::ExitCode;

    let mut args = std::env::args_os().skip(1);
    let (Some(out), Some(program)) = (args.next(), args.next()) else {
        eprintln!("usage: peak-rss OUT.json COMMAND [ARGS...]");
        return ExitCode::from(2);
    };
    let args: Vec<_> = args.collect();
    match meter::run(out.as_ref(), &program, &args) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(255)),
        Err(e) => {
            eprintln!("peak-rss: {e}");
            ExitCode::from(if matches!(e, meter::Error::Spawn(..)) { 127 } else { 125 })
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn main() {
    eprintln!("peak-rss: Linux with glibc only (it reads ru_maxrss from wait4)");
    std::process::exit(2);
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod meter {
    use std::ffi::OsStr;
    use std::path::Path;

    #[derive(Debug)]
    pub enum Error {
        Spawn(String, std::io::Error),
        Wait(std::io::Error),
        Write(String, std::io::Error),
    }

    impl std::fmt::Display for Error {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                Self::Spawn(program, e) => write!(f, "cannot run {program}: {e}"),
                Self::Wait(e) => write!(f, "wait4 failed: {e}"),
                Self::Write(path, e) => write!(f, "cannot write {path}: {e}"),
            }
        }
    }

    /// Runs `program` with `args`, writes its usage to `out` and returns its exit code (128 + the
    /// signal's number when a signal ended it).
    pub fn run(out: &Path, program: &OsStr, args: &[impl AsRef<OsStr>]) -> Result<i32, Error> {
        let start = std::time::Instant::now();
        let child = std::process::Command::new(program)
            .args(args)
            .spawn()
            .map_err(|e| Error::Spawn(program.to_string_lossy().into_owned(), e))?;
        let pid = libc::pid_t::try_from(child.id()).expect("a pid fits pid_t");
        let mut status = 0;
        // SAFETY: an all-zero `rusage` is a valid value (integers and timevals).
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `pid` is our child, not yet reaped (`Child` never waited); both pointers are
        // valid for the call. Dropping `Child` afterwards neither waits nor signals.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        let wall = start.elapsed().as_secs_f64();
        if reaped != pid {
            return Err(Error::Wait(std::io::Error::last_os_error()));
        }
        let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        let json = serde_json::json!({
            "wall_s": wall,
            "user_s": seconds(usage.ru_utime),
            "sys_s": seconds(usage.ru_stime),
            "maxrss_kib": usage.ru_maxrss,
        });
        std::fs::write(out, format!("{json}\n")).map_err(|e| Error::Write(out.display().to_string(), e))?;
        Ok(if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 128 + libc::WTERMSIG(status) })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn usage(dir: &Path) -> serde_json::Value {
            serde_json::from_str(&std::fs::read_to_string(dir.join("usage.json")).unwrap()).unwrap()
        }

        #[test]
        fn passes_the_exit_code_on_and_writes_the_usage() {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("usage.json");
            let code = run(&out, "sh".as_ref(), &["-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exit 3"]);
            assert_eq!(code.unwrap(), 3);
            let u = usage(dir.path());
            assert!(u["user_s"].as_f64().unwrap() + u["sys_s"].as_f64().unwrap() > 0.0, "{u}");
            assert!(u["wall_s"].as_f64().unwrap() > 0.0, "{u}");
            assert!(u["maxrss_kib"].as_i64().unwrap() > 0, "{u}");
        }

        #[test]
        fn a_signal_gives_128_plus_its_number() {
            let dir = tempfile::tempdir().unwrap();
            let code = run(&dir.path().join("usage.json"), "sh".as_ref(), &["-c", "kill -KILL $$"]);
            assert_eq!(code.unwrap(), 128 + libc::SIGKILL);
        }

        #[test]
        fn a_missing_program_is_an_error_and_writes_nothing() {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("usage.json");
            let err = run(&out, "/nonexistent/program".as_ref(), &[] as &[&str]).unwrap_err();
            assert!(matches!(err, Error::Spawn(..)), "{err}");
            assert!(!out.exists());
        }

        const BIG: usize = 96 << 20;
        const ROLE: &str = "PEAK_RSS_TEST_ROLE";

        /// Half of the meter's reason to exist: a child spawned from a big process reports that
        /// process's peak as its own, so measuring from the bench's Python would be wrong.
        #[test]
        fn a_child_of_a_big_process_reports_the_big_peak() {
            let dir = tempfile::tempdir().unwrap();
            let big = vec![1u8; BIG];
            assert_eq!(run(&dir.path().join("usage.json"), "true".as_ref(), &[] as &[&str]).unwrap(), 0);
            std::hint::black_box(&big);
            let kib = usage(dir.path())["maxrss_kib"].as_i64().unwrap();
            assert!(kib as usize * 1024 >= BIG, "true reported {kib} KiB");
        }

        /// The other half: the same big process running the meter in a small process of its own
        /// (this test binary, re-run for the test below) gets the command's own small peak.
        #[test]
        fn a_small_meter_process_reports_the_commands_own_peak() {
            let dir = tempfile::tempdir().unwrap();
            let big = vec![1u8; BIG];
            let status = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "meter::tests::meter_role", "--test-threads", "1"])
                .env(ROLE, dir.path())
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap();
            std::hint::black_box(&big);
            assert!(status.success());
            let kib = usage(dir.path())["maxrss_kib"].as_i64().unwrap();
            assert!((kib as usize) * 1024 < BIG / 4, "true reported {kib} KiB");
        }

        /// Runs `true` under the meter when the test above asks for it; otherwise does nothing.
        #[test]
        fn meter_role() {
            if let Some(dir) = std::env::var_os(ROLE) {
                let out = Path::new(&dir).join("usage.json");
                assert_eq!(run(&out, "true".as_ref(), &[] as &[&str]).unwrap(), 0);
            }
        }
    }
}
