//! Harness for the system tests: the local stack's endpoints (started once per run by
//! `tests/run.sh`), unique names so tests run in parallel, and MLflow fixtures made over REST.

pub mod faults;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use deltaone_mlflow::{MlflowClient, MlflowConfig};
use serde_json::{Value, json};

/// Endpoints of the running local stack.
#[derive(Debug, Clone)]
pub struct Stack {
    pub moto_url: String,
    pub mlflow_url: String,
}

impl Stack {
    /// Reads the endpoints `tests/run.sh` exports. Fails loudly (never skips) without them.
    pub fn get() -> Self {
        let var = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!("{name} is not set: system tests need the local stack; run them with `bash tests/run.sh`")
            })
        };
        Self { moto_url: var("DELTAONE_TEST_MOTO_URL"), mlflow_url: var("DELTAONE_TEST_MLFLOW_URL") }
    }

    pub fn mlflow_client(&self) -> MlflowClient {
        let mut config = MlflowConfig::new(&self.mlflow_url);
        config.page_size = 200;
        MlflowClient::new(config).expect("valid MLflow config")
    }

    pub async fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        let config = deltaone_aws::sdk_config(Some(&self.moto_url)).await;
        aws_sdk_dynamodb::Client::new(&config)
    }

    pub fn mlflow(&self) -> MlflowFixtures {
        MlflowFixtures::at(&self.mlflow_url)
    }
}

/// A name no other test (or earlier run against the same servers) uses.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{prefix}-{}-{}-{nanos:x}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Creates registry content through MLflow's REST API, as a user's pipeline would.
#[derive(Clone)]
pub struct MlflowFixtures {
    http: reqwest::Client,
    base: String,
}

/// One version to create: its tags and, optionally, a run with metrics.
#[derive(Debug, Clone, Default)]
pub struct NewVersion {
    pub tags: Vec<(String, String)>,
    pub metrics: Option<Vec<(String, f64)>>,
}

impl NewVersion {
    pub fn tagged(tags: &[(&str, &str)]) -> Self {
        Self { tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), metrics: None }
    }

    pub fn with_run(metrics: &[(&str, f64)]) -> Self {
        Self { tags: Vec::new(), metrics: Some(metrics.iter().map(|(k, v)| (k.to_string(), *v)).collect()) }
    }

    pub fn tag(mut self, key: &str, value: &str) -> Self {
        self.tags.push((key.into(), value.into()));
        self
    }
}

fn tags_json(tags: &[(String, String)]) -> Value {
    Value::Array(tags.iter().map(|(k, v)| json!({"key": k, "value": v})).collect())
}

impl MlflowFixtures {
    /// Fixtures made on the MLflow server at `url` (the stack's, or a test's own).
    pub fn at(url: &str) -> Self {
        Self { http: reqwest::Client::new(), base: format!("{}/api/2.0/mlflow", url.trim_end_matches('/')) }
    }

    pub async fn post(&self, endpoint: &str, body: Value) -> Value {
        for attempt in 0..5 {
            let response = self.http.post(format!("{}/{endpoint}", self.base)).json(&body).send().await;
            match response {
                Ok(r) if r.status().is_success() => return r.json().await.expect("MLflow answers JSON"),
                // sqlite under concurrent writers: "database is locked" comes back as a 5xx.
                Ok(r) if r.status().is_server_error() && attempt < 4 => {}
                Ok(r) => panic!("{endpoint} {body}: HTTP {} {}", r.status(), r.text().await.unwrap_or_default()),
                Err(e) if attempt < 4 => eprintln!("{endpoint}: {e}; retrying"),
                Err(e) => panic!("{endpoint}: {e}"),
            }
            tokio::time::sleep(std::time::Duration::from_millis(200 * (attempt + 1))).await;
        }
        unreachable!()
    }

    pub async fn get(&self, endpoint: &str, query: &[(&str, &str)]) -> Value {
        let r = self.http.get(format!("{}/{endpoint}", self.base)).query(query).send().await.expect("MLflow reachable");
        assert!(r.status().is_success(), "{endpoint}: HTTP {}", r.status());
        r.json().await.expect("MLflow answers JSON")
    }

    pub async fn create_model(&self, name: &str, tags: &[(&str, &str)]) {
        let tags: Vec<(String, String)> = tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.post("registered-models/create", json!({"name": name, "tags": tags_json(&tags)})).await;
    }

    pub async fn create_experiment(&self, name: &str) -> String {
        let reply = self.post("experiments/create", json!({"name": name})).await;
        reply["experiment_id"].as_str().expect("experiment id").to_owned()
    }

