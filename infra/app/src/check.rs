//! A DeltaOne check end to end: read the registry, apply the rule, record the verdict once, write
//! the result back to the registry.
//!
//! Order matters for "exactly once, nothing lost": the verdict is first recorded with a conditional
//! write (one record per model and version, however many checks race), then written back to the
//! registry *from the stored record*, then marked written back. A check that finds a record whose
//! write-back never completed (a crash in between) finishes it with the stored values, so tags
//! always agree with the record.

use std::sync::Arc;

use std::collections::BTreeMap;

use deltaone::attestation::{AttestationError, Contributor, Statement, sign};
use deltaone::evidence::judge_with_evidence;
use deltaone::promotion::{Promotion, PromotionStatus, Step as PromotionStep, next_step};
use deltaone::{BaselineSource, Policy, Tags, Verdict, VersionFacts, VersionNumber, select_with_baseline};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::credits::{CreditLedger, CreditsError};
use crate::notify::{Notifier, NotifyError};
use crate::objects::ObjectError;
use crate::paired::PairedPredictions;
use crate::promotion::{LockError, PromotionLock};
use crate::registry::{Registry, RegistryError, WriteBack};
use crate::store::{Chained, Recorded, Step, StoreError, VerdictRecord, VerdictStore};

/// What a check was asked to do.
#[derive(Debug, Clone)]
pub struct CheckRequest {
    pub model: String,
    /// The candidate; the newest version when `None`.
    pub version: Option<VersionNumber>,
    /// Decide only: no record, no write-back.
    pub dry_run: bool,
}

/// What a verdict rests on beyond the registry: who contributed, and hashes of the inputs (e.g. the
/// uploaded artifact). Goes into the verdict's attestation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    pub contributors: Vec<Contributor>,
    /// SHA-256 (hex) of each input by name, e.g. `"artifact"`.
    pub input_hashes: BTreeMap<String, String>,
}

/// What happened to the verdict after it was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stored {
    /// `--dry-run`: nothing recorded or written.
    DryRun,
    /// No candidate version: there is nothing to key a record on.
    NotStored,
    /// This check recorded the verdict.
    New,
    /// An earlier check of the same version had recorded it; that verdict is reported.
    Existing,
    /// An earlier verdict that compared nothing (a metric or baseline value was missing, say) was
    /// replaced by this one, now that the registry says more. Comparisons are never replaced.
    Replaced,
}

/// The outcome of one check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    #[serde(flatten)]
    pub verdict: Verdict,
    pub checked_at: String,
    pub stored: Stored,
    /// Whether this check wrote tags and metrics to the registry.
    pub wrote_back: bool,
    /// Whether this check notified subscribers.
    pub notified: bool,
    /// What the check did with the champion alias (the recorded decision), when one is configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promotion: Option<Promotion>,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Notify(#[from] NotifyError),
    #[error(transparent)]
    Credits(#[from] CreditsError),
    #[error("cannot promote: {0}")]
    Promotion(#[from] LockError),
    #[error("cannot read predictions for the confidence interval: {0}")]
    Predictions(#[from] ObjectError),
    #[error("cannot attest the verdict: {0}")]
    Attestation(#[from] AttestationError),
    #[error(
        "no verdict store is configured: set DELTAONE_VERDICT_TABLE (DynamoDB) or DELTAONE_STORE_DIR (local files), or check with --dry-run"
    )]
    NoStore,
}

impl CheckError {
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Registry(e) => e.is_retryable(),
            Self::Store(e) => e.is_retryable(),
            Self::Notify(e) => e.is_retryable(),
            Self::Credits(e) => e.is_retryable(),
            Self::Predictions(e) => e.is_retryable(),
            Self::Promotion(e) => e.retryable,
            Self::NoStore | Self::Attestation(_) => false,
        }
    }
}

/// Runs checks against one registry and (optionally) one store. Cheap to clone.
#[derive(Clone)]
pub struct Checker {
    registry: Arc<dyn Registry>,
    store: Option<Arc<dyn VerdictStore>>,
    notifier: Option<Arc<dyn Notifier>>,
    credits: Option<Arc<dyn CreditLedger>>,
    signing_key: Option<Arc<ed25519_dalek::SigningKey>>,
    predictions: Option<Arc<dyn PairedPredictions>>,
    champion: Option<Champion>,
    policy: Policy,
    /// How long a recorded verdict may wait for its write-back and notice before another check
    /// completes them ([`WRITE_BACK_TAKEOVER`]).
    takeover: std::time::Duration,
}

