//! The `deltaone-drift` command line; every option is also an environment variable (AWS Batch
//! passes them that way). Precedence: flag > environment variable > configuration file > default.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::deliver::{Clients, DeliverOptions};
use crate::env;
use crate::{BinningChoice, DriftJobError, JobConfig, RunOptions, TimeRange};

#[derive(Debug, Parser)]
#[command(
    name = "deltaone-drift",
    version,
    about = "Drift of Parquet prediction logs: reference window vs current window",
    long_about = "Drift of Parquet prediction logs: a current window against a reference window, per feature \
                  and for the prediction (KS, chi-square, PSI, Jensen-Shannon, Wasserstein), with data quality \
                  and, when labels exist, classification performance per window.\n\n\
                  Inputs are local files, directories, globs or S3 prefixes (Hive partitions such as dt=2026-11-01/ \
                  and model_name=x/ prune files without opening them). Results: drift.json and a self-contained \
                  report.html (a directory or an S3 prefix), DynamoDB items (--table) and an SNS drift.detected \
                  alert (DELTAONE_TOPIC_ARN). Unreadable files are copied to a quarantine with a reason file.",
    after_help = "Examples:\n  \
        deltaone-drift run --reference samples/drift/reference.parquet --current samples/drift/current.parquet --out /tmp/drift\n  \
        deltaone-drift run --reference s3://logs/preds/ --timestamp-column ts \\\n      \
            --reference-window 2026-10-01T00:00:00Z..2026-11-01T00:00:00Z \\\n      \
            --current-window 2026-11-01T00:00:00Z..2026-11-02T00:00:00Z \\\n      \
            --model-name fraud --out s3://reports/drift/ --table drift-results\n  \
        deltaone-drift table init --table drift-results\n\n\
        Scheduled runs (AWS Batch; the manifest is written by the drift-scheduler function):\n  \
        deltaone-drift map --manifest s3://reports/drift/RUN/manifest.json      # one array child (AWS_BATCH_JOB_ARRAY_INDEX)\n  \
        deltaone-drift reduce --manifest s3://reports/drift/RUN/manifest.json   # after every child\n  \
        deltaone-drift run --manifest s3://reports/drift/RUN/manifest.json      # small windows: one process\n  \
        deltaone-drift run ... --sketch                                          # bounded memory, stated error bounds"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses arguments (the program name first), as the binary does — for callers without clap.
    pub fn from_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Self::try_parse_from(args)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compare the current window with the reference window; write drift.json and report.html.
    /// With --manifest: one process over a scheduled run's files, then the scheduled summary.
    Run(Box<RunArgs>),
    /// AWS Batch array child: read one shard of a run manifest's files and write its mergeable
    /// partial state to <output>partials/<shard>.json (re-running a shard rewrites the same bytes).
    Map(Box<MapArgs>),
    /// After the map array: merge every shard's partial, then write drift.json, report.html, the
    /// table items, the alert and the scheduled summary exactly as `run` does. A missing or corrupt
    /// partial fails with an error naming its shard.
    Reduce(Box<RunArgs>),
    /// Summarise a reference window once: write SageMaker Model Monitor's statistics.json and
    /// constraints.json and DeltaOne's reference profile (profile.json) into --out.
    #[command(
        long_about = "Summarise a reference window once, as a SageMaker Model Monitor baselining job does.\n\n\
                      Reads --reference exactly as `run` reads its reference (the same inputs, Hive-partition \
                      pruning, --model-name/--model-version, --timestamp-column with --reference-window, the same \
                      columns and quarantine of unreadable files) and writes into --out (a directory or \
                      s3://bucket/prefix/):\n\n  \
                      statistics.json   Model Monitor's statistics: item count; per feature the inferred type (from \
                      the Parquet type: integers Integral, floats and decimals Fractional, strings String), present and \
                      missing counts, mean, sum, std_dev (population), min, max, 10 equal-width buckets and a \
                      deterministic KLL sketch; for strings the distinct count and every category's count.\n  \
                      constraints.json  Model Monitor's constraints: type, completeness, is_non_negative, the domain \
                      of low-cardinality strings, and monitoring_config with explicit thresholds (1.0 type and domain \
                      checks, 0.1 Robust drift, 0.1 LInfinity categorical drift). Edit them here.\n  \
                      profile.json      DeltaOne's reference profile: the window's mergeable partial state (every \
                      value, or a sketch past --exact-max-rows or with --sketch), for `run --baseline` (planned).\n\n\
                      Nulls and NaN are missing; infinities are present but left out of the numbers. Booleans are not \
                      Model Monitor features (they stay in the profile). See docs/model-monitor.md.",
        after_help = "Examples:\n  \
            deltaone-drift baseline --reference samples/drift/reference.parquet --out /tmp/baseline\n  \
            deltaone-drift baseline --reference s3://logs/preds/ --model-name fraud --timestamp-column ts \\\n      \
                --reference-window 2026-10-01T00:00:00Z..2026-11-01T00:00:00Z --out s3://reports/fraud/baseline/"
    )]
    Baseline(Box<BaselineArgs>),
    /// The DynamoDB drift results table.
    #[command(subcommand)]
    Table(TableCommand),
}

