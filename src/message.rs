//! The one message schema for every event DeltaOne emits (`deltaone.message/v1`).
//!
//! | event type | when | body |
//! |---|---|---|
//! | `deltaone.achieved` | a check found a DeltaOne | [`DeltaOneBody`] |
//! | `deltaone.checked` | a check reached any other verdict | [`DeltaOneBody`] |
//! | `drift.detected` | a drift run found dataset drift and the alert rule let it through | [`DriftBody`] |
//! | `drift.report` | a drift run found no dataset drift, its alert was held, or alerted columns recovered | [`DriftBody`] |
//!
//! A [`Message`] serialises to the JSON that `schemas/message.v1.schema.json` (JSON Schema draft
//! 2020-12) describes: every field is always present (`null` when absent), exact values (metric
//! values, deltas, thresholds, shares of credit) are decimal strings, drift statistics are JSON
//! numbers, and the body says which it is in `kind` (`deltaone` or `drift`).
//!
//! The message also renders itself for people: [`Message::render_text`] for e-mail and
//! [`Message::render_slack`] as Slack Block Kit. Its `subject` fits an SNS `Subject` (fewer than
//! 100 characters, no line breaks or control characters; see [`sns_subject`]).
//!
//! Severity: `deltaone.achieved` is `info`; `deltaone.checked` is `info` when the versions were
//! compared or there was nothing to compare, `warning` when the registry holds something to fix
//! (missing metric, unusable value, scale mismatch, bad tag); `drift.detected` is `warning`, or
//! `critical` when at least [`CRITICAL_DRIFT_SHARE`] of the columns drifted; `drift.report` is
//! `info`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::attestation::{Contributor, SignedStatement};
use crate::promotion::Promotion;
use crate::verdict::{Allowance, Confidence, ConfidenceStatus, GuardrailResult, Outcome, Verdict};
use crate::version::VersionNumber;

/// The schema every message carries unless it has v2's fields.
pub const MESSAGE_SCHEMA: &str = "deltaone.message/v1";

/// The schema of a DeltaOne message whose verdict carries a confidence interval or guardrails
/// (`schemas/message.v2.schema.json`: v1 plus the optional body fields `confidence` and
/// `guardrails`). Messages without them stay v1, byte for byte, so v1 consumers keep working.
pub const MESSAGE_SCHEMA_V2: &str = "deltaone.message/v2";

/// Longest subject: SNS wants subjects "less than 100 characters long".
pub const SUBJECT_MAX_CHARS: usize = 99;

/// Share of drifted columns from which detected drift is `critical` rather than `warning`.
pub const CRITICAL_DRIFT_SHARE: f64 = 0.5;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "deltaone.achieved")]
    DeltaOneAchieved,
    #[serde(rename = "deltaone.checked")]
    DeltaOneChecked,
    #[serde(rename = "drift.detected")]
    DriftDetected,
    #[serde(rename = "drift.report")]
    DriftReport,
}

impl EventType {
    pub const ALL: [EventType; 4] =
        [Self::DeltaOneAchieved, Self::DeltaOneChecked, Self::DriftDetected, Self::DriftReport];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DeltaOneAchieved => "deltaone.achieved",
            Self::DeltaOneChecked => "deltaone.checked",
            Self::DriftDetected => "drift.detected",
            Self::DriftReport => "drift.report",
        }
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How urgently someone should look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One emitted event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Always [`MESSAGE_SCHEMA`].
    pub schema: String,
    /// Unique per event; receivers de-duplicate on it.
    pub id: String,
    pub event_type: EventType,
    /// When the event happened (RFC 3339 UTC).
    pub occurred_at: String,
    pub model: String,
    pub severity: Severity,
    /// One readable line, at most [`SUBJECT_MAX_CHARS`] characters, no control characters.
    pub subject: String,
    /// Where to look: the model version in the registry, the drift report, …
    pub link: Option<String>,
    pub body: EventBody,
}

/// The event's details; `kind` in JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum EventBody {
    #[serde(rename = "deltaone")]
    DeltaOne(DeltaOneBody),
    #[serde(rename = "drift")]
    Drift(DriftBody),
}

/// A DeltaOne check's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeltaOneBody {
    pub candidate_version: Option<VersionNumber>,
    pub baseline_version: Option<VersionNumber>,
    pub metric: Option<String>,
    pub baseline_value: Option<Decimal>,
    pub candidate_value: Option<Decimal>,
    pub delta_pp: Option<Decimal>,
    pub threshold_pp: Decimal,
    pub outcome: Outcome,
    pub reason: String,
    pub contributors: Vec<Contributor>,
    /// The signed statement of the verdict, when one was made (boxed: it is most of the body).
    pub attestation: Option<Box<SignedStatement>>,
    /// v2: the delta's confidence interval, when the check looked for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Box<Confidence>>,
    /// v2: every declared guardrail with its values and result.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guardrails: Vec<GuardrailResult>,
    /// v2: what the check did with the registry alias, when promotion is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion: Option<Box<Promotion>>,
}

/// The time range of the data a drift run looked at (RFC 3339 strings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeWindow {
    pub start: String,
    pub end: String,
}

/// One column's drift score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureScore {
    pub column: String,
    /// The statistic, e.g. `ks`, `chi_square`, `psi`, `wasserstein`, `jensen_shannon`.
    pub method: String,
    pub score: f64,
    pub drifted: bool,
}

/// A drift run's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftBody {
    pub run_id: String,
    pub window: TimeWindow,
    pub drifted_columns: Vec<String>,
    /// Share of the checked columns that drifted, 0 to 1.
    pub share_drifted: f64,
    pub dataset_drift: bool,
    pub report_link: Option<String>,
    /// The most telling columns, most drifted first.
    pub top_features: Vec<FeatureScore>,
    /// Columns that changed significantly but below their threshold: not drift.
    pub negligible_columns: Vec<String>,
    /// What the alert rule decided over the model's run history, and why (`None` without the
    /// history: then every dataset drift alerts).
    pub alert: Option<DriftAlert>,
}

/// The alert rule's decision carried by a drift message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftAlert {
    /// `fired`, `held`, `recovered` or `none`.
    pub action: String,
    /// Why it fired, was held back or recovered.
    pub reason: String,
    pub fired: Vec<String>,
    pub held: Vec<String>,
    pub recovered: Vec<String>,
}

