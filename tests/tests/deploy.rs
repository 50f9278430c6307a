//! Deployment checks over `terraform/` (no servers needed):
//!
//! 1. The environment variables the Terraform modules set for each function and for the drift job
//!    are exactly the ones its code reads, from both sides: a variable the code reads must be set
//!    (or be excluded here, with the reason), and a variable Terraform sets must be read by the code.
//! 2. IAM policies: no `"*"` or `"service:*"` actions, and no `"*"` resources except for actions AWS
//!    offers no resource-level permissions for (and KMS key policies, where `"*"` means the key).
//!    Every policy must be an `aws_iam_policy_document`, so that this test reads all of them.
//!
//! The HCL is parsed with `hcl-rs`; the code side is every string literal in the unit's sources
//! that names an environment variable (`env = "…"`, `env::var("…")`, `const …_ENV: &str = "…"`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use hcl::expr::{Expression, ObjectKey, TraversalOperator};
use hcl::structure::{Block, Body};

/// Sources every function shares: settings (`SettingsArgs::from_env`), logging, the AWS client setup.
const SHARED: &[&str] = &[
    "infra/app/src/settings.rs",
    "infra/app/src/telemetry.rs",
    "infra/app/src/emf.rs",
    "infra/adapters/aws/src/lib.rs",
];
/// Wiring the check (its errors name the setting to fix): the functions that run checks.
const WIRING: &[&str] = &["infra/wiring/src"];
/// Publishing notifications (large ones offloaded to S3).
const NOTIFY: &[&str] = &["infra/app/src/notify.rs", "infra/adapters/aws/src/sns.rs"];

