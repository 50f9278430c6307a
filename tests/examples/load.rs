//! Load against the local stack (moto and MLflow on loopback): exactly-once under concurrent
//! duplicates, thousands of distinct artifacts through SQS batches, and the registry webhook's answer
//! time while MLflow is slow. A bench, not a test: `bash bench/load/run.sh` starts the stack and runs
//! it; the figures go to bench/load/README.md. Each scenario prints its count-in = count-out line
//! and exits non-zero when a count is off.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use deltaone::Policy;
use deltaone::signature::sign_mlflow;
use deltaone_app::artifact::KeyTemplate;
use deltaone_app::check::Checker;
use deltaone_app::checkqueue::CheckQueue;
use deltaone_app::store::VerdictStore;
use deltaone_aws::deliveries::DynamoDeliveries;
use deltaone_aws::s3::S3Objects;
use deltaone_aws::sns::SnsNotifier;
use deltaone_aws::sqs::{SqsCheckQueue, SqsDeadLetters};
use deltaone_aws::verdicts::DynamoVerdictStore;
use deltaone_fn_evaluation::Evaluation;
use deltaone_fn_registry_webhook::{RegistryWebhook, WebhookSecret, function_url_request};
use deltaone_mlflow::{MlflowClient, MlflowConfig, MlflowRegistry};
use deltaone_system_tests::faults::poll_like_lambda;
use deltaone_system_tests::{Aws, NewVersion, Stack, unique};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const HELP: &str = "\
deltaone load bench: exactly-once and throughput against moto and MLflow on loopback

USAGE: bash bench/load/run.sh [OPTIONS]   (or, with the stack's variables set: cargo run --example load -- [OPTIONS])

OPTIONS:
  --duplicates N      deliveries of one event per entry (default 1000)
  --in-flight N       duplicates in flight at once (default 100)
  --artifacts N       distinct artifacts through SQS (default 10000)
  --concurrency N     SQS pollers, as the function's reserved concurrency (default 10)
  --slow-ms N         MLflow's added latency for the webhook answer-time scenario (default 500)
  --webhook-deliveries N   deliveries for the answer-time scenario (default 200)
  --only NAME         run one scenario: duplicates, distinct, answer-time
  -h, --help          this text

Needs DELTAONE_TEST_MOTO_URL and DELTAONE_TEST_MLFLOW_URL (bench/load/run.sh sets them).";

struct Options {
    duplicates: usize,
    in_flight: usize,
    artifacts: usize,
    concurrency: usize,
    slow_ms: u64,
    webhook_deliveries: usize,
    only: Option<String>,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        duplicates: 1000,
        in_flight: 100,
        artifacts: 10_000,
        concurrency: 10,
        slow_ms: 500,
        webhook_deliveries: 200,
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            println!("{HELP}");
            std::process::exit(0);
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value (try --help)"))?;
        let number = || value.parse::<usize>().map_err(|_| format!("{flag}: {value:?} is not a whole number"));
        match flag.as_str() {
            "--duplicates" => o.duplicates = number()?,
            "--in-flight" => o.in_flight = number()?.max(1),
            "--artifacts" => o.artifacts = number()?,
            "--concurrency" => o.concurrency = number()?.max(1),
            "--slow-ms" => o.slow_ms = number()? as u64,
            "--webhook-deliveries" => o.webhook_deliveries = number()?,
            "--only" => o.only = Some(value),
            other => return Err(format!("unknown option {other} (try --help)")),
        }
    }
    Ok(o)
}

/// Milliseconds at the given quantile of sorted samples.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn summary(mut millis: Vec<f64>) -> (f64, f64) {
    millis.sort_by(f64::total_cmp);
    (quantile(&millis, 0.5), quantile(&millis, 0.99))
}

/// The stack's AWS resources for one scenario, uniquely named.
struct Rig {
    stack: Stack,
    aws: Aws,
    bucket: String,
    alerts: String,
    dlq: String,
    topic: String,
    store: Arc<DynamoVerdictStore>,
}

