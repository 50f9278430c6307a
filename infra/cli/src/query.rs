//! The CLI's read commands: `lineage`, `impact`, `drift history`. The same views as the query API;
//! a table on a terminal, JSON otherwise (or with `--json`).

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde::Serialize;

use crate::error::{CommandError, NoVerdictTable};
use deltaone_app::query::{PageRequest, QueryError, views};
use deltaone_app::settings::{Settings, StoreTarget};
use deltaone_aws::read_model::{DynamoReadModel, Tables};

/// Paging and output options every read command takes.
#[derive(Debug, Clone, Args)]
pub struct PageArgs {
    /// At most this many rows (1–500).
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Continue after a previous page: the `next_cursor` it printed.
    #[arg(long, value_name = "CURSOR")]
    pub cursor: Option<String>,
    /// Print JSON (the query API's answer) instead of a table; the default when output is not a terminal.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LineageArgs {
    /// Registered model name.
    pub model: String,
    #[command(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Args)]
pub struct ImpactArgs {
    /// Contributor id: user id, e-mail or wallet address, as in the metrics artifact's `contributors`.
    pub address: String,
    #[command(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Subcommand)]
pub enum DriftCommand {
    /// A model's drift runs, newest window first; with --feature, that column's history.
    History(DriftHistoryArgs),
}

#[derive(Debug, Args)]
pub struct DriftHistoryArgs {
    /// Model label the drift job wrote (DELTAONE_DRIFT_MODEL, "default" without one).
    pub model: String,
    /// One column's history instead of the runs.
    #[arg(long, value_name = "COLUMN")]
    pub feature: Option<String>,
    #[command(flatten)]
    pub page: PageArgs,
}

async fn read_model(settings: &Settings, needs_verdicts: bool) -> Result<DynamoReadModel, NoVerdictTable> {
    let verdicts = match &settings.store {
        Some(StoreTarget::Dynamo { table }) => table.clone(),
        _ if needs_verdicts => return Err(NoVerdictTable),
        _ => String::new(),
    };
    let tables = Tables { verdicts, credits: settings.credits_table.clone(), drift: settings.drift_table.clone() };
    let sdk = deltaone_aws::sdk_config(settings.aws_endpoint_url.as_deref()).await;
    let (client, _log) = deltaone_aws::read_only::read_only_client(&sdk);
    Ok(DynamoReadModel::new(client, tables))
}

fn page_request(args: &PageArgs) -> Result<PageRequest, QueryError> {
    PageRequest::parse(Some(&args.limit.to_string()), args.cursor.as_deref())
}

fn wants_json(args: &PageArgs) -> bool {
    args.json || !std::io::stdout().is_terminal()
}

fn print_json<T: Serialize>(view: &T) {
    println!("{}", serde_json::to_string(view).expect("views serialize"));
}

fn print_more(next: &Option<String>) {
    if let Some(cursor) = next {
        println!("more: --cursor {cursor}");
    }
}

fn or_dash<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

fn short(hash: &Option<String>) -> String {
    hash.as_deref().map(|h| h.chars().take(12).collect()).unwrap_or_else(|| "-".into())
}

pub async fn lineage(args: &LineageArgs, settings: &Settings) -> Result<ExitCode, CommandError> {
    let read = read_model(settings, true).await?;
    let view = views::lineage(&read, &args.model, &page_request(&args.page)?).await?;
    if wants_json(&args.page) {
        print_json(&view);
    } else {
        let chain = &view.chain;
        match (&chain.problem, chain.verified) {
            (_, true) => {
                println!("{}: chain holds ({} attested, head {})", view.model, chain.attested, short(&chain.head))
            }
            (problem, false) => println!("{}: chain BROKEN: {}", view.model, problem.as_deref().unwrap_or("?")),
        }
        println!(
            "{:<8} {:<13} {:<9} {:>10} {:<14} {:<13} {:<13} SIGNATURE",
            "VERSION", "OUTCOME", "BASELINE", "DELTA PP", "METRIC", "HASH", "PREVIOUS"
        );
        for e in &view.versions {
            println!(
                "{:<8} {:<13} {:<9} {:>10} {:<14} {:<13} {:<13} {}",
                e.version,
                e.outcome,
                or_dash(e.baseline_version),
                e.delta_pp.map(|d| format!("{d:+}")).unwrap_or_else(|| "-".into()),
                e.metric.as_deref().unwrap_or("-"),
                short(&e.hash),
                short(&e.previous_hash),
                match e.signature_valid {
                    Some(true) => "valid",
                    Some(false) => "INVALID",
                    None => "-",
                }
            );
        }
        print_more(&view.next_cursor);
    }
    Ok(if view.chain.verified { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

pub async fn impact(args: &ImpactArgs, settings: &Settings) -> Result<ExitCode, CommandError> {
    let read = read_model(settings, false).await?;
    let view = views::impact(&read, &args.address, &page_request(&args.page)?).await?;
    if wants_json(&args.page) {
        print_json(&view);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{}: {} pp credited over {} DeltaOne(s)", view.contributor, view.total_credited_pp, view.events_total);
    println!("{:<32} {:>7} {:>14}", "MODEL", "EVENTS", "CREDITED PP");
    for m in &view.models {
        println!("{:<32} {:>7} {:>14}", m.model, m.events, m.credited_pp);
    }
    println!();
    println!(
        "{:<21} {:<32} {:>8} {:>10} {:>7} {:>12}",
        "CHECKED AT", "MODEL", "VERSION", "DELTA PP", "SHARE", "CREDITED PP"
    );
    for e in &view.events {
        println!(
            "{:<21} {:<32} {:>8} {:>10} {:>7} {:>12}",
            e.checked_at,
            e.model,
            e.version,
            format!("{:+}", e.delta_pp),
            or_dash(e.share),
            e.credited_pp
        );
    }
    print_more(&view.next_cursor);
    Ok(ExitCode::SUCCESS)
}

pub async fn drift(command: &DriftCommand, settings: &Settings) -> Result<ExitCode, CommandError> {
    let DriftCommand::History(args) = command;
    let read = read_model(settings, false).await?;
    let page = page_request(&args.page)?;
    let json = wants_json(&args.page);
    match &args.feature {
        Some(feature) => {
            let view = views::feature_history(&read, &args.model, feature, &page).await?;
            if json {
                print_json(&view);
                return Ok(ExitCode::SUCCESS);
            }
            println!("{} / {}: {} result(s) on this page", view.model, view.feature, view.history.len());
            println!(
                "{:<21} {:<14} {:<7} {:>10} {:>9} {:<7} RUN",
                "WINDOW END", "KIND", "METHOD", "SCORE", "THRESHOLD", "DRIFT"
            );
            for c in &view.history {
                println!(
                    "{:<21} {:<14} {:<7} {:>10} {:>9} {:<7} {}",
                    c.window_end,
                    c.kind,
                    c.method,
                    c.score.map(|v| format!("{v:.4}")).unwrap_or_else(|| "-".into()),
                    c.threshold,
                    if c.drifted { "yes" } else { "no" },
                    c.run_id
                );
            }
            print_more(&view.next_cursor);
        }
        None => {
            let view = views::drift_runs(&read, &args.model, &page).await?;
            if json {
                print_json(&view);
                return Ok(ExitCode::SUCCESS);
            }
            println!("{}: {} run(s) on this page", view.model, view.runs.len());
            println!(
                "{:<21} {:<6} {:>8} {:>7} {:>9} {:>9} RUN",
                "WINDOW END", "DRIFT", "DRIFTED", "COLUMNS", "REF ROWS", "CUR ROWS"
            );
            for r in &view.runs {
                println!(
                    "{:<21} {:<6} {:>8} {:>7} {:>9} {:>9} {}",
                    r.window_end,
                    if r.dataset_drift { "yes" } else { "no" },
                    r.drifted_columns,
                    r.columns,
                    r.rows_reference,
                    r.rows_current,
                    r.run_id
                );
            }
            print_more(&view.next_cursor);
        }
    }
    Ok(ExitCode::SUCCESS)
}