#[derive(Debug, clap::Args)]
pub struct BaselineArgs {
    /// Reference inputs: paths, directories, globs with `*` in the file name, s3://bucket/prefix/, or
    /// s3://bucket/prefix/*pattern* (comma-separated in the env var).
    #[arg(long, env = env::DRIFT_REFERENCE, num_args = 1.., value_delimiter = ',', required = true)]
    pub reference: Vec<String>,
    /// Where statistics.json, constraints.json and profile.json go: a directory or s3://bucket/prefix/.
    #[arg(long, env = env::DRIFT_OUTPUT)]
    pub out: String,
    /// Timestamp column --reference-window selects rows by (row groups outside it are not read).
    #[arg(long, env = env::DRIFT_TIMESTAMP_COLUMN)]
    pub timestamp_column: Option<String>,
    /// Reference rows: START..END, RFC 3339, END exclusive.
    #[arg(long, env = env::DRIFT_REFERENCE_WINDOW)]
    pub reference_window: Option<TimeRange>,
    /// Only rows of this model (column or Hive partition `model_name`).
    #[arg(long, env = env::DRIFT_MODEL_NAME)]
    pub model_name: Option<String>,
    /// Only rows of this model version (column or Hive partition `model_version`).
    #[arg(long, env = env::DRIFT_MODEL_VERSION)]
    pub model_version: Option<String>,
    /// TOML configuration, as for `run`: its columns (kinds, selection), prediction and label columns.
    #[arg(long, env = env::DRIFT_CONFIG)]
    pub config: Option<PathBuf>,
    /// The model's prediction column: always a feature [default: prediction].
    #[arg(long, env = env::DRIFT_PREDICTION_COLUMN)]
    pub prediction_column: Option<String>,
    /// The label column: never a feature [default: label].
    #[arg(long, env = env::DRIFT_LABEL_COLUMN)]
    pub label_column: Option<String>,
    /// Sketch every numeric column in the profile (bounded memory); statistics.json's mean, sum and
    /// std_dev then come from the sketch (within a bucket's width). Exact is the default.
    #[arg(long, env = env::DRIFT_SKETCH)]
    pub sketch: bool,
    /// Rows above which the numeric columns are sketched anyway.
    #[arg(long, env = env::DRIFT_EXACT_MAX_ROWS, default_value_t = crate::DEFAULT_EXACT_MAX_ROWS)]
    pub exact_max_rows: u64,
    /// Mantissa bits per sketch bucket, 1..=20: buckets 2^-precision of their values wide (7: 0.78 %).
    #[arg(long, env = env::DRIFT_SKETCH_PRECISION, default_value_t = deltaone::drift::sketch::DEFAULT_SKETCH_PRECISION)]
    pub sketch_precision: u8,
    /// Footers read at the same time.
    #[arg(long, env = env::DRIFT_READ_CONCURRENCY, default_value_t = crate::DEFAULT_READ_CONCURRENCY)]
    pub read_concurrency: usize,
    /// Where unreadable files are copied with a <name>.reason.json [default: s3://<input bucket>/quarantine/
    /// for S3 inputs, <out>/quarantine for local ones].
    #[arg(long, env = env::DRIFT_QUARANTINE)]
    pub quarantine: Option<String>,
    /// AWS endpoint override (a local emulator such as moto).
    #[arg(long, env = env::AWS_ENDPOINT_URL)]
    pub endpoint_url: Option<String>,
    /// No progress bar, even on a terminal.
    #[arg(long, env = env::DRIFT_NO_PROGRESS)]
    pub no_progress: bool,
}

