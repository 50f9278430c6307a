//! Batch-job entry point: parse, run, print; any error exits with code 1.

use std::process::ExitCode;

use clap::Parser;

/// glibc's malloc, tuned for a job that frees and allocates column-sized buffers (megabytes
/// each) over and over. Its default mmap threshold starts at 128 KiB and rises to the size of the
/// largest block freed, and its trim threshold with it (to twice that), so the heap keeps whatever
/// the columns freed: at 1 M rows per window, peak RSS 60–67 MiB with the defaults. Both are fixed
/// here instead: blocks up to 32 MiB (glibc's largest threshold) come from the heap, which keeps at
/// most 4 MiB of free space at its top. A column's values and its sort's scratch space are thereby
/// reused from one column to the next rather than mapped, faulted in page by page and unmapped
/// each time; measured at 1 M rows (ten interleaved runs each) against a 1 MiB threshold: 0.64 →
/// 0.58 s CPU, 28,000 → 15,000 page faults, peak RSS 50 → 49 MiB; at 10 M, and on 10,000-row
/// files, no change. (With the 128 KiB trim threshold that fixing the mmap threshold alone leaves,
/// the heap gave back every freed page buffer only to fault it in again: a fifth of the CPU time.)
/// And at most two malloc arenas: each reading thread would otherwise get one that keeps its freed
/// decode buffers (sketch mode with labels, 1 → 10 M rows per window: 35 → 48.5 MiB with the
/// default, 35 → 38.5 MiB with two).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn map_large_buffers() {
    // SAFETY: mallopt only changes a tuning parameter of the allocator; called before any thread
    // of ours exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn map_large_buffers() {}

fn main() -> ExitCode {
    map_large_buffers();
    deltaone_app::telemetry::init("info");
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
