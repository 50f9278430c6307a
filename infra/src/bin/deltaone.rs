use std::process::ExitCode;

use clap::Parser;
use deltaone_infra::cli::{Cli, run};

#[tokio::main]
async fn main() -> ExitCode {
    deltaone_infra::telemetry::init("warn");
    run(Cli::parse()).await
}