    pub async fn create_run(&self, experiment_id: &str, metrics: &[(String, f64)]) -> String {
        let reply = self.post("runs/create", json!({"experiment_id": experiment_id})).await;
        let run_id = reply["run"]["info"]["run_id"].as_str().expect("run id").to_owned();
        for (key, value) in metrics {
            let value = if value.is_finite() { json!(value) } else { json!(value.to_string()) };
            self.post(
                "runs/log-metric",
                json!({"run_id": run_id, "key": key, "value": value, "timestamp": 1, "step": 0}),
            )
            .await;
        }
        run_id
    }

    /// Creates a model with `versions` in order (version 1 first). Returns the run id of each.
    pub async fn create_model_with_versions(
        &self,
        name: &str,
        model_tags: &[(&str, &str)],
        versions: &[NewVersion],
    ) -> Vec<Option<String>> {
        self.create_model(name, model_tags).await;
        let experiment = self.create_experiment(&format!("{name}-runs")).await;
        let mut runs = Vec::new();
        for v in versions {
            runs.push(self.create_version(name, &experiment, v).await);
        }
        runs
    }

    pub async fn create_version(&self, name: &str, experiment: &str, v: &NewVersion) -> Option<String> {
        let run_id = match &v.metrics {
            Some(metrics) => Some(self.create_run(experiment, metrics).await),
            None => None,
        };
        let mut body = json!({"name": name, "source": format!("s3://models/{name}"), "tags": tags_json(&v.tags)});
        if let Some(run) = &run_id {
            body["run_id"] = json!(run);
        }
        self.post("model-versions/create", body).await;
        run_id
    }