/// The champion alias a checker compares with and promotes.
#[derive(Clone)]
struct Champion {
    alias: String,
    lock: Arc<dyn PromotionLock>,
}

/// How often a promotion re-checks against a champion that moved before giving up (retryable).
const PROMOTION_ROUNDS: usize = 4;

fn version_text(v: Option<VersionNumber>) -> String {
    v.map(|v| format!("version {v}")).unwrap_or_else(|| "nowhere".to_owned())
}

/// How often a chained write retries when other records join the chain first.
const CHAIN_ATTEMPTS: usize = 16;

/// Records an attested verdict: its statement links to the model's chain head, and the record and
/// the new head are written in one atomic step, retried while other records join the chain first.
/// An incomplete earlier verdict is replaced; a comparison already recorded is reported as it is.
async fn record_attested(
    store: &dyn VerdictStore,
    mut record: VerdictRecord,
    statement: Statement,
    key: &ed25519_dalek::SigningKey,
) -> Result<(VerdictRecord, Stored), CheckError> {
    let mut replacing: Option<String> = None;
    for _ in 0..CHAIN_ATTEMPTS {
        let head = store.chain_head(&record.model).await?;
        record.attestation = Some(sign(Statement { previous_hash: head, ..statement.clone() }, key));
        match store.write_chained(&record, replacing.as_deref()).await? {
            Chained::Written => {
                let stored = if replacing.is_some() { Stored::Replaced } else { Stored::New };
                return Ok((record, stored));
            }
            Chained::HeadMoved => continue,
            Chained::SlotTaken => {
                let Some(existing) = store.get(&record.model, record.version).await? else { continue };
                if !existing.verdict.outcome.is_comparison() && existing.verdict != record.verdict {
                    replacing = Some(existing.checked_at.clone());
                    continue;
                }
                return Ok((existing, Stored::Existing));
            }
        }
    }
    Err(StoreError::Backend {
        store: store.describe(),
        message: format!("the attestation chain of {} kept moving; try again", record.model),
        retryable: true,
    }
    .into())
}

/// How long a recorded verdict may wait for its write-back before another check completes it.
pub const WRITE_BACK_TAKEOVER: std::time::Duration = std::time::Duration::from_secs(60);

/// Records a verdict without an attestation. A verdict that compared nothing is replaced by a
/// different one (its facts may have arrived since); if another check replaced it first, theirs stands.
async fn record_unattested(
    store: &dyn VerdictStore,
    record: VerdictRecord,
) -> Result<(VerdictRecord, Stored), CheckError> {
    Ok(match store.record(&record).await? {
        Recorded::New => (record, Stored::New),
        Recorded::Existing(old) if !old.verdict.outcome.is_comparison() && old.verdict != record.verdict => {
            if store.replace(&record, &old.checked_at).await? {
                (record, Stored::Replaced)
            } else {
                let current = store.get(&record.model, record.version).await?;
                (current.unwrap_or(*old), Stored::Existing)
            }
        }
        Recorded::Existing(old) => (*old, Stored::Existing),
    })
}

impl CheckReport {
    /// A report of a verdict that was not recorded (a dry run, or nothing to record).
    fn unrecorded(verdict: Verdict, checked_at: String, stored: Stored) -> Self {
        Self { verdict, checked_at, stored, wrote_back: false, notified: false, promotion: None }
    }
}

fn is_stale(checked_at: &str, takeover: std::time::Duration) -> bool {
    match OffsetDateTime::parse(checked_at, &Rfc3339) {
        Ok(at) => OffsetDateTime::now_utc() - at > takeover,
        Err(_) => true,
    }
}

pub fn now_rfc3339() -> String {
    OffsetDateTime::now_utc().format(&Rfc3339).expect("UTC timestamps always format")
}

impl Checker {
    pub fn new(registry: Arc<dyn Registry>, store: Option<Arc<dyn VerdictStore>>, policy: Policy) -> Self {
        Self {
            registry,
            store,
            notifier: None,
            credits: None,
            signing_key: None,
            predictions: None,
            champion: None,
            policy,
            takeover: WRITE_BACK_TAKEOVER,
        }
    }