impl Rig {
    async fn new() -> Self {
        let stack = Stack::get();
        let aws = stack.aws().await;
        let bucket = unique("load");
        aws.bucket(&bucket).await;
        let topic = aws.topic(&unique("load-alerts")).await;
        let (alerts, alerts_arn) = aws.queue(&unique("load-alerts-sub")).await;
        aws.subscribe(&topic, &alerts_arn, None).await;
        let (dlq, _) = aws.queue(&unique("load-dlq")).await;
        let store = Arc::new(DynamoVerdictStore::new(stack.dynamodb().await, unique("load-verdicts")));
        store.create_table_if_missing().await.expect("verdict table");
        Self { stack, aws, bucket, alerts, dlq, topic, store }
    }

    fn registry(&self, mlflow_url: &str) -> Arc<MlflowRegistry> {
        let mut config = MlflowConfig::new(mlflow_url);
        config.timeout = Duration::from_secs(30);
        Arc::new(MlflowRegistry::new(MlflowClient::new(config).expect("MLflow config")))
    }

    fn checker(&self, mlflow_url: &str) -> Checker {
        Checker::new(self.registry(mlflow_url), Some(self.store.clone()), Policy::default())
            .with_notifier(Arc::new(SnsNotifier::new(self.aws.sns.clone(), &self.topic)))
    }

    fn evaluation(&self) -> Evaluation {
        Evaluation {
            objects: Arc::new(S3Objects::new(self.aws.s3.clone())),
            registry: self.registry(&self.stack.mlflow_url),
            checker: self.checker(&self.stack.mlflow_url),
            dead_letters: Arc::new(SqsDeadLetters::new(self.aws.sqs.clone(), &self.dlq)),
            template: KeyTemplate::default(),
            quarantine_prefix: "quarantine/".into(),
        }
    }

    async fn count_queue(&self, url: &str) -> usize {
        self.aws.drain(url, Duration::from_secs(3)).await.len()
    }

    async fn upload(&self, key: &str, body: &'static [u8]) {
        let put = self.aws.s3.put_object().bucket(&self.bucket).key(key).body(ByteStream::from_static(body));
        put.send().await.expect("upload");
    }

    /// The S3 event notification for one object, as S3 sends it.
    fn s3_event(&self, key: &str) -> Value {
        json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": self.bucket}, "object": {"key": key, "size": 64}}}]})
    }
}

const METRICS: &[u8] = br#"{"metrics": {"accuracy": 0.915}}"#;

fn baseline() -> NewVersion {
    NewVersion::tagged(&[("benchmark_value", "0.9"), ("benchmark_metric", "accuracy")])
}

/// Counts that must agree; prints the line and remembers a mismatch.
fn count_line(failed: &AtomicBool, label: &str, counts: &[(&str, usize, usize)]) {
    let parts: Vec<String> = counts.iter().map(|(what, got, want)| format!("{what} {got}/{want}")).collect();
    let ok = counts.iter().all(|(_, got, want)| got == want);
    if !ok {
        failed.store(true, Ordering::SeqCst);
    }
    println!("  {label}: {} {}", parts.join(", "), if ok { "ok" } else { "MISMATCH" });
}

