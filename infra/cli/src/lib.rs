//! The `deltaone` command line: flags and a TOML file over the settings, the commands, progress on a
//! terminal. An entry point: it wires adapters (through `deltaone-wiring`) and calls use cases.

pub mod demo;
pub mod error;
pub mod query;
pub mod show;
pub mod webhooks;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use deltaone::VersionNumber;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use deltaone_app::check::{CheckError, CheckRequest, Checker};
use deltaone_app::env;
use deltaone_app::settings::{Settings, SettingsArgs, StoreTarget};
use deltaone_app::store::VerdictStore;
use deltaone_aws::verdicts::DynamoVerdictStore;

pub use error::{CommandError, ModelsFileError};
pub use show::{explain, headline};
use show::{print_failure, print_report, print_status};

const EXAMPLES: &str = "\
Examples:
  deltaone demo                                   the check on the shipped sample registry, no servers
  deltaone check fraud-detector --dry-run         decide for the newest version, change nothing
  deltaone check fraud-detector --version 7       decide for version 7, record it, tag it in MLflow
  deltaone check --all --concurrency 16           every registered model, with a progress bar
  deltaone status fraud-detector                  recorded verdicts, newest first
  deltaone lineage fraud-detector                 versions, baselines, deltas and the attestation chain
  deltaone impact 0xabc…                          pp credited to a contributor, across models
  deltaone drift history fraud-detector --feature amount   one feature's drift, newest window first
  deltaone store init                             create the DynamoDB verdict table
  deltaone dlq redrive --to QUEUE_URL             send parked events back once their cause is fixed
  deltaone webhooks redrive --endpoint orders     deliver parked webhook messages again, same webhook-id

";