/// A deployable unit: where Terraform configures it, and the code that reads its environment.
struct Unit {
    name: &'static str,
    terraform: Terraform,
    code: &'static [&'static [&'static str]],
}

enum Terraform {
    /// `module "<label>"` (source `../lambda-function`) in terraform/modules/deltaone: its `environment`.
    Lambda(&'static str),
    /// The drift job definition's `environment` and each schedule's `ContainerOverrides.Environment`.
    DriftJob,
}

const UNITS: &[Unit] = &[
    Unit {
        name: "evaluation",
        terraform: Terraform::Lambda("evaluation"),
        code: &[&["functions/evaluation/src"], SHARED, WIRING, NOTIFY],
    },
    Unit {
        name: "registry-webhook",
        terraform: Terraform::Lambda("registry_webhook"),
        code: &[&["functions/registry-webhook/src", "infra/adapters/secrets/src"], SHARED, WIRING, NOTIFY],
    },
    Unit {
        name: "webhook-notifier",
        terraform: Terraform::Lambda("webhook_notifier"),
        code: &[&[
            "functions/webhook-notifier/src",
            "infra/adapters/webhooks/src",
            "infra/adapters/secrets/src",
            "infra/app/src/telemetry.rs",
        ]],
    },
    Unit {
        name: "query-api",
        terraform: Terraform::Lambda("query_api"),
        code: &[&["functions/query-api/src", "infra/app/src/query", "infra/adapters/aws/src/read_model.rs"], SHARED],
    },
    Unit {
        name: "drift-scheduler",
        terraform: Terraform::Lambda("drift_scheduler"),
        code: &[&[
            "functions/drift-scheduler/src",
            "infra/app/src/schedule",
            "infra/app/src/telemetry.rs",
            "infra/adapters/aws/src/lib.rs",
        ]],
    },
    Unit {
        name: "registry-sweep",
        terraform: Terraform::Lambda("registry_sweep"),
        code: &[&["functions/registry-sweep/src", "infra/app/src/sweep.rs"], SHARED, WIRING, NOTIFY],
    },
    Unit {
        name: "drift-job",
        terraform: Terraform::DriftJob,
        code: &[
            &["jobs/drift/src", "infra/app/src/telemetry.rs", "infra/adapters/aws/src/lib.rs"],
            // Alerts over SNS's limit are offloaded to S3 like every other message.
            NOTIFY,
        ],
    },
];

/// Sources under infra/ that read environment variables only for the `deltaone` CLI or local runs.
const CLI_ONLY: &[(&str, &str)] =
    &[("infra/cli/src", "the deltaone command line and cargo demo (a person's shell, not a deployed unit)")];

/// Every deployed unit.
const ALL: &[&str] = &[];
/// The Lambda functions.
const LAMBDAS: &[&str] =
    &["evaluation", "registry-webhook", "webhook-notifier", "query-api", "drift-scheduler", "registry-sweep"];

const QUERY_API: &[&str] = &["query-api"];
const DRIFT: &[&str] = &["drift-job"];
const WINDOWS: &str = "absolute time ranges (START..END) are computed per run by the drift-scheduler function and \
                       carried in the run manifest";
const SCHEDULER: &[&str] = &["drift-scheduler"];
const PASSED_ON: &str =
    "a variable the drift-scheduler function sets for the jobs it submits (plan.rs), not one it reads";
const CHECK_ONLY: &str = "a shared setting (SettingsArgs) of the DeltaOne check; the read-only query API never calls MLflow, \
                          publishes, parks or signs";

const OPT_IN_POLICY: &str = "an opt-in check policy whose default (off, 0.95, no guardrails, no alias) is the rule users know; \
                             models declare guardrails with the benchmark_guardrails tag";

/// Variables a unit reads that the deployment deliberately does not set: (variable, units (`ALL`
/// for every unit), reason).
const EXCLUDED: &[(&str, &[&str], &str)] = &[
    ("AWS_ENDPOINT_URL", ALL, "emulators only (moto in tests); never set in AWS"),
    ("AWS_REGION", ALL, "set by the Lambda runtime and by ECS/Batch"),
    ("AWS_DEFAULT_REGION", ALL, "set by the Lambda runtime"),
    ("AWS_ACCESS_KEY_ID", ALL, "the execution role's credentials, set by the Lambda runtime / ECS"),
    ("AWS_SESSION_TOKEN", ALL, "the execution role's credentials, set by the Lambda runtime"),
    ("AWS_LAMBDA_LOG_FORMAT", ALL, "set by Lambda from logging_config.log_format (JSON) in modules/lambda-function"),
    ("AWS_LAMBDA_LOG_LEVEL", ALL, "set by Lambda from logging_config.application_log_level in modules/lambda-function"),
    ("NO_COLOR", ALL, "a terminal convention (no-color.org); deployed units log JSON, never in colour"),
    (
        "RUST_LOG",
        ALL,
        "a debugging override of the log level; the deployment sets the level through Lambda's log config",
    ),
    (
        "DELTAONE_CONFIG",
        ALL,
        "a TOML settings file for the CLI; the deployed units get every setting from the environment",
    ),
    ("DELTAONE_REGISTRY_SNAPSHOT", ALL, "a local registry snapshot for demos and tests; deployed units use MLflow"),
    ("DELTAONE_STORE_DIR", ALL, "a local verdict directory; deployed units use the DynamoDB verdict table"),
    ("DELTAONE_SCALE", ALL, "unset means inferred per comparison; models state it with benchmark_scale tags"),
    ("DELTAONE_REQUIRE_CONFIDENCE", ALL, OPT_IN_POLICY),
    ("DELTAONE_CONFIDENCE_LEVEL", ALL, OPT_IN_POLICY),
    ("DELTAONE_GUARDRAILS", ALL, OPT_IN_POLICY),
    ("DELTAONE_CHAMPION_ALIAS", ALL, OPT_IN_POLICY),
    (
        "DELTAONE_MLFLOW_WEBHOOK_SECRET",
        ALL,
        "the plaintext alternative to DELTAONE_MLFLOW_WEBHOOK_SECRET_ARN; the deployment keeps the secret in Secrets Manager",
    ),
    ("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", ALL, "the extension's default port (2773) is used"),
    (
        "MLFLOW_TRACKING_USERNAME",
        ALL,
        "basic auth is the alternative to MLFLOW_TRACKING_TOKEN, which the module sets (variable mlflow_tracking_token)",
    ),
    (
        "MLFLOW_TRACKING_PASSWORD",
        ALL,
        "basic auth is the alternative to MLFLOW_TRACKING_TOKEN, which the module sets (variable mlflow_tracking_token)",
    ),
    (
        "DELTAONE_WEBHOOK_ENDPOINTS",
        ALL,
        "a file path; the deployment passes the document inline (DELTAONE_WEBHOOK_ENDPOINTS_JSON)",
    ),
    ("DELTAONE_DRIFT_CONFIG", ALL, "a TOML file for local runs; the job definition sets every setting as a variable"),
    ("DELTAONE_DRIFT_JSON", ALL, "prints the result JSON on stdout for a person; the job writes drift.json to S3"),
    (
        "DELTAONE_DRIFT_RUN_ID",
        ALL,
        "set per run by the drift-scheduler function's submission; a run by hand gets a fresh id",
    ),
    (
        "DELTAONE_DRIFT_PREDICTION_COLUMN",
        ALL,
        "defaults to \"prediction\"; per-model column names belong in drift_schedules when a model differs",
    ),
    (
        "DELTAONE_DRIFT_LABEL_COLUMN",
        ALL,
        "defaults to \"label\"; per-model column names belong in drift_schedules when a model differs",
    ),
    (
        "DELTAONE_LOG_FORMAT",
        LAMBDAS,
        "under Lambda the function's logging_config (AWS_LAMBDA_LOG_FORMAT=JSON) decides the log format",
    ),
    (
        "DELTAONE_DRIFT_TABLE",
        &["evaluation", "registry-webhook", "registry-sweep"],
        "a shared setting (SettingsArgs) for the query API and the CLI; the check functions never read drift results",
    ),
    ("MLFLOW_TRACKING_URI", QUERY_API, CHECK_ONLY),
    ("MLFLOW_TRACKING_TOKEN", QUERY_API, CHECK_ONLY),
    ("DELTAONE_MLFLOW_TIMEOUT_SECS", QUERY_API, CHECK_ONLY),
    ("DELTAONE_MLFLOW_RETRIES", QUERY_API, CHECK_ONLY),
    ("DELTAONE_MLFLOW_PAGE_SIZE", QUERY_API, CHECK_ONLY),
    ("DELTAONE_THRESHOLD_PP", QUERY_API, CHECK_ONLY),
    ("DELTAONE_DIRECTION", QUERY_API, CHECK_ONLY),
    ("DELTAONE_TOPIC_ARN", QUERY_API, CHECK_ONLY),
    ("DELTAONE_DEAD_LETTER_QUEUE_URL", QUERY_API, CHECK_ONLY),
    ("DELTAONE_ATTESTATION_KEY", QUERY_API, CHECK_ONLY),
    (
        "DELTAONE_DRIFT_MODEL_NAME",
        DRIFT,
        "a row filter for logs several models share; each schedule names its model's own prefix",
    ),
    (
        "DELTAONE_DRIFT_MODEL_VERSION",
        DRIFT,
        "a row filter for logs several versions share; each schedule names its model's own prefix",
    ),
    ("DELTAONE_DRIFT_TIMESTAMP_COLUMN", DRIFT, WINDOWS),
    ("DELTAONE_DRIFT_REFERENCE_WINDOW", DRIFT, WINDOWS),
    ("DELTAONE_DRIFT_CURRENT_WINDOW", DRIFT, WINDOWS),
    (
        "DELTAONE_DRIFT_READ_CONCURRENCY",
        DRIFT,
        "the default suits a Fargate task; tune it per run with a container override",
    ),
    (
        "DELTAONE_DRIFT_POSITIVE_THRESHOLD",
        DRIFT,
        "the default cut-off (0.5) applies; per-model values belong in the job's TOML config",
    ),
    ("DELTAONE_DRIFT_MANIFEST", SCHEDULER, PASSED_ON),
    ("DELTAONE_DRIFT_MODEL", SCHEDULER, PASSED_ON),
    ("AWS_BATCH_JOB_ARRAY_INDEX", DRIFT, "set by AWS Batch in each child of an array job"),
    ("AWS_LAMBDA_FUNCTION_NAME", LAMBDAS, "set by the Lambda runtime; the functions' EMF metric lines are on under it"),
    (
        "DELTAONE_EMF",
        LAMBDAS,
        "an override of the functions' EMF metric lines (on under Lambda, off in tests and local runs); the deployment keeps the default",
    ),
    ("AWS_BATCH_JOB_ID", DRIFT, "set by AWS Batch in every job; the job's EMF metrics default on under it"),
    (
        "DELTAONE_DRIFT_EMF",
        DRIFT,
        "an override of the EMF metrics' default (on under AWS Batch, off in a terminal); the deployment keeps the default",
    ),
    (
        "DELTAONE_DRIFT_MODEL",
        DRIFT,
        "set per run by the drift-scheduler function's SubmitJob (infra/app/src/schedule/plan.rs), not by Terraform",
    ),
    (
        "DELTAONE_DRIFT_REFERENCE",
        DRIFT,
        "scheduled runs read their files from the run manifest; the flag is for runs started by hand",
    ),
    (
        "DELTAONE_DRIFT_CURRENT",
        DRIFT,
        "scheduled runs read their files from the run manifest; the flag is for runs started by hand",
    ),
    (
        "DELTAONE_DRIFT_MANIFEST",
        DRIFT,
        "set per run by the drift-scheduler function's SubmitJob (infra/app/src/schedule/plan.rs), not by Terraform",
    ),
    (
        "DELTAONE_DRIFT_SKETCH",
        DRIFT,
        "exact statistics by default; columns over DELTAONE_DRIFT_EXACT_MAX_ROWS are sketched anyway, which bounds memory",
    ),
    (
        "DELTAONE_DRIFT_EXACT_MAX_ROWS",
        DRIFT,
        "the default (5 million values, 40 MB per column and window) fits the default 2 GiB task",
    ),
    ("DELTAONE_DRIFT_SKETCH_PRECISION", DRIFT, "the default precision (0.78 % buckets) applies"),
    ("DELTAONE_DRIFT_REPORT_LINK_DAYS", DRIFT, "the default (7 days) is the longest a presigned link may last"),
    ("DELTAONE_DRIFT_POLICY", DRIFT, DECISION_DEFAULTS),
    ("DELTAONE_DRIFT_CORRECTION", DRIFT, DECISION_DEFAULTS),
    ("DELTAONE_DRIFT_ALPHA", DRIFT, DECISION_DEFAULTS),
    ("DELTAONE_DRIFT_NEW_CATEGORY_SHARE", DRIFT, DECISION_DEFAULTS),
    ("DELTAONE_DRIFT_ALERT_K", DRIFT, DECISION_DEFAULTS),
    ("DELTAONE_DRIFT_ALERT_N", DRIFT, DECISION_DEFAULTS),
    ("DELTAONE_DRIFT_ALERT_COOLDOWN_HOURS", DRIFT, DECISION_DEFAULTS),
];

const DECISION_DEFAULTS: &str = "the documented defaults (docs/drift-decisions.md) apply; per-model decision and \
                                 alert settings belong in the job's TOML config or a container override";

/// Code that is not deployed by terraform/ yet, with the reason (the environment test skips it).
const NOT_DEPLOYED: &[(&str, &str)] = &[];

/// Actions that accept no resource ARN: `"*"` is the only resource AWS allows for them.
const NO_RESOURCE_LEVEL: &[(&str, &str)] = &[
    ("xray:PutTraceSegments", "X-Ray trace APIs have no resource types"),
    ("xray:PutTelemetryRecords", "X-Ray trace APIs have no resource types"),
    ("ecr:GetAuthorizationToken", "the registry login token is account-wide"),
    ("ec2:CreateNetworkInterface", "Lambda VPC networking; EC2 ENI creation is authorised on \"*\" for Lambda"),
    ("ec2:DescribeNetworkInterfaces", "Describe* EC2 calls have no resource-level permissions"),
    ("ec2:DeleteNetworkInterface", "Lambda VPC networking; the ENIs' ids are not known in advance"),
    ("cloudwatch:PutMetricData", "CloudWatch metrics have no resource types"),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

// ---------------------------------------------------------------------------------------------
// The code side

/// Environment variable names a Rust source reads: string literals that are exactly such a name.
/// Test modules (`#[cfg(test)]` onwards, files named `tests.rs`) and `//` comments are ignored.
fn env_names_in_source(source: &str) -> BTreeSet<String> {
    const PREFIXES: &[&str] = &["DELTAONE_", "MLFLOW_", "AWS_", "PARAMETERS_SECRETS_", "RUST_LOG"];
    let declared = declared_names();
    let code = source.split("#[cfg(test)]").next().unwrap_or_default();
    let mut names = BTreeSet::new();
    for line in code.lines() {
        let line = line.split("//").next().unwrap_or_default();
        // A name used through its declaration: `env::VERDICT_TABLE`.
        for (i, _) in line.match_indices("env::") {
            let ident: String = line[i + 5..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if let Some(name) = declared.get(&ident) {
                names.insert(name.clone());
            }
        }
        let mut rest = line;
        while let Some(start) = rest.find('"') {
            let after = &rest[start + 1..];
            let Some(end) = after.find('"') else { break };
            let literal = &after[..end];
            let is_name = !literal.is_empty()
                && literal.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                && PREFIXES.iter().any(|p| literal.starts_with(p) && (literal.len() > p.len() || !p.ends_with('_')));
            if is_name {
                names.insert(literal.to_owned());
            }
            rest = &after[end + 1..];
        }
    }
    names
}

/// Where environment variable names are declared, once each (`pub const VERDICT_TABLE: &str =
/// "DELTAONE_VERDICT_TABLE";`); code reads them as `env::VERDICT_TABLE`.
const DECLARATIONS: &[&str] = &["infra/app/src/env.rs", "jobs/drift/src/env.rs"];

/// Constant → variable name, from [`DECLARATIONS`].
fn declared_names() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for file in DECLARATIONS {
        let text = std::fs::read_to_string(root().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        for line in text.lines() {
            let Some(rest) = line.trim().strip_prefix("pub const ") else { continue };
            let Some((ident, value)) = rest.split_once(": &str = \"") else { continue };
            let Some(value) = value.strip_suffix("\";") else { continue };
            out.insert(ident.to_owned(), value.to_owned());
        }
    }
    out
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_file() {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.ends_with(".rs") && name != "tests.rs" {
            out.push(path.to_path_buf());
        }
        return;
    }
    let Ok(entries) = std::fs::read_dir(path) else { return };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for entry in entries {
        if entry.file_name().is_some_and(|n| n == "tests") {
            continue;
        }
        rust_files(&entry, out);
    }
}

/// The variables a unit's code reads, or the sources that do not exist (yet).
fn code_env(unit: &Unit) -> Result<BTreeSet<String>, Vec<String>> {
    let root = root();
    let mut missing = Vec::new();
    let mut names = BTreeSet::new();
    for path in unit.code.iter().flat_map(|group| group.iter()) {
        let full = root.join(path);
        if !full.exists() {
            missing.push((*path).to_owned());
            continue;
        }
        let mut files = Vec::new();
        rust_files(&full, &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            names.extend(env_names_in_source(&text));
        }
    }
    if missing.is_empty() { Ok(names) } else { Err(missing) }
}

// ---------------------------------------------------------------------------------------------
// The Terraform side

/// Every `.tf` file under `dir`, parsed, by path relative to the repository.
fn parse_tf_dir(dir: &Path) -> Vec<(String, Body)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                if !path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "tf") {
                let text = std::fs::read_to_string(&path).unwrap();
                let body = hcl::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let rel = path.strip_prefix(root()).unwrap_or(&path).to_string_lossy().into_owned();
                out.push((rel, body));
            }
        }
    }
    out
}

