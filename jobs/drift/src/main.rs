//! Batch-job entry point: parse, run, print; any error exits with code 1.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
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
