use std::process::ExitCode;

use clap::Parser;
use deltaone_cli::{Cli, run};

#[tokio::main]
async fn main() -> ExitCode {
    deltaone_app::telemetry::init("warn");
    run(Cli::parse()).await
}