fn labels(block: &Block) -> Vec<&str> {
    block.labels().iter().map(|l| l.as_str()).collect()
}

fn blocks<'a>(files: &'a [(String, Body)], kind: &'a str) -> impl Iterator<Item = (&'a str, &'a Block)> + 'a {
    files.iter().flat_map(move |(path, body)| {
        body.blocks().filter(move |b| b.identifier() == kind).map(move |b| (path.as_str(), b))
    })
}

fn attr<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes().find(|a| a.key() == key).map(|a| a.expr())
}

fn key_text(key: &ObjectKey) -> Option<String> {
    match key {
        ObjectKey::Identifier(id) => Some(id.as_str().to_owned()),
        ObjectKey::Expression(Expression::String(s)) => Some(s.clone()),
        _ => None,
    }
}

/// `local.NAME` → NAME.
fn local_name(expr: &Expression) -> Option<&str> {
    let Expression::Traversal(t) = expr else { return None };
    let Expression::Variable(v) = &t.expr else { return None };
    match (v.as_str(), t.operators.as_slice()) {
        ("local", [TraversalOperator::GetAttr(name)]) => Some(name.as_str()),
        _ => None,
    }
}

fn locals(files: &[(String, Body)]) -> BTreeMap<String, Expression> {
    blocks(files, "locals")
        .flat_map(|(_, b)| b.body().attributes().map(|a| (a.key().to_owned(), a.expr().clone())))
        .collect()
}