impl BaselineArgs {
    /// The reading options: flags and environment variables over the configuration file over
    /// defaults, as `run` reads its reference.
    pub fn options(&self) -> Result<RunOptions, DriftJobError> {
        let config = match &self.config {
            Some(path) => JobConfig::load(path)?,
            None => JobConfig::default(),
        };
        let mut options = RunOptions::new(self.reference.clone(), Vec::new()).with_config(&config);
        options.prediction_column =
            self.prediction_column.clone().or(config.prediction_column).unwrap_or_else(|| "prediction".to_owned());
        options.label_column = self.label_column.clone().or(config.label_column).unwrap_or_else(|| "label".to_owned());
        options.timestamp_column = self.timestamp_column.clone().or(config.timestamp_column);
        options.reference_window = self.reference_window;
        options.model_name = self.model_name.clone();
        options.model_version = self.model_version.clone();
        options.read_concurrency = self.read_concurrency;
        options.progress = !self.no_progress;
        options.sketch = self.sketch;
        options.exact_max_rows = self.exact_max_rows;
        options.sketch_precision = self.sketch_precision;
        options.quarantine = self.quarantine.clone().or_else(|| {
            let local_inputs = options.reference.iter().any(|p| !needs_aws(p));
            (local_inputs && !needs_aws(&self.out))
                .then(|| PathBuf::from(&self.out).join("quarantine").display().to_string())
        });
        Ok(options)
    }

    fn uses_aws(&self) -> bool {
        self.reference.iter().any(|p| needs_aws(p))
            || needs_aws(&self.out)
            || self.quarantine.as_deref().is_some_and(needs_aws)
    }
}

#[derive(Debug, Subcommand)]
pub enum TableCommand {
    /// Create the table (pk S, sk S, on demand) with TTL on expires_at; does nothing if it exists.
    Init(TableArgs),
}