/// Why a message could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// JSON has no NaN or infinity.
    #[error("{field} must be a finite number")]
    NonFinite { field: String },
    #[error("share_drifted must lie in [0, 1]")]
    ShareOutOfRange,
}

impl Message {
    /// The message of a DeltaOne verdict: `deltaone.achieved` when it is achieved, else
    /// `deltaone.checked`. `occurred_at` is the check's time; `link` points at the model version.
    pub fn from_verdict(
        id: impl Into<String>,
        occurred_at: impl Into<String>,
        verdict: &Verdict,
        contributors: Vec<Contributor>,
        attestation: Option<SignedStatement>,
        link: Option<String>,
    ) -> Self {
        let event_type = if verdict.achieved() { EventType::DeltaOneAchieved } else { EventType::DeltaOneChecked };
        let severity = match verdict.outcome {
            Outcome::Achieved | Outcome::NotAchieved | Outcome::NoCandidate | Outcome::NoBaseline => Severity::Info,
            Outcome::MetricMissing | Outcome::NonFiniteValue | Outcome::ScaleMismatch | Outcome::BadTag => {
                Severity::Warning
            }
        };
        let schema = if verdict.confidence.is_some() || !verdict.guardrails.is_empty() {
            MESSAGE_SCHEMA_V2
        } else {
            MESSAGE_SCHEMA
        };
        Self {
            schema: schema.to_owned(),
            id: id.into(),
            event_type,
            occurred_at: occurred_at.into(),
            model: verdict.model.clone(),
            severity,
            subject: sns_subject(&verdict_subject(verdict)),
            link,
            body: EventBody::DeltaOne(DeltaOneBody {
                candidate_version: verdict.candidate_version,
                baseline_version: verdict.baseline_version,
                metric: verdict.metric.clone(),
                baseline_value: verdict.baseline_value,
                candidate_value: verdict.candidate_value,
                delta_pp: verdict.delta_pp,
                threshold_pp: verdict.threshold_pp,
                outcome: verdict.outcome,
                reason: verdict.reason.clone(),
                contributors,
                attestation: attestation.map(Box::new),
                confidence: verdict.confidence.clone().map(Box::new),
                guardrails: verdict.guardrails.clone(),
                promotion: None,
            }),
        }
    }

    /// The same DeltaOne message with the check's promotion decision (a v2 message).
    pub fn with_promotion(mut self, promotion: Option<Promotion>) -> Self {
        if let (EventBody::DeltaOne(body), Some(p)) = (&mut self.body, promotion) {
            body.promotion = Some(Box::new(p));
            self.schema = MESSAGE_SCHEMA_V2.to_owned();
        }
        self
    }

    /// The message of a drift run: `drift.detected` when the dataset drifted, else `drift.report`.
    /// Scores and the share must be finite (JSON has no NaN), the share within [0, 1].
    pub fn from_drift(
        id: impl Into<String>,
        occurred_at: impl Into<String>,
        model: impl Into<String>,
        body: DriftBody,
        link: Option<String>,
    ) -> Result<Self, MessageError> {
        if !body.share_drifted.is_finite() {
            return Err(MessageError::NonFinite { field: "share_drifted".into() });
        }
        if !(0.0..=1.0).contains(&body.share_drifted) {
            return Err(MessageError::ShareOutOfRange);
        }
        if let Some(bad) = body.top_features.iter().find(|f| !f.score.is_finite()) {
            return Err(MessageError::NonFinite { field: format!("score of column {:?}", bad.column) });
        }
        let model = model.into();
        // The alert rule can hold a dataset drift back: it is then reported, not alerted.
        let action = body.alert.as_ref().map(|a| a.action.as_str());
        let alerts = body.dataset_drift && action.is_none_or(|a| a == "fired");
        let (event_type, severity) = match (alerts, body.share_drifted >= CRITICAL_DRIFT_SHARE) {
            (true, true) => (EventType::DriftDetected, Severity::Critical),
            (true, false) => (EventType::DriftDetected, Severity::Warning),
            (false, _) => (EventType::DriftReport, Severity::Info),
        };
        let columns = plural(body.drifted_columns.len(), "column");
        let share = percent(body.share_drifted);
        let recovered = body.alert.as_ref().map(|a| a.recovered.join(", ")).unwrap_or_default();
        let subject = if alerts {
            format!("Drift detected: {model}: {columns} drifted ({share})")
        } else if body.dataset_drift {
            format!("Drift held back: {model}: {columns} drifted ({share}), alerted before")
        } else if !recovered.is_empty() {
            format!("Drift recovered: {model}: {recovered} back to normal")
        } else {
            format!("Drift report: {model}: no dataset drift ({columns} drifted, {share})")
        };
        Ok(Self {
            schema: MESSAGE_SCHEMA.to_owned(),
            id: id.into(),
            event_type,
            occurred_at: occurred_at.into(),
            model,
            severity,
            subject: sns_subject(&subject),
            link,
            body: EventBody::Drift(body),
        })
    }

    /// Plain text for e-mail: the subject, the facts one per line, then the event's identity.
    pub fn render_text(&self) -> String {
        let mut lines = vec![self.subject.clone(), String::new()];
        for (label, value) in self.facts() {
            lines.push(format!("{label}: {value}"));
        }
        match &self.body {
            EventBody::DeltaOne(body) => {
                lines.push(String::new());
                lines.push(body.reason.clone());
            }
            EventBody::Drift(body) if !body.top_features.is_empty() => {
                lines.push(String::new());
                lines.push("Top features:".to_owned());
                lines.extend(body.top_features.iter().map(|f| format!("  - {}", feature_line(f))));
            }
            EventBody::Drift(_) => {}
        }
        if let Some(link) = &self.link {
            lines.push(String::new());
            lines.push(format!("Link: {link}"));
        }
        lines.push(String::new());
        lines.push("--".to_owned());
        lines.push(self.footer());
        let mut text = lines.join("\n");
        text.push('\n');
        text
    }

