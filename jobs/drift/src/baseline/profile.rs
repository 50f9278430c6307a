//! DeltaOne's reference profile (`profile.json`): the reference window's mergeable partial state
//! — the reference side of a run's [`RunPartial`](crate::shard::RunPartial), in the same encoding
//! (exact values packed as base64 little-endian `f64`s, or a sketch per numeric column; category
//! counts) — with what was read to make it, so that a later run can take its reference from here
//! instead of reading the reference window again.

use deltaone::drift::partial::{PARTIAL_FORMAT_VERSION, WindowPartial};
use serde::{Deserialize, Serialize};

use crate::read::performance::PerformancePlan;
use crate::shard::{PartialError, SideRead, check_window};
use crate::{ColumnPlan, SkippedColumn};

/// The version of `profile.json`.
pub const PROFILE_FORMAT_VERSION: u32 = 1;

/// How the reference rows were chosen: a later run must use the same filters and columns to
/// compare like with like.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileSelection {
    /// The inputs given (paths, globs, S3 prefixes).
    pub inputs: Vec<String>,
    pub model_name: Option<String>,
    pub model_version: Option<String>,
    pub timestamp_column: Option<String>,
    /// The reference window, RFC 3339, end exclusive.
    pub window_start: Option<String>,
    pub window_end: Option<String>,
    pub prediction_column: String,
    pub label_column: String,
}

/// The reference profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceProfile {
    pub format: u32,
    /// The format of `state` ([`PARTIAL_FORMAT_VERSION`]).
    pub state_format: u32,
    /// The program that wrote it (`deltaone-drift <version>`).
    pub written_by: String,
    pub selection: ProfileSelection,
    /// The analysed columns, planned from the first readable reference file, as a run plans them.
    pub columns: Vec<ColumnPlan>,
    pub skipped_columns: Vec<SkippedColumn>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performance: Option<PerformancePlan>,
    /// The files read (with their rows and, with labels, their classification state), pruned and
    /// skipped.
    pub read: SideRead,
    pub bytes_read: u64,
    /// The reference window's partial state.
    pub state: WindowPartial,
}

/// Why bytes are not a reference profile this build reads.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("not a reference profile: {0}")]
    NotAProfile(#[source] serde_json::Error),
    #[error(
        "profile format {format}/{state_format} is not supported (this build reads {PROFILE_FORMAT_VERSION}/{PARTIAL_FORMAT_VERSION})"
    )]
    Version { format: u32, state_format: u32 },
    #[error("not a valid reference profile: {0}")]
    Invalid(#[source] serde_json::Error),
    #[error("inconsistent reference profile: {0}")]
    Inconsistent(#[source] PartialError),
}

impl ReferenceProfile {
    /// The serialized form (JSON, one line).
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec(self).expect("a profile serialises");
        bytes.push(b'\n');
        bytes
    }

    /// Reads [`encode`](Self::encode)'s output, validating versions, rows and values held.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProfileError> {
        #[derive(Deserialize)]
        struct Versions {
            format: u32,
            state_format: u32,
        }
        let v: Versions = serde_json::from_slice(bytes).map_err(ProfileError::NotAProfile)?;
        if v.format != PROFILE_FORMAT_VERSION || v.state_format != PARTIAL_FORMAT_VERSION {
            return Err(ProfileError::Version { format: v.format, state_format: v.state_format });
        }
        let profile: ReferenceProfile = serde_json::from_slice(bytes).map_err(ProfileError::Invalid)?;
        check_window("reference", &profile.read, &profile.state, &profile.columns)
            .map_err(ProfileError::Inconsistent)?;
        Ok(profile)
    }
}
