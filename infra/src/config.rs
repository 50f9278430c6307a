//! Configuration: command-line flags, then environment variables, then an optional TOML file, then
//! defaults. Everything is validated once at start; an error names the setting and every way to set it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use deltaone::{Direction, Policy, Scale};
use serde::Deserialize;

use crate::mlflow::{MlflowAuth, MlflowConfig};

/// Settings as flags or environment variables (clap reads both); all optional, the file and the
/// defaults fill the gaps.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SettingsArgs {
    /// TOML file with any of the settings below (keys as the flag names, with `_` for `-`).
    #[arg(long, env = "DELTAONE_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// MLflow tracking server, e.g. https://mlflow.example.com. Credentials come from
    /// MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD.
    #[arg(long, env = "MLFLOW_TRACKING_URI", global = true, value_name = "URL")]
    pub mlflow_uri: Option<String>,

    /// Read the registry from a JSON snapshot (MLflow's REST shapes) instead of a server.
    #[arg(long, env = "DELTAONE_REGISTRY_SNAPSHOT", global = true, value_name = "FILE", conflicts_with = "mlflow_uri")]
    pub registry_snapshot: Option<PathBuf>,

    /// Minimum improvement, in percentage points, for a DeltaOne [default: 1].
    #[arg(long, env = "DELTAONE_THRESHOLD_PP", global = true, value_name = "PP")]
    pub threshold_pp: Option<f64>,

    /// Scale of metric values when no benchmark_scale tag says: fraction (0–1) or percent (0–100)
    /// [default: inferred from the values].
    #[arg(long, env = "DELTAONE_SCALE", global = true, value_name = "SCALE")]
    pub scale: Option<String>,

    /// Whether higher or lower metric values are better, when no benchmark_direction tag says
    /// [default: higher].
    #[arg(long, env = "DELTAONE_DIRECTION", global = true, value_name = "higher|lower")]
    pub direction: Option<String>,

    /// Achieved also needs the delta's confidence interval (from paired predictions) to clear the
    /// threshold: its lower bound at least the threshold [default: false].
    #[arg(long, env = "DELTAONE_REQUIRE_CONFIDENCE", global = true, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub require_confidence: Option<bool>,

    /// Two-sided level of the delta's confidence interval, strictly between 0 and 1 [default: 0.95].
    #[arg(long, env = "DELTAONE_CONFIDENCE_LEVEL", global = true, value_name = "LEVEL")]
    pub confidence_level: Option<f64>,

    /// Guardrail metrics as JSON, for models whose registry has no benchmark_guardrails tag, e.g.
    /// [{"metric": "latency_ms", "direction": "lower", "max_regression_pct": 10}].
    #[arg(long, env = "DELTAONE_GUARDRAILS", global = true, value_name = "JSON")]
    pub guardrails: Option<String>,

    /// Registry alias of the model's champion (e.g. champion): the check compares with the version
    /// behind it and, on "achieved", moves it to the candidate (promotions serialised per model in
    /// the DynamoDB verdict table, which this needs) [default: off].
    #[arg(long, env = "DELTAONE_CHAMPION_ALIAS", global = true, value_name = "ALIAS")]
    pub champion_alias: Option<String>,

    /// DynamoDB table for verdicts.
    #[arg(long, env = "DELTAONE_VERDICT_TABLE", global = true, value_name = "TABLE")]
    pub verdict_table: Option<String>,

    /// DynamoDB table of contributor credits: each recorded DeltaOne credits its contributors there
    /// (optional), and the query API and `deltaone impact` read it.
    #[arg(long, env = "DELTAONE_CREDITS_TABLE", global = true, value_name = "TABLE")]
    pub credits_table: Option<String>,

    /// DynamoDB table of drift results (per-column history and run summaries).
    #[arg(long, env = "DELTAONE_DRIFT_TABLE", global = true, value_name = "TABLE")]
    pub drift_table: Option<String>,

    /// Directory for verdicts as local JSON files (instead of DynamoDB).
    #[arg(long, env = "DELTAONE_STORE_DIR", global = true, value_name = "DIR", conflicts_with = "verdict_table")]
    pub store_dir: Option<PathBuf>,

    /// SNS topic that receives verdict notifications (deltaone.achieved, deltaone.checked).
    #[arg(long, env = "DELTAONE_TOPIC_ARN", global = true, value_name = "ARN")]
    pub topic_arn: Option<String>,

    /// SQS queue where events that failed for good are parked with the reason.
    #[arg(long, env = "DELTAONE_DEAD_LETTER_QUEUE_URL", global = true, value_name = "URL")]
    pub dead_letter_queue_url: Option<String>,

    /// Ed25519 key (32-byte seed, hex or base64) that signs verdict attestations. In Lambda, inject it
    /// from Secrets Manager; never put it in a config file in a repository.
    #[arg(long, env = "DELTAONE_ATTESTATION_KEY", global = true, value_name = "SEED", hide_env_values = true)]
    pub attestation_key: Option<String>,

    /// Endpoint for every AWS service, e.g. a local emulator (never set it in production).
    #[arg(long, env = "AWS_ENDPOINT_URL", global = true, value_name = "URL")]
    pub aws_endpoint_url: Option<String>,

    /// Seconds before an MLflow request times out [default: 10].
    #[arg(long, env = "DELTAONE_MLFLOW_TIMEOUT_SECS", global = true, value_name = "SECONDS")]
    pub mlflow_timeout_secs: Option<f64>,

    /// Retries of an MLflow request on 429, 5xx and network errors [default: 3].
    #[arg(long, env = "DELTAONE_MLFLOW_RETRIES", global = true, value_name = "N")]
    pub mlflow_retries: Option<usize>,

    /// Page size of MLflow searches [default: 1000].
    #[arg(long, env = "DELTAONE_MLFLOW_PAGE_SIZE", global = true, value_name = "N")]
    pub mlflow_page_size: Option<u32>,
}