/// The keys of the map an `environment = …` expression builds: object literals, `merge(…)`,
/// conditionals and `local.…` references (followed).
fn map_keys(expr: &Expression, locals: &BTreeMap<String, Expression>, out: &mut BTreeSet<String>) {
    match expr {
        Expression::Object(object) => out.extend(object.keys().filter_map(key_text)),
        Expression::FuncCall(call) => call.args.iter().for_each(|a| map_keys(a, locals, out)),
        Expression::Conditional(c) => {
            map_keys(&c.true_expr, locals, out);
            map_keys(&c.false_expr, locals, out);
        }
        Expression::Parenthesis(inner) => map_keys(inner, locals, out),
        other => {
            if let Some(local) = local_name(other).and_then(|n| locals.get(n)) {
                map_keys(local, locals, out);
            }
        }
    }
}

/// ECS-style environment lists anywhere in an expression: `environment = [{ name = "X", … }]`
/// (job definitions) and `Environment = [{ Name = "X", … }]` (SubmitJob overrides).
fn env_list_names(expr: &Expression, out: &mut BTreeSet<String>) {
    match expr {
        Expression::Object(object) => {
            for (key, value) in object {
                if key_text(key).is_some_and(|k| k.eq_ignore_ascii_case("environment"))
                    && let Expression::Array(items) = value
                {
                    for item in items {
                        if let Expression::Object(entry) = item {
                            for (k, v) in entry {
                                if key_text(k).is_some_and(|k| k.eq_ignore_ascii_case("name"))
                                    && let Expression::String(name) = v
                                {
                                    out.insert(name.clone());
                                }
                            }
                        }
                    }
                }
                env_list_names(value, out);
            }
        }
        Expression::Array(items) => items.iter().for_each(|i| env_list_names(i, out)),
        Expression::FuncCall(call) => call.args.iter().for_each(|a| env_list_names(a, out)),
        Expression::Parenthesis(inner) => env_list_names(inner, out),
        Expression::Conditional(c) => {
            env_list_names(&c.true_expr, out);
            env_list_names(&c.false_expr, out);
        }
        _ => {}
    }
}