async fn duplicates(o: &Options, failed: &AtomicBool) {
    println!(
        "duplicates: {} deliveries of one event per entry, {} in flight; count-in = count-out",
        o.duplicates, o.in_flight
    );
    println!("  {:<18} {:>8} {:>9} {:>9} {:>8} {:>8}", "entry", "wall s", "per s", "p50 ms", "p99 ms", "");
    for entry in ["s3-direct", "sns", "sqs", "registry-webhook"] {
        let rig = Rig::new().await;
        let model = unique("load-dup");
        let fixtures = rig.stack.mlflow();
        fixtures.create_model_with_versions(&model, &[], &[baseline(), NewVersion::default()]).await;
        let key = format!("evaluations/{model}/2/metrics.json");
        rig.upload(&key, METRICS).await;
        let evaluation = Arc::new(rig.evaluation());
        let s3 = rig.s3_event(&key);
        let secret = unique("secret");
        let webhook = Arc::new(RegistryWebhook {
            checker: rig.checker(&rig.stack.mlflow_url),
            deliveries: Arc::new(deliveries(&rig).await),
            dead_letters: Arc::new(SqsDeadLetters::new(rig.aws.sqs.clone(), &rig.dlq)),
            secret: WebhookSecret::new(secret.clone()).unwrap(),
            tolerance_secs: 300,
            clock: deltaone_fn_registry_webhook::system_clock(),
            queue: None,
        });
        let body = json!({"entity": "model_version", "action": "created", "timestamp": "2026-12-08T00:00:00Z",
            "data": {"name": model, "version": "2", "source": "s3://m", "run_id": null, "tags": {}}})
        .to_string();
        let now = deltaone_fn_registry_webhook::system_clock()();
        let signature = sign_mlflow(secret.as_bytes(), "load-delivery", now, body.as_bytes());
        let started = Instant::now();
        let latencies: Vec<f64> = futures::stream::iter(0..o.duplicates)
            .map(|i| {
                let (evaluation, webhook, s3, body, signature) =
                    (evaluation.clone(), webhook.clone(), s3.clone(), body.clone(), signature.clone());
                async move {
                    let t = Instant::now();
                    match entry {
                        "s3-direct" => drop(evaluation.handle(s3).await.expect("handled")),
                        "sns" => {
                            let event = json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": s3.to_string()}}]});
                            drop(evaluation.handle(event).await.expect("handled"));
                        }
                        "sqs" => {
                            let event = json!({"Records": [{"eventSource": "aws:sqs", "messageId": format!("m-{i}"), "body": s3.to_string()}]});
                            let answer = evaluation.handle(event).await.expect("handled");
                            assert_eq!(answer["batchItemFailures"], json!([]), "{answer}");
                        }
                        _ => {
                            let ts = now.to_string();
                            let headers = [
                                ("X-MLflow-Delivery-Id", "load-delivery"),
                                ("X-MLflow-Timestamp", ts.as_str()),
                                ("X-MLflow-Signature", signature.as_str()),
                            ];
                            let request = function_url_request("POST", "/", &headers, body.as_bytes()).unwrap();
                            let response = webhook.handle(request).await;
                            assert!(matches!(response.status_code, 200 | 503), "{response:?}");
                        }
                    }
                    t.elapsed().as_secs_f64() * 1000.0
                }
            })
            .buffer_unordered(o.in_flight)
            .collect()
            .await;
        let wall = started.elapsed().as_secs_f64();
        let (p50, p99) = summary(latencies);
        println!("  {:<18} {:>8.1} {:>9.0} {:>9.1} {:>8.1}", entry, wall, o.duplicates as f64 / wall, p50, p99);
        let records = rig.store.history(&model, 10).await.expect("history").len();
        let notices = rig.count_queue(&rig.alerts).await;
        let parked = rig.count_queue(&rig.dlq).await;
        count_line(failed, entry, &[("records", records, 1), ("notices", notices, 1), ("dead letters", parked, 0)]);
    }
}

async fn deliveries(rig: &Rig) -> DynamoDeliveries {
    let deliveries = DynamoDeliveries::new(rig.stack.dynamodb().await, unique("load-deliveries"));
    deliveries.create_table_if_missing().await.expect("delivery table");
    deliveries
}