    /// Self-contained HTML for e-mail clients that show HTML: the subject as a heading, the facts
    /// as a table, the reason (or the top drift features), the link and the event's identity. Every
    /// value is escaped; no scripts, styles inline.
    pub fn render_html(&self) -> String {
        let mut html = String::from("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
        html.push_str(&escape_html(&self.subject));
        html.push_str("</title></head>\n<body style=\"font-family: sans-serif\">\n<h2>");
        html.push_str(&escape_html(&self.subject));
        html.push_str("</h2>\n<table style=\"border-collapse: collapse\">\n");
        for (label, value) in self.facts() {
            html.push_str(&format!(
                "<tr><th style=\"text-align: left; padding: 2px 12px 2px 0; vertical-align: top\">{}</th><td>{}</td></tr>\n",
                escape_html(label),
                escape_html(&value)
            ));
        }
        html.push_str("</table>\n");
        match &self.body {
            EventBody::DeltaOne(body) => html.push_str(&format!("<p>{}</p>\n", escape_html(&body.reason))),
            EventBody::Drift(body) if !body.top_features.is_empty() => {
                html.push_str("<h3>Top features</h3>\n<ul>\n");
                for f in &body.top_features {
                    html.push_str(&format!("<li>{}</li>\n", escape_html(&feature_line(f))));
                }
                html.push_str("</ul>\n");
            }
            EventBody::Drift(_) => {}
        }
        if let Some(link) = &self.link {
            html.push_str(&format!("<p><a href=\"{0}\">{0}</a></p>\n", escape_html(link)));
        }
        html.push_str(&format!(
            "<p style=\"color: #666; font-size: small\">{}</p>\n</body></html>\n",
            escape_html(&self.footer())
        ));
        html
    }

    /// Slack Block Kit: a `text` fallback (for notifications) and `blocks`: a header (the subject),
    /// a section with the summary, a section of up to ten fields, and a context line with the
    /// event type, severity, link and id. Text is escaped for mrkdwn (`&`, `<`, `>`).
    pub fn render_slack(&self) -> Value {
        let summary = match &self.body {
            EventBody::DeltaOne(body) => escape_mrkdwn(&body.reason),
            EventBody::Drift(body) if body.top_features.is_empty() => "No feature scores.".to_owned(),
            EventBody::Drift(body) => {
                let lines: Vec<String> =
                    body.top_features.iter().map(|f| format!("• {}", escape_mrkdwn(&feature_line(f)))).collect();
                format!("*Top features*\n{}", lines.join("\n"))
            }
        };
        let fields: Vec<Value> = self
            .facts()
            .into_iter()
            .take(10)
            .map(|(label, value)| {
                json!({ "type": "mrkdwn", "text": clip(&format!("*{label}*\n{}", escape_mrkdwn(&value)), 2000) })
            })
            .collect();
        let mut context = vec![format!("`{}` · {}", self.event_type, self.severity)];
        if let Some(link) = &self.link {
            context.push(format!("<{}|Open>", escape_mrkdwn(link)));
        }
        context.push(format!("id {} · {}", escape_mrkdwn(&self.id), escape_mrkdwn(&self.occurred_at)));
        json!({
            "text": self.subject,
            "blocks": [
                { "type": "header", "text": { "type": "plain_text", "text": clip(&self.subject, 150), "emoji": true } },
                { "type": "section", "text": { "type": "mrkdwn", "text": clip(&summary, 3000) } },
                { "type": "section", "fields": fields },
                { "type": "context", "elements": [ { "type": "mrkdwn", "text": clip(&context.join(" · "), 3000) } ] },
            ]
        })
    }

    /// The facts a person reads first, as (label, value), at most ten.
    fn facts(&self) -> Vec<(&'static str, String)> {
        let mut facts = vec![("Model", self.model.clone())];
        match &self.body {
            EventBody::DeltaOne(body) => {
                facts.push(("Outcome", body.outcome.as_str().replace('_', " ")));
                let metric = body.metric.as_deref().unwrap_or("metric");
                let side = |version: Option<VersionNumber>, value: Option<Decimal>| match (version, value) {
                    (Some(v), Some(x)) => Some(format!("version {v}: {metric} = {}", x.normalize())),
                    (Some(v), None) => Some(format!("version {v}")),
                    (None, _) => None,
                };
                if let Some(text) = side(body.candidate_version, body.candidate_value) {
                    facts.push(("Candidate", text));
                }
                if let Some(text) = side(body.baseline_version, body.baseline_value) {
                    facts.push(("Baseline", text));
                }
                if let Some(delta) = body.delta_pp {
                    facts.push((
                        "Delta",
                        format!("{} (threshold {} pp)", signed_pp(delta), body.threshold_pp.normalize()),
                    ));
                }
                if let Some(c) = &body.confidence {
                    facts.push(("Confidence", confidence_text(c)));
                }
                if !body.guardrails.is_empty() {
                    let lines: Vec<String> = body.guardrails.iter().map(guardrail_text).collect();
                    facts.push(("Guardrails", lines.join("; ")));
                }
                if let Some(p) = &body.promotion {
                    facts.push(("Promotion", promotion_text(p)));
                }
                if !body.contributors.is_empty() {
                    let names: Vec<String> = body.contributors.iter().map(contributor_text).collect();
                    facts.push(("Contributors", names.join(", ")));
                }
                if let Some(att) = &body.attestation {
                    facts.push(("Attestation", format!("signed by {}, sha256 {}", att.key_id, att.statement.hash())));
                }
            }
            EventBody::Drift(body) => {
                facts.push(("Dataset drift", if body.dataset_drift { "yes" } else { "no" }.to_owned()));
                facts.push(("Share drifted", percent(body.share_drifted)));
                if !body.drifted_columns.is_empty() {
                    facts.push(("Drifted columns", body.drifted_columns.join(", ")));
                }
                if let Some(alert) = &body.alert {
                    facts.push(("Alert", format!("{}: {}", alert.action, alert.reason)));
                }
                if !body.negligible_columns.is_empty() {
                    facts.push(("Significant but negligible", body.negligible_columns.join(", ")));
                }
                facts.push(("Window", format!("{} to {}", body.window.start, body.window.end)));
                facts.push(("Run", body.run_id.clone()));
                if let Some(report) = &body.report_link {
                    facts.push(("Report", report.clone()));
                }
            }
        }
        facts
    }

    fn footer(&self) -> String {
        format!("{} · severity {} · id {} · {}", self.event_type, self.severity, self.id, self.occurred_at)
    }
}

/// One line for a subject: what the verdict says, model and version first.
fn verdict_subject(verdict: &Verdict) -> String {
    let model = &verdict.model;
    let version = verdict.candidate_version.map(|v| format!(" v{v}")).unwrap_or_default();
    let metric = verdict.metric.as_deref().map(|m| format!(" on {m}")).unwrap_or_default();
    match (verdict.outcome, verdict.delta_pp) {
        (Outcome::Achieved, Some(delta)) => format!("DeltaOne achieved: {model}{version} {}{metric}", signed_pp(delta)),
        (Outcome::NotAchieved, Some(delta)) => format!(
            "DeltaOne not reached: {model}{version} {}{metric} (needs {} pp)",
            signed_pp(delta),
            verdict.threshold_pp.normalize()
        ),
        (outcome, _) => format!("DeltaOne check: {model}{version}: {}", outcome.as_str().replace('_', " ")),
    }
}

/// Makes `text` a valid SNS subject: control characters (line breaks included) become spaces,
/// runs of whitespace one space, and text longer than [`SUBJECT_MAX_CHARS`] is cut, ending in `...`.
pub fn sns_subject(text: &str) -> String {
    let cleaned: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    if cleaned.chars().count() <= SUBJECT_MAX_CHARS {
        return cleaned;
    }
    let kept: String = cleaned.chars().take(SUBJECT_MAX_CHARS - 3).collect();
    format!("{}...", kept.trim_end())
}

fn signed_pp(delta: Decimal) -> String {
    let delta = delta.normalize();
    if delta > Decimal::ZERO { format!("+{delta} pp") } else { format!("{delta} pp") }
}

fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 { format!("1 {noun}") } else { format!("{count} {noun}s") }
}

