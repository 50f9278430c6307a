//! Configuration: command-line flags, then environment variables, then an optional TOML file, then
//! defaults. Everything is validated once at start; an error names the setting and every way to set it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use deltaone::{Direction, Policy, Scale};
use serde::Deserialize;

use crate::env;

/// Settings as flags or environment variables (clap reads both); all optional, the file and the
/// defaults fill the gaps.
#[derive(Debug, Clone, Default)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct SettingsArgs {
    /// TOML file with any of the settings below (keys as the flag names, with `_` for `-`).
    #[cfg_attr(feature = "cli", arg(long, env = env::CONFIG, global = true, value_name = "FILE"))]
    pub config: Option<PathBuf>,

    /// MLflow tracking server, e.g. https://mlflow.example.com. Credentials come from
    /// MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD.
    #[cfg_attr(feature = "cli", arg(long, env = env::MLFLOW_TRACKING_URI, global = true, value_name = "URL"))]
    pub mlflow_uri: Option<String>,

    /// Read the registry from a JSON snapshot (MLflow's REST shapes) instead of a server.
    #[cfg_attr(feature = "cli", arg(long, env = env::REGISTRY_SNAPSHOT, global = true, value_name = "FILE", conflicts_with = "mlflow_uri"))]
    pub registry_snapshot: Option<PathBuf>,

    /// Minimum improvement, in percentage points, for a DeltaOne [default: 1].
    #[cfg_attr(feature = "cli", arg(long, env = env::THRESHOLD_PP, global = true, value_name = "PP"))]
    pub threshold_pp: Option<f64>,

    /// Scale of metric values when no benchmark_scale tag says: fraction (0–1) or percent (0–100)
    /// [default: inferred from the values].
    #[cfg_attr(feature = "cli", arg(long, env = env::SCALE, global = true, value_name = "SCALE"))]
    pub scale: Option<String>,

    /// Whether higher or lower metric values are better, when no benchmark_direction tag says
    /// [default: higher].
    #[cfg_attr(feature = "cli", arg(long, env = env::DIRECTION, global = true, value_name = "higher|lower"))]
    pub direction: Option<String>,

    /// Achieved also needs the delta's confidence interval (from paired predictions) to clear the
    /// threshold: its lower bound at least the threshold [default: false].
    #[cfg_attr(feature = "cli", arg(long, env = env::REQUIRE_CONFIDENCE, global = true, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true"))]
    pub require_confidence: Option<bool>,

    /// Two-sided level of the delta's confidence interval, strictly between 0 and 1 [default: 0.95].
    #[cfg_attr(feature = "cli", arg(long, env = env::CONFIDENCE_LEVEL, global = true, value_name = "LEVEL"))]
    pub confidence_level: Option<f64>,

    /// Guardrail metrics as JSON, for models whose registry has no benchmark_guardrails tag, e.g.
    /// [{"metric": "latency_ms", "direction": "lower", "max_regression_pct": 10}].
    #[cfg_attr(feature = "cli", arg(long, env = env::GUARDRAILS, global = true, value_name = "JSON"))]
    pub guardrails: Option<String>,

    /// Registry alias of the model's champion (e.g. champion): the check compares with the version
    /// behind it and, on "achieved", moves it to the candidate (promotions serialised per model in
    /// the DynamoDB verdict table, which this needs) [default: off].
    #[cfg_attr(feature = "cli", arg(long, env = env::CHAMPION_ALIAS, global = true, value_name = "ALIAS"))]
    pub champion_alias: Option<String>,

    /// DynamoDB table for verdicts.
    #[cfg_attr(feature = "cli", arg(long, env = env::VERDICT_TABLE, global = true, value_name = "TABLE"))]
    pub verdict_table: Option<String>,

    /// DynamoDB table of contributor credits: each recorded DeltaOne credits its contributors there
    /// (optional), and the query API and `deltaone impact` read it.
    #[cfg_attr(feature = "cli", arg(long, env = env::CREDITS_TABLE, global = true, value_name = "TABLE"))]
    pub credits_table: Option<String>,

    /// DynamoDB table of drift results (per-column history and run summaries).
    #[cfg_attr(feature = "cli", arg(long, env = env::DRIFT_TABLE, global = true, value_name = "TABLE"))]
    pub drift_table: Option<String>,

    /// Directory for verdicts as local JSON files (instead of DynamoDB).
    #[cfg_attr(feature = "cli", arg(long, env = env::STORE_DIR, global = true, value_name = "DIR", conflicts_with = "verdict_table"))]
    pub store_dir: Option<PathBuf>,

    /// SNS topic that receives verdict notifications (deltaone.achieved, deltaone.checked).
    #[cfg_attr(feature = "cli", arg(long, env = env::TOPIC_ARN, global = true, value_name = "ARN"))]
    pub topic_arn: Option<String>,

    /// SQS queue where events that failed for good are parked with the reason.
    #[cfg_attr(feature = "cli", arg(long, env = env::DEAD_LETTER_QUEUE_URL, global = true, value_name = "URL"))]
    pub dead_letter_queue_url: Option<String>,

    /// Ed25519 key (32-byte seed, hex or base64) that signs verdict attestations. In Lambda, inject it
    /// from Secrets Manager; never put it in a config file in a repository.
    #[cfg_attr(feature = "cli", arg(long, env = env::ATTESTATION_KEY, global = true, value_name = "SEED", hide_env_values = true))]
    pub attestation_key: Option<String>,

    /// Endpoint for every AWS service, e.g. a local emulator (never set it in production).
    #[cfg_attr(feature = "cli", arg(long, env = env::AWS_ENDPOINT_URL, global = true, value_name = "URL"))]
    pub aws_endpoint_url: Option<String>,

    /// Seconds before an MLflow request times out [default: 10].
    #[cfg_attr(feature = "cli", arg(long, env = env::MLFLOW_TIMEOUT_SECS, global = true, value_name = "SECONDS"))]
    pub mlflow_timeout_secs: Option<f64>,

    /// Retries of an MLflow request on 429, 5xx and network errors [default: 3].
    #[cfg_attr(feature = "cli", arg(long, env = env::MLFLOW_RETRIES, global = true, value_name = "N"))]
    pub mlflow_retries: Option<usize>,

    /// Page size of MLflow searches [default: 1000].
    #[cfg_attr(feature = "cli", arg(long, env = env::MLFLOW_PAGE_SIZE, global = true, value_name = "N"))]
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
    /// Validates flags and environment, filling gaps from the config file. The parts are checked in
    /// a fixed order, so the first invalid setting reported is always the same one.
    pub fn resolve(&self) -> Result<Settings, ConfigError> {
        let file = match &self.config {
            Some(path) => read_file(path)?,
            None => FileSettings::default(),
        };
        self.resolve_over(file)
    }

    /// [`resolve`](Self::resolve) with the configuration file's text given instead of read from
    /// `path` (which only names it in errors): the TOML reader's entry point for the fuzz checks.
    #[cfg(feature = "cli")]
    #[doc(hidden)]
    pub fn resolve_with_file_text(&self, text: &str, path: &Path) -> Result<Settings, ConfigError> {
        self.resolve_over(parse_file(text, path)?)
    }

    fn resolve_over(&self, file: FileSettings) -> Result<Settings, ConfigError> {
        let given = file.overridden_by(self);
        let policy = given.policy()?;
        let limits = given.mlflow_limits()?;
        let registry = given.registry_source(limits)?;
        let store = given.store()?;
        let credits_table = optional_table("credits_table", env::CREDITS_TABLE, given.credits_table.clone())?;
        let drift_table = optional_table("drift_table", env::DRIFT_TABLE, given.drift_table.clone())?;
        let aws_endpoint_url = given.aws_endpoint_url()?;
        let Notifications { topic_arn, dead_letter_queue_url } = given.notifications()?;
        let attestation_key = given.attestation_key()?;
        let champion_alias = given.champion_alias(store.as_ref())?;
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
    /// An empty variable counts as unset.
    pub fn from_env() -> Result<Settings, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())?.resolve()
    }

    /// The settings from variables looked up by name (the environment, or a test's map).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let text = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        fn parse<T: std::str::FromStr>(
            setting: &'static str,
            name: &'static str,
            value: Option<String>,
        ) -> Result<Option<T>, ConfigError>
        where
            T::Err: std::fmt::Display,
        {
            value.map(|v| v.trim().parse::<T>().map_err(|e| invalid(setting, name, format!("{v:?}: {e}")))).transpose()
        }
        Ok(Self {
            config: text(env::CONFIG).map(PathBuf::from),
            mlflow_uri: text(env::MLFLOW_TRACKING_URI),
            registry_snapshot: text(env::REGISTRY_SNAPSHOT).map(PathBuf::from),
            threshold_pp: parse("threshold_pp", env::THRESHOLD_PP, text(env::THRESHOLD_PP))?,
            scale: text(env::SCALE),
            direction: text(env::DIRECTION),
            require_confidence: parse("require_confidence", env::REQUIRE_CONFIDENCE, text(env::REQUIRE_CONFIDENCE))?,
            confidence_level: parse("confidence_level", env::CONFIDENCE_LEVEL, text(env::CONFIDENCE_LEVEL))?,
            guardrails: text(env::GUARDRAILS),
            champion_alias: text(env::CHAMPION_ALIAS),
            verdict_table: text(env::VERDICT_TABLE),
            credits_table: text(env::CREDITS_TABLE),
            drift_table: text(env::DRIFT_TABLE),
            store_dir: text(env::STORE_DIR).map(PathBuf::from),
            topic_arn: text(env::TOPIC_ARN),
            dead_letter_queue_url: text(env::DEAD_LETTER_QUEUE_URL),
            attestation_key: text(env::ATTESTATION_KEY),
            aws_endpoint_url: text(env::AWS_ENDPOINT_URL),
            mlflow_timeout_secs: parse(
                "mlflow_timeout_secs",
                env::MLFLOW_TIMEOUT_SECS,
                text(env::MLFLOW_TIMEOUT_SECS),
            )?,
            mlflow_retries: parse("mlflow_retries", env::MLFLOW_RETRIES, text(env::MLFLOW_RETRIES))?,
            mlflow_page_size: parse("mlflow_page_size", env::MLFLOW_PAGE_SIZE, text(env::MLFLOW_PAGE_SIZE))?,
        })
    }
}

