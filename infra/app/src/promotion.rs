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

/// Takes the lock, waiting (with growing pauses) up to [`LOCK_WAIT`] for another holder.
pub async fn acquire(lock: &dyn PromotionLock, model: &str, holder: &str) -> Result<(), LockError> {
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(50);
    loop {
        if lock.try_acquire(model, holder).await? {
            return Ok(());
        }
        if started.elapsed() > LOCK_WAIT {
            return Err(LockError {
                table: String::new(),
                message: format!("another check kept the promotion lock of {model} for over {LOCK_WAIT:?}"),
                retryable: true,
            });
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}