#[derive(Debug, clap::Args)]
pub struct TableArgs {
    /// The drift results table.
    #[arg(long, env = env::DRIFT_TABLE)]
    pub table: String,
    /// AWS endpoint override (a local emulator such as moto).
    #[arg(long, env = env::AWS_ENDPOINT_URL)]
    pub endpoint_url: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct MapArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// This child's shard [default: AWS_BATCH_JOB_ARRAY_INDEX, else 0].
    #[arg(long)]
    pub shard: Option<u32>,
    /// Number of shards [default: the manifest's].
    #[arg(long)]
    pub shards: Option<u32>,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Run manifest (s3://… or a local path), as the scheduler writes it: the files of both windows,
    /// the windows, the shard count and the output prefix. Replaces --reference, --current and --out.
    #[arg(long, env = env::DRIFT_MANIFEST)]
    pub manifest: Option<String>,
    /// Reference inputs: paths, directories, globs with `*` in the file name, s3://bucket/prefix/, or
    /// s3://bucket/prefix/*pattern* (comma-separated in the env var).
    #[arg(
        long,
        env = env::DRIFT_REFERENCE,
        num_args = 1..,
        value_delimiter = ',',
        required_unless_present = "manifest"
    )]
    pub reference: Vec<String>,
    /// Current inputs, as --reference. Default: the reference inputs (then --current-window selects the rows).
    #[arg(long, env = env::DRIFT_CURRENT, num_args = 1.., value_delimiter = ',')]
    pub current: Vec<String>,
    /// Output: a directory, or s3://bucket/prefix/ (results under <prefix><run id>/).
    #[arg(long, env = env::DRIFT_OUTPUT, required_unless_present = "manifest")]
    pub out: Option<String>,
    /// Sketch every numeric column: memory bounded whatever the window size; drift.json gives each
    /// statistic's error bound. Exact is the default.
    #[arg(long, env = env::DRIFT_SKETCH)]
    pub sketch: bool,
    /// Rows per window above which its numeric columns are sketched anyway.
    #[arg(long, env = env::DRIFT_EXACT_MAX_ROWS, default_value_t = crate::DEFAULT_EXACT_MAX_ROWS)]
    pub exact_max_rows: u64,
    /// Mantissa bits per sketch bucket, 1..=20: buckets 2^-precision of their values wide (7: 0.78 %).
    #[arg(long, env = env::DRIFT_SKETCH_PRECISION, default_value_t = deltaone::drift::sketch::DEFAULT_SKETCH_PRECISION)]
    pub sketch_precision: u8,
    /// Days the presigned report link of a scheduled summary works (1..=7).
    #[arg(long, env = env::DRIFT_REPORT_LINK_DAYS, default_value_t = 7, value_parser = clap::value_parser!(u64).range(1..=7))]
    pub report_link_days: u64,
    /// TOML configuration: columns with kinds, methods and thresholds, prediction and label columns,
    /// drift share, binning (see jobs/drift/README.md).
    #[arg(long, env = env::DRIFT_CONFIG)]
    pub config: Option<PathBuf>,
    /// The model's prediction column: always analysed [default: prediction].
    #[arg(long, env = env::DRIFT_PREDICTION_COLUMN)]
    pub prediction_column: Option<String>,
    /// The label column: never analysed for drift; classification metrics per window when present [default: label].
    #[arg(long, env = env::DRIFT_LABEL_COLUMN)]
    pub label_column: Option<String>,
    /// Binning of numeric columns for PSI and Jensen–Shannon distance [default: quantiles].
    #[arg(long, env = env::DRIFT_BINNING, value_enum)]
    pub binning: Option<BinningChoice>,
    /// Share of drifted columns from which the dataset counts as drifted, in (0, 1] [default: 0.5].
    #[arg(long, env = env::DRIFT_SHARE)]
    pub drift_share: Option<f64>,
    /// How columns are decided: effect_size (an effect size decides, the adjusted test p-value gates
    /// small samples) or p_value (the tests' p-values decide, as before) [default: effect_size].
    #[arg(long, env = env::DRIFT_POLICY, value_enum)]
    pub policy: Option<PolicyName>,
    /// Multiple-comparison correction of the run's p-values [default: benjamini-hochberg].
    #[arg(long, env = env::DRIFT_CORRECTION, value_enum)]
    pub correction: Option<crate::config::CorrectionName>,
    /// Significance level of the effect-size policy's gate, in (0, 1) [default: 0.05].
    #[arg(long, env = env::DRIFT_ALPHA)]
    pub alpha: Option<f64>,
    /// New categories holding this share of the current rows make a large change, in (0, 1] [default: 0.01].
    #[arg(long, env = env::DRIFT_NEW_CATEGORY_SHARE)]
    pub new_category_share: Option<f64>,
    /// Alert rule (with --table): alert when a column drifted in K of the last N runs [default: 1].
    #[arg(long, env = env::DRIFT_ALERT_K)]
    pub alert_k: Option<u32>,
    /// Alert rule: the N of "K of the last N runs", at most 20 [default: 1].
    #[arg(long, env = env::DRIFT_ALERT_N)]
    pub alert_n: Option<u32>,
    /// Alert rule: hours of window time an alerted column is held unless its severity rises [default: 24].
    #[arg(long, env = env::DRIFT_ALERT_COOLDOWN_HOURS)]
    pub alert_cooldown_hours: Option<f64>,
    /// Timestamp column the windows select rows by (row groups outside a window are not read).
    #[arg(long, env = env::DRIFT_TIMESTAMP_COLUMN)]
    pub timestamp_column: Option<String>,
    /// Reference rows: START..END, RFC 3339, END exclusive.
    #[arg(long, env = env::DRIFT_REFERENCE_WINDOW)]
    pub reference_window: Option<TimeRange>,
    /// Current rows: START..END, RFC 3339, END exclusive.
    #[arg(long, env = env::DRIFT_CURRENT_WINDOW)]
    pub current_window: Option<TimeRange>,
    /// Only rows of this model (column or Hive partition `model_name`).
    #[arg(long, env = env::DRIFT_MODEL_NAME)]
    pub model_name: Option<String>,
    /// Only rows of this model version (column or Hive partition `model_version`).
    #[arg(long, env = env::DRIFT_MODEL_VERSION)]
    pub model_version: Option<String>,
    /// Footers read at the same time (data is decoded a window's files one after another, both windows at once).
    #[arg(long, env = env::DRIFT_READ_CONCURRENCY, default_value_t = crate::DEFAULT_READ_CONCURRENCY)]
    pub read_concurrency: usize,
    /// Where unreadable files are copied with a <name>.reason.json: s3://bucket/prefix/ or a directory
    /// [default: s3://<input bucket>/quarantine/ for S3 inputs, <out>/quarantine for local ones].
    #[arg(long, env = env::DRIFT_QUARANTINE)]
    pub quarantine: Option<String>,
    /// DynamoDB table for the results (one item per column and a run summary).
    #[arg(long, env = env::DRIFT_TABLE)]
    pub table: Option<String>,
    /// Days until the table items expire (TTL).
    #[arg(long, env = env::DRIFT_RETENTION_DAYS, default_value_t = crate::results::DEFAULT_RETENTION_DAYS)]
    pub retention_days: u32,
    /// Model label of the table items and the alert [default: --model-name, else "default"].
    #[arg(long, env = env::DRIFT_MODEL)]
    pub model: Option<String>,
    /// SNS topic for the drift.detected alert (sent when the dataset drifts).
    #[arg(long, env = env::TOPIC_ARN)]
    pub topic_arn: Option<String>,
    /// AWS endpoint override (a local emulator such as moto).
    #[arg(long, env = env::AWS_ENDPOINT_URL)]
    pub endpoint_url: Option<String>,
    /// Scores at or above count as positive in the performance metrics [default: 0.5].
    #[arg(long, env = env::DRIFT_POSITIVE_THRESHOLD)]
    pub positive_threshold: Option<f64>,
    /// Run id in the results (default: drift-<unix seconds>-<pid>).
    #[arg(long, env = env::DRIFT_RUN_ID)]
    pub run_id: Option<String>,
    /// No progress bar, even on a terminal.
    #[arg(long, env = env::DRIFT_NO_PROGRESS)]
    pub no_progress: bool,
    /// Print the result JSON to stdout instead of the text summary.
    #[arg(long, env = env::DRIFT_JSON)]
    pub json: bool,
}