/// Without the command line, there is no TOML reader: functions and jobs take environment variables.
#[cfg(not(feature = "cli"))]
fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    Err(invalid(
        "config",
        env::CONFIG,
        format!(
            "{}: a configuration file is read by the deltaone command line only; set the variables",
            path.display()
        ),
    ))
}

/// The MLflow client's limits, checked whether or not a server is configured.
struct MlflowLimits {
    timeout: Duration,
    retries: usize,
    page_size: u32,
}

/// Where verdict notifications and failed events go.
struct Notifications {
    topic_arn: Option<String>,
    dead_letter_queue_url: Option<String>,
}

/// The given settings (flags and variables over the file), validated part by part.
impl FileSettings {
    /// Flags and environment variables win over the file.
    fn overridden_by(self, args: &SettingsArgs) -> Self {
        Self {
            mlflow_uri: args.mlflow_uri.clone().or(self.mlflow_uri),
            registry_snapshot: args.registry_snapshot.clone().or(self.registry_snapshot),
            threshold_pp: args.threshold_pp.or(self.threshold_pp),
            scale: args.scale.clone().or(self.scale),
            direction: args.direction.clone().or(self.direction),
            require_confidence: args.require_confidence.or(self.require_confidence),
            confidence_level: args.confidence_level.or(self.confidence_level),
            guardrails: args.guardrails.clone().or(self.guardrails),
            champion_alias: args.champion_alias.clone().or(self.champion_alias),
            verdict_table: args.verdict_table.clone().or(self.verdict_table),
            credits_table: args.credits_table.clone().or(self.credits_table),
            drift_table: args.drift_table.clone().or(self.drift_table),
            store_dir: args.store_dir.clone().or(self.store_dir),
            topic_arn: args.topic_arn.clone().or(self.topic_arn),
            dead_letter_queue_url: args.dead_letter_queue_url.clone().or(self.dead_letter_queue_url),
            attestation_key: args.attestation_key.clone().or(self.attestation_key),
            aws_endpoint_url: args.aws_endpoint_url.clone().or(self.aws_endpoint_url),
            mlflow_timeout_secs: args.mlflow_timeout_secs.or(self.mlflow_timeout_secs),
            mlflow_retries: args.mlflow_retries.or(self.mlflow_retries),
            mlflow_page_size: args.mlflow_page_size.or(self.mlflow_page_size),
        }
    }