fn body_env_lists(body: &Body, out: &mut BTreeSet<String>) {
    for attribute in body.attributes() {
        env_list_names(attribute.expr(), out);
    }
    for block in body.blocks() {
        body_env_lists(block.body(), out);
    }
}

fn terraform_env(files: &[(String, Body)], unit: &Unit) -> BTreeSet<String> {
    let locals = locals(files);
    let mut names = BTreeSet::new();
    match unit.terraform {
        Terraform::Lambda(label) => {
            let (_, module) = blocks(files, "module")
                .find(|(_, b)| labels(b) == [label])
                .unwrap_or_else(|| panic!("terraform/modules/deltaone has no module \"{label}\" ({})", unit.name));
            let source = attr(module.body(), "source");
            assert!(
                matches!(source, Some(Expression::String(s)) if s.ends_with("lambda-function")),
                "module \"{label}\" is not a ../lambda-function"
            );
            let environment =
                attr(module.body(), "environment").unwrap_or_else(|| panic!("module \"{label}\" sets no environment"));
            map_keys(environment, &locals, &mut names);
        }
        Terraform::DriftJob => {
            let mut found = 0;
            for (kind, label) in [("aws_batch_job_definition", "drift"), ("aws_scheduler_schedule", "drift")] {
                for (_, block) in blocks(files, "resource").filter(|(_, b)| labels(b) == [kind, label]) {
                    body_env_lists(block.body(), &mut names);
                    found += 1;
                }
            }
            assert_eq!(found, 2, "the drift job definition and its schedule must both exist");
        }
    }
    names
}

#[test]
fn the_deployment_sets_exactly_the_environment_variables_the_code_reads() {
    let files = parse_tf_dir(&root().join("terraform/modules/deltaone"));
    let excluded = |unit: &str, name: &str| {
        EXCLUDED.iter().find(|(n, units, _)| *n == name && (units.is_empty() || units.contains(&unit))).map(|e| e.2)
    };
    let mut problems = Vec::new();
    let mut read_anywhere = BTreeSet::new();
    for unit in UNITS {
        let code = match code_env(unit) {
            Ok(code) => code,
            Err(missing) => {
                problems.push(format!("{}: its sources do not exist: {}", unit.name, missing.join(", ")));
                continue;
            }
        };
        read_anywhere.extend(code.iter().cloned());
        let set = terraform_env(&files, unit);
        for name in code.difference(&set).filter(|n| excluded(unit.name, n).is_none()) {
            problems.push(format!(
                "{}: the code reads {name}, the Terraform module does not set it (set it, or add it to EXCLUDED with the reason)",
                unit.name
            ));
        }
        for name in set.difference(&code) {
            problems.push(format!("{}: Terraform sets {name}, which the code never reads", unit.name));
        }
        for name in set.intersection(&code) {
            if let Some(reason) = excluded(unit.name, name) {
                problems.push(format!("{}: {name} is set by Terraform but listed in EXCLUDED ({reason})", unit.name));
            }
        }
    }
    if problems.is_empty() {
        for (name, _, reason) in EXCLUDED {
            if !read_anywhere.contains(*name) {
                problems.push(format!("EXCLUDED lists {name} ({reason}), which no deployed unit reads: remove it"));
            }
        }
    }
    assert!(problems.is_empty(), "environment variables differ:\n  {}", problems.join("\n  "));
}