/// The decision policies by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum PolicyName {
    EffectSize,
    PValue,
}

fn needs_aws(text: &str) -> bool {
    text.starts_with("s3://")
}

impl RunArgs {
    /// The run's options: flags and environment variables over the configuration file over defaults.
    pub fn options(&self) -> Result<RunOptions, DriftJobError> {
        let config = match &self.config {
            Some(path) => JobConfig::load(path)?,
            None => JobConfig::default(),
        };
        let current = if self.current.is_empty() {
            if self.current_window.is_none() && self.manifest.is_none() {
                return Err(DriftJobError::InvalidOption(
                    "--current is required unless --current-window selects the current rows from the reference inputs"
                        .to_owned(),
                ));
            }
            self.reference.clone()
        } else {
            self.current.clone()
        };
        let mut options = RunOptions::new(self.reference.clone(), current).with_config(&config);
        if let Some(id) = &self.run_id {
            options.run_id = id.clone();
        }
        options.prediction_column =
            self.prediction_column.clone().or(config.prediction_column).unwrap_or_else(|| "prediction".to_owned());
        options.label_column = self.label_column.clone().or(config.label_column).unwrap_or_else(|| "label".to_owned());
        options.binning = self.binning.or(config.binning).unwrap_or_default();
        options.drift_share =
            self.drift_share.or(config.drift_share).unwrap_or(deltaone::drift::DEFAULT_DATASET_DRIFT_SHARE);
        if let Some(policy) = self.policy {
            options.decision.policy = match policy {
                PolicyName::EffectSize => deltaone::drift::DecisionPolicy::EffectSize,
                PolicyName::PValue => deltaone::drift::DecisionPolicy::PValue,
            };
        }
        if let Some(correction) = self.correction {
            options.decision.correction = correction.correction();
        }
        options.decision.alpha = self.alpha.unwrap_or(options.decision.alpha);
        options.decision.new_category_share = self.new_category_share.unwrap_or(options.decision.new_category_share);
        let flags =
            crate::config::AlertConfig { k: self.alert_k, n: self.alert_n, cooldown_hours: self.alert_cooldown_hours };
        if let Some(h) = self.alert_cooldown_hours
            && !(h.is_finite() && h >= 0.0)
        {
            return Err(DriftJobError::InvalidOption(format!(
                "--alert-cooldown-hours {h} is not a number of hours ≥ 0"
            )));
        }
        options.alert = flags.apply(options.alert);
        options.timestamp_column = self.timestamp_column.clone().or(config.timestamp_column);
        options.reference_window = self.reference_window;
        options.current_window = self.current_window;
        options.model_name = self.model_name.clone();
        options.model_version = self.model_version.clone();
        options.positive_threshold = self.positive_threshold.or(config.positive_threshold).unwrap_or(0.5);
        options.read_concurrency = self.read_concurrency;
        options.progress = !self.no_progress;
        options.sketch = self.sketch;
        options.exact_max_rows = self.exact_max_rows;
        options.sketch_precision = self.sketch_precision;
        options.quarantine = self.quarantine.clone().or_else(|| {
            // Local inputs: quarantine next to local results.
            let local_inputs = options.reference.iter().chain(&options.current).any(|p| !needs_aws(p));
            let out = self.out.as_deref()?;
            (local_inputs && !needs_aws(out)).then(|| PathBuf::from(out).join("quarantine").display().to_string())
        });
        Ok(options)
    }

    fn deliver_options(&self, options: &RunOptions) -> DeliverOptions {
        DeliverOptions {
            alert: options.alert,
            out: self.out.clone().unwrap_or_default(),
            table: self.table.clone().filter(|t| !t.trim().is_empty()),
            model: self
                .model
                .clone()
                .or_else(|| self.model_name.clone())
                .unwrap_or_else(|| crate::results::DEFAULT_MODEL.to_owned()),
            retention_days: self.retention_days,
            topic_arn: self.topic_arn.clone().filter(|t| !t.trim().is_empty()),
            summary_link: None,
        }
    }

