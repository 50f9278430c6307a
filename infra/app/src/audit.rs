//! Auditing a model's attestation chain: every attested verdict links to the one recorded before it,
//! and the store's chain head names the newest. A removed, edited or re-ordered record breaks it.

use std::collections::HashMap;

use deltaone::attestation::{SignedStatement, verify_chain, verify_chain_trusted};
use ed25519_dalek::VerifyingKey;

use crate::store::{StoreError, VerdictStore};

/// A chain that holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub records: usize,
    pub attested: usize,
    pub head: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the chain forks: versions {0} and {1} both follow the same statement")]
    Fork(String, String),
    #[error(
        "attested versions {0} are not reachable from the start of the chain: a record before them was removed or edited"
    )]
    Unlinked(String),
    #[error("the chain does not verify: {0}")]
    Broken(String),
    #[error("the chain head names {head}, but the newest linked statement is {last}: a record was removed or edited")]
    HeadMismatch { head: String, last: String },
}

/// Checks `model`'s chain in `store`; with `trusted`, every statement must be signed by that key.
pub async fn audit(
    store: &dyn VerdictStore,
    model: &str,
    trusted: Option<&VerifyingKey>,
) -> Result<AuditReport, AuditError> {
    let records = store.history(model, usize::MAX).await?;
    let attested: Vec<SignedStatement> = records.iter().filter_map(|r| r.attestation.clone()).collect();
    let mut by_previous: HashMap<Option<String>, &SignedStatement> = HashMap::new();
    for signed in &attested {
        if let Some(other) = by_previous.insert(signed.statement.previous_hash.clone(), signed) {
            return Err(AuditError::Fork(
                other.statement.candidate_version.to_string(),
                signed.statement.candidate_version.to_string(),
            ));
        }
    }
    let mut ordered: Vec<SignedStatement> = Vec::with_capacity(attested.len());
    let mut previous: Option<String> = None;
    while let Some(next) = by_previous.get(&previous) {
        ordered.push((*next).clone());
        previous = Some(next.statement.hash());
    }
    if ordered.len() != attested.len() {
        let linked: Vec<_> = ordered.iter().map(|s| s.statement.candidate_version).collect();
        let mut unlinked: Vec<String> = attested
            .iter()
            .map(|s| s.statement.candidate_version)
            .filter(|v| !linked.contains(v))
            .map(|v| v.to_string())
            .collect();
        unlinked.sort();
        return Err(AuditError::Unlinked(unlinked.join(", ")));
    }
    let verified = match trusted {
        Some(key) => verify_chain_trusted(&ordered, key),
        None => verify_chain(&ordered),
    };
    verified.map_err(|e| AuditError::Broken(e.to_string()))?;
    let head = store.chain_head(model).await?;
    let last = ordered.last().map(|s| s.statement.hash());
    if head != last {
        return Err(AuditError::HeadMismatch {
            head: head.unwrap_or_else(|| "nothing".into()),
            last: last.unwrap_or_else(|| "nothing".into()),
        });
    }
    Ok(AuditReport { records: records.len(), attested: attested.len(), head })
}