    /// The check policy: threshold, scale, direction, confidence and guardrails.
    fn policy(&self) -> Result<Policy, ConfigError> {
        let mut policy = match self.threshold_pp {
            Some(t) => {
                Policy::with_threshold(t).map_err(|e| invalid("threshold_pp", env::THRESHOLD_PP, e.to_string()))?
            }
            None => Policy::default(),
        };
        if let Some(text) = &self.scale {
            policy.scale = Some(text.parse::<Scale>().map_err(|e| invalid("scale", env::SCALE, e.to_string()))?);
        }
        if let Some(text) = &self.direction {
            policy.direction =
                text.parse::<Direction>().map_err(|e| invalid("direction", env::DIRECTION, e.to_string()))?;
        }
        policy.require_confidence = self.require_confidence.unwrap_or(false);
        if let Some(level) = self.confidence_level {
            policy = policy
                .with_confidence_level(level)
                .map_err(|e| invalid("confidence_level", env::CONFIDENCE_LEVEL, e.to_string()))?;
        }
        if let Some(json) = self.guardrails.as_ref().filter(|g| !g.trim().is_empty()) {
            policy.guardrails = deltaone::evidence::parse_guardrails(json)
                .map_err(|e| invalid("guardrails", env::GUARDRAILS, e.to_string()))?;
        }
        Ok(policy)
    }