    /// Delivery of a manifest's run: into the manifest's output, labelled with its model (unless
    /// --model says otherwise), with the scheduled summary.
    fn manifest_deliver_options(
        &self,
        run: &RunOptions,
        manifest: &deltaone_app::schedule::plan::Manifest,
    ) -> DeliverOptions {
        let mut options = self.deliver_options(run);
        options.out = crate::shard::manifest_out(manifest);
        options.model = self.model.clone().unwrap_or_else(|| manifest.model.clone());
        options.summary_link = Some(std::time::Duration::from_secs(self.report_link_days * 86_400));
        options
    }

    fn uses_aws(&self) -> bool {
        self.reference.iter().chain(&self.current).any(|p| needs_aws(p))
            || self.out.as_deref().is_some_and(needs_aws)
            || self.manifest.as_deref().is_some_and(needs_aws)
            || self.quarantine.as_deref().is_some_and(needs_aws)
            || self.table.is_some()
            || self.topic_arn.is_some()
    }
}

async fn clients(endpoint_url: Option<&str>) -> Clients {
    let endpoint = endpoint_url.filter(|u| !u.trim().is_empty());
    let config = deltaone_aws::sdk_config(endpoint).await;
    Clients {
        s3: Some(deltaone_aws::s3::S3Objects::client(&config, endpoint.is_some())),
        dynamodb: Some(aws_sdk_dynamodb::Client::new(&config)),
        sns: Some(aws_sdk_sns::Client::new(&config)),
    }
}

/// The manifest of a `--manifest` command, and the clients it needs (its files or output on S3).
async fn manifest_and_clients(
    args: &RunArgs,
) -> Result<(deltaone_app::schedule::plan::Manifest, Clients), DriftJobError> {
    let uri =
        args.manifest.as_deref().ok_or_else(|| DriftJobError::InvalidOption("--manifest is required".to_owned()))?;
    let mut clients = if args.uses_aws() { clients(args.endpoint_url.as_deref()).await } else { Clients::default() };
    let manifest = crate::shard::load_manifest(uri, clients.s3.as_ref()).await?;
    let on_s3 =
        manifest.reference.iter().chain(&manifest.current).any(|f| needs_aws(&f.uri)) || needs_aws(&manifest.output);
    if on_s3 && clients.s3.is_none() {
        clients = self::clients(args.endpoint_url.as_deref()).await;
    }
    Ok((manifest, clients))
}

/// Runs a parsed command; returns what to print on stdout. The commands' futures are boxed: kept
/// inline, their states add up to more than a 2 MiB thread's stack in a debug build.
pub async fn execute(cli: &Cli) -> Result<String, DriftJobError> {
    let started = std::time::Instant::now();
    let emf = crate::metrics::wanted(|name| std::env::var(name).ok())?;
    let emit = |report: &crate::DriftReport, delivered: &DeliverOptions| {
        if emf {
            crate::metrics::emit(report, &delivered.model, started.elapsed());
        }
    };
    match &cli.command {
        Command::Map(args) => {
            let options = args.run.options()?;
            let (manifest, clients) = manifest_and_clients(&args.run).await?;
            let env = std::env::var(env::AWS_BATCH_JOB_ARRAY_INDEX).ok();
            let shard = crate::shard::shard_index(args.shard, env.as_deref())?;
            let written =
                Box::pin(crate::shard::map(&options, &manifest, shard, args.shards, clients.s3.clone())).await?;
            Ok(format!("shard {shard} of run {}: wrote {written}\n", manifest.run_id))
        }
        Command::Reduce(args) => {
            let options = args.options()?;
            let (manifest, clients) = manifest_and_clients(args).await?;
            let report = Box::pin(crate::shard::reduce(&options, &manifest, clients.s3.clone())).await?;
            let deliver_options = args.manifest_deliver_options(&options, &manifest);
            let delivery = Box::pin(crate::deliver::deliver(&report, &deliver_options, &clients)).await?;
            emit(&report, &deliver_options);
            Ok(result_text(args, &report, &delivery))
        }
        Command::Run(args) if args.manifest.is_some() => {
            let options = args.options()?;
            let (manifest, clients) = manifest_and_clients(args).await?;
            let report = Box::pin(crate::shard::run_manifest(&options, &manifest, clients.s3.clone())).await?;
            let deliver_options = args.manifest_deliver_options(&options, &manifest);
            let delivery = Box::pin(crate::deliver::deliver(&report, &deliver_options, &clients)).await?;
            emit(&report, &deliver_options);
            Ok(result_text(args, &report, &delivery))
        }
        Command::Run(args) => {
            let options = args.options()?;
            let clients =
                if args.uses_aws() { clients(args.endpoint_url.as_deref()).await } else { Clients::default() };
            let report = Box::pin(crate::run_with(&options, clients.s3.clone())).await?;
            let deliver_options = args.deliver_options(&options);
            let delivery = Box::pin(crate::deliver::deliver(&report, &deliver_options, &clients)).await?;
            emit(&report, &deliver_options);
            Ok(result_text(args, &report, &delivery))
        }
        Command::Baseline(args) => {
            let options = args.options()?;
            let s3 = if args.uses_aws() { clients(args.endpoint_url.as_deref()).await.s3 } else { None };
            let baseline = Box::pin(crate::baseline::baseline(&options, s3.clone())).await?;
            let written = Box::pin(crate::baseline::write_baseline(&baseline, &args.out, s3.as_ref())).await?;
            Ok(crate::baseline::summary_text(&baseline, &written))
        }
        Command::Table(TableCommand::Init(args)) => {
            let clients = clients(args.endpoint_url.as_deref()).await;
            let client = clients.dynamodb.expect("a DynamoDB client");
            let created = crate::results::init_table(&client, &args.table)
                .await
                .map_err(|e| DriftJobError::Aws(e.to_string()))?;
            Ok(if created {
                format!("created table {} (pk S, sk S) with TTL on expires_at\n", args.table)
            } else {
                format!("table {} exists; TTL on expires_at is enabled\n", args.table)
            })
        }
    }
}

