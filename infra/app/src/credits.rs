//! Contributor credits: who gets how many percentage points of each recorded DeltaOne.
//!
//! DynamoDB table (`DELTAONE_CREDITS_TABLE`): partition key `contributor` (S), sort key `event` (S) =
//! `{checked_at}#{model}#{version}`, so "a contributor's DeltaOne events, newest first" is one Query with
//! `ScanIndexForward = false`. One item per contributor of each achieved verdict, written with
//! `attribute_not_exists(contributor)`: crediting the same record again (a retried or concurrent check)
//! changes nothing, so every version is credited at most once.
//!
//! **Credit rule.** `credited_pp = delta_pp × share` when the contributor names a share; contributors
//! without a share split what the named shares leave (never below zero) equally; when nobody names a
//! share, that is `delta_pp / n`. Values are exact decimals (a division is rounded to 12 places).

use async_trait::async_trait;
use deltaone::attestation::Contributor;
use rust_decimal::Decimal;

use crate::store::VerdictRecord;

/// Decimal places of a credit that came from a division.
const CREDIT_SCALE: u32 = 12;

#[derive(Debug, thiserror::Error)]
pub enum CreditsError {
    #[error("credits table {table}: {message}")]
    Backend { table: String, message: String, retryable: bool },
}

impl CreditsError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Backend { retryable: true, .. })
    }
}

/// One contributor's credit for one recorded DeltaOne.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    pub contributor: String,
    pub name: Option<String>,
    pub model: String,
    pub version: u64,
    pub metric: String,
    pub delta_pp: Decimal,
    pub share: Option<Decimal>,
    pub credited_pp: Decimal,
    pub checked_at: String,
}

impl Credit {
    /// The sort key: newest first within a contributor when read backwards.
    pub fn event(&self) -> String {
        format!("{}#{}#{}", self.checked_at, self.model, self.version)
    }
}

/// The credits an achieved record earns its contributors; none for any other verdict.
pub fn credits_for(record: &VerdictRecord) -> Vec<Credit> {
    let verdict = &record.verdict;
    let (true, Some(delta)) = (verdict.achieved(), verdict.delta_pp) else { return Vec::new() };
    // One credit per contributor id: a repeated id keeps its first entry.
    let mut seen = std::collections::HashSet::new();
    let contributors: Vec<&Contributor> =
        record.contributors.iter().filter(|c| !c.id.trim().is_empty() && seen.insert(c.id.as_str())).collect();
    if contributors.is_empty() {
        return Vec::new();
    }
    let named: Decimal = contributors.iter().filter_map(|c| c.share).sum();
    let unnamed = contributors.iter().filter(|c| c.share.is_none()).count();
    let rest_each = if unnamed == 0 {
        Decimal::ZERO
    } else {
        ((Decimal::ONE - named).max(Decimal::ZERO) / Decimal::from(unnamed as u64)).round_dp(CREDIT_SCALE)
    };
    contributors
        .into_iter()
        .map(|c| {
            let share = c.share.unwrap_or(rest_each);
            Credit {
                contributor: c.id.clone(),
                name: c.name.clone(),
                model: record.model.clone(),
                version: record.version.get(),
                metric: verdict.metric.clone().unwrap_or_default(),
                delta_pp: delta.normalize(),
                share: c.share.map(|s| s.normalize()),
                credited_pp: (delta * share).round_dp(CREDIT_SCALE).normalize(),
                checked_at: record.checked_at.clone(),
            }
        })
        .collect()
}

/// Where credits are written. Crediting is idempotent: the same record credited twice changes nothing.
#[async_trait]
pub trait CreditLedger: Send + Sync {
    /// Credits each contributor of `record` (if it is an achieved verdict); returns how many credits
    /// this call wrote (0 when all existed already).
    async fn credit(&self, record: &VerdictRecord) -> Result<usize, CreditsError>;
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use deltaone::{Policy, VersionFacts, VersionNumber, judge, select};

    fn achieved(contributors: Vec<Contributor>) -> VerdictRecord {
        let v = |n| VersionNumber::new(n).unwrap();
        let versions = [
            VersionFacts::new(v(1)).with_tag("benchmark_value", "0.87").with_tag("benchmark_metric", "accuracy"),
            VersionFacts::new(v(2)).with_metric("accuracy", 0.885),
        ];
        let verdict = judge(&select("fraud", &versions, None), &Default::default(), &Policy::default());
        assert!(verdict.achieved());
        VerdictRecord {
            model: "fraud".into(),
            version: v(2),
            checked_at: "2026-11-23T10:00:00Z".into(),
            run_id: None,
            verdict,
            written_back: false,
            notified: false,
            attestation: None,
            contributors,
            promotion: None,
        }
    }

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn without_shares_the_delta_is_split_equally_in_exact_decimal() {
        let credits = credits_for(&achieved(vec![Contributor::new("ada"), Contributor::new("bob")]));
        assert_eq!(credits.len(), 2);
        assert!(credits.iter().all(|c| c.delta_pp == dec("1.5") && c.credited_pp == dec("0.75")));
        assert_eq!(credits[0].event(), "2026-11-23T10:00:00Z#fraud#2");
        assert_eq!(credits[0].metric, "accuracy");
    }

    #[test]
    fn shares_weight_the_credit_and_the_rest_goes_to_those_without_one() {
        let record = achieved(vec![
            Contributor::new("ada").with_share(dec("0.6")),
            Contributor::new("bob"),
            Contributor::new("cy"),
            Contributor::new("ada"),
        ]);
        let credits = credits_for(&record);
        let by: HashMap<_, _> = credits.iter().map(|c| (c.contributor.as_str(), c.credited_pp)).collect();
        assert_eq!(by.len(), 3, "a repeated id is credited once");
        assert_eq!(by["ada"], dec("0.9"));
        assert_eq!(by["bob"], dec("0.3"));
        assert_eq!(by["cy"], dec("0.3"));
        assert_eq!(credits[0].share, Some(dec("0.6")));
        assert_eq!(credits[1].share, None);
    }

    #[test]
    fn only_achieved_verdicts_with_contributors_earn_credits() {
        assert!(credits_for(&achieved(Vec::new())).is_empty());
        let mut record = achieved(vec![Contributor::new("ada")]);
        record.verdict.outcome = deltaone::Outcome::NotAchieved;
        assert!(credits_for(&record).is_empty());
    }
}