#[test]
fn every_infra_source_that_reads_the_environment_belongs_to_a_unit() {
    let root = root();
    let mut files = Vec::new();
    rust_files(&root.join("infra"), &mut files);
    // The declarations themselves are not reads.
    files.retain(|f| !DECLARATIONS.iter().any(|d| f.ends_with(d)));
    let covered = |file: &Path| {
        let rel = file.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
        UNITS
            .iter()
            .flat_map(|u| u.code.iter().flat_map(|g| g.iter()))
            .chain(CLI_ONLY.iter().chain(NOT_DEPLOYED).map(|(p, _)| p))
            .any(|p| rel == *p || rel.starts_with(&format!("{p}/")))
    };
    let mut unassigned: Vec<String> = files
        .iter()
        .filter(|f| !covered(f))
        .filter_map(|f| {
            let names = env_names_in_source(&std::fs::read_to_string(f).unwrap());
            (!names.is_empty()).then(|| format!("{} reads {names:?}", f.strip_prefix(&root).unwrap().display()))
        })
        .collect();
    let mut crates: Vec<PathBuf> =
        std::fs::read_dir(root.join("functions")).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    crates.extend(std::fs::read_dir(root.join("jobs")).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_dir()));
    for dir in crates {
        let rel = dir.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
        let known =
            UNITS.iter().flat_map(|u| u.code.iter().flat_map(|g| g.iter())).any(|p| p.starts_with(&format!("{rel}/")))
                || NOT_DEPLOYED.iter().any(|(p, _)| *p == rel);
        if !known {
            unassigned.push(format!("{rel} is neither a deployed unit nor listed in NOT_DEPLOYED"));
        }
    }
    assert!(
        unassigned.is_empty(),
        "these sources read environment variables but belong to no unit in tests/tests/deploy.rs (add them to the \
         units that link them, or to CLI_ONLY with the reason):\n  {}",
        unassigned.join("\n  ")
    );
}

#[test]
fn environment_names_are_found_in_code_and_not_in_comments_or_tests() {
    let source = r#"
        #[arg(long, env = "DELTAONE_VERDICT_TABLE")]
        let a = std::env::var("DELTAONE_KEY_TEMPLATE");
        pub const SECRET_ENV: &str = "DELTAONE_MLFLOW_WEBHOOK_SECRET";
        let m = "DELTAONE_TOPIC_ARN is not set"; // "DELTAONE_IN_A_COMMENT"
        let lower = "deltaone_achieved";
        let s = env_var("RUST_LOG");
        let t = std::env::var(env::TOPIC_ARN);
        #[cfg(test)]
        mod tests { const X: &str = "DELTAONE_ONLY_IN_TESTS"; }
    "#;
    let names: Vec<String> = env_names_in_source(source).into_iter().collect();
    assert_eq!(
        names,
        [
            "DELTAONE_KEY_TEMPLATE",
            "DELTAONE_MLFLOW_WEBHOOK_SECRET",
            "DELTAONE_TOPIC_ARN",
            "DELTAONE_VERDICT_TABLE",
            "RUST_LOG"
        ]
    );
}

#[test]
fn terraform_environment_maps_are_read_through_merges_conditionals_and_locals() {
    let body = hcl::parse(
        r#"
        locals {
          base = merge({ A = "1" }, var.x == null ? {} : { B = var.x })
        }
        module "f" {
          source      = "../lambda-function"
          environment = merge(local.base, { C = "3" })
        }
        resource "aws_batch_job_definition" "drift" {
          container_properties = jsonencode({ environment = [{ name = "D", value = "4" }] })
        }
        resource "aws_scheduler_schedule" "drift" {
          target {
            input = jsonencode({ ContainerOverrides = { Environment = [{ Name = "E", Value = "5" }] } })
          }
        }
        "#,
    )
    .unwrap();
    let files = vec![("x.tf".to_owned(), body)];
    let lambda = Unit { name: "f", terraform: Terraform::Lambda("f"), code: &[] };
    assert_eq!(terraform_env(&files, &lambda).into_iter().collect::<Vec<_>>(), ["A", "B", "C"]);
    let job = Unit { name: "job", terraform: Terraform::DriftJob, code: &[] };
    assert_eq!(terraform_env(&files, &job).into_iter().collect::<Vec<_>>(), ["D", "E"]);
}

// ---------------------------------------------------------------------------------------------
// IAM