/// What a run prints: the summary (or the JSON) and where the results went.
fn result_text(args: &RunArgs, report: &crate::DriftReport, delivery: &crate::deliver::Delivery) -> String {
    tracing::info!(json = %delivery.json_uri, html = %delivery.report_uri, items = delivery.items_written, alerted = delivery.alerted, "wrote drift results");
    // The alert rule ran at delivery (it needs the table's history): show what it decided.
    let mut report = std::borrow::Cow::Borrowed(report);
    if delivery.alert.is_some() {
        report.to_mut().alert = delivery.alert.clone();
    }
    if args.json {
        serde_json::to_string_pretty(&*report).expect("the report serialises") + "\n"
    } else {
        let mut text =
            format!("{}wrote {} and {}\n", crate::summary_text(&report), delivery.json_uri, delivery.report_uri);
        if let Some(table) = &args.table {
            text.push_str(&format!("{} item(s) in table {table}\n", delivery.items_written));
        }
        if delivery.alerted {
            text.push_str("drift.detected alert published\n");
        } else if delivery.summarised {
            text.push_str("drift.report summary published\n");
        } else if delivery.recovered {
            text.push_str("drift.report recovery notice published\n");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(args)
    }

    fn run_args(args: &[&str]) -> RunArgs {
        match parse(args).unwrap().command {
            Command::Run(args) => *args,
            other => panic!("not run: {other:?}"),
        }
    }

    #[test]
    fn the_cli_parses_options() {
        let args = run_args(&[
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
        ]);
        assert_eq!(args.reference, ["a.parquet", "b.parquet"]);
        assert_eq!(args.current, ["c.parquet", "d.parquet"]);
        assert!(args.json);
        let o = args.options().unwrap();
        assert_eq!(
            (o.binning, o.prediction_column.as_str(), o.label_column.as_str()),
            (BinningChoice::Evidently, "prediction", "label")
        );
        assert_eq!(o.quarantine.as_deref(), Some(PathBuf::from("o").join("quarantine").to_str().unwrap()));
        assert!(!args.uses_aws());
        assert!(parse(&["deltaone-drift", "run", "--out", "o"]).is_err());
    }

    #[test]
    fn windows_models_and_s3_parse() {
        let args = run_args(&[
            "deltaone-drift",
            "run",
            "--reference",
            "s3://logs/preds/",
            "--timestamp-column",
            "ts",
            "--reference-window",
            "2026-10-01T00:00:00Z..2026-11-01T00:00:00Z",
            "--current-window",
            "2026-11-01T00:00:00Z..2026-11-02T00:00:00Z",
            "--model-name",
            "fraud",
            "--out",
            "s3://reports/drift/",
            "--table",
            "t",
        ]);
        let o = args.options().unwrap();
        assert_eq!(o.current, ["s3://logs/preds/"], "the current rows come from the reference inputs");
        assert_eq!(o.timestamp_column.as_deref(), Some("ts"));
        assert_eq!(o.current_window.unwrap().to_string(), "2026-11-01T00:00:00Z..2026-11-02T00:00:00Z");
        assert_eq!(o.quarantine, None, "S3 inputs quarantine in their own bucket");
        assert!(args.uses_aws());
        assert_eq!(args.deliver_options(&o).model, "fraud");
        let err = parse(&["deltaone-drift", "run", "--reference", "a", "--out", "o", "--current-window", "yesterday"]);
        assert!(err.unwrap_err().to_string().contains("START..END"));
        let no_current = run_args(&["deltaone-drift", "run", "--reference", "a", "--out", "o"]);
        assert!(no_current.options().unwrap_err().to_string().contains("--current is required"));
    }

    #[test]
    fn flags_win_over_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("drift.toml");
        std::fs::write(&config, "prediction_column = \"score\"\ndrift_share = 0.3\nlabel_column = \"y\"\n").unwrap();
        let c = config.to_str().unwrap();
        let args = run_args(&[
            "deltaone-drift",
            "run",
            "--reference",
            "a",
            "--current",
            "b",
            "--out",
            "o",
            "--config",
            c,
            "--drift-share",
            "0.7",
        ]);
        let o = args.options().unwrap();
        assert_eq!((o.prediction_column.as_str(), o.label_column.as_str(), o.drift_share), ("score", "y", 0.7));
        std::fs::write(&config, "[columns.age]\nmethod = \"magic\"\n").unwrap();
        let err = args.options().unwrap_err().to_string();
        assert!(err.contains("columns.age.method"), "{err}");
    }

    #[test]
    fn decision_and_alert_flags_win_over_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("drift.toml");
        std::fs::write(&config, "policy = \"p_value\"\nalpha = 0.01\n[alert]\nk = 2\nn = 5\ncooldown_hours = 6\n")
            .unwrap();
        let c = config.to_str().unwrap();
        let base = ["deltaone-drift", "run", "--reference", "a", "--current", "b", "--out", "o", "--config", c];
        let o = run_args(&base).options().unwrap();
        assert_eq!((o.decision.policy, o.decision.alpha), (deltaone::drift::DecisionPolicy::PValue, 0.01));
        assert_eq!((o.alert.k, o.alert.n, o.alert.cooldown_secs), (2, 5, 6 * 3600));
        let flags = [
            "--policy",
            "effect_size",
            "--correction",
            "bh",
            "--alert-n",
            "3",
            "--alert-cooldown-hours",
            "0.5",
            "--new-category-share",
            "0.05",
        ];
        let o = run_args(&[&base[..], &flags].concat()).options().unwrap();
        assert_eq!(o.decision.policy, deltaone::drift::DecisionPolicy::EffectSize);
        assert_eq!(o.decision.correction, deltaone::drift::Correction::BenjaminiHochberg);
        assert_eq!((o.decision.alpha, o.decision.new_category_share), (0.01, 0.05), "alpha from the file");
        assert_eq!((o.alert.k, o.alert.n, o.alert.cooldown_secs), (2, 3, 1800));
        let bad = run_args(&[&base[..], &["--alert-cooldown-hours=-1"]].concat());
        assert!(bad.options().unwrap_err().to_string().contains("--alert-cooldown-hours"));
        assert!(parse(&[&base[..], &["--correction", "holm"]].concat()).is_err(), "unknown corrections are refused");
    }

    #[test]
    fn baseline_reads_the_reference_options_and_teaches_in_its_help() {
        let cli = parse(&[
            "deltaone-drift",
            "baseline",
            "--reference",
            "s3://logs/preds/",
            "--model-name",
            "fraud",
            "--timestamp-column",
            "ts",
            "--reference-window",
            "2026-10-01T00:00:00Z..2026-11-01T00:00:00Z",
            "--out",
            "s3://reports/fraud/baseline/",
        ])
        .unwrap();
        let Command::Baseline(args) = cli.command else { panic!("not baseline") };
        let o = args.options().unwrap();
        assert_eq!((o.model_name.as_deref(), o.timestamp_column.as_deref()), (Some("fraud"), Some("ts")));
        assert!(o.reference_window.is_some() && o.current.is_empty() && !o.sketch);
        assert!(args.uses_aws());
        assert!(parse(&["deltaone-drift", "baseline", "--out", "o"]).is_err(), "--reference is required");
        assert!(parse(&["deltaone-drift", "baseline", "--reference", "a"]).is_err(), "--out is required");
        let help = parse(&["deltaone-drift", "baseline", "--help"]).unwrap_err().to_string();
        for needle in ["statistics.json", "constraints.json", "profile.json", "--reference-window", "Examples"] {
            assert!(help.contains(needle), "{needle} in:\n{help}");
        }
    }

    #[test]
    fn table_init_parses() {
        let cli = parse(&["deltaone-drift", "table", "init", "--table", "drift"]).unwrap();
        assert!(
            matches!(cli.command, Command::Table(TableCommand::Init(TableArgs { ref table, .. })) if table == "drift")
        );
    }
}