async fn distinct(o: &Options, failed: &AtomicBool) {
    let models = o.artifacts.div_ceil(100).max(1);
    let per_model = o.artifacts.div_ceil(models);
    println!(
        "distinct: {} artifacts ({models} models x {per_model} versions) through SQS batches of 10, {} pollers",
        o.artifacts, o.concurrency
    );
    let rig = Rig::new().await;
    let fixtures = rig.stack.mlflow();
    let (uploads, _) = rig.aws.queue(&unique("load-uploads")).await;
    let setup = Instant::now();
    let names: Vec<String> = (0..models).map(|_| unique("load-many")).collect();
    let mut keys = Vec::new();
    for (m, model) in names.iter().enumerate() {
        let versions = per_model.min(o.artifacts - m * per_model);
        fixtures.create_model(model, &[]).await;
        let experiment = fixtures.create_experiment(&format!("{model}-runs")).await;
        fixtures.create_version(model, &experiment, &baseline()).await;
        futures::stream::iter(0..versions)
            .for_each_concurrent(8, |_| {
                let (fixtures, model, experiment) = (fixtures.clone(), model.clone(), experiment.clone());
                async move {
                    fixtures.create_version(&model, &experiment, &NewVersion::default()).await;
                }
            })
            .await;
        for v in 2..versions + 2 {
            keys.push(format!("evaluations/{model}/{v}/metrics.json"));
        }
    }
    futures::stream::iter(keys.iter())
        .for_each_concurrent(32, |key| {
            let (rig, uploads) = (&rig, &uploads);
            async move {
                rig.upload(key, METRICS).await;
                let body = rig.s3_event(key).to_string();
                rig.aws.sqs.send_message().queue_url(uploads).message_body(body).send().await.expect("enqueue");
            }
        })
        .await;
    println!("  setup (versions in MLflow, objects in S3, events in SQS): {:.0} s", setup.elapsed().as_secs_f64());

    // Pollers, as Lambda's SQS event source runs the function: receive up to 10, hand them over as
    // one event, delete what succeeded; what is listed in batchItemFailures becomes visible again.
    let evaluation = Arc::new(rig.evaluation());
    let started = Instant::now();
    let target = keys.len();
    let handler = move |event: Value| {
        let evaluation = evaluation.clone();
        async move { evaluation.handle(event).await.map_err(|e| e.to_string()) }
    };
    let polled =
        poll_like_lambda(&rig.aws.sqs, &uploads, o.concurrency, target, 120, Duration::from_secs(30), handler).await;
    let wall = started.elapsed().as_secs_f64();
    let done = polled.handled;
    let (p50, p99) = summary(polled.batch_ms);
    println!(
        "  handled {done} in {wall:.1} s: {:.1} artifacts/s; batch latency p50 {p50:.0} ms, p99 {p99:.0} ms",
        done as f64 / wall
    );
    let mut verdicts = 0;
    for model in &names {
        verdicts += rig.store.history(model, 1000).await.expect("history").len();
    }
    let notices = rig.count_queue(&rig.alerts).await;
    let parked = rig.count_queue(&rig.dlq).await;
    count_line(
        failed,
        "distinct",
        &[
            ("handled", done, target),
            ("verdicts", verdicts, target),
            ("notices", notices, target),
            ("dead letters", parked, 0),
        ],
    );
}

/// A TCP proxy in front of MLflow that holds every chunk MLflow sends back for `delay`: each answer
/// arrives that much later, as from a registry under load.
async fn slow_proxy(target: String, delay: Duration) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let authority = target.trim_start_matches("http://").trim_end_matches('/').to_owned();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else { continue };
            let authority = authority.clone();
            tokio::spawn(async move {
                let Ok(mut upstream) = tokio::net::TcpStream::connect(&authority).await else { return };
                let (mut client_read, mut client_write) = client.split();
                let (mut up_read, mut up_write) = upstream.split();
                let to_server = tokio::io::copy(&mut client_read, &mut up_write);
                let to_client = async {
                    let mut buffer = vec![0u8; 64 * 1024];
                    loop {
                        let n = up_read.read(&mut buffer).await?;
                        if n == 0 {
                            return Ok::<_, std::io::Error>(());
                        }
                        tokio::time::sleep(delay).await;
                        client_write.write_all(&buffer[..n]).await?;
                    }
                };
                let _ = tokio::join!(to_server, to_client);
            });
        }
    });
    url
}