fn string_list(expr: &Expression, locals: &BTreeMap<String, Expression>) -> Vec<Option<String>> {
    match expr {
        Expression::Array(items) => items
            .iter()
            .map(|i| match i {
                Expression::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        other => match local_name(other).and_then(|n| locals.get(n)) {
            Some(local) => string_list(local, locals),
            // Computed lists (`[for s in … : s.arn]`, a conditional of ARNs) hold no literal "*".
            None => vec![None],
        },
    }
}

/// `data.aws_iam_policy_document.NAME.json` → NAME.
fn policy_document_name(expr: &Expression) -> Option<&str> {
    let Expression::Traversal(t) = expr else { return None };
    let Expression::Variable(v) = &t.expr else { return None };
    match (v.as_str(), t.operators.as_slice()) {
        ("data", [TraversalOperator::GetAttr(kind), TraversalOperator::GetAttr(name), rest @ ..])
            if kind.as_str() == "aws_iam_policy_document" =>
        {
            matches!(rest, [TraversalOperator::GetAttr(j)] | [TraversalOperator::Index(_), TraversalOperator::GetAttr(j)] if j.as_str() == "json")
                .then_some(name.as_str())
        }
        _ => None,
    }
}

fn is_var(expr: &Expression, name: &str) -> bool {
    let Expression::Traversal(t) = expr else { return false };
    matches!((&t.expr, t.operators.as_slice()), (Expression::Variable(v), [TraversalOperator::GetAttr(n)]) if v.as_str() == "var" && n.as_str() == name)
}

/// Findings over a set of Terraform files (one module directory: names resolve within it).
fn review_iam(files: &[(String, Body)]) -> Vec<String> {
    let locals = locals(files);
    let mut findings = Vec::new();
    let no_resource_level: BTreeSet<&str> = NO_RESOURCE_LEVEL.iter().map(|(a, _)| *a).collect();

    // Where each attribute holding a policy gets it from.
    let mut key_policies = BTreeSet::new();
    for (path, block) in blocks(files, "resource") {
        let kind = labels(block).first().copied().unwrap_or_default();
        if kind == "aws_ecr_lifecycle_policy" {
            continue; // a lifecycle rule, not an IAM policy
        }
        if kind == "aws_iam_role_policy_attachment" || kind == "aws_iam_policy_attachment" {
            findings.push(format!("{path}: {}: managed policy attachments are not reviewed here; write the policy as an aws_iam_policy_document", labels(block).join(".")));
        }
        for attribute in block.body().attributes() {
            if !matches!(attribute.key(), "policy" | "assume_role_policy" | "inline_policy" | "managed_policy_arns") {
                continue;
            }
            match policy_document_name(attribute.expr()) {
                Some(name) if kind == "aws_kms_key" => {
                    key_policies.insert(name.to_owned());
                }
                Some(_) => {}
                None if is_var(attribute.expr(), "policy_json") => {}
                None => findings.push(format!(
                    "{path}: {}.{} is not an aws_iam_policy_document's json, so it cannot be reviewed",
                    labels(block).join("."),
                    attribute.key()
                )),
            }
        }
    }
    // A module input policy must come from a policy document too.
    for (path, block) in blocks(files, "module") {
        if let Some(expr) = attr(block.body(), "policy_json")
            && policy_document_name(expr).is_none()
        {
            findings.push(format!(
                "{path}: module {}: policy_json is not an aws_iam_policy_document's json",
                labels(block).join(".")
            ));
        }
    }

    for (path, block) in blocks(files, "data").filter(|(_, b)| labels(b).first() == Some(&"aws_iam_policy_document")) {
        let name = labels(block).get(1).copied().unwrap_or_default();
        let is_key_policy = key_policies.contains(name);
        let statements = block.body().blocks().filter_map(|b| match b.identifier() {
            "statement" => Some(b.body()),
            "dynamic" if labels(b) == ["statement"] => {
                b.body().blocks().find(|c| c.identifier() == "content").map(Block::body)
            }
            _ => None,
        });
        for (index, statement) in statements.enumerate() {
            let at = format!("{path}: policy {name}, statement {}", index + 1);
            let allow = !matches!(attr(statement, "effect"), Some(Expression::String(e)) if e == "Deny");
            if !allow {
                continue; // a Deny may be as broad as it likes
            }
            for key in ["not_actions", "not_resources"] {
                if attr(statement, key).is_some() {
                    findings.push(format!("{at}: {key} in an Allow grants everything else"));
                }
            }
            let actions = attr(statement, "actions").map(|e| string_list(e, &locals)).unwrap_or_default();
            for action in actions.iter().flatten() {
                if action == "*" || action.ends_with(":*") {
                    findings.push(format!("{at}: action {action:?} allows every action"));
                }
            }
            let resources = attr(statement, "resources").map(|e| string_list(e, &locals)).unwrap_or_default();
            if resources.iter().flatten().any(|r| r == "*") && !is_key_policy {
                let scoped: Vec<&String> =
                    actions.iter().flatten().filter(|a| !no_resource_level.contains(a.as_str())).collect();
                if !scoped.is_empty() || actions.iter().any(Option::is_none) || actions.is_empty() {
                    findings.push(format!(
                        "{at}: resource \"*\" for {scoped:?}, which accept resource ARNs: name the ARNs"
                    ));
                }
            }
            let has_principals = statement.blocks().any(|b| b.identifier() == "principals");
            if resources.is_empty() && !has_principals {
                findings.push(format!("{at}: an identity policy statement without resources"));
            }
        }
    }
    findings
}

fn module_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = ["terraform/modules", "terraform/examples"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root().join(d)).unwrap().flatten().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn iam_policies_name_their_actions_and_resources() {
    let mut findings = Vec::new();
    let mut documents = 0;
    for dir in module_dirs() {
        let files = parse_tf_dir(&dir);
        documents +=
            blocks(&files, "data").filter(|(_, b)| labels(b).first() == Some(&"aws_iam_policy_document")).count();
        findings.extend(review_iam(&files));
    }
    assert!(
        documents >= 10,
        "found only {documents} policy documents under terraform/: is the parser reading the modules?"
    );
    assert!(findings.is_empty(), "IAM review:\n  {}", findings.join("\n  "));
}

fn review(hcl: &str) -> Vec<String> {
    review_iam(&[("bad.tf".to_owned(), hcl::parse(hcl).unwrap())])
}

#[test]
fn the_iam_review_fails_wildcard_actions_and_resources() {
    let findings = review(
        r#"
        data "aws_iam_policy_document" "bad" {
          statement {
            actions   = ["*"]
            resources = [aws_s3_bucket.x.arn]
          }
          statement {
            actions   = ["s3:*"]
            resources = ["arn:aws:s3:::bucket/*"]
          }
          statement {
            actions   = ["dynamodb:GetItem", "xray:PutTraceSegments"]
            resources = ["*"]
          }
          dynamic "statement" {
            for_each = [1]
            content {
              actions   = ["sns:Publish"]
              resources = ["*"]
            }
          }
          statement {
            not_actions = ["iam:CreateUser"]
            resources   = [aws_s3_bucket.x.arn]
          }
        }
        resource "aws_iam_role_policy" "inline" {
          role   = aws_iam_role.r.id
          policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }] })
        }
        "#,
    );
    let text = findings.join("\n");
    assert!(text.contains("statement 1: action \"*\""), "{text}");
    assert!(text.contains("statement 2: action \"s3:*\""), "{text}");
    assert!(text.contains("statement 3: resource \"*\" for [\"dynamodb:GetItem\"]"), "{text}");
    assert!(text.contains("statement 4: resource \"*\" for [\"sns:Publish\"]"), "{text}");
    assert!(text.contains("statement 5: not_actions"), "{text}");
    assert!(text.contains("aws_iam_role_policy.inline.policy is not an aws_iam_policy_document"), "{text}");
    assert_eq!(findings.len(), 6, "{text}");
}