/// "95 % interval [+0.2, +2.1] pp (mcnemar_exact, 500 paired rows), not significant", or why none.
pub fn confidence_text(c: &Confidence) -> String {
    let level = crate::evidence::level_text(c.level);
    match (c.status, c.lower_pp, c.upper_pp) {
        (ConfidenceStatus::Computed, Some(lower), Some(upper)) => format!(
            "{level} interval [{}, {}] pp ({}, {} paired rows), {}",
            signed(lower),
            signed(upper),
            c.method.map(|m| m.as_str()).unwrap_or("unknown method"),
            c.rows.unwrap_or_default(),
            if c.significant == Some(true) { "significant" } else { "not significant" }
        ),
        (status, _, _) => {
            format!("no {level} interval ({}): {}", status.as_str(), c.reason.as_deref().unwrap_or("no reason given"))
        }
    }
}

/// "latency_ms (lower is better): 108 vs 100, regression 8 % of 10 % allowed: passed".
pub fn guardrail_text(g: &GuardrailResult) -> String {
    let (limit, unit) = match g.allowed {
        Allowance::AbsolutePp(x) => (x, "pp"),
        Allowance::RelativePercent(x) => (x, "%"),
    };
    let values = match (g.candidate_value, g.baseline_value, g.regression) {
        (Some(c), Some(b), Some(r)) => {
            format!(
                "{} vs {}, regression {} {unit} of {} {unit} allowed",
                c.normalize(),
                b.normalize(),
                r,
                limit.normalize()
            )
        }
        _ => format!("{} {unit} allowed", limit.normalize()),
    };
    let status = match g.status {
        crate::verdict::GuardrailStatus::Passed => "passed",
        crate::verdict::GuardrailStatus::Regressed => "regressed",
        crate::verdict::GuardrailStatus::Missing => "missing",
        crate::verdict::GuardrailStatus::Invalid => "invalid",
    };
    format!("{} ({} is better): {values}: {status}", g.metric, g.direction)
}

/// "champion: 1 -> 3, promoted (re-checked against 2)".
pub fn promotion_text(p: &Promotion) -> String {
    let at = |v: Option<VersionNumber>| v.map(|v| format!("v{v}")).unwrap_or_else(|| "unset".to_owned());
    let mut text =
        format!("{}: {} -> {}, {}", p.alias, at(p.from_version), at(p.to_version), p.status.as_str().replace('_', " "));
    if !p.rechecked_against.is_empty() {
        let list: Vec<String> = p.rechecked_against.iter().map(|v| format!("v{v}")).collect();
        text.push_str(&format!(" (re-checked against {})", list.join(", ")));
    }
    text
}

fn signed(x: Decimal) -> String {
    let x = x.normalize();
    if x > Decimal::ZERO { format!("+{x}") } else { x.to_string() }
}

fn contributor_text(c: &Contributor) -> String {
    let mut text = match &c.name {
        Some(name) => format!("{name} <{}>", c.id),
        None => c.id.clone(),
    };
    if let Some(share) = c.share {
        text.push_str(&format!(" ({}%)", (share * Decimal::ONE_HUNDRED).normalize()));
    }
    text
}