    /// Every recorded comparison verdict carries an Ed25519-signed statement of itself.
    pub fn with_signing_key(mut self, key: Arc<ed25519_dalek::SigningKey>) -> Self {
        self.signing_key = Some(key);
        self
    }

    /// Versions' predictions files (their `predictions_uri` tags) are read through this reader for
    /// the delta's confidence interval. Without it only local paths are read.
    pub fn with_predictions(mut self, predictions: Arc<dyn PairedPredictions>) -> Self {
        self.predictions = Some(predictions);
        self
    }

    /// Another takeover time than [`WRITE_BACK_TAKEOVER`]: keep it below the time a failed delivery
    /// takes to come back (the queue's visibility timeout), so that the redelivery completes it.
    pub fn with_write_back_takeover(mut self, takeover: std::time::Duration) -> Self {
        self.takeover = takeover;
        self
    }

    /// Subscribers are notified of each recorded verdict, once.
    pub fn with_notifier(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// Contributors of each recorded DeltaOne are credited (idempotently) before the write-back.
    pub fn with_credits(mut self, credits: Arc<dyn CreditLedger>) -> Self {
        self.credits = Some(credits);
        self
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The champion alias this checker compares with and promotes, if any.
    pub fn champion_alias(&self) -> Option<&str> {
        self.champion.as_ref().map(|c| c.alias.as_str())
    }

    pub fn registry(&self) -> &Arc<dyn Registry> {
        &self.registry
    }

    pub fn store(&self) -> Option<&Arc<dyn VerdictStore>> {
        self.store.as_ref()
    }

    /// Decides the verdict without side effects.
    pub async fn decide(&self, model: &str, version: Option<VersionNumber>) -> Result<Verdict, CheckError> {
        Ok(self.decide_with_run(model, version).await?.0)
    }

    /// The check uses the version behind `alias` as its baseline and, on "achieved", moves the
    /// alias to the candidate, serialised per model by `lock`.
    pub fn with_champion(mut self, alias: impl Into<String>, lock: Arc<dyn PromotionLock>) -> Self {
        self.champion = Some(Champion { alias: alias.into(), lock });
        self
    }

    /// The verdict and the candidate's run id (and, with a champion alias, the version behind it).
    async fn decide_with_run(
        &self,
        model: &str,
        version: Option<VersionNumber>,
    ) -> Result<(Verdict, Option<String>, Option<VersionNumber>), CheckError> {
        let champion = match &self.champion {
            Some(c) => self.registry.alias_version(model, &c.alias).await?,
            None => None,
        };
        let at_check = champion.as_ref().and_then(|c| c.version);
        let (verdict, run_id) = self.decide_against(model, version, champion).await?;
        Ok((verdict, run_id, at_check))
    }

    /// The verdict against `champion` when given (the version behind the alias, with its metrics),
    /// else against the rule's own baseline.
    async fn decide_against(
        &self,
        model: &str,
        version: Option<VersionNumber>,
        champion: Option<VersionFacts>,
    ) -> Result<(Verdict, Option<String>), CheckError> {
        let mut versions = self.registry.versions_for_check(model, version).await?;
        let champion_version = champion.as_ref().and_then(|c| c.version);
        if let Some(champion) = champion {
            versions.retain(|v| v.version != champion.version);
            versions.push(champion);
        }
        let mut selection = select_with_baseline(model, &versions, version, champion_version);

        let fetch_candidate =
            selection.candidate.as_ref().filter(|c| c.run_metrics.is_none()).and_then(|c| c.run_id.clone());
        let fetch_baseline = match &selection.baseline {
            Some((b, BaselineSource::FirstVersion | BaselineSource::Alias)) if b.run_metrics.is_none() => {
                b.run_id.clone()
            }
            _ => None,
        };
        let (candidate_metrics, baseline_metrics) =
            futures::try_join!(self.metrics_of(fetch_candidate), self.metrics_of(fetch_baseline))?;
        if let Some(c) = selection.candidate.as_mut().filter(|c| c.run_metrics.is_none()) {
            c.run_metrics = candidate_metrics;
        }
        if let Some((b, _)) = selection.baseline.as_mut().filter(|(b, _)| b.run_metrics.is_none()) {
            b.run_metrics = baseline_metrics;
        }
        let model_tags =
            if selection.needs_model_tags() { self.registry.model_tags(model).await? } else { Tags::new() };
        let run_id = selection.candidate.as_ref().and_then(|c| c.run_id.clone());
        let paired = match (&selection.candidate, &selection.baseline) {
            (Some(candidate), Some((baseline, _))) => match &self.predictions {
                Some(predictions) => predictions.pair(candidate, baseline).await?,
                None => None,
            },
            _ => None,
        };
        let evidence = deltaone::evidence::Evidence { paired };
        Ok((judge_with_evidence(&selection, &model_tags, &self.policy, &evidence), run_id))
    }

    /// Moves the champion alias to an achieved candidate, one promotion per model at a time: under
    /// the lock the alias is re-read; if it moved since the check began, the candidate is checked
    /// again against the new champion first (and the verdict becomes that check's).
    async fn promote(
        &self,
        champion: &Champion,
        model: &str,
        mut verdict: Verdict,
        mut at_check: Option<VersionNumber>,
    ) -> Result<(Verdict, Promotion), CheckError> {
        let candidate = verdict.candidate_version.expect("an achieved verdict has a candidate");
        let holder = format!("{}:{candidate}:{}", std::process::id(), OffsetDateTime::now_utc().unix_timestamp_nanos());
        let alias = champion.alias.clone();
        let mut rechecked = Vec::new();
        let done = |status, from, to, rechecked: Vec<VersionNumber>, reason: String| Promotion {
            alias: alias.clone(),
            status,
            from_version: from,
            to_version: to,
            rechecked_against: rechecked,
            reason,
        };
        for _ in 0..PROMOTION_ROUNDS {
            crate::promotion::acquire(champion.lock.as_ref(), model, &holder).await?;
            let step = async {
                let now = self.registry.alias_version(model, &alias).await?.and_then(|f| f.version);
                let step = next_step(candidate, at_check, now);
                if step == PromotionStep::Move {
                    self.registry.set_alias(model, &alias, candidate).await?;
                }
                Ok::<_, CheckError>((step, now))
            }
            .await;
            champion.lock.release(model, &holder).await?;
            let (step, now) = step?;
            match step {
                PromotionStep::Move => {
                    let reason = format!("{alias} moved from {} to version {candidate}", version_text(now));
                    return Ok((verdict, done(PromotionStatus::Promoted, now, Some(candidate), rechecked, reason)));
                }
                PromotionStep::AlreadyThere => {
                    let reason = format!("{alias} already points at version {candidate}");
                    return Ok((verdict, done(PromotionStatus::AlreadyChampion, now, now, rechecked, reason)));
                }
                PromotionStep::Recheck(new) => {
                    tracing::info!(model, candidate = %candidate, champion = %new, "champion changed during the check; checking again");
                    rechecked.push(new);
                    let facts = self.registry.alias_version(model, &alias).await?;
                    at_check = facts.as_ref().and_then(|f| f.version);
                    verdict = self.decide_against(model, Some(candidate), facts).await?.0;
                    if !verdict.achieved() {
                        let reason = format!(
                            "{alias} moved to version {new} during the check; against it version {candidate} is {}: {alias} stays",
                            verdict.outcome.as_str().replace('_', " ")
                        );
                        return Ok((
                            verdict,
                            done(PromotionStatus::NotPromoted, at_check, at_check, rechecked, reason),
                        ));
                    }
                }
            }
        }
        Err(CheckError::Promotion(LockError {
            table: String::new(),
            message: format!("the {alias} alias of {model} kept moving during {PROMOTION_ROUNDS} re-checks; try again"),
            retryable: true,
        }))
    }

    async fn metrics_of(&self, run_id: Option<String>) -> Result<Option<deltaone::Metrics>, CheckError> {
        let Some(run_id) = run_id else { return Ok(None) };
        match self.registry.run_metrics(&run_id).await {
            Ok(metrics) => Ok(Some(metrics)),
            // A deleted run: the rule falls back to version tags and says so if those are missing too.
            Err(RegistryError::NotFound(_)) => {
                tracing::warn!(run_id, "the version's run no longer exists");
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Decides, records once, and writes back.
    pub async fn check(&self, request: &CheckRequest) -> Result<CheckReport, CheckError> {
        self.check_with_evidence(request, Evidence::default()).await
    }

    /// [`Checker::check`], with evidence for the verdict's attestation.
    pub async fn check_with_evidence(
        &self,
        request: &CheckRequest,
        evidence: Evidence,
    ) -> Result<CheckReport, CheckError> {
        let store = match (&self.store, request.dry_run) {
            (_, true) => None,
            (Some(store), false) => Some(store),
            (None, false) => return Err(CheckError::NoStore),
        };
        let (mut verdict, run_id, at_check) = self.decide_with_run(&request.model, request.version).await?;
        let mut promotion = None;
        if let (Some(champion), Some(_), true) = (&self.champion, store, verdict.achieved()) {
            let (decided, promoted) = self.promote(champion, &request.model, verdict, at_check).await?;
            verdict = decided;
            promotion = Some(promoted);
        }
        let checked_at = now_rfc3339();
        let Some(store) = store else {
            return Ok(CheckReport::unrecorded(verdict, checked_at, Stored::DryRun));
        };
        let Some(version) = verdict.candidate_version else {
            return Ok(CheckReport::unrecorded(verdict, checked_at, Stored::NotStored));
        };
        let contributors = evidence.contributors.clone();
        let statement = self.statement(&verdict, &checked_at, evidence, promotion.as_ref())?;
        let record = VerdictRecord {
            model: request.model.clone(),
            version,
            checked_at,
            run_id,
            written_back: !verdict.outcome.is_comparison(),
            notified: false,
            attestation: None,
            contributors,
            promotion,
            verdict,
        };
        let (record, stored) = if let Some((key, statement)) = statement {
            record_attested(store.as_ref(), record, statement, &key).await?
        } else {
            record_unattested(store.as_ref(), record).await?
        };
        // The check that recorded the verdict finishes its follow-up steps. Another check finding
        // them unfinished takes over only once the record is stale: its writer has most likely died.
        let owns = matches!(stored, Stored::New | Stored::Replaced)
            || (stored == Stored::Existing && is_stale(&record.checked_at, self.takeover));
        let (wrote_back, notified) = if owns { self.follow_up(store.as_ref(), &record).await? } else { (false, false) };
        tracing::info!(
            model = %record.model, version = %record.version, outcome = %record.verdict.outcome,
            stored = ?stored, wrote_back, notified, "DeltaOne check"
        );
        Ok(CheckReport {
            verdict: record.verdict,
            checked_at: record.checked_at,
            stored,
            wrote_back,
            notified,
            promotion: record.promotion,
        })
    }

    /// The statement to sign, when a key is configured and the verdict is a comparison: comparisons
    /// are final, so they are what gets attested (and chained).
    fn statement(
        &self,
        verdict: &Verdict,
        checked_at: &str,
        evidence: Evidence,
        promotion: Option<&Promotion>,
    ) -> Result<Option<(Arc<ed25519_dalek::SigningKey>, Statement)>, CheckError> {
        let (Some(key), true) = (&self.signing_key, verdict.outcome.is_comparison()) else {
            return Ok(None);
        };
        let statement = Statement::from_verdict(
            verdict,
            checked_at.to_owned(),
            evidence.contributors,
            evidence.input_hashes,
            None,
        )?;
        Ok(Some((key.clone(), Statement { promotion: promotion.cloned(), ..statement })))
    }

    /// The steps after recording, for the check that owns them: credits, the write-back and the
    /// notice, each unless already done. Returns whether it wrote back and whether it notified.
    async fn follow_up(&self, store: &dyn VerdictStore, record: &VerdictRecord) -> Result<(bool, bool), CheckError> {
        let wrote_back = !record.written_back;
        // Credits go first: until the write-back is marked done, a later check redoes both, and a
        // credit already written is left as it is (conditional put), so each is written once.
        if let (true, Some(credits)) = (wrote_back, &self.credits) {
            credits.credit(record).await?;
        }
        if wrote_back {
            self.write_back(record).await?;
            store.mark(&record.model, record.version, Step::WrittenBack).await?;
        }
        let notified = !record.notified && self.notifier.is_some();
        if let (true, Some(notifier)) = (notified, &self.notifier) {
            notifier.publish(&crate::notify::notification(&crate::notify::verdict_message(record))).await?;
            store.mark(&record.model, record.version, Step::Notified).await?;
        }
        Ok((wrote_back, notified))
    }

    async fn write_back(&self, record: &VerdictRecord) -> Result<(), CheckError> {
        let verdict = &record.verdict;
        let (Some(delta), Some(baseline)) = (verdict.delta_pp, verdict.baseline_version) else {
            return Ok(());
        };
        let write = WriteBack {
            model: record.model.clone(),
            version: record.version,
            run_id: record.run_id.clone(),
            achieved: verdict.achieved(),
            delta_pp: delta.normalize().to_string(),
            baseline_version: baseline,
            checked_at: record.checked_at.clone(),
        };
        self.registry.write_back(&write).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::SnapshotRegistry;
    use crate::registry::snapshot::SAMPLE_REGISTRY;
    use crate::store::file::FileVerdictStore;
    use deltaone::Outcome;

    fn setup() -> (Arc<SnapshotRegistry>, Arc<FileVerdictStore>, Checker, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let registry = Arc::new(SnapshotRegistry::from_json(SAMPLE_REGISTRY).unwrap());
        let store = Arc::new(FileVerdictStore::new(dir.path()));
        let checker = Checker::new(registry.clone(), Some(store.clone()), Policy::default());
        (registry, store, checker, dir)
    }

    fn request(model: &str) -> CheckRequest {
        CheckRequest { model: model.into(), version: None, dry_run: false }
    }

    #[tokio::test]
    async fn first_check_records_and_writes_back_a_repeat_changes_nothing() {
        let (registry, store, checker, _dir) = setup();
        let first = checker.check(&request("fraud-detector")).await.unwrap();
        assert_eq!((first.stored, first.wrote_back), (Stored::New, true));
        let second = checker.check(&request("fraud-detector")).await.unwrap();
        assert_eq!((second.stored, second.wrote_back), (Stored::Existing, false));
        assert_eq!(second.checked_at, first.checked_at);
        assert_eq!(registry.written().len(), 1);
        let record = store.get("fraud-detector", VersionNumber::new(3).unwrap()).await.unwrap().unwrap();
        assert!(record.written_back);
        assert_eq!(record.run_id.as_deref(), Some("frauddetecto00000000000000000003"));
    }

    #[tokio::test]
    async fn an_unfinished_write_back_is_completed_once_stale_and_left_alone_while_fresh() {
        let (registry, store, checker, _dir) = setup();
        let verdict = checker.decide("fraud-detector", None).await.unwrap();
        let version = verdict.candidate_version.unwrap();
        let mut record = VerdictRecord {
            model: "fraud-detector".into(),
            version,
            checked_at: now_rfc3339(),
            run_id: None,
            verdict,
            written_back: false,
            notified: false,
            attestation: None,
            contributors: Vec::new(),
            promotion: None,
        };
        // Fresh: another check is presumably writing back right now.
        store.record(&record).await.unwrap();
        let report = checker.check(&request("fraud-detector")).await.unwrap();
        assert_eq!((report.stored, report.wrote_back), (Stored::Existing, false));
        assert!(registry.written().is_empty());

        // Stale: the writer died; this check finishes the job with the stored values.
        let dir2 = tempfile::tempdir().unwrap();
        let store2 = Arc::new(FileVerdictStore::new(dir2.path()));
        record.checked_at = "2020-01-01T00:00:00Z".into();
        store2.record(&record).await.unwrap();
        let checker2 = Checker::new(registry.clone(), Some(store2.clone()), Policy::default());
        let report = checker2.check(&request("fraud-detector")).await.unwrap();
        assert!(report.wrote_back);
        assert_eq!(registry.written()[0].checked_at, "2020-01-01T00:00:00Z");
        assert!(store2.get("fraud-detector", version).await.unwrap().unwrap().written_back);
    }

    #[tokio::test]
    async fn comparison_verdicts_carry_a_signed_statement_with_the_evidence() {
        let (_registry, store, checker, _dir) = setup();
        let key = Arc::new(deltaone::attestation::signing_key_from_seed(&[7; 32]).unwrap());
        let checker = checker.with_signing_key(key.clone());
        let evidence = Evidence {
            contributors: vec![Contributor::new("ada")],
            input_hashes: BTreeMap::from([("artifact".to_owned(), "ab".repeat(32))]),
        };
        checker.check_with_evidence(&request("fraud-detector"), evidence).await.unwrap();
        let record = store.get("fraud-detector", VersionNumber::new(3).unwrap()).await.unwrap().unwrap();
        let signed = record.attestation.expect("attested");
        deltaone::attestation::verify(&signed, Some(&key.verifying_key())).unwrap();
        assert_eq!(signed.statement.delta_pp, record.verdict.delta_pp);
        assert_eq!(signed.statement.checked_at, record.checked_at);
        assert_eq!(signed.statement.contributors, vec![Contributor::new("ada")]);
        assert_eq!(signed.statement.input_hashes["artifact"], "ab".repeat(32));

        // A verdict that compared nothing is not attested.
        checker.check(&request("recsys-ranker")).await.unwrap();
        let record = store.get("recsys-ranker", VersionNumber::new(1).unwrap()).await.unwrap().unwrap();
        assert!(record.attestation.is_none());
    }

    /// Records which (model, version) were credited, and with which contributors.
    #[derive(Default)]
    struct Ledger(std::sync::Mutex<Vec<(String, u64, Vec<Contributor>)>>);

    #[async_trait::async_trait]
    impl CreditLedger for Ledger {
        async fn credit(&self, record: &VerdictRecord) -> Result<usize, CreditsError> {
            let credits = crate::credits::credits_for(record);
            self.0.lock().unwrap().push((record.model.clone(), record.version.get(), record.contributors.clone()));
            Ok(credits.len())
        }
    }

    #[tokio::test]
    async fn contributors_are_stored_and_credited_once_per_achieved_verdict() {
        let (_registry, store, checker, _dir) = setup();
        let ledger = Arc::new(Ledger::default());
        let checker = checker.with_credits(ledger.clone());
        let models =
            ["fraud-detector", "churn-predictor", "recsys-ranker", "credit-risk", "search-ctr", "pricing-model"];
        let evidence = || Evidence { contributors: vec![Contributor::new("ada")], ..Evidence::default() };
        let mut achieved = Vec::new();
        for model in models {
            let report = checker.check_with_evidence(&request(model), evidence()).await.unwrap();
            if report.verdict.achieved() {
                achieved.push((model.to_owned(), report.verdict.candidate_version.unwrap().get()));
            }
            if let Some(v) = report.verdict.candidate_version {
                let record = store.get(model, v).await.unwrap().unwrap();
                assert_eq!(record.contributors, vec![Contributor::new("ada")], "{model}: stored without a key");
            }
        }
        assert!(!achieved.is_empty(), "the samples hold an achieved verdict");
        let credited: Vec<(String, u64)> = ledger.0.lock().unwrap().iter().map(|(m, v, _)| (m.clone(), *v)).collect();
        // Comparisons are credited (the ledger ignores the not-achieved ones); nothing else is.
        assert!(achieved.iter().all(|a| credited.contains(a)), "{credited:?}");
        // A repeated check records nothing new and credits nothing again.
        for model in models {
            checker.check_with_evidence(&request(model), evidence()).await.unwrap();
        }
        assert_eq!(ledger.0.lock().unwrap().len(), credited.len());
    }

    #[tokio::test]
    async fn dry_run_needs_no_store_and_a_real_run_does() {
        let registry = Arc::new(SnapshotRegistry::from_json(SAMPLE_REGISTRY).unwrap());
        let checker = Checker::new(registry.clone(), None, Policy::default());
        let dry = CheckRequest { dry_run: true, ..request("churn-predictor") };
        let report = checker.check(&dry).await.unwrap();
        assert_eq!((report.verdict.outcome, report.stored), (Outcome::NotAchieved, Stored::DryRun));
        assert!(matches!(checker.check(&request("churn-predictor")).await, Err(CheckError::NoStore)));
        assert!(registry.written().is_empty());
    }

    #[tokio::test]
    async fn verdicts_without_a_comparison_are_recorded_but_not_written_back() {
        let (registry, store, checker, _dir) = setup();
        let report = checker.check(&request("recsys-ranker")).await.unwrap();
        assert_eq!(
            (report.verdict.outcome, report.stored, report.wrote_back),
            (Outcome::NoBaseline, Stored::New, false)
        );
        assert!(registry.written().is_empty());
        assert!(store.get("recsys-ranker", VersionNumber::new(1).unwrap()).await.unwrap().unwrap().written_back);
    }
}