/// The optional TOML file: the same settings, by the same names.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    mlflow_uri: Option<String>,
    registry_snapshot: Option<PathBuf>,
    threshold_pp: Option<f64>,
    scale: Option<String>,
    direction: Option<String>,
    require_confidence: Option<bool>,
    confidence_level: Option<f64>,
    guardrails: Option<String>,
    champion_alias: Option<String>,
    verdict_table: Option<String>,
    credits_table: Option<String>,
    drift_table: Option<String>,
    store_dir: Option<PathBuf>,
    topic_arn: Option<String>,
    dead_letter_queue_url: Option<String>,
    attestation_key: Option<String>,
    aws_endpoint_url: Option<String>,
    mlflow_timeout_secs: Option<f64>,
    mlflow_retries: Option<usize>,
    mlflow_page_size: Option<u32>,
}

/// An invalid setting, named with every way to set it.
#[derive(Debug, thiserror::Error)]
#[error("setting {setting} (--{flag}, {env}, or `{setting}` in the config file): {message}")]
pub struct ConfigError {
    pub setting: &'static str,
    pub flag: String,
    pub env: &'static str,
    pub message: String,
}

fn invalid(setting: &'static str, env: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError { setting, flag: setting.replace('_', "-"), env, message: message.into() }
}

/// Where the registry is.
#[derive(Debug, Clone)]
pub enum RegistrySource {
    Mlflow(MlflowConfig),
    Snapshot(PathBuf),
}

/// Where verdicts go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreTarget {
    Dynamo { table: String },
    Files { dir: PathBuf },
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub registry: Option<RegistrySource>,
    pub store: Option<StoreTarget>,
    /// DynamoDB table of contributor credits.
    pub credits_table: Option<String>,
    /// DynamoDB table of drift results.
    pub drift_table: Option<String>,
    pub policy: Policy,
    /// The champion alias to compare with and promote (needs the DynamoDB verdict table).
    pub champion_alias: Option<String>,
    pub topic_arn: Option<String>,
    pub dead_letter_queue_url: Option<String>,
    pub attestation_key: Option<AttestationKey>,
    pub aws_endpoint_url: Option<String>,
}

/// The attestation signing key; never printed.
#[derive(Clone)]
pub struct AttestationKey(pub std::sync::Arc<ed25519_dalek::SigningKey>);

impl std::fmt::Debug for AttestationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AttestationKey({})", deltaone::attestation::key_id(&self.0.verifying_key()))
    }
}

