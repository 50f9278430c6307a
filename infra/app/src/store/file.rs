//! Verdicts as JSON files: `<dir>/<model, percent-encoded>/<version>.json`.
//!
//! Exactly-once comes from the file system: a record is written to a temporary file and then
//! hard-linked to its final name, which fails if the name exists — atomic and exclusive.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use deltaone::VersionNumber;

use super::{Chained, Recorded, Step, StoreError, VerdictRecord, VerdictStore};

/// The file holding a model's chain head (the newest attested statement's hash).
const CHAIN_HEAD: &str = "HEAD";

/// Holds a model directory's chain lock while alive.
struct ChainLock(PathBuf);

impl Drop for ChainLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

pub struct FileVerdictStore {
    dir: PathBuf,
}

impl FileVerdictStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn model_dir(&self, model: &str) -> PathBuf {
        self.dir.join(encode(model))
    }

    fn path(&self, model: &str, version: VersionNumber) -> PathBuf {
        self.model_dir(model).join(format!("{version}.json"))
    }

    fn error(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Backend { store: self.describe(), message: e.to_string(), retryable: false }
    }

    async fn read(&self, path: &Path, model: &str, version: &str) -> Result<Option<VerdictRecord>, StoreError> {
        match tokio::fs::read(path).await {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| StoreError::Corrupt {
                store: self.describe(),
                model: model.to_owned(),
                version: version.to_owned(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.error(format!("cannot read {}: {e}", path.display()))),
        }
    }

    async fn write_atomically(&self, path: &Path, record: &VerdictRecord, replace: bool) -> Result<bool, StoreError> {
        let dir = path.parent().expect("record paths have a parent");
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| self.error(format!("cannot create {}: {e}", dir.display())))?;
        let bytes = serde_json::to_vec_pretty(record).map_err(|e| self.error(e))?;
        let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| self.error(e))?;
        tokio::fs::write(tmp.path(), &bytes).await.map_err(|e| self.error(e))?;
        if replace {
            tmp.persist(path).map_err(|e| self.error(e))?;
            return Ok(true);
        }
        match std::fs::hard_link(tmp.path(), path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(self.error(format!("cannot write {}: {e}", path.display()))),
        }
    }
}

/// Model names may hold any character; keep file names portable.
fn encode(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' if !(b == b'.' && name.starts_with('.')) => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[async_trait]
impl VerdictStore for FileVerdictStore {
    async fn record(&self, record: &VerdictRecord) -> Result<Recorded, StoreError> {
        let path = self.path(&record.model, record.version);
        if self.write_atomically(&path, record, false).await? {
            return Ok(Recorded::New);
        }
        let existing = self.read(&path, &record.model, &record.version.to_string()).await?;
        existing
            .map(|r| Recorded::Existing(Box::new(r)))
            .ok_or_else(|| self.error(format!("{} vanished while being read", path.display())))
    }

    async fn replace(&self, record: &VerdictRecord, expected_checked_at: &str) -> Result<bool, StoreError> {
        // Not atomic across processes: the file store serves one local user at a time.
        let path = self.path(&record.model, record.version);
        match self.read(&path, &record.model, &record.version.to_string()).await? {
            Some(current) if current.checked_at == expected_checked_at => {
                self.write_atomically(&path, record, true).await
            }
            _ => Ok(false),
        }
    }

    async fn chain_head(&self, model: &str) -> Result<Option<String>, StoreError> {
        match tokio::fs::read_to_string(self.model_dir(model).join(CHAIN_HEAD)).await {
            Ok(text) => Ok(Some(text.trim().to_owned()).filter(|h| !h.is_empty())),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.error(format!("cannot read the chain head of {model}: {e}"))),
        }
    }

    async fn write_chained(&self, record: &VerdictRecord, replacing: Option<&str>) -> Result<Chained, StoreError> {
        let Some(signed) = &record.attestation else {
            return Err(self.error("a chained write needs an attested record"));
        };
        let dir = self.model_dir(&record.model);
        tokio::fs::create_dir_all(&dir).await.map_err(|e| self.error(e))?;
        // One writer per model at a time: an exclusive lock file, waited for up to 10 s.
        let lock_path = dir.join(".chain.lock");
        let mut waited = 0;
        let _lock = loop {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&lock_path) {
                Ok(_) => break ChainLock(lock_path),
                Err(e) if e.kind() == ErrorKind::AlreadyExists && waited < 1000 => {
                    waited += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                Err(e) => return Err(self.error(format!("cannot lock {}: {e}", lock_path.display()))),
            }
        };
        if self.chain_head(&record.model).await? != signed.statement.previous_hash {
            return Ok(Chained::HeadMoved);
        }
        let written = match replacing {
            None => matches!(self.record(record).await?, Recorded::New),
            Some(at) => self.replace(record, at).await?,
        };
        if !written {
            return Ok(Chained::SlotTaken);
        }
        let head = dir.join(CHAIN_HEAD);
        let tmp = tempfile::NamedTempFile::new_in(&dir).map_err(|e| self.error(e))?;
        std::fs::write(tmp.path(), signed.statement.hash()).map_err(|e| self.error(e))?;
        tmp.persist(&head).map_err(|e| self.error(e))?;
        Ok(Chained::Written)
    }

    async fn mark(&self, model: &str, version: VersionNumber, step: Step) -> Result<(), StoreError> {
        let path = self.path(model, version);
        let Some(mut record) = self.read(&path, model, &version.to_string()).await? else {
            return Err(self.error(format!("no record for {model} version {version} to mark")));
        };
        match step {
            Step::WrittenBack => record.written_back = true,
            Step::Notified => record.notified = true,
        }
        self.write_atomically(&path, &record, true).await.map(drop)
    }

    async fn get(&self, model: &str, version: VersionNumber) -> Result<Option<VerdictRecord>, StoreError> {
        self.read(&self.path(model, version), model, &version.to_string()).await
    }

    async fn history(&self, model: &str, limit: usize) -> Result<Vec<VerdictRecord>, StoreError> {
        let dir = self.model_dir(model);
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.error(format!("cannot list {}: {e}", dir.display()))),
        };
        let mut versions = Vec::new();
        while let Some(entry) = entries.next_entry().await.map_err(|e| self.error(e))? {
            let name = entry.file_name();
            let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".json")) else { continue };
            if let Ok(v) = stem.parse::<VersionNumber>() {
                versions.push(v);
            }
        }
        versions.sort_by(|a, b| b.cmp(a));
        let mut records = Vec::new();
        for v in versions.into_iter().take(limit) {
            if let Some(r) = self.get(model, v).await? {
                records.push(r);
            }
        }
        Ok(records)
    }

    fn describe(&self) -> String {
        format!("directory {}", self.dir.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_become_portable_file_names() {
        assert_eq!(encode("fraud-model_v2.1"), "fraud-model_v2.1");
        assert_eq!(encode("a/b c"), "a%2Fb%20c");
        assert_eq!(encode("..x"), "%2E%2Ex");
    }
}