    pub async fn version_tags(&self, name: &str, version: u64) -> std::collections::BTreeMap<String, String> {
        let reply = self.get("model-versions/get", &[("name", name), ("version", &version.to_string())]).await;
        reply["model_version"]["tags"]
            .as_array()
            .map(|tags| {
                tags.iter()
                    .map(|t| (t["key"].as_str().unwrap_or("").to_owned(), t["value"].as_str().unwrap_or("").to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub async fn run_metrics(&self, run_id: &str) -> std::collections::BTreeMap<String, f64> {
        let reply = self.get("runs/get", &[("run_id", run_id)]).await;
        reply["run"]["data"]["metrics"]
            .as_array()
            .map(|ms| {
                ms.iter()
                    .map(|m| (m["key"].as_str().unwrap_or("").to_owned(), m["value"].as_f64().unwrap_or(f64::NAN)))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Path of the `deltaone` binary that cargo built next to this test binary.
pub fn deltaone_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>/deps");
    let bin = dir.join(format!("deltaone{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} not built: run the tests with `bash tests/run.sh`, which builds every binary first (or `cargo build --workspace --all-targets`)",
        bin.display()
    );
    bin
}

/// The directory of the Parquet files pyarrow, Polars and DuckDB wrote for the reading tests
/// (`tests/parquet-writers/generate.sh`: every codec and encoding, timestamps, decimals, nested
/// columns; see its `write_files.py` for the layout). Written once per version of the script and
/// its pinned writers into the cache directory; the first call may install the writers' virtualenv.
pub fn parquet_writer_files() -> std::path::PathBuf {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("parquet-writers/generate.sh");
    let output = std::process::Command::new("bash").arg(&script).output().expect("bash runs");
    assert!(
        output.status.success(),
        "{} failed (it needs python3 with venv and the package index): {}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let dir = std::path::PathBuf::from(String::from_utf8(output.stdout).expect("a path").trim());
    assert!(
        dir.join("manifest.json").exists(),
        "{} printed {}, which has no manifest.json",
        script.display(),
        dir.display()
    );
    dir
}

/// AWS resources in moto, created per test with unique names.
pub struct Aws {
    pub config: aws_config::SdkConfig,
    pub s3: aws_sdk_s3::Client,
    pub sns: aws_sdk_sns::Client,
    pub sqs: aws_sdk_sqs::Client,
}

impl Stack {
    pub async fn aws(&self) -> Aws {
        let config = deltaone_aws::sdk_config(Some(&self.moto_url)).await;
        Aws {
            s3: deltaone_aws::s3::S3Objects::client(&config, true),
            sns: aws_sdk_sns::Client::new(&config),
            sqs: aws_sdk_sqs::Client::new(&config),
            config,
        }
    }
}

impl Aws {
    pub async fn bucket(&self, name: &str) {
        self.s3.create_bucket().bucket(name).send().await.expect("create bucket");
    }

    /// Creates a queue; returns (url, arn).
    pub async fn queue(&self, name: &str) -> (String, String) {
        let url = self.sqs.create_queue().queue_name(name).send().await.expect("create queue").queue_url.unwrap();
        let attrs = self
            .sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes");
        let arn = attrs.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
        (url, arn)
    }

    pub async fn topic(&self, name: &str) -> String {
        self.sns.create_topic().name(name).send().await.expect("create topic").topic_arn.unwrap()
    }

    /// Subscribes a queue to a topic, optionally with a filter policy (JSON).
    pub async fn subscribe(&self, topic_arn: &str, queue_arn: &str, filter_policy: Option<&str>) {
        let mut request = self.sns.subscribe().topic_arn(topic_arn).protocol("sqs").endpoint(queue_arn);
        if let Some(policy) = filter_policy {
            request = request.attributes("FilterPolicy", policy);
        }
        request.send().await.expect("subscribe");
    }

    /// One long poll (1 s) for up to 10 messages.
    async fn receive(&self, url: &str) -> aws_sdk_sqs::operation::receive_message::ReceiveMessageOutput {
        let request = self.sqs.receive_message().queue_url(url).max_number_of_messages(10).wait_time_seconds(1);
        request.send().await.expect("receive")
    }

    /// Receives until the queue stays empty for `quiet` (long polls); returns the message bodies.
    pub async fn drain(&self, url: &str, quiet: std::time::Duration) -> Vec<String> {
        let mut bodies = Vec::new();
        let mut idle_since = std::time::Instant::now();
        loop {
            let got = self.receive(url).await;
            let messages = got.messages();
            if messages.is_empty() {
                if idle_since.elapsed() >= quiet {
                    return bodies;
                }
                continue;
            }
            idle_since = std::time::Instant::now();
            for m in messages {
                bodies.push(m.body().unwrap_or_default().to_owned());
                if let Some(handle) = m.receipt_handle() {
                    self.sqs.delete_message().queue_url(url).receipt_handle(handle).send().await.expect("delete");
                }
            }
        }
    }

    /// Receives SQS messages (without deleting them) and wraps them as a Lambda SQS event.
    pub async fn receive_as_lambda_event(&self, url: &str, expect: usize) -> Value {
        let mut records = Vec::new();
        for _ in 0..30 {
            let got = self.receive(url).await;
            for m in got.messages() {
                records.push(json!({
                    "messageId": m.message_id(),
                    "receiptHandle": m.receipt_handle(),
                    "body": m.body(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:queue",
                    "awsRegion": "us-east-1"
                }));
            }
            if records.len() >= expect {
                break;
            }
        }
        assert_eq!(records.len(), expect, "messages on {url}");
        json!({"Records": records})
    }
}

/// A moto server of one test's own, for what must not share the stack's server: resources that
/// break moto's `/moto-api/data.json` for everyone (AWS Batch jobs), or atomicity that moto's
/// threaded server does not give (its DynamoDB transactions are not isolated from concurrent
/// requests; `serialized` handles one request at a time, as DynamoDB's conditions are atomic).
/// Stopped when dropped.
pub struct PrivateMoto {
    child: std::process::Child,
    pub url: String,
}

impl PrivateMoto {
    pub async fn start(serialized: bool) -> Self {
        let venv = std::env::var("DELTAONE_VENV")
            .unwrap_or_else(|_| panic!("DELTAONE_VENV is not set: run the tests with `bash tests/run.sh`"));
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        const SERVER: &str = "import sys\n\
            from werkzeug.serving import run_simple\n\
            from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app\n\
            run_simple('127.0.0.1', int(sys.argv[1]), DomainDispatcherApplication(create_backend_app),\n\
                       threaded=sys.argv[2] == 'threaded', request_handler=MotoRequestHandler)\n";
        let child = std::process::Command::new(format!("{venv}/bin/python"))
            .args(["-c", SERVER, &port.to_string(), if serialized { "serialized" } else { "threaded" }])
            .env("MOTO_PORT", port.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start a private moto server");
        // Owned from here on, so that the server is stopped on every path (Drop).
        let moto = Self { child, url: format!("http://127.0.0.1:{port}") };
        let http = reqwest::Client::new();
        for _ in 0..300 {
            if http.get(format!("{}/moto-api/", moto.url)).send().await.is_ok() {
                return moto;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        drop(moto);
        panic!("the private moto server did not answer within 30 s");
    }

    pub async fn config(&self) -> aws_config::SdkConfig {
        deltaone_aws::sdk_config(Some(&self.url)).await
    }
}

impl Drop for PrivateMoto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