impl SettingsArgs {
    /// Validates flags and environment, filling gaps from the config file.
    pub fn resolve(&self) -> Result<Settings, ConfigError> {
        let file = match &self.config {
            Some(path) => read_file(path)?,
            None => FileSettings::default(),
        };
        let threshold_pp = self.threshold_pp.or(file.threshold_pp);
        let mut policy = match threshold_pp {
            Some(t) => Policy::with_threshold(t)
                .map_err(|e| invalid("threshold_pp", "DELTAONE_THRESHOLD_PP", e.to_string()))?,
            None => Policy::default(),
        };
        if let Some(text) = self.scale.clone().or(file.scale) {
            policy.scale = Some(text.parse::<Scale>().map_err(|e| invalid("scale", "DELTAONE_SCALE", e.to_string()))?);
        }
        if let Some(text) = self.direction.clone().or(file.direction) {
            policy.direction =
                text.parse::<Direction>().map_err(|e| invalid("direction", "DELTAONE_DIRECTION", e.to_string()))?;
        }
        policy.require_confidence = self.require_confidence.or(file.require_confidence).unwrap_or(false);
        if let Some(level) = self.confidence_level.or(file.confidence_level) {
            policy = policy
                .with_confidence_level(level)
                .map_err(|e| invalid("confidence_level", "DELTAONE_CONFIDENCE_LEVEL", e.to_string()))?;
        }
        if let Some(json) = self.guardrails.clone().or(file.guardrails).filter(|g| !g.trim().is_empty()) {
            policy.guardrails = deltaone::evidence::parse_guardrails(&json)
                .map_err(|e| invalid("guardrails", "DELTAONE_GUARDRAILS", e.to_string()))?;
        }

        let timeout = self.mlflow_timeout_secs.or(file.mlflow_timeout_secs).unwrap_or(10.0);
        if !(timeout.is_finite() && timeout > 0.0 && timeout <= 3600.0) {
            return Err(invalid(
                "mlflow_timeout_secs",
                "DELTAONE_MLFLOW_TIMEOUT_SECS",
                format!("must be in (0, 3600], got {timeout}"),
            ));
        }
        let retries = self.mlflow_retries.or(file.mlflow_retries).unwrap_or(3);
        if retries > 10 {
            return Err(invalid(
                "mlflow_retries",
                "DELTAONE_MLFLOW_RETRIES",
                format!("must be at most 10, got {retries}"),
            ));
        }
        let page_size = self.mlflow_page_size.or(file.mlflow_page_size).unwrap_or(1000);
        if !(1..=200_000).contains(&page_size) {
            return Err(invalid(
                "mlflow_page_size",
                "DELTAONE_MLFLOW_PAGE_SIZE",
                format!("must be in 1..=200000, got {page_size}"),
            ));
        }

        let mlflow_uri = self.mlflow_uri.clone().or(file.mlflow_uri).filter(|u| !u.trim().is_empty());
        let snapshot = self.registry_snapshot.clone().or(file.registry_snapshot);
        let registry = match (mlflow_uri, snapshot) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "registry_snapshot",
                    "DELTAONE_REGISTRY_SNAPSHOT",
                    "set either it or mlflow_uri, not both",
                ));
            }
            (Some(uri), None) => {
                let parsed = reqwest::Url::parse(&uri)
                    .map_err(|e| invalid("mlflow_uri", "MLFLOW_TRACKING_URI", format!("{uri:?} is not a URL: {e}")))?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(invalid(
                        "mlflow_uri",
                        "MLFLOW_TRACKING_URI",
                        format!("{uri:?} must start with http:// or https://"),
                    ));
                }
                let mut mlflow = MlflowConfig::new(uri);
                mlflow.timeout = Duration::from_secs_f64(timeout);
                mlflow.retries = retries;
                mlflow.page_size = page_size;
                mlflow.auth = auth_from_env();
                Some(RegistrySource::Mlflow(mlflow))
            }
            (None, Some(path)) => Some(RegistrySource::Snapshot(path)),
            (None, None) => None,
        };

        let table = self.verdict_table.clone().or(file.verdict_table).filter(|t| !t.trim().is_empty());
        let dir = self.store_dir.clone().or(file.store_dir);
        let store = match (table, dir) {
            (Some(_), Some(_)) => {
                return Err(invalid("store_dir", "DELTAONE_STORE_DIR", "set either it or verdict_table, not both"));
            }
            (Some(table), None) => {
                Some(StoreTarget::Dynamo { table: table_name("verdict_table", "DELTAONE_VERDICT_TABLE", table)? })
            }
            (None, Some(dir)) => Some(StoreTarget::Files { dir }),
            (None, None) => None,
        };

        let credits_table = match self.credits_table.clone().or(file.credits_table).filter(|t| !t.trim().is_empty()) {
            Some(t) => Some(table_name("credits_table", "DELTAONE_CREDITS_TABLE", t)?),
            None => None,
        };
        let drift_table = match self.drift_table.clone().or(file.drift_table).filter(|t| !t.trim().is_empty()) {
            Some(t) => Some(table_name("drift_table", "DELTAONE_DRIFT_TABLE", t)?),
            None => None,
        };

        let aws_endpoint_url = self.aws_endpoint_url.clone().or(file.aws_endpoint_url).filter(|u| !u.trim().is_empty());
        if let Some(url) = &aws_endpoint_url {
            reqwest::Url::parse(url)
                .map_err(|e| invalid("aws_endpoint_url", "AWS_ENDPOINT_URL", format!("{url:?}: {e}")))?;
        }
        let topic_arn = self.topic_arn.clone().or(file.topic_arn).filter(|t| !t.trim().is_empty());
        if let Some(arn) = topic_arn.as_ref().filter(|arn| !arn.starts_with("arn:")) {
            return Err(invalid("topic_arn", "DELTAONE_TOPIC_ARN", format!("{arn:?} is not an SNS topic ARN")));
        }
        let dead_letter_queue_url =
            self.dead_letter_queue_url.clone().or(file.dead_letter_queue_url).filter(|u| !u.trim().is_empty());
        if let Some(url) = &dead_letter_queue_url {
            reqwest::Url::parse(url).map_err(|e| {
                invalid("dead_letter_queue_url", "DELTAONE_DEAD_LETTER_QUEUE_URL", format!("{url:?}: {e}"))
            })?;
        }
        let attestation_key =
            match self.attestation_key.clone().or(file.attestation_key).filter(|k| !k.trim().is_empty()) {
                Some(text) => Some(AttestationKey(std::sync::Arc::new(
                    deltaone::attestation::parse_signing_key(&text)
                        .map_err(|e| invalid("attestation_key", "DELTAONE_ATTESTATION_KEY", e.to_string()))?,
                ))),
                None => None,
            };
        let champion_alias =
            self.champion_alias.clone().or(file.champion_alias).map(|a| a.trim().to_owned()).filter(|a| !a.is_empty());
        if champion_alias.is_some() && !matches!(store, Some(StoreTarget::Dynamo { .. })) {
            return Err(invalid(
                "champion_alias",
                "DELTAONE_CHAMPION_ALIAS",
                "promotions are serialised in the DynamoDB verdict table: set verdict_table too",
            ));
        }
        Ok(Settings {
            registry,
            store,
            credits_table,
            drift_table,
            policy,
            champion_alias,
            topic_arn,
            dead_letter_queue_url,
            attestation_key,
            aws_endpoint_url,
        })
    }

    /// The settings from environment variables alone, as a Lambda function or a batch job gets them.
    pub fn from_env() -> Result<Settings, ConfigError> {
        #[derive(clap::Parser)]
        struct EnvOnly {
            #[command(flatten)]
            settings: SettingsArgs,
        }
        use clap::Parser;
        match EnvOnly::try_parse_from(["deltaone"]) {
            Ok(parsed) => parsed.settings.resolve(),
            Err(e) => Err(invalid("environment", "see --help", e.to_string())),
        }
    }
}

