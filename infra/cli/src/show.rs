//! What a person reads about verdicts: the one-line headline, what `check --explain` adds, a check's
//! report, a model that could not be checked, and a model's recorded history. The commands and the
//! demo print through it.

use deltaone::Verdict;
use deltaone_app::check::{CheckError, CheckReport, Checker, Stored};
use deltaone_app::registry::RegistryError;
use deltaone_app::store::VerdictRecord;

/// One line for people: the model, the candidate and the outcome.
pub fn headline(verdict: &Verdict) -> String {
    let version = verdict.candidate_version.map(|v| format!(" v{v}")).unwrap_or_default();
    let what = match (verdict.outcome, verdict.delta_pp, verdict.baseline_version, &verdict.metric) {
        (o, Some(delta), Some(base), Some(metric)) if o.is_comparison() => format!(
            "{} ({delta:+} pp vs v{base} on {metric}, threshold {} pp)",
            if verdict.achieved() { "DeltaOne achieved" } else { "not a DeltaOne" },
            verdict.threshold_pp.normalize()
        ),
        (o, ..) => o.as_str().replace('_', " "),
    };
    format!("{}{version}: {what}", verdict.model)
}

/// What `check --explain` adds: the confidence interval, each guardrail, and the policy.
pub fn explain(
    verdict: &Verdict,
    promotion: Option<&deltaone::promotion::Promotion>,
    checker: &Checker,
) -> Vec<String> {
    let policy = checker.policy();
    let mut lines = Vec::new();
    let level = deltaone::evidence::level_text(policy.confidence_level());
    lines.push(match &verdict.confidence {
        Some(c) => format!("confidence: {}", deltaone::message::confidence_text(c)),
        None => "confidence: none (no version names a predictions_uri, and require_confidence is off)".to_owned(),
    });
    lines.push(format!(
        "policy: require_confidence {} (achieved {} the {level} lower bound to reach {} pp)",
        if policy.require_confidence { "on" } else { "off" },
        if policy.require_confidence { "needs" } else { "does not need" },
        verdict.threshold_pp.normalize()
    ));
    if verdict.guardrails.is_empty() {
        lines.push("guardrails: none declared".to_owned());
    } else {
        lines.push(format!("guardrails ({}):", verdict.guardrails.len()));
        lines.extend(verdict.guardrails.iter().map(|g| format!("  - {}", deltaone::message::guardrail_text(g))));
    }
    lines.push(match (promotion, checker.champion_alias()) {
        (Some(p), _) => format!("promotion: {} ({})", deltaone::message::promotion_text(p), p.reason),
        (None, Some(alias)) => {
            format!("promotion: {alias} not moved (the verdict is not achieved, or this was a dry run)")
        }
        (None, None) => "promotion: off (no champion alias configured)".to_owned(),
    });
    lines
}

pub(crate) fn print_report(report: &CheckReport, json: bool) {
    if json {
        println!("{}", serde_json::to_string(report).expect("reports serialize"));
        return;
    }
    println!("{}", headline(&report.verdict));
    println!("    {}", report.verdict.reason);
    let stored = match report.stored {
        Stored::DryRun => "dry run: nothing recorded or written back",
        Stored::NotStored => "nothing to record",
        Stored::New => "recorded",
        Stored::Existing => "already recorded earlier (this is that verdict)",
        Stored::Replaced => "recorded, replacing an earlier verdict that compared nothing",
    };
    let wrote = if report.wrote_back { "; tags written back" } else { "" };
    let notified = if report.notified { "; subscribers notified" } else { "" };
    println!("    {stored}{wrote}{notified}");
}

pub(crate) fn print_failure(model: &str, error: &CheckError, json: bool) {
    if json {
        let value = serde_json::json!({"model": model, "error": error.to_string(), "retryable": error.is_retryable()});
        println!("{value}");
    } else {
        let hint = match error {
            CheckError::Registry(RegistryError::UnknownModel(_)) => " (check the name)",
            e if e.is_retryable() => " (temporary: try again)",
            _ => "",
        };
        println!("{model}: error: {error}{hint}");
    }
}

pub(crate) fn print_status(model: &str, records: &[VerdictRecord], json: bool) {
    if json {
        println!("{}", serde_json::to_string(records).expect("records serialize"));
        return;
    }
    if records.is_empty() {
        println!("{model}: no verdicts recorded");
        return;
    }
    println!("latest: {}", headline(&records[0].verdict));
    println!(
        "{:<8} {:<17} {:>10} {:<9} {:<16} {:<21} CONTRIBUTORS",
        "VERSION", "OUTCOME", "DELTA PP", "BASELINE", "METRIC", "CHECKED AT"
    );
    for r in records {
        let v = &r.verdict;
        let contributors: Vec<&str> = r.contributors.iter().map(|c| c.id.as_str()).collect();
        println!(
            "{:<8} {:<17} {:>10} {:<9} {:<16} {:<21} {}",
            r.version,
            v.outcome.as_str(),
            v.delta_pp.map(|d| format!("{:+}", d.normalize())).unwrap_or_else(|| "-".into()),
            v.baseline_version.map(|b| b.to_string()).unwrap_or_else(|| "-".into()),
            v.metric.as_deref().unwrap_or("-"),
            r.checked_at,
            if contributors.is_empty() { "-".to_owned() } else { contributors.join(", ") }
        );
    }
}