const RULE: &str = "\
The rule: the candidate (newest version, or --version) is compared with the newest older version tagged
benchmark_value (else the first version) on the metric named by the benchmark_metric tag (baseline's, else
the registered model's). It is a DeltaOne when it is better by at least the threshold (1 pp by default),
computed in exact decimal. Settings come from flags, then environment variables, then --config FILE.";

/// DeltaOne: does a new model version beat its benchmarked baseline by at least one percentage point?
#[derive(Debug, Parser)]
#[command(name = "deltaone", version, after_long_help = format!("{EXAMPLES}{RULE}"))]
pub struct Cli {
    #[command(flatten)]
    pub settings: SettingsArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decide whether a model's newest (or given) version is a DeltaOne; record the verdict once
    /// and write deltaone_achieved / delta_value back to the registry.
    Check(CheckArgs),
    /// Show a model's recorded verdicts, newest version first.
    Status(StatusArgs),
    /// A model's lineage: versions, the baselines they were compared with, deltas, and the
    /// attestation chain (verified; exit 1 when it is broken). Reads DynamoDB (Query/GetItem only).
    Lineage(crate::query::LineageArgs),
    /// A contributor's impact: DeltaOne events credited to them and the summed pp, across models
    /// (DELTAONE_CREDITS_TABLE).
    Impact(crate::query::ImpactArgs),
    /// Drift results the drift job stored (DELTAONE_DRIFT_TABLE).
    #[command(subcommand)]
    Drift(crate::query::DriftCommand),
    /// Run the DeltaOne check on the shipped sample registry: no AWS, no servers.
    Demo(DemoArgs),
    /// Manage the verdict store.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Inspect and redrive the dead-letter queue.
    #[command(subcommand)]
    Dlq(DlqCommand),
    /// Outgoing webhooks: redrive deliveries parked in the webhook dead-letter queue.
    #[command(subcommand)]
    Webhooks(crate::webhooks::WebhooksCommand),
    /// Drift schedules: validate the schedules file Terraform and the scheduled function read.
    #[command(subcommand)]
    Schedules(ScheduleCommand),
    /// Check a DeltaOne attestation offline: a signed statement, a stored verdict record, or a
    /// notification message, as JSON. Exit 0 when the signature holds, 1 when it does not.
    Verify(VerifyArgs),
    /// Verify a model's attestation chain in the verdict store: signatures, links, and the head.
    /// Exit 0 when it holds, 1 when a record was removed, edited or re-ordered.
    Audit {
        /// Registered model name.
        model: String,
        /// Trust only this public key (base64 or hex).
        #[arg(long, env = env::ATTESTATION_PUBLIC_KEY, value_name = "KEY")]
        public_key: Option<String>,
    },
    /// The attestation signing key's public half, to publish for verifiers.
    #[command(subcommand)]
    Attestation(AttestationCommand),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// JSON file (`-` for standard input).
    pub file: PathBuf,
    /// Trust only this public key (base64 or hex); without it the statement's own key is checked
    /// for consistency only.
    #[arg(long, env = env::ATTESTATION_PUBLIC_KEY, value_name = "KEY")]
    pub public_key: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AttestationCommand {
    /// Print the public key and key id of DELTAONE_ATTESTATION_KEY.
    PublicKey,
}

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// Send parked events back to the function's input queue, once what made them fail is fixed.
    Redrive {
        /// The dead-letter queue [default: DELTAONE_DEAD_LETTER_QUEUE_URL].
        #[arg(long, value_name = "URL")]
        from: Option<String>,
        /// The function's input queue (the queue the S3 notifications go to).
        #[arg(long, value_name = "URL")]
        to: String,
        /// Only letters parked by this function (the registry webhook function's letters are
        /// redriven by re-signing them; see its README).
        #[arg(long, default_value = "evaluation")]
        source: String,
        /// At most this many messages.
        #[arg(long, default_value_t = 1000)]
        max: usize,
    },
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["model", "all", "models_file"]))]
#[command(after_long_help = RULE)]
pub struct CheckArgs {
    /// Registered model name.
    pub model: Option<String>,
    /// Candidate version [default: the newest].
    #[arg(long, requires = "model")]
    pub version: Option<VersionNumber>,
    /// Check every registered model.
    #[arg(long)]
    pub all: bool,
    /// Check the models named in FILE, one per line (`#` starts a comment).
    #[arg(long, value_name = "FILE")]
    pub models_file: Option<PathBuf>,
    /// Checks running at once, for --all and --models-file.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Decide only: record nothing, write nothing back.
    #[arg(long)]
    pub dry_run: bool,
    /// Print JSON (one object per model) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also show what the verdict rests on: the delta's confidence interval, every guardrail, and
    /// the policy that applied (in JSON these are always the verdict's `confidence` and `guardrails`).
    #[arg(long)]
    pub explain: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Registered model name.
    pub model: String,
    /// At most this many verdicts.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Print JSON instead of a table; the default when output is not a terminal.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Validate a schedules file (JSON) and list its schedules; exit 1 naming the entry and field at fault.
    Check {
        /// The schedules file, e.g. samples/schedules/schedules.json.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Create the DynamoDB verdict table (on-demand) if it does not exist.
    Init,
}

/// Runs the parsed command; the binary's `main` is just this.
pub async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Demo(args) => crate::demo::run(args.json).await,
        Command::Verify(args) => verify(&args),
        Command::Schedules(ScheduleCommand::Check { file }) => deltaone_app::schedule::check_file(&file)
            .map(|text| {
                print!("{text}");
                ExitCode::SUCCESS
            })
            .map_err(CommandError::from),
        command => match cli.settings.resolve() {
            Ok(settings) => dispatch(command, settings).await,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command, settings: Settings) -> Result<ExitCode, CommandError> {
    match command {
        Command::Check(args) => {
            let wiring = deltaone_wiring::Wiring::new(settings);
            // A dry run touches neither the store nor AWS.
            let checker = if args.dry_run { wiring.deciding_checker() } else { wiring.checker().await }?;
            check(&checker, &args).await
        }
        Command::Status(args) => status(&args, &settings).await,
        Command::Lineage(args) => crate::query::lineage(&args, &settings).await,
        Command::Impact(args) => crate::query::impact(&args, &settings).await,
        Command::Drift(command) => crate::query::drift(&command, &settings).await,
        Command::Store(StoreCommand::Init) => init_store(&settings).await,
        Command::Dlq(DlqCommand::Redrive { from, to, source, max }) => {
            let from =
                from.or_else(|| settings.dead_letter_queue_url.clone()).ok_or(CommandError::NoDeadLetterQueue)?;
            redrive(settings, &from, &to, &source, max).await
        }
        Command::Webhooks(command) => crate::webhooks::run(command, &deltaone_wiring::Wiring::new(settings)).await,
        Command::Audit { model, public_key } => audit(&settings, &model, public_key.as_deref()).await,
        Command::Attestation(AttestationCommand::PublicKey) => public_key(settings),
        Command::Demo(_) | Command::Verify(_) | Command::Schedules(_) => {
            unreachable!("handled before settings are read")
        }
    }
}

/// `status`: a model's recorded verdicts, newest first.
async fn status(args: &StatusArgs, settings: &Settings) -> Result<ExitCode, CommandError> {
    let store = store(settings).await?.ok_or(CheckError::NoStore)?;
    let records = store.history(&args.model, args.limit).await?;
    print_status(&args.model, &records, args.json || !std::io::stdout().is_terminal());
    Ok(ExitCode::SUCCESS)
}

/// `store init`: the DynamoDB table or the directory, made ready.
async fn init_store(settings: &Settings) -> Result<ExitCode, CommandError> {
    match &settings.store {
        Some(StoreTarget::Dynamo { table }) => {
            let wiring = deltaone_wiring::Wiring::new(settings.clone());
            let store = DynamoVerdictStore::new(deltaone_aws::aws_sdk_dynamodb::Client::new(wiring.aws().await), table);
            let created = store.create_table_if_missing().await?;
            println!("{} {}", if created { "created" } else { "exists:" }, store.describe());
            Ok(ExitCode::SUCCESS)
        }
        Some(StoreTarget::Files { dir }) => {
            std::fs::create_dir_all(dir).map_err(|source| CommandError::CreateDir { dir: dir.clone(), source })?;
            println!("ready: directory {}", dir.display());
            Ok(ExitCode::SUCCESS)
        }
        None => Err(CommandError::NoStoreConfigured),
    }
}

/// `dlq redrive`: moves the dead letters of one source back to their queue.
async fn redrive(settings: Settings, from: &str, to: &str, source: &str, max: usize) -> Result<ExitCode, CommandError> {
    let wiring = deltaone_wiring::Wiring::new(settings);
    let client = deltaone_aws::aws_sdk_sqs::Client::new(wiring.aws().await);
    let done = deltaone_aws::sqs::redrive(&client, from, to, source, max).await?;
    println!("redriven: {} message(s) moved to {to}; {} of other sources left in place", done.moved, done.skipped);
    Ok(ExitCode::SUCCESS)
}

/// `audit`: walks a model's chain of recorded verdicts; a broken chain fails the command.
async fn audit(settings: &Settings, model: &str, public_key: Option<&str>) -> Result<ExitCode, CommandError> {
    let store = store(settings).await?.ok_or(CheckError::NoStore)?;
    let trusted = match public_key {
        Some(text) => Some(deltaone::attestation::parse_verifying_key(text).map_err(CommandError::PublicKey)?),
        None => None,
    };
    match deltaone_app::audit::audit(store.as_ref(), model, trusted.as_ref()).await {
        Ok(report) => {
            println!(
                "chain holds: {} attested of {} recorded verdicts of {model}; head {}",
                report.attested,
                report.records,
                report.head.as_deref().unwrap_or("(none)")
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(deltaone_app::audit::AuditError::Store(e)) => Err(e.into()),
        Err(e) => {
            println!("chain broken: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `attestation public-key`: what verifiers need to trust this deployment's signatures.
fn public_key(settings: Settings) -> Result<ExitCode, CommandError> {
    let key = settings.attestation_key.ok_or(CommandError::NoSigningKey)?;
    let public = key.0.verifying_key();
    println!("public_key: {}", deltaone::attestation::encode_verifying_key(&public));
    println!("key_id: {}", deltaone::attestation::key_id(&public));
    Ok(ExitCode::SUCCESS)
}

async fn store(settings: &Settings) -> Result<Option<Arc<dyn VerdictStore>>, deltaone_wiring::WiringError> {
    deltaone_wiring::Wiring::new(settings.clone()).store().await
}

async fn check(checker: &Checker, args: &CheckArgs) -> Result<ExitCode, CommandError> {
    if let Some(model) = &args.model {
        let request = CheckRequest { model: model.clone(), version: args.version, dry_run: args.dry_run };
        let report = checker.check(&request).await?;
        print_report(&report, args.json);
        if args.explain && !args.json {
            for line in explain(&report.verdict, report.promotion.as_ref(), checker) {
                println!("    {line}");
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let models = match &args.models_file {
        Some(path) => read_models_file(path)?,
        None => checker.registry().model_names().await?,
    };
    let progress = if std::io::stderr().is_terminal() && !models.is_empty() {
        let bar = ProgressBar::with_draw_target(Some(models.len() as u64), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} checking {pos}/{len} models [{bar:30}] {elapsed} eta {eta}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        deltaone_app::telemetry::show_overlay(Some(Arc::new(deltaone_drift::progress::BarOverlay(bar.clone()))));
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut failures = 0usize;
    let mut results = futures::stream::iter(models.into_iter().map(|model| {
        let request = CheckRequest { model, version: None, dry_run: args.dry_run };
        async move {
            let outcome = checker.check(&request).await;
            (request.model, outcome)
        }
    }))
    .buffer_unordered(usize::from(args.concurrency));
    while let Some((model, outcome)) = results.next().await {
        progress.inc(1);
        match outcome {
            Ok(report) => progress.suspend(|| print_report(&report, args.json)),
            Err(e) => {
                failures += 1;
                progress.suspend(|| print_failure(&model, &e, args.json));
            }
        }
    }
    progress.finish_and_clear();
    deltaone_app::telemetry::show_overlay(None);
    if failures > 0 {
        eprintln!("{failures} model(s) could not be checked");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Finds the signed statement in a statement, a verdict record, or a message, and checks it.
fn verify(args: &VerifyArgs) -> Result<ExitCode, CommandError> {
    use deltaone::attestation::{SignedStatement, parse_verifying_key};
    let text = if args.file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(CommandError::Stdin)?
    } else {
        std::fs::read_to_string(&args.file).map_err(|source| CommandError::Read { path: args.file.clone(), source })?
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| CommandError::NotJson { path: args.file.clone(), source })?;
    let candidate = [value.pointer("/attestation"), value.pointer("/body/attestation"), Some(&value)]
        .into_iter()
        .flatten()
        .find(|v| v.get("statement").is_some() && v.get("signature").is_some())
        .ok_or_else(|| CommandError::NoStatement { path: args.file.clone() })?;
    let signed: SignedStatement = serde_json::from_value(candidate.clone())
        .map_err(|source| CommandError::NotAStatement { path: args.file.clone(), source })?;
    let trusted = match &args.public_key {
        Some(text) => Some(parse_verifying_key(text).map_err(CommandError::PublicKey)?),
        None => None,
    };
    match deltaone::attestation::verify(&signed, trusted.as_ref()) {
        Ok(()) => {
            let s = &signed.statement;
            let delta = s.delta_pp.map(|d| format!(", {d:+} pp")).unwrap_or_default();
            let trust = if trusted.is_some() { "trusted key" } else { "its own key; pass --public-key to trust it" };
            println!(
                "valid: {} v{} {}{delta}, signed by {} ({trust})",
                s.model, s.candidate_version, s.outcome, signed.key_id
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("invalid: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn read_models_file(path: &std::path::Path) -> Result<Vec<String>, ModelsFileError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ModelsFileError::Unreadable { path: path.to_owned(), source })?;
    let models: Vec<String> = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if models.is_empty() {
        return Err(ModelsFileError::Empty { path: path.to_owned() });
    }
    Ok(models)
}