/// A valid DynamoDB table name, or an error naming the setting.
fn table_name(setting: &'static str, env: &'static str, table: String) -> Result<String, ConfigError> {
    let valid = (3..=255).contains(&table.len())
        && table.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if !valid {
        return Err(invalid(
            setting,
            env,
            format!("{table:?} is not a DynamoDB table name (3–255 of a-z A-Z 0-9 _ - .)"),
        ));
    }
    Ok(table)
}

fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| invalid("config", "DELTAONE_CONFIG", format!("cannot read {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| invalid("config", "DELTAONE_CONFIG", format!("{}: {e}", path.display())))
}

fn auth_from_env() -> MlflowAuth {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some(token) = var("MLFLOW_TRACKING_TOKEN") {
        return MlflowAuth::Bearer(token);
    }
    match (var("MLFLOW_TRACKING_USERNAME"), var("MLFLOW_TRACKING_PASSWORD")) {
        (Some(username), Some(password)) => MlflowAuth::Basic { username, password },
        _ => MlflowAuth::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn defaults_are_one_point_higher_is_better_and_no_store() {
        let settings = SettingsArgs::default().resolve().unwrap();
        assert_eq!(settings.policy, Policy::default());
        assert!(settings.registry.is_none() && settings.store.is_none());
    }

    #[test]
    fn errors_name_the_setting_flag_and_variable() {
        let args = SettingsArgs { threshold_pp: Some(-1.0), ..Default::default() };
        let message = args.resolve().unwrap_err().to_string();
        assert!(message.contains("threshold_pp") && message.contains("--threshold-pp"), "{message}");
        assert!(message.contains("DELTAONE_THRESHOLD_PP") && message.contains("negative"), "{message}");

        let args = SettingsArgs { scale: Some("ratio".into()), ..Default::default() };
        assert!(args.resolve().unwrap_err().to_string().contains("\"ratio\" is not one of: fraction, percent"));

        let args = SettingsArgs { mlflow_uri: Some("localhost:5000".into()), ..Default::default() };
        assert!(args.resolve().unwrap_err().to_string().contains("MLFLOW_TRACKING_URI"));

        let args = SettingsArgs { verdict_table: Some("a b".into()), ..Default::default() };
        assert!(args.resolve().unwrap_err().to_string().contains("not a DynamoDB table name"));

        let args = SettingsArgs { credits_table: Some("x".into()), ..Default::default() };
        let message = args.resolve().unwrap_err().to_string();
        assert!(message.contains("DELTAONE_CREDITS_TABLE") && message.contains("--credits-table"), "{message}");
        let args = SettingsArgs { drift_table: Some("d r".into()), ..Default::default() };
        assert!(args.resolve().unwrap_err().to_string().contains("DELTAONE_DRIFT_TABLE"));
    }

    #[test]
    fn confidence_guardrail_and_champion_settings_are_validated_once() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(
            file,
            "require_confidence = true\nconfidence_level = 0.9\nguardrails = '[{{\"metric\": \"latency_ms\", \"direction\": \"lower\", \"max_regression_pct\": 10}}]'\nverdict_table = \"verdicts\"\nchampion_alias = \"champion\""
        )
        .unwrap();
        let settings = SettingsArgs { config: Some(file.path().into()), ..Default::default() }.resolve().unwrap();
        assert!(settings.policy.require_confidence);
        assert_eq!(settings.policy.confidence_level().to_string(), "0.9");
        assert_eq!(settings.policy.guardrails.len(), 1);
        assert_eq!(settings.champion_alias.as_deref(), Some("champion"));

        let err = SettingsArgs { confidence_level: Some(1.0), ..Default::default() }.resolve().unwrap_err();
        assert!(
            err.to_string().contains("DELTAONE_CONFIDENCE_LEVEL") && err.to_string().contains("strictly between"),
            "{err}"
        );
        let err = SettingsArgs { guardrails: Some("[{\"metric\": \"x\"}]".into()), ..Default::default() }
            .resolve()
            .unwrap_err();
        assert!(err.to_string().contains("DELTAONE_GUARDRAILS") && err.to_string().contains("exactly one of"), "{err}");
        let err = SettingsArgs { champion_alias: Some("champion".into()), ..Default::default() }.resolve().unwrap_err();
        assert!(
            err.to_string().contains("DELTAONE_CHAMPION_ALIAS") && err.to_string().contains("verdict_table"),
            "{err}"
        );
    }

    #[test]
    fn attestation_keys_are_validated_and_never_printed() {
        let seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
        let settings = SettingsArgs { attestation_key: Some(seed.into()), ..Default::default() }.resolve().unwrap();
        let shown = format!("{settings:?}");
        assert!(!shown.contains(seed) && shown.contains("AttestationKey(ed25519:"), "{shown}");
        let err = SettingsArgs { attestation_key: Some("nope".into()), ..Default::default() }.resolve().unwrap_err();
        assert!(err.to_string().contains("DELTAONE_ATTESTATION_KEY") && !err.to_string().contains("nope\""), "{err}");
    }

    #[test]
    fn flags_win_over_the_file_and_unknown_file_keys_are_rejected() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "threshold_pp = 2.5\nscale = \"percent\"\nstore_dir = \"/tmp/v\"").unwrap();
        let args = SettingsArgs { config: Some(file.path().into()), threshold_pp: Some(0.5), ..Default::default() };
        let settings = args.resolve().unwrap();
        assert_eq!(settings.policy.threshold_pp().to_string(), "0.5");
        assert_eq!(settings.policy.scale, Some(Scale::Percent));
        assert_eq!(settings.store, Some(StoreTarget::Files { dir: "/tmp/v".into() }));

        let mut bad = tempfile::NamedTempFile::new().unwrap();
        writeln!(bad, "treshold_pp = 2").unwrap();
        let message =
            SettingsArgs { config: Some(bad.path().into()), ..Default::default() }.resolve().unwrap_err().to_string();
        assert!(message.contains("treshold_pp"), "{message}");
    }
}