#[test]
fn the_iam_review_accepts_named_resources_key_policies_and_actions_without_resource_types() {
    let findings = review(
        r#"
        data "aws_iam_policy_document" "good" {
          statement {
            actions   = ["s3:GetObject"]
            resources = ["${aws_s3_bucket.x.arn}/*"]
          }
          statement {
            actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
            resources = ["*"]
          }
          statement {
            effect    = "Deny"
            actions   = ["s3:*"]
            resources = ["*"]
          }
        }
        data "aws_iam_policy_document" "key" {
          statement {
            actions   = ["kms:Decrypt"]
            resources = ["*"]
            principals {
              type        = "Service"
              identifiers = ["logs.amazonaws.com"]
            }
          }
        }
        resource "aws_kms_key" "k" {
          policy = data.aws_iam_policy_document.key.json
        }
        resource "aws_iam_role_policy" "p" {
          policy = data.aws_iam_policy_document.good.json
        }
        "#,
    );
    assert!(findings.is_empty(), "{findings:#?}");
    // The same "*" statement outside a key policy is a finding.
    let findings = review(
        r#"
        data "aws_iam_policy_document" "key" {
          statement {
            actions   = ["kms:Decrypt"]
            resources = ["*"]
          }
        }
        "#,
    );
    assert_eq!(findings.len(), 1, "{findings:#?}");
}

/// `RESOURCE_TYPE.NAME…` → (RESOURCE_TYPE, NAME), following `local.…` references.
fn resource_reference<'a>(
    expr: &'a Expression,
    locals: &'a BTreeMap<String, Expression>,
) -> Option<(&'a str, &'a str)> {
    if let Some(local) = local_name(expr).and_then(|n| locals.get(n)) {
        return resource_reference(local, locals);
    }
    let Expression::Traversal(t) = expr else { return None };
    let Expression::Variable(kind) = &t.expr else { return None };
    match t.operators.first() {
        Some(TraversalOperator::GetAttr(name)) => Some((kind.as_str(), name.as_str())),
        _ => None,
    }
}

/// S3 refuses PutBucketLogging (InvalidTargetBucketForLogging) until the target bucket's policy lets
/// the logging service write; naming the log bucket through that policy orders the two.
#[test]
fn access_logging_is_configured_after_the_log_buckets_policy() {
    let files = parse_tf_dir(&root().join("terraform/modules/deltaone"));
    let locals = locals(&files);
    let mut logged = Vec::new();
    for (path, block) in blocks(&files, "module") {
        let is_bucket = matches!(attr(block.body(), "source"), Some(Expression::String(s)) if s == "../bucket");
        if !is_bucket {
            continue;
        }
        let name = labels(block).join(".");
        let target = attr(block.body(), "access_log_bucket")
            .unwrap_or_else(|| panic!("{path}: module {name} has no access_log_bucket"));
        assert_eq!(
            resource_reference(target, &locals),
            Some(("aws_s3_bucket_policy", "access_logs")),
            "{path}: module {name} must name its log bucket through aws_s3_bucket_policy.access_logs, so that its logging waits for the policy"
        );
        logged.push(name);
    }
    assert_eq!(logged, ["artifacts", "reports"], "the buckets that log");
}

#[test]
fn a_log_bucket_named_directly_is_not_ordered_after_its_policy() {
    let body = hcl::parse("x = aws_s3_bucket.access_logs.id\ny = local.target\nlocals {\n  target = aws_s3_bucket_policy.access_logs.bucket\n}\n").unwrap();
    let files = vec![("t.tf".to_owned(), body)];
    let locals = locals(&files);
    let x = attr(&files[0].1, "x").unwrap();
    let y = attr(&files[0].1, "y").unwrap();
    assert_eq!(resource_reference(x, &locals), Some(("aws_s3_bucket", "access_logs")));
    assert_eq!(resource_reference(y, &locals), Some(("aws_s3_bucket_policy", "access_logs")));
}
