//! The answers of the query API and the CLI, built from the read model. Every field is always present
//! (absent values are `null`), decimals are exact decimal strings, and lists are newest first.
//! `schemas/openapi.json` describes exactly these shapes.

use deltaone::attestation::Contributor;
use rust_decimal::Decimal;
use serde::Serialize;

use super::{ChainCheck, CreditEvent, DriftColumn, DriftRun, MAX_LIMIT, Page, PageRequest, QueryError, ReadModel};
use crate::store::VerdictRecord;

/// One recorded verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerdictView {
    pub version: u64,
    pub outcome: String,
    pub achieved: bool,
    pub metric: Option<String>,
    pub baseline_version: Option<u64>,
    pub baseline_source: Option<String>,
    pub candidate_value: Option<Decimal>,
    pub baseline_value: Option<Decimal>,
    pub delta_pp: Option<Decimal>,
    pub threshold_pp: Decimal,
    pub reason: String,
    pub checked_at: String,
    pub run_id: Option<String>,
    pub written_back: bool,
    pub notified: bool,
    pub contributors: Vec<ContributorView>,
    /// SHA-256 of the verdict's signed statement, when attested.
    pub attestation_hash: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContributorView {
    pub id: String,
    pub name: Option<String>,
    pub share: Option<Decimal>,
}

fn enum_text<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

impl From<&VerdictRecord> for VerdictView {
    fn from(r: &VerdictRecord) -> Self {
        let v = &r.verdict;
        // Contributors are stored with the record; older records carry them only in the attestation.
        let contributors: &[Contributor] = if r.contributors.is_empty() {
            r.attestation.as_ref().map(|a| a.statement.contributors.as_slice()).unwrap_or_default()
        } else {
            &r.contributors
        };
        Self {
            version: r.version.get(),
            outcome: v.outcome.as_str().to_owned(),
            achieved: v.achieved(),
            metric: v.metric.clone(),
            baseline_version: v.baseline_version.map(|b| b.get()),
            baseline_source: v.baseline_source.as_ref().map(enum_text),
            candidate_value: v.candidate_value.map(|d| d.normalize()),
            baseline_value: v.baseline_value.map(|d| d.normalize()),
            delta_pp: v.delta_pp.map(|d| d.normalize()),
            threshold_pp: v.threshold_pp.normalize(),
            reason: v.reason.clone(),
            checked_at: r.checked_at.clone(),
            run_id: r.run_id.clone(),
            written_back: r.written_back,
            notified: r.notified,
            contributors: contributors
                .iter()
                .map(|c| ContributorView { id: c.id.clone(), name: c.name.clone(), share: c.share })
                .collect(),
            attestation_hash: r.attestation.as_ref().map(|a| a.statement.hash()),
        }
    }
}

/// `GET /models/{name}/deltaone`: the latest verdict and a page of the history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeltaoneView {
    pub model: String,
    pub latest: VerdictView,
    pub history: Vec<VerdictView>,
    pub next_cursor: Option<String>,
}

/// One version in a model's lineage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineageEntry {
    pub version: u64,
    pub outcome: String,
    pub achieved: bool,
    pub baseline_version: Option<u64>,
    pub metric: Option<String>,
    pub candidate_value: Option<Decimal>,
    pub baseline_value: Option<Decimal>,
    pub delta_pp: Option<Decimal>,
    pub checked_at: String,
    /// SHA-256 of the version's signed statement, when attested.
    pub hash: Option<String>,
    /// The hash of the model's statement before it (`null` for the first in the chain, or unattested).
    pub previous_hash: Option<String>,
    pub key_id: Option<String>,
    /// Whether the statement's signature holds (`null` when not attested).
    pub signature_valid: Option<bool>,
}

/// `GET /models/{name}/lineage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineageView {
    pub model: String,
    pub chain: ChainCheck,
    pub versions: Vec<LineageEntry>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelCredit {
    pub model: String,
    pub events: u64,
    pub credited_pp: Decimal,
}

/// `GET /contributors/{address}/impact`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImpactView {
    pub contributor: String,
    /// The sum of every credit, across models.
    pub total_credited_pp: Decimal,
    pub events_total: u64,
    pub models: Vec<ModelCredit>,
    /// A page of DeltaOne events, newest first.
    pub events: Vec<CreditEvent>,
    pub next_cursor: Option<String>,
}

/// `GET /models/{name}/drift`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftRunsView {
    pub model: String,
    pub runs: Vec<DriftRun>,
    pub next_cursor: Option<String>,
}

/// `GET /models/{name}/drift?feature=X`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureHistoryView {
    pub model: String,
    pub feature: String,
    pub history: Vec<DriftColumn>,
    pub next_cursor: Option<String>,
}