    fn mlflow_limits(&self) -> Result<MlflowLimits, ConfigError> {
        let timeout = self.mlflow_timeout_secs.unwrap_or(10.0);
        if !(timeout.is_finite() && timeout > 0.0 && timeout <= 3600.0) {
            return Err(invalid(
                "mlflow_timeout_secs",
                env::MLFLOW_TIMEOUT_SECS,
                format!("must be in (0, 3600], got {timeout}"),
            ));
        }
        let retries = self.mlflow_retries.unwrap_or(3);
        if retries > 10 {
            return Err(invalid("mlflow_retries", env::MLFLOW_RETRIES, format!("must be at most 10, got {retries}")));
        }
        let page_size = self.mlflow_page_size.unwrap_or(1000);
        if !(1..=200_000).contains(&page_size) {
            return Err(invalid(
                "mlflow_page_size",
                env::MLFLOW_PAGE_SIZE,
                format!("must be in 1..=200000, got {page_size}"),
            ));
        }
        Ok(MlflowLimits { timeout: Duration::from_secs_f64(timeout), retries, page_size })
    }

    /// An MLflow server or a snapshot file, at most one of them.
    fn registry_source(&self, limits: MlflowLimits) -> Result<Option<RegistrySource>, ConfigError> {
        let mlflow_uri = self.mlflow_uri.clone().filter(|u| !u.trim().is_empty());
        match (mlflow_uri, self.registry_snapshot.clone()) {
            (Some(_), Some(_)) => {
                Err(invalid("registry_snapshot", env::REGISTRY_SNAPSHOT, "set either it or mlflow_uri, not both"))
            }
            (Some(uri), None) => {
                let parsed = url::Url::parse(&uri).map_err(|e| {
                    invalid("mlflow_uri", env::MLFLOW_TRACKING_URI, format!("{uri:?} is not a URL: {e}"))
                })?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(invalid(
                        "mlflow_uri",
                        env::MLFLOW_TRACKING_URI,
                        format!("{uri:?} must start with http:// or https://"),
                    ));
                }
                let mut mlflow = MlflowConfig::new(uri);
                mlflow.timeout = limits.timeout;
                mlflow.retries = limits.retries;
                mlflow.page_size = limits.page_size;
                mlflow.auth = auth_from_env();
                Ok(Some(RegistrySource::Mlflow(mlflow)))
            }
            (None, Some(path)) => Ok(Some(RegistrySource::Snapshot(path))),
            (None, None) => Ok(None),
        }
    }

    /// A DynamoDB verdict table or a directory of JSON files, at most one of them.
    fn store(&self) -> Result<Option<StoreTarget>, ConfigError> {
        let table = self.verdict_table.clone().filter(|t| !t.trim().is_empty());
        match (table, self.store_dir.clone()) {
            (Some(_), Some(_)) => Err(invalid("store_dir", env::STORE_DIR, "set either it or verdict_table, not both")),
            (Some(table), None) => {
                Ok(Some(StoreTarget::Dynamo { table: table_name("verdict_table", env::VERDICT_TABLE, table)? }))
            }
            (None, Some(dir)) => Ok(Some(StoreTarget::Files { dir })),
            (None, None) => Ok(None),
        }
    }

    /// One endpoint for every AWS service (an emulator), if given.
    fn aws_endpoint_url(&self) -> Result<Option<String>, ConfigError> {
        let url = self.aws_endpoint_url.clone().filter(|u| !u.trim().is_empty());
        if let Some(url) = &url {
            url::Url::parse(url)
                .map_err(|e| invalid("aws_endpoint_url", env::AWS_ENDPOINT_URL, format!("{url:?}: {e}")))?;
        }
        Ok(url)
    }

    fn notifications(&self) -> Result<Notifications, ConfigError> {
        let topic_arn = self.topic_arn.clone().filter(|t| !t.trim().is_empty());
        if let Some(arn) = topic_arn.as_ref().filter(|arn| !arn.starts_with("arn:")) {
            return Err(invalid("topic_arn", env::TOPIC_ARN, format!("{arn:?} is not an SNS topic ARN")));
        }
        let dead_letter_queue_url = self.dead_letter_queue_url.clone().filter(|u| !u.trim().is_empty());
        if let Some(url) = &dead_letter_queue_url {
            url::Url::parse(url)
                .map_err(|e| invalid("dead_letter_queue_url", env::DEAD_LETTER_QUEUE_URL, format!("{url:?}: {e}")))?;
        }
        Ok(Notifications { topic_arn, dead_letter_queue_url })
    }

    fn attestation_key(&self) -> Result<Option<AttestationKey>, ConfigError> {
        match self.attestation_key.as_ref().filter(|k| !k.trim().is_empty()) {
            Some(text) => Ok(Some(AttestationKey(std::sync::Arc::new(
                deltaone::attestation::parse_signing_key(text)
                    .map_err(|e| invalid("attestation_key", env::ATTESTATION_KEY, e.to_string()))?,
            )))),
            None => Ok(None),
        }
    }

    /// The champion alias; promotions need the DynamoDB verdict table to serialise them.
    fn champion_alias(&self, store: Option<&StoreTarget>) -> Result<Option<String>, ConfigError> {
        let alias = self.champion_alias.as_ref().map(|a| a.trim().to_owned()).filter(|a| !a.is_empty());
        if alias.is_some() && !matches!(store, Some(StoreTarget::Dynamo { .. })) {
            return Err(invalid(
                "champion_alias",
                env::CHAMPION_ALIAS,
                "promotions are serialised in the DynamoDB verdict table: set verdict_table too",
            ));
        }
        Ok(alias)
    }
}

