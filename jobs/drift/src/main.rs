//! Batch-job entry point: parse, run, print; any error exits with code 1.

use std::process::ExitCode;

use clap::Parser;

/// Column-sized buffers (megabytes each) are mapped from the kernel and handed back when freed.
/// glibc's default threshold for that starts at 128 KiB but rises to the size of the largest block
/// freed (up to 32 MiB), after which every column's values come from the heap and their freed
/// space stays in the process: measured at 1 M rows per window, peak RSS 60–67 MiB with the
/// default against 45 MiB with a fixed 1 MiB threshold, for the same CPU time. And at most two
/// malloc arenas: each reading thread would otherwise get one that keeps its freed decode buffers
/// (sketch mode with labels, 1 → 10 M rows per window: 35 → 48.5 MiB with the default, 35 → 38.5
/// MiB with two). Fixing the threshold also fixes glibc's trim threshold at its 128 KiB start, so
/// the heap gave back the space of every freed page buffer (the reader's, about 1 MiB each) only
/// to fault it in again for the next page: a fifth of the job's CPU time was page faults. Heap
/// tops up to 4 MiB stay: at 1 M rows 0.73 → 0.65 s CPU for +1.6 MiB, at 10 M 7.8 → 6.7 s and
/// 390,000 → 62,000 page faults for the same peak RSS.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn map_large_buffers() {
    // SAFETY: mallopt only changes a tuning parameter of the allocator; called before any thread
    // of ours exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn map_large_buffers() {}

fn main() -> ExitCode {
    map_large_buffers();
    deltaone_infra::telemetry::init("info");
    let cli = deltaone_drift::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("deltaone-drift: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(deltaone_drift::cli::execute(&cli)) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("deltaone-drift: {e}");
            ExitCode::FAILURE
        }
    }
}
