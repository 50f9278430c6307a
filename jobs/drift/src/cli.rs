//! The `deltaone-drift` command line; every option is also an environment variable.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::{BinningChoice, DriftJobError, RunOptions};

#[derive(Debug, Parser)]
#[command(
    name = "deltaone-drift",
    version,
    about = "Drift of Parquet prediction logs: reference window vs current window"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compare the current window with the reference window; write drift.json and report.html.
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Reference Parquet files: paths, directories or globs with `*` in the file name (comma-separated in the env var).
    #[arg(long, env = "DELTAONE_DRIFT_REFERENCE", num_args = 1.., value_delimiter = ',', required = true)]
    pub reference: Vec<String>,
    /// Current Parquet files, as --reference.
    #[arg(long, env = "DELTAONE_DRIFT_CURRENT", num_args = 1.., value_delimiter = ',', required = true)]
    pub current: Vec<String>,
    /// Output directory for drift.json and report.html (created if missing).
    #[arg(long, env = "DELTAONE_DRIFT_OUTPUT")]
    pub out: PathBuf,
    /// The model's prediction column: always analysed, numeric or categorical by its type.
    #[arg(long, env = "DELTAONE_DRIFT_PREDICTION_COLUMN", default_value = "prediction")]
    pub prediction_column: String,
    /// The label column: never analysed.
    #[arg(long, env = "DELTAONE_DRIFT_LABEL_COLUMN", default_value = "label")]
    pub label_column: String,
    /// Binning of numeric columns for PSI and Jensen–Shannon distance.
    #[arg(long, env = "DELTAONE_DRIFT_BINNING", value_enum, default_value_t = BinningChoice::Quantiles)]
    pub binning: BinningChoice,
    /// Share of drifted columns from which the dataset counts as drifted, in (0, 1].
    #[arg(long, env = "DELTAONE_DRIFT_SHARE", default_value_t = deltaone::drift::DEFAULT_DATASET_DRIFT_SHARE)]
    pub drift_share: f64,
    /// Run id in the results (default: drift-<unix seconds>-<pid>).
    #[arg(long, env = "DELTAONE_DRIFT_RUN_ID")]
    pub run_id: Option<String>,
    /// Print the result JSON to stdout instead of the text summary.
    #[arg(long, env = "DELTAONE_DRIFT_JSON")]
    pub json: bool,
}

impl RunArgs {
    pub fn options(&self) -> RunOptions {
        let mut options = RunOptions::new(self.reference.clone(), self.current.clone());
        if let Some(id) = &self.run_id {
            options.run_id = id.clone();
        }
        options.prediction_column = self.prediction_column.clone();
        options.label_column = self.label_column.clone();
        options.binning = self.binning;
        options.drift_share = self.drift_share;
        options
    }
}

/// Runs a parsed command; returns what to print on stdout.
pub fn execute(cli: &Cli) -> Result<String, DriftJobError> {
    match &cli.command {
        Command::Run(args) => {
            let report = crate::run(&args.options())?;
            let (json_path, html_path) = crate::write_outputs(&report, &args.out)?;
            tracing::info!(json = %json_path.display(), html = %html_path.display(), "wrote drift results");
            Ok(if args.json {
                serde_json::to_string_pretty(&report).expect("the report serialises") + "\n"
            } else {
                format!("{}wrote {} and {}\n", crate::summary_text(&report), json_path.display(), html_path.display())
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn the_cli_parses_options() {
        use clap::Parser;
        let cli = super::Cli::try_parse_from([
            "deltaone-drift",
            "run",
            "--reference",
            "a.parquet,b.parquet",
            "--current",
            "c.parquet",
            "d.parquet",
            "--out",
            "o",
            "--binning",
            "evidently",
            "--json",
        ])
        .unwrap();
        let super::Command::Run(args) = cli.command;
        assert_eq!(args.reference, ["a.parquet", "b.parquet"]);
        assert_eq!(args.current, ["c.parquet", "d.parquet"]);
        assert!(args.json);
        let o = args.options();
        assert_eq!(
            (o.binning, o.prediction_column.as_str(), o.label_column.as_str()),
            (BinningChoice::Evidently, "prediction", "label")
        );
        assert!(super::Cli::try_parse_from(["deltaone-drift", "run", "--out", "o"]).is_err());
    }
}