/// An optional DynamoDB table (blank counts as unset), checked when given.
fn optional_table(
    setting: &'static str,
    env: &'static str,
    table: Option<String>,
) -> Result<Option<String>, ConfigError> {
    table.filter(|t| !t.trim().is_empty()).map(|t| table_name(setting, env, t)).transpose()
}

/// A valid DynamoDB table name, or an error naming the setting.
fn table_name(setting: &'static str, env: &'static str, table: String) -> Result<String, ConfigError> {
    check_table_name(&table).map_err(|e| invalid(setting, env, e.to_string()))?;
    Ok(table)
}

/// A text that is not a DynamoDB table name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a DynamoDB table name (3–255 of a-z A-Z 0-9 _ - .)")]
pub struct TableNameError(pub String);

/// Whether `table` can name a DynamoDB table (checked at start, so a typo fails there and not at
/// the first request).
pub fn check_table_name(table: &str) -> Result<(), TableNameError> {
    let valid = (3..=255).contains(&table.len())
        && table.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if valid { Ok(()) } else { Err(TableNameError(table.to_owned())) }
}

#[cfg(feature = "cli")]
fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| invalid("config", env::CONFIG, format!("cannot read {}: {e}", path.display())))?;
    parse_file(&text, path)
}

#[cfg(feature = "cli")]
fn parse_file(text: &str, path: &Path) -> Result<FileSettings, ConfigError> {
    toml::from_str(text).map_err(|e| invalid("config", env::CONFIG, format!("{}: {e}", path.display())))
}