fn next_text<T>(page: &Page<T>) -> Option<String> {
    page.next.as_ref().map(|c| c.encode())
}

fn unknown_model(model: &str) -> QueryError {
    QueryError::NotFound(format!("no verdicts are recorded for model {model:?}"))
}

pub async fn deltaone(read: &dyn ReadModel, model: &str, page: &PageRequest) -> Result<DeltaoneView, QueryError> {
    let history = read.verdicts(model, page).await?;
    let latest = match (&page.cursor, history.items.first()) {
        (None, Some(first)) => first.clone(),
        (None, None) => return Err(unknown_model(model)),
        (Some(_), _) => {
            let newest = read.verdicts(model, &PageRequest { limit: 1, cursor: None }).await?;
            newest.items.into_iter().next().ok_or_else(|| unknown_model(model))?
        }
    };
    Ok(DeltaoneView {
        model: model.to_owned(),
        latest: VerdictView::from(&latest),
        history: history.items.iter().map(VerdictView::from).collect(),
        next_cursor: next_text(&history),
    })
}

pub async fn lineage(read: &dyn ReadModel, model: &str, page: &PageRequest) -> Result<LineageView, QueryError> {
    let records = read.verdicts(model, page).await?;
    if records.items.is_empty() && page.cursor.is_none() {
        return Err(unknown_model(model));
    }
    let chain = read.verify_chain(model).await?;
    let versions = records
        .items
        .iter()
        .map(|r| {
            let v = &r.verdict;
            let signed = r.attestation.as_ref();
            LineageEntry {
                version: r.version.get(),
                outcome: v.outcome.as_str().to_owned(),
                achieved: v.achieved(),
                baseline_version: v.baseline_version.map(|b| b.get()),
                metric: v.metric.clone(),
                candidate_value: v.candidate_value.map(|d| d.normalize()),
                baseline_value: v.baseline_value.map(|d| d.normalize()),
                delta_pp: v.delta_pp.map(|d| d.normalize()),
                checked_at: r.checked_at.clone(),
                hash: signed.map(|s| s.statement.hash()),
                previous_hash: signed.and_then(|s| s.statement.previous_hash.clone()),
                key_id: signed.map(|s| s.key_id.clone()),
                signature_valid: signed.map(|s| deltaone::attestation::verify(s, None).is_ok()),
            }
        })
        .collect();
    Ok(LineageView { model: model.to_owned(), chain, versions, next_cursor: next_text(&records) })
}

pub async fn impact(read: &dyn ReadModel, contributor: &str, page: &PageRequest) -> Result<ImpactView, QueryError> {
    let events = read.credits(contributor, page).await?;
    if events.items.is_empty() && page.cursor.is_none() {
        return Err(QueryError::NotFound(format!("no DeltaOne is credited to contributor {contributor:?}")));
    }
    let totals = read.credit_totals(contributor).await?;
    Ok(ImpactView {
        contributor: contributor.to_owned(),
        total_credited_pp: totals.credited_pp,
        events_total: totals.events,
        models: totals
            .by_model
            .into_iter()
            .map(|(model, (events, credited_pp))| ModelCredit { model, events, credited_pp })
            .collect(),
        next_cursor: next_text(&events),
        events: events.items,
    })
}

pub async fn drift_runs(read: &dyn ReadModel, model: &str, page: &PageRequest) -> Result<DriftRunsView, QueryError> {
    let runs = read.drift_runs(model, page).await?;
    Ok(DriftRunsView { model: model.to_owned(), next_cursor: next_text(&runs), runs: runs.items })
}

pub async fn feature_history(
    read: &dyn ReadModel,
    model: &str,
    feature: &str,
    page: &PageRequest,
) -> Result<FeatureHistoryView, QueryError> {
    let history = read.drift_history(model, feature, page).await?;
    Ok(FeatureHistoryView {
        model: model.to_owned(),
        feature: feature.to_owned(),
        next_cursor: next_text(&history),
        history: history.items,
    })
}

/// Every page of a paged read, for the CLI's `--all`; stops after `max_items`.
pub async fn all_verdicts(
    read: &dyn ReadModel,
    model: &str,
    max_items: usize,
) -> Result<Vec<VerdictRecord>, QueryError> {
    let mut out = Vec::new();
    let mut page = PageRequest { limit: MAX_LIMIT.min(max_items.max(1)), cursor: None };
    loop {
        let got = read.verdicts(model, &page).await?;
        out.extend(got.items);
        match got.next {
            Some(next) if out.len() < max_items => page.cursor = Some(next),
            _ => break,
        }
    }
    out.truncate(max_items);
    Ok(out)
}