fn feature_line(f: &FeatureScore) -> String {
    format!("{}: {} {}{}", f.column, f.method, f.score, if f.drifted { " (drifted)" } else { "" })
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn escape_mrkdwn(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// At most `max` characters, ending in `...` when cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max.saturating_sub(3)).collect();
    format!("{kept}...")
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::attestation::{Statement, sign, signing_key_from_seed};
    use crate::rule::{Policy, VersionFacts, judge, select};
    use crate::tags;

    const SCHEMA_TEXT: &str = include_str!("../schemas/message.v1.schema.json");

    fn schema() -> Value {
        serde_json::from_str(SCHEMA_TEXT).expect("the schema is JSON")
    }

    fn n(v: u64) -> VersionNumber {
        VersionNumber::new(v).unwrap()
    }

    fn verdict(baseline_value: &str, candidate: f64) -> Verdict {
        let versions = [
            VersionFacts::new(n(6))
                .with_tag(tags::BENCHMARK_VALUE, baseline_value)
                .with_tag(tags::BENCHMARK_METRIC, "accuracy"),
            VersionFacts::new(n(7)).with_metric("accuracy", candidate),
        ];
        judge(&select("fraud-detector", &versions, None), &Default::default(), &Policy::default())
    }

    fn contributors() -> Vec<Contributor> {
        vec![
            Contributor::new("ada@example.com").with_name("Ada").with_share("0.6".parse().unwrap()),
            Contributor::new("0x52908400098527886E0F7030069857D2E4169EE7").with_share("0.4".parse().unwrap()),
        ]
    }

    fn achieved() -> Message {
        let v = verdict("0.87", 0.88);
        let statement = Statement::from_verdict(
            &v,
            "2026-05-01T12:00:00Z",
            contributors(),
            BTreeMap::from([("registry_snapshot".into(), "0".repeat(64))]),
            Some("f".repeat(64)),
        )
        .unwrap();
        let attestation = sign(statement, &signing_key_from_seed(&[3; 32]).unwrap());
        Message::from_verdict(
            "deltaone:fraud-detector:7",
            "2026-05-01T12:00:00Z",
            &v,
            contributors(),
            Some(attestation),
            Some("https://mlflow.example.com/#/models/fraud-detector/versions/7".into()),
        )
    }

    fn checked() -> Message {
        Message::from_verdict(
            "deltaone:fraud-detector:7",
            "2026-05-01T12:00:00Z",
            &verdict("0.9", 0.905),
            vec![],
            None,
            None,
        )
    }

    fn drift_body(dataset_drift: bool, share: f64) -> DriftBody {
        DriftBody {
            run_id: "drift-2026-05-01".into(),
            window: TimeWindow { start: "2026-04-24T00:00:00Z".into(), end: "2026-05-01T00:00:00Z".into() },
            drifted_columns: if dataset_drift { vec!["age".into(), "income".into()] } else { vec!["age".into()] },
            share_drifted: share,
            dataset_drift,
            report_link: Some("https://reports.example.com/fraud-detector/drift-2026-05-01.html".into()),
            top_features: vec![
                FeatureScore { column: "age".into(), method: "ks".into(), score: 0.0012, drifted: true },
                FeatureScore { column: "country".into(), method: "chi_square".into(), score: 0.31, drifted: false },
            ],
            negligible_columns: vec!["income".into()],
            alert: None,
        }
    }

    fn drift(dataset_drift: bool, share: f64) -> Message {
        Message::from_drift(
            "drift:fraud-detector:drift-2026-05-01",
            "2026-05-01T00:05:00Z",
            "fraud-detector",
            drift_body(dataset_drift, share),
            None,
        )
        .unwrap()
    }

    /// One sample of every event type.
    fn samples() -> Vec<Message> {
        vec![achieved(), checked(), drift(true, 0.4), drift(false, 0.1)]
    }

    fn validator() -> jsonschema::Validator {
        jsonschema::draft202012::new(&schema()).expect("the schema compiles")
    }

    fn schema_errors(instance: &Value) -> Vec<String> {
        validator().iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect()
    }

    #[test]
    fn samples_cover_every_event_type() {
        let types: Vec<EventType> = samples().iter().map(|m| m.event_type).collect();
        assert_eq!(types, EventType::ALL);
    }

    #[test]
    fn achieved_verdict_makes_an_achieved_message() {
        let m = achieved();
        assert_eq!(m.event_type, EventType::DeltaOneAchieved);
        assert_eq!(m.severity, Severity::Info);
        assert_eq!(m.schema, MESSAGE_SCHEMA);
        assert_eq!(m.subject, "DeltaOne achieved: fraud-detector v7 +1 pp on accuracy");
        let EventBody::DeltaOne(body) = &m.body else { panic!("a deltaone body") };
        assert_eq!(body.delta_pp, Some("1".parse().unwrap()));
        assert!(body.attestation.is_some());
    }

    #[test]
    fn other_verdicts_make_checked_messages_with_severity_by_outcome() {
        let m = checked();
        assert_eq!(m.event_type, EventType::DeltaOneChecked);
        assert_eq!(m.severity, Severity::Info);
        assert_eq!(m.subject, "DeltaOne not reached: fraud-detector v7 +0.5 pp on accuracy (needs 1 pp)");

        let scale = verdict("90", 0.91);
        assert_eq!(scale.outcome, Outcome::ScaleMismatch);
        let m = Message::from_verdict("x", "t", &scale, vec![], None, None);
        assert_eq!(m.event_type, EventType::DeltaOneChecked);
        assert_eq!(m.severity, Severity::Warning);
        assert_eq!(m.subject, "DeltaOne check: fraud-detector v7: scale mismatch");
    }

    #[test]
    fn drift_messages_are_detected_or_report_with_severity_by_share() {
        let m = drift(true, 0.4);
        assert_eq!((m.event_type, m.severity), (EventType::DriftDetected, Severity::Warning));
        assert_eq!(m.subject, "Drift detected: fraud-detector: 2 columns drifted (40%)");
        assert_eq!(drift(true, 0.5).severity, Severity::Critical);
        let m = drift(false, 0.1);
        assert_eq!((m.event_type, m.severity), (EventType::DriftReport, Severity::Info));
        assert_eq!(m.subject, "Drift report: fraud-detector: no dataset drift (1 column drifted, 10%)");
    }

    #[test]
    fn drift_with_non_finite_numbers_is_refused() {
        let mut body = drift_body(true, 0.4);
        body.top_features[1].score = f64::NAN;
        let r = Message::from_drift("x", "t", "m", body, None);
        assert_eq!(r, Err(MessageError::NonFinite { field: "score of column \"country\"".into() }));
        let r = Message::from_drift("x", "t", "m", drift_body(true, f64::INFINITY), None);
        assert_eq!(r, Err(MessageError::NonFinite { field: "share_drifted".into() }));
        let r = Message::from_drift("x", "t", "m", drift_body(true, 1.5), None);
        assert_eq!(r, Err(MessageError::ShareOutOfRange));
    }

    #[test]
    fn subjects_fit_sns_whatever_the_model_name() {
        let long = "m".repeat(300);
        let mut v = verdict("0.87", 0.88);
        v.model = format!("{long}\nsecond line");
        let m = Message::from_verdict("x", "t", &v, vec![], None, None);
        assert_eq!(m.subject.chars().count(), SUBJECT_MAX_CHARS);
        assert!(m.subject.ends_with("..."));
        assert!(!m.subject.chars().any(char::is_control));
        assert_eq!(sns_subject("a\r\n\tb   c"), "a b c");
        assert_eq!(sns_subject(&"é".repeat(99)), "é".repeat(99), "the limit counts characters, not bytes");
        assert_eq!(schema()["properties"]["subject"]["maxLength"], SUBJECT_MAX_CHARS);
    }

    #[test]
    fn messages_round_trip_through_json() {
        for m in samples() {
            let text = serde_json::to_string(&m).unwrap();
            let back: Message = serde_json::from_str(&text).unwrap();
            assert_eq!(back, m, "{}", m.event_type);
        }
        let json = serde_json::to_value(achieved()).unwrap();
        assert_eq!(json["event_type"], "deltaone.achieved");
        assert_eq!(json["body"]["kind"], "deltaone");
        assert_eq!(json["body"]["delta_pp"], "1");
        assert_eq!(json["body"]["candidate_version"], "7");
        assert_eq!(serde_json::to_value(drift(true, 0.4)).unwrap()["body"]["kind"], "drift");
    }

    #[test]
    fn schema_is_a_valid_draft_2020_12_schema() {
        let schema = schema();
        assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
        jsonschema::meta::validate(&schema).expect("valid against the 2020-12 meta-schema");
    }

    #[test]
    fn every_event_type_validates_against_the_published_schema() {
        for m in samples() {
            let instance = serde_json::to_value(&m).unwrap();
            assert_eq!(schema_errors(&instance), Vec::<String>::new(), "{}", m.event_type);
        }
    }

    #[test]
    fn a_held_drift_is_reported_and_a_recovery_announced_both_valid() {
        let alert = |action: &str, recovered: Vec<String>| DriftAlert {
            action: action.into(),
            reason: "cooldown: alerted for the run of 2026-04-30T00:00:00Z".into(),
            fired: Vec::new(),
            held: if action == "held" { vec!["age".into()] } else { Vec::new() },
            recovered,
        };
        let mut body = drift_body(true, 0.6);
        body.alert = Some(alert("held", Vec::new()));
        let held = Message::from_drift("d:1", "2026-05-01T00:05:00Z", "fraud-detector", body, None).unwrap();
        assert_eq!((held.event_type, held.severity), (EventType::DriftReport, Severity::Info));
        assert!(held.subject.starts_with("Drift held back: fraud-detector"), "{}", held.subject);
        assert!(held.render_text().contains("Alert: held: cooldown"), "{}", held.render_text());
        let mut body = drift_body(false, 0.1);
        body.alert = Some(alert("recovered", vec!["age".into(), "income".into()]));
        let recovered = Message::from_drift("d:2", "2026-05-02T00:05:00Z", "fraud-detector", body, None).unwrap();
        assert_eq!(recovered.subject, "Drift recovered: fraud-detector: age, income back to normal");
        let mut body = drift_body(true, 0.6);
        body.alert = Some(alert("fired", Vec::new()));
        let fired = Message::from_drift("d:3", "2026-05-01T00:05:00Z", "fraud-detector", body, None).unwrap();
        assert_eq!(fired.event_type, EventType::DriftDetected);
        for m in [&held, &recovered, &fired] {
            let instance = serde_json::to_value(m).unwrap();
            assert_eq!(schema_errors(&instance), Vec::<String>::new(), "{}", m.subject);
        }
        // The schema refuses a drift.detected whose alert was held, and a drift.report of dataset
        // drift without a held alert.
        let mut v = serde_json::to_value(&held).unwrap();
        v["event_type"] = json!("drift.detected");
        assert!(!schema_errors(&v).is_empty());
        let mut v = serde_json::to_value(&fired).unwrap();
        v["event_type"] = json!("drift.report");
        assert!(!schema_errors(&v).is_empty());
    }

    #[test]
    fn schema_rejects_what_we_never_emit() {
        let base = serde_json::to_value(achieved()).unwrap();
        let broken = |edit: &dyn Fn(&mut Value)| {
            let mut v = base.clone();
            edit(&mut v);
            v
        };
        let cases: Vec<(&str, Value)> = vec![
            ("unknown top-level field", broken(&|v| v["extra"] = json!(1))),
            ("missing link", broken(&|v| _ = v.as_object_mut().unwrap().remove("link"))),
            ("subject too long", broken(&|v| v["subject"] = json!("s".repeat(100)))),
            ("subject with a line break", broken(&|v| v["subject"] = json!("a\nb"))),
            ("delta as a number", broken(&|v| v["body"]["delta_pp"] = json!(1.0))),
            ("drift body under a deltaone event", {
                let mut v = serde_json::to_value(drift(true, 0.4)).unwrap();
                v["event_type"] = json!("deltaone.achieved");
                v
            }),
            ("drift report that says the dataset drifted", {
                let mut v = serde_json::to_value(drift(false, 0.1)).unwrap();
                v["body"]["dataset_drift"] = json!(true);
                v
            }),
            ("achieved event with another outcome", broken(&|v| v["body"]["outcome"] = json!("not_achieved"))),
            ("unknown severity", broken(&|v| v["severity"] = json!("fatal"))),
            ("other schema", broken(&|v| v["schema"] = json!("deltaone.message/v2"))),
            ("version zero", broken(&|v| v["body"]["candidate_version"] = json!("0"))),
            ("tampered attestation field", broken(&|v| v["body"]["attestation"]["statement"]["extra"] = json!(1))),
        ];
        for (what, instance) in cases {
            assert!(!schema_errors(&instance).is_empty(), "the schema accepts {what}");
        }
    }

    /// Follows `schema_node` along `instance` and checks, for every object on the way, that the
    /// keys serialisation emitted, the schema's `properties` and its `required` are the same set.
    fn assert_keys_match(root: &Value, schema_node: &Value, instance: &Value, path: &str, seen: &mut BTreeSet<String>) {
        let node = resolve(root, schema_node);
        for key in ["oneOf", "anyOf"] {
            if let Some(branches) = node.get(key).and_then(Value::as_array) {
                for branch in branches {
                    let branch = resolve(root, branch);
                    if branch_fits(branch, instance) {
                        assert_keys_match(root, branch, instance, path, seen);
                    }
                }
            }
        }
        match instance {
            Value::Object(map) if node.get("properties").is_some() => {
                let properties = node["properties"].as_object().unwrap();
                let emitted: BTreeSet<&str> = map.keys().map(String::as_str).collect();
                let described: BTreeSet<&str> = properties.keys().map(String::as_str).collect();
                let required: BTreeSet<&str> =
                    node["required"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
                assert_eq!(emitted, described, "{path}: emitted keys vs schema properties");
                assert_eq!(required, described, "{path}: required vs properties");
                seen.insert(path.to_owned());
                for (key, value) in map {
                    assert_keys_match(root, &properties[key], value, &format!("{path}.{key}"), seen);
                }
            }
            Value::Array(items) => {
                if let Some(item_schema) = node.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        assert_keys_match(root, item_schema, item, &format!("{path}[{i}]"), seen);
                    }
                }
            }
            _ => {}
        }
    }

    fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
        match node.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let pointer = reference.strip_prefix('#').expect("local references only");
                resolve(root, root.pointer(pointer).unwrap_or_else(|| panic!("{reference} resolves")))
            }
            None => node,
        }
    }

    /// Whether a oneOf/anyOf branch describes this instance: objects go to object branches whose
    /// `kind` constant (if any) matches.
    fn branch_fits(branch: &Value, instance: &Value) -> bool {
        let Some(object) = instance.as_object() else { return false };
        if branch.get("properties").is_none() {
            return false;
        }
        match branch.pointer("/properties/kind/const") {
            Some(kind) => object.get("kind") == Some(kind),
            None => true,
        }
    }

    #[test]
    fn schema_properties_and_required_match_what_serialisation_emits() {
        let root = schema();
        let mut seen = BTreeSet::new();
        for m in samples() {
            let instance = serde_json::to_value(&m).unwrap();
            assert_keys_match(&root, &root, &instance, "$", &mut seen);
        }
        // Every kind of object was compared, the nested ones included.
        for path in [
            "$",
            "$.body",
            "$.body.contributors[0]",
            "$.body.attestation",
            "$.body.attestation.statement",
            "$.body.attestation.statement.contributors[0]",
            "$.body.window",
            "$.body.top_features[0]",
        ] {
            assert!(seen.contains(path), "{path} was not compared; compared: {seen:?}");
        }
    }

    #[test]
    fn schema_enumerations_match_the_rust_enums() {
        let root = schema();
        let listed = |pointer: &str| -> Vec<String> {
            root.pointer(pointer).unwrap().as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
        };
        let event_types: Vec<String> = EventType::ALL.iter().map(|e| e.as_str().to_owned()).collect();
        assert_eq!(listed("/properties/event_type/enum"), event_types);
        assert_eq!(listed("/properties/severity/enum"), ["info", "warning", "critical"]);
        let outcomes = [
            Outcome::Achieved,
            Outcome::NotAchieved,
            Outcome::NoCandidate,
            Outcome::NoBaseline,
            Outcome::MetricMissing,
            Outcome::NonFiniteValue,
            Outcome::ScaleMismatch,
            Outcome::BadTag,
        ];
        let outcomes: Vec<String> = outcomes.iter().map(|o| o.as_str().to_owned()).collect();
        assert_eq!(listed("/$defs/outcome/enum"), outcomes);
    }

    #[test]
    fn text_rendering_lists_the_facts_for_email() {
        let text = achieved().render_text();
        assert!(text.starts_with("DeltaOne achieved: fraud-detector v7 +1 pp on accuracy\n\n"), "{text}");
        for line in [
            "Model: fraud-detector",
            "Outcome: achieved",
            "Candidate: version 7: accuracy = 0.88",
            "Baseline: version 6: accuracy = 0.87",
            "Delta: +1 pp (threshold 1 pp)",
            "Contributors: Ada <ada@example.com> (60%), 0x52908400098527886E0F7030069857D2E4169EE7 (40%)",
            "Link: https://mlflow.example.com/#/models/fraud-detector/versions/7",
            "deltaone.achieved · severity info · id deltaone:fraud-detector:7 · 2026-05-01T12:00:00Z",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in:\n{text}");
        }
        assert!(text.contains("Attestation: signed by ed25519:"), "{text}");

        let text = drift(true, 0.4).render_text();
        for line in [
            "Dataset drift: yes",
            "Share drifted: 40%",
            "Drifted columns: age, income",
            "Window: 2026-04-24T00:00:00Z to 2026-05-01T00:00:00Z",
            "  - age: ks 0.0012 (drifted)",
            "  - country: chi_square 0.31",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in:\n{text}");
        }
    }

    #[test]
    fn slack_rendering_is_block_kit_with_header_section_fields_and_context() {
        let slack = achieved().render_slack();
        assert_eq!(slack["text"], "DeltaOne achieved: fraud-detector v7 +1 pp on accuracy");
        let blocks = slack["blocks"].as_array().unwrap();
        let types: Vec<&str> = blocks.iter().map(|b| b["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["header", "section", "section", "context"]);
        assert_eq!(blocks[0]["text"]["type"], "plain_text");
        assert_eq!(blocks[0]["text"]["text"], slack["text"]);
        let fields = blocks[2]["fields"].as_array().unwrap();
        assert!(!fields.is_empty() && fields.len() <= 10);
        assert_eq!(fields[0], json!({ "type": "mrkdwn", "text": "*Model*\nfraud-detector" }));
        assert!(fields.iter().any(|f| f["text"] == "*Delta*\n+1 pp (threshold 1 pp)"), "{fields:?}");
        // Contributor addresses are escaped for mrkdwn, the link is a Slack link.
        assert!(fields.iter().any(|f| f["text"].as_str().unwrap().contains("Ada &lt;ada@example.com&gt;")));
        let context = blocks[3]["elements"][0]["text"].as_str().unwrap();
        assert!(context.contains("<https://mlflow.example.com/#/models/fraud-detector/versions/7|Open>"), "{context}");
        assert!(context.contains("`deltaone.achieved` · info"), "{context}");

        let slack = drift(true, 0.6).render_slack();
        let blocks = slack["blocks"].as_array().unwrap();
        assert_eq!(blocks[1]["text"]["text"], "*Top features*\n• age: ks 0.0012 (drifted)\n• country: chi_square 0.31");
        assert!(blocks[3]["elements"][0]["text"].as_str().unwrap().contains("critical"));
    }

    const SCHEMA_V2_TEXT: &str = include_str!("../schemas/message.v2.schema.json");

    /// A verdict with a computed interval and two guardrails (one regressed), via the real rule.
    fn guarded_verdict() -> Verdict {
        use crate::confidence::{PairedRows, Predictions};
        use crate::evidence::{Evidence, GUARDRAILS_TAG, judge_with_evidence};
        let labels: Vec<bool> = (0..200).map(|i| i % 2 == 0).collect();
        let c: Vec<bool> = labels.iter().enumerate().map(|(i, &l)| if i % 10 == 0 { !l } else { l }).collect();
        let b: Vec<bool> = labels.iter().enumerate().map(|(i, &l)| if i % 7 == 0 { !l } else { l }).collect();
        let rows = PairedRows::new(labels, Predictions::Labels(c), Predictions::Labels(b)).unwrap();
        let versions = [
            VersionFacts::new(n(6))
                .with_tag(tags::BENCHMARK_VALUE, "0.855")
                .with_tag(tags::BENCHMARK_METRIC, "accuracy")
                .with_tag("latency_ms", "100")
                .with_tag(
                    GUARDRAILS_TAG,
                    r#"[{"metric": "latency_ms", "direction": "lower", "max_regression_pct": 10},
                        {"metric": "ece", "direction": "lower", "max_regression_pp": 1}]"#,
                ),
            VersionFacts::new(n(7)).with_metric("accuracy", 0.9).with_metric("latency_ms", 130.0),
        ];
        let evidence = Evidence { paired: Some(Ok(rows)) };
        judge_with_evidence(
            &select("fraud-detector", &versions, None),
            &Default::default(),
            &Policy::default(),
            &evidence,
        )
    }

    #[test]
    fn a_verdict_with_confidence_or_guardrails_is_a_v2_message_valid_against_the_v2_schema_only() {
        let v = guarded_verdict();
        assert_eq!(v.outcome, Outcome::MetricMissing, "ece has no value: {}", v.reason);
        let m = Message::from_verdict("id-1", "2026-05-01T12:00:00Z", &v, vec![], None, None);
        assert_eq!(m.schema, MESSAGE_SCHEMA_V2);
        let instance = serde_json::to_value(&m).unwrap();
        assert_eq!(instance["body"]["confidence"]["method"], "mcnemar_exact");
        assert_eq!(instance["body"]["guardrails"][0]["status"], "regressed");
        assert_eq!(instance["body"]["guardrails"][1]["status"], "missing");
        let v2_schema: Value = serde_json::from_str(SCHEMA_V2_TEXT).unwrap();
        jsonschema::meta::validate(&v2_schema).expect("valid against the 2020-12 meta-schema");
        let v2 = jsonschema::draft202012::new(&v2_schema).unwrap();
        let errors: Vec<String> = v2.iter_errors(&instance).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert_eq!(errors, Vec::<String>::new());
        assert!(!schema_errors(&instance).is_empty(), "a v1 validator must not accept v2 fields");
        // v1 messages are untouched and still valid v2 bodies apart from the schema name.
        assert_eq!(achieved().schema, MESSAGE_SCHEMA);
        let mut bad = instance.clone();
        bad["body"]["confidence"]["status"] = json!("guessed");
        assert!(!v2.is_valid(&bad));

        let text = m.render_text();
        assert!(text.contains("Confidence: 95 % interval ["), "{text}");
        assert!(
            text.contains("latency_ms (lower is better): 130 vs 100, regression 30 % of 10 % allowed: regressed"),
            "{text}"
        );
        let slack = m.render_slack();
        let fields = slack["blocks"][2]["fields"].as_array().unwrap();
        assert!(fields.iter().any(|f| f["text"].as_str().unwrap().starts_with("*Guardrails*")), "{fields:?}");
    }

    /// The committed samples (`samples/messages/`) are what the code renders today; regenerate them
    /// with `DELTAONE_BLESS_SAMPLES=1 cargo nextest run -p deltaone -E 'test(samples_are)'`.
    #[test]
    fn samples_are_what_the_renderings_produce() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/messages");
        let promotion = crate::promotion::Promotion {
            alias: "champion".into(),
            status: crate::promotion::PromotionStatus::NotPromoted,
            from_version: Some(n(6)),
            to_version: Some(n(6)),
            rechecked_against: vec![n(6)],
            reason:
                "champion moved to version 6 during the check; against it version 7 is metric missing: champion stays"
                    .into(),
        };
        let m = Message::from_verdict(
            "deltaone:fraud-detector:7:2026-05-01T12:00:00Z",
            "2026-05-01T12:00:00Z",
            &guarded_verdict(),
            contributors(),
            None,
            Some("https://mlflow.example.com/#/models/fraud-detector/versions/7".into()),
        )
        .with_promotion(Some(promotion));
        let rendered = [
            ("deltaone-v2.json", serde_json::to_string_pretty(&m).unwrap() + "\n"),
            ("deltaone-v2.txt", m.render_text()),
            ("deltaone-v2.slack.json", serde_json::to_string_pretty(&m.render_slack()).unwrap() + "\n"),
            ("deltaone-v2.html", m.render_html()),
        ];
        let v2_schema: Value = serde_json::from_str(SCHEMA_V2_TEXT).unwrap();
        assert!(jsonschema::draft202012::new(&v2_schema).unwrap().is_valid(&serde_json::to_value(&m).unwrap()));
        for (name, text) in rendered {
            let path = dir.join(name);
            if std::env::var_os("DELTAONE_BLESS_SAMPLES").is_some() {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &text).unwrap();
            }
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert_eq!(committed, text, "{} differs from the rendering (see this test's doc)", path.display());
        }
        let html = m.render_html();
        assert!(
            html.contains(
                "<th style=\"text-align: left; padding: 2px 12px 2px 0; vertical-align: top\">Confidence</th>"
            )
        );
        assert!(html.contains("Ada &lt;ada@example.com&gt;"), "escaped");
    }
}