fn auth_from_env() -> MlflowAuth {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some(token) = var(env::MLFLOW_TRACKING_TOKEN) {
        return MlflowAuth::Bearer(token);
    }
    match (var(env::MLFLOW_TRACKING_USERNAME), var(env::MLFLOW_TRACKING_PASSWORD)) {
        (Some(username), Some(password)) => MlflowAuth::Basic { username, password },
        _ => MlflowAuth::None,
    }
}

/// How to reach the MLflow tracking server.
#[derive(Debug, Clone)]
pub struct MlflowConfig {
    /// Base URI, e.g. `https://mlflow.example.com` (the `api/2.0/mlflow` prefix is added).
    pub tracking_uri: String,
    /// Bearer token (`MLFLOW_TRACKING_TOKEN`), or basic-auth user and password.
    pub auth: MlflowAuth,
    pub timeout: Duration,
    /// Attempts after the first, for retryable failures only.
    pub retries: usize,
    /// Page size for paginated searches.
    pub page_size: u32,
}

#[derive(Clone, Default)]
pub enum MlflowAuth {
    #[default]
    None,
    Bearer(String),
    Basic {
        username: String,
        password: String,
    },
}

impl std::fmt::Debug for MlflowAuth {
    // Never print credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::None => "None",
            Self::Bearer(_) => "Bearer(***)",
            Self::Basic { .. } => "Basic(***)",
        })
    }
}

impl MlflowConfig {
    pub fn new(tracking_uri: impl Into<String>) -> Self {
        Self {
            tracking_uri: tracking_uri.into(),
            auth: MlflowAuth::None,
            timeout: Duration::from_secs(10),
            retries: 3,
            page_size: 1000,
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(feature = "cli")]
    use std::io::Write;

    use super::*;

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

    // Reads a TOML file: the command line's reader (feature `cli`, on in workspace builds).
    #[cfg(feature = "cli")]
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

    // Reads a TOML file: the command line's reader (feature `cli`, on in workspace builds).
    #[cfg(feature = "cli")]
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

    #[cfg(not(feature = "cli"))]
    #[test]
    fn without_the_command_line_a_configuration_file_is_refused_saying_so() {
        let args = SettingsArgs { config: Some("deltaone.toml".into()), ..Default::default() };
        let message = args.resolve().unwrap_err().to_string();
        assert!(message.contains("DELTAONE_CONFIG") && message.contains("command line only"), "{message}");
    }
}