async fn answer_time(o: &Options, failed: &AtomicBool) {
    println!(
        "answer time: {} webhook deliveries (distinct versions), 20 in flight, MLflow answering {} ms late",
        o.webhook_deliveries, o.slow_ms
    );
    let slow = slow_proxy(Stack::get().mlflow_url, Duration::from_millis(o.slow_ms)).await;
    let mut rows = Vec::new();
    for mode in ["inline", "queued"] {
        let rig = Rig::new().await;
        let model = unique("load-answer");
        let fixtures = rig.stack.mlflow();
        let mut versions = vec![baseline()];
        versions.extend((0..o.webhook_deliveries).map(|_| NewVersion::default()));
        fixtures.create_model_with_versions(&model, &[], &versions).await;
        let (queue_url, _) = rig.aws.queue(&unique("load-checks")).await;
        let queue: Option<Arc<dyn CheckQueue>> = match mode {
            "queued" => Some(Arc::new(SqsCheckQueue::new(rig.aws.sqs.clone(), &queue_url))),
            _ => None,
        };
        let secret = unique("secret");
        let deliveries = Arc::new(deliveries(&rig).await);
        let webhook = Arc::new(RegistryWebhook {
            checker: rig.checker(&slow),
            deliveries: deliveries.clone(),
            dead_letters: Arc::new(SqsDeadLetters::new(rig.aws.sqs.clone(), &rig.dlq)),
            secret: WebhookSecret::new(secret.clone()).unwrap(),
            tolerance_secs: 300,
            clock: deltaone_fn_registry_webhook::system_clock(),
            queue,
        });
        let now = deltaone_fn_registry_webhook::system_clock()();
        let answers: Vec<(f64, i64)> = futures::stream::iter(2..o.webhook_deliveries + 2)
            .map(|version| {
                let (webhook, model, secret) = (webhook.clone(), model.clone(), secret.clone());
                async move {
                    let body = json!({"entity": "model_version", "action": "created", "timestamp": "2026-12-08T00:00:00Z",
                        "data": {"name": model, "version": version.to_string(), "source": "s3://m", "run_id": null, "tags": {}}})
                    .to_string();
                    let id = format!("answer-{version}");
                    let signature = sign_mlflow(secret.as_bytes(), &id, now, body.as_bytes());
                    let ts = now.to_string();
                    let headers = [
                        ("X-MLflow-Delivery-Id", id.as_str()),
                        ("X-MLflow-Timestamp", ts.as_str()),
                        ("X-MLflow-Signature", signature.as_str()),
                    ];
                    let request = function_url_request("POST", "/", &headers, body.as_bytes()).unwrap();
                    let t = Instant::now();
                    let response = webhook.handle(request).await;
                    (t.elapsed().as_secs_f64() * 1000.0, response.status_code)
                }
            })
            .buffer_unordered(20)
            .collect()
            .await;
        let ok = answers.iter().filter(|(_, status)| *status == 200).count();
        let (p50, p99) = summary(answers.iter().map(|(ms, _)| *ms).collect());
        // Queued checks still run: the worker drains the queue through the slow registry.
        let mut verdicts = rig.store.history(&model, 10_000).await.expect("history").len();
        if mode == "queued" {
            let batch_started = Instant::now();
            loop {
                let bodies = rig.aws.drain(&queue_url, Duration::from_secs(2)).await;
                if bodies.is_empty() {
                    break;
                }
                let records: Vec<Value> = bodies
                    .iter()
                    .enumerate()
                    .map(|(i, b)| json!({"eventSource": "aws:sqs", "messageId": format!("w-{i}"), "body": b}))
                    .collect();
                for chunk in records.chunks(10) {
                    let answer = webhook.work(&json!({"Records": chunk})).await;
                    assert_eq!(answer["batchItemFailures"], json!([]), "{answer}");
                }
            }
            println!("  queued: the worker checked them in {:.0} s", batch_started.elapsed().as_secs_f64());
            verdicts = rig.store.history(&model, 10_000).await.expect("history").len();
        }
        println!("  {mode:<7} answered 200: {ok}/{}; answer p50 {p50:.0} ms, p99 {p99:.0} ms", answers.len());
        count_line(failed, mode, &[("answered 200", ok, answers.len()), ("verdicts", verdicts, answers.len())]);
        rows.push((p50, p99));
    }
    if let [(inline50, inline99), (queued50, queued99)] = rows[..] {
        println!(
            "  queued answers {:.0}x faster at p50, {:.0}x at p99 than the check inside the request",
            inline50 / queued50,
            inline99 / queued99
        );
    }
}

#[tokio::main]
async fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("load: {e}");
            std::process::exit(2);
        }
    };
    let failed = AtomicBool::new(false);
    let run = |name: &str| o.only.as_deref().is_none_or(|only| only == name);
    if run("duplicates") {
        duplicates(&o, &failed).await;
    }
    if run("distinct") {
        distinct(&o, &failed).await;
    }
    if run("answer-time") {
        answer_time(&o, &failed).await;
    }
    if failed.load(Ordering::SeqCst) {
        eprintln!("load: a count-in = count-out line does not match (MISMATCH above)");
        std::process::exit(1);
    }
}
