//! Serialising DeltaOne's alias promotions per model.
//!
//! MLflow has no compare-and-set on aliases, so two checks that both achieve could both move
//! `champion`, the later silently overwriting the better one. Each promotion therefore holds a lock
//! per model — a conditional DynamoDB write in the verdict table — while it re-reads the alias and
//! moves it (see [`deltaone::promotion`]). The lock lives under its own partition key
//! (`{model}#promotion`), so verdict queries of the model never see it; it expires, so a holder that
//! died releases it after [`LOCK_TTL`].

use std::time::Duration;

use async_trait::async_trait;
use backon::Retryable;

/// How long a lock is valid without being released: longer than any promotion takes.
pub const LOCK_TTL: Duration = Duration::from_secs(60);

/// How long a check waits for another check's promotion of the same model.
pub const LOCK_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
#[error("promotion lock in {table}: {message}")]
pub struct LockError {
    pub table: String,
    pub message: String,
    pub retryable: bool,
}

/// A per-model mutual exclusion across processes.
#[async_trait]
pub trait PromotionLock: Send + Sync {
    /// Takes the model's lock for `holder`; `false` when another holder has it.
    async fn try_acquire(&self, model: &str, holder: &str) -> Result<bool, LockError>;
    /// Gives the lock back if `holder` still has it.
    async fn release(&self, model: &str, holder: &str) -> Result<(), LockError>;
}

/// The lock of a checker that only decides (`--dry-run`): it compares with the champion but never
/// promotes, so taking the lock is an error that cannot happen in use.
pub struct DecideOnly;

#[async_trait]
impl PromotionLock for DecideOnly {
    async fn try_acquire(&self, model: &str, _holder: &str) -> Result<bool, LockError> {
        Err(LockError {
            table: String::new(),
            message: format!("a deciding-only check never promotes {model}"),
            retryable: false,
        })
    }

    async fn release(&self, _model: &str, _holder: &str) -> Result<(), LockError> {
        Ok(())
    }
}

/// Takes the lock, waiting (with growing pauses: 50 ms doubling up to 1 s) up to [`LOCK_WAIT`] for
/// another holder. A failure to ask is not retried here: the port's error says whether it may pass.
pub async fn acquire(lock: &dyn PromotionLock, model: &str, holder: &str) -> Result<(), LockError> {
    /// Why one try did not take the lock.
    enum Try {
        Held,
        Failed(LockError),
    }
    let started = std::time::Instant::now();
    let pauses =
        std::iter::successors(Some(Duration::from_millis(50)), |pause| Some((*pause * 2).min(Duration::from_secs(1))))
            .take_while(move |_| started.elapsed() <= LOCK_WAIT);
    let try_once = || async {
        match lock.try_acquire(model, holder).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(Try::Held),
            Err(e) => Err(Try::Failed(e)),
        }
    };
    match try_once.retry(pauses).when(|e| matches!(e, Try::Held)).await {
        Ok(()) => Ok(()),
        Err(Try::Failed(e)) => Err(e),
        Err(Try::Held) => Err(LockError {
            table: String::new(),
            message: format!("another check kept the promotion lock of {model} for over {LOCK_WAIT:?}"),
            retryable: true,
        }),
    }
}
