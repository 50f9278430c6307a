//! The registry webhook function on loopback: a real MLflow server's webhooks → a small HTTP server
//! standing in for the Lambda Function URL → the function's handler → MLflow (tags written back),
//! DynamoDB (one verdict, delivery ids) and SNS → an SQS subscriber (one alert); refused, ignored,
//! duplicate and parked deliveries; the captured MLflow deliveries in `samples/events/mlflow/`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;
use deltaone::signature::sign_mlflow;
use deltaone::{Policy, VersionNumber};
use deltaone_app::check::Checker;
use deltaone_app::deadletter::DeadLetter;
use deltaone_app::deliveries::{Begin, WebhookDeliveries};
use deltaone_app::store::VerdictStore;
use deltaone_app::sweep::{Sweep, SweepSettings};
use deltaone_aws::deliveries::DynamoDeliveries;
use deltaone_aws::sns::SnsNotifier;
use deltaone_aws::sqs::SqsDeadLetters;
use deltaone_aws::verdicts::DynamoVerdictStore;
use deltaone_aws::watermarks::DynamoWatermarks;
use deltaone_fn_registry_webhook::{
    Clock, LambdaFunctionUrlRequest, RegistryWebhook, WebhookSecret, function_url_request, http, json_response,
    redrive_request, system_clock,
};
use deltaone_mlflow::MlflowRegistry;
use deltaone_system_tests::{Aws, NewVersion, Stack, unique};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn now_unix() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn v(n: u64) -> VersionNumber {
    VersionNumber::new(n).unwrap()
}

/// The function wired to the stack, with every AWS resource new and uniquely named.
struct Rig {
    stack: Stack,
    aws: Aws,
    dynamodb: aws_sdk_dynamodb::Client,
    verdicts: Arc<DynamoVerdictStore>,
    deliveries: Arc<DynamoDeliveries>,
    alerts: String,
    dlq: String,
    secret: String,
    topic: String,
    webhook: Arc<RegistryWebhook>,
}

async fn rig() -> Rig {
    rig_with(unique("secret"), system_clock()).await
}

async fn rig_with(secret: String, clock: Clock) -> Rig {
    let stack = Stack::get();
    let aws = stack.aws().await;
    let dynamodb = stack.dynamodb().await;
    let verdicts = Arc::new(DynamoVerdictStore::new(dynamodb.clone(), unique("verdicts")));
    let deliveries = Arc::new(DynamoDeliveries::new(dynamodb.clone(), unique("deliveries")));
    let (alerts, alerts_arn) = aws.queue(&unique("alerts")).await;
    let topic = aws.topic(&unique("verdicts")).await;
    let dlq_name = unique("dlq");
    let ((dlq, _), verdict_table, delivery_table, ()) = futures::join!(
        aws.queue(&dlq_name),
        verdicts.create_table_if_missing(),
        deliveries.create_table_if_missing(),
        aws.subscribe(&topic, &alerts_arn, None),
    );
    verdict_table.expect("verdict table in moto");
    delivery_table.expect("delivery table in moto");
    let checker =
        Checker::new(Arc::new(MlflowRegistry::new(stack.mlflow_client())), Some(verdicts.clone()), Policy::default())
            .with_notifier(Arc::new(SnsNotifier::new(aws.sns.clone(), topic.clone())));
    let webhook = Arc::new(RegistryWebhook {
        checker,
        deliveries: deliveries.clone(),
        dead_letters: Arc::new(SqsDeadLetters::new(aws.sqs.clone(), &dlq)),
        secret: WebhookSecret::new(secret.clone()).unwrap(),
        tolerance_secs: 300,
        clock,
        queue: None,
    });
    Rig { stack, aws, dynamodb, verdicts, deliveries, alerts, dlq, secret, topic, webhook }
}

impl Rig {
    /// A request signed with the rig's secret, as MLflow sends it.
    fn signed(&self, delivery_id: &str, timestamp: i64, body: &str) -> LambdaFunctionUrlRequest {
        let signature = sign_mlflow(self.secret.as_bytes(), delivery_id, timestamp, body.as_bytes());
        let ts = timestamp.to_string();
        request(
            &[
                ("Content-Type", "application/json"),
                ("X-MLflow-Delivery-Id", delivery_id),
                ("X-MLflow-Timestamp", &ts),
                ("X-MLflow-Signature", &signature),
            ],
            body.as_bytes(),
        )
    }

    async fn answer(&self, request: LambdaFunctionUrlRequest) -> (i64, Value) {
        let response = self.webhook.handle(request).await;
        (response.status_code, serde_json::from_str(response.body.as_deref().unwrap_or("null")).unwrap())
    }

    async fn item_count(&self, table: &str) -> i32 {
        self.dynamodb.scan().table_name(table).send().await.expect("scan").count()
    }

    /// The SNS alerts that reached the subscriber queue, unwrapped from SNS's envelope.
    async fn alerts(&self, quiet: Duration) -> Vec<Value> {
        let bodies = self.aws.drain(&self.alerts, quiet).await;
        bodies
            .iter()
            .map(|b| {
                let envelope: Value = serde_json::from_str(b).expect("SNS envelope");
                serde_json::from_str(envelope["Message"].as_str().expect("Message")).expect("DeltaOne message")
            })
            .collect()
    }

    async fn dead_letters(&self, quiet: Duration) -> Vec<DeadLetter> {
        let bodies = self.aws.drain(&self.dlq, quiet).await;
        bodies.iter().map(|b| serde_json::from_str(b).expect("a dead letter")).collect()
    }
}

fn request(headers: &[(&str, &str)], body: &[u8]) -> LambdaFunctionUrlRequest {
    function_url_request("POST", "/", headers, body).expect("a valid request")
}

fn created_body(model: &str, version: u64) -> String {
    json!({"entity": "model_version", "action": "created", "timestamp": "2026-11-23T18:17:15.122144+00:00",
           "data": {"name": model, "version": version.to_string(), "source": format!("s3://models/{model}"),
                    "run_id": null, "tags": {}, "description": ""}})
    .to_string()
}

// ---------------------------------------------------------------------------------------------
// The function's URL on loopback: HTTP/1.1 requests → LambdaFunctionUrlRequest → the handler.

/// One request the handler answered (or, while the function was down, the stand-in refused).
#[derive(Debug, Clone)]
struct Exchange {
    /// `entity.action`
    event: String,
    model: String,
    version: String,
    key: Option<String>,
    status: i64,
    answer: Value,
    /// The request as MLflow sent it, to replay a delivery the function missed.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Exchange {
    fn answered(&self) -> &str {
        self.answer["status"].as_str().unwrap_or("")
    }
}

/// How long a test waits for MLflow to deliver (asynchronously, from a thread pool that the whole test
/// run's registry events share).
const PATIENCE: Duration = Duration::from_secs(90);

struct FunctionUrl {
    url: String,
    exchanges: Arc<Mutex<Vec<Exchange>>>,
    /// While set, the function is unavailable: deliveries for the test's models are answered 503
    /// (as a throttled or failing Lambda's URL answers) without reaching the handler.
    down: Arc<std::sync::atomic::AtomicBool>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FunctionUrl {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FunctionUrl {
    /// Serves the handler on a free loopback port. With `models`, only deliveries about those models
    /// reach the handler (the MLflow server is shared with tests running in parallel, and a webhook
    /// sees every model's events); the others are answered 200 and forgotten.
    async fn start(webhook: Arc<RegistryWebhook>, models: Option<Vec<String>>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let exchanges = Arc::new(Mutex::new(Vec::new()));
        let log = exchanges.clone();
        let models = Arc::new(models);
        let down = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let is_down = down.clone();
        let server = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else { continue };
                let (webhook, log, models, down) = (webhook.clone(), log.clone(), models.clone(), is_down.clone());
                tokio::spawn(async move {
                    let _ = serve_connection(socket, &webhook, &log, models.as_deref(), &down).await;
                });
            }
        });
        Self { url, exchanges, down, server }
    }

    fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges.lock().unwrap().clone()
    }

    /// Waits up to [`PATIENCE`] for an exchange that `matches`.
    async fn wait_for(&self, what: &str, matches: impl Fn(&Exchange) -> bool) -> Exchange {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(found) = self.exchanges().into_iter().find(&matches) {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "no {what} within {PATIENCE:?}; the handler answered: {:#?}",
                self.exchanges()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits up to [`PATIENCE`] until `count` exchanges match.
    async fn wait_for_count(&self, what: &str, count: usize, matches: impl Fn(&Exchange) -> bool) -> Vec<Exchange> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let found: Vec<Exchange> = self.exchanges().into_iter().filter(&matches).collect();
            if found.len() >= count {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} {what} within {PATIENCE:?}: {:#?}",
                found.len(),
                self.exchanges()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// HTTP/1.1 with keep-alive and `Content-Length` bodies: what MLflow (python-requests) and reqwest send.
async fn serve_connection(
    mut socket: tokio::net::TcpStream,
    webhook: &RegistryWebhook,
    log: &Mutex<Vec<Exchange>>,
    models: Option<&[String]>,
    down: &std::sync::atomic::AtomicBool,
) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let head_end = loop {
            if let Some(at) = find(&buffer, b"\r\n\r\n") {
                break at + 4;
            }
            let n = socket.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buffer.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buffer[..head_end - 4]).into_owned();
        let mut lines = head.split("\r\n");
        let mut request_line = lines.next().unwrap_or("").split(' ');
        let (method, path) =
            (request_line.next().unwrap_or("").to_owned(), request_line.next().unwrap_or("/").to_owned());
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
            .collect();
        let header = |name: &str| headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
        let length: usize = header("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
        let close = header("connection").is_some_and(|c| c.eq_ignore_ascii_case("close"));
        while buffer.len() < head_end + length {
            let n = socket.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buffer.extend_from_slice(&chunk[..n]);
        }
        let body: Vec<u8> = buffer.drain(..head_end + length).skip(head_end).collect();

        let payload: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        let model = text(&payload["data"]["name"]);
        let response = if models.is_none_or(|m| m.contains(&model)) {
            let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let response = if down.load(std::sync::atomic::Ordering::SeqCst) {
                json_response(503, &json!({"Message": "Service Unavailable"}))
            } else {
                match function_url_request(&method, &path, &pairs, &body) {
                    Ok(lambda_request) => webhook.handle(lambda_request).await,
                    Err(e) => json_response(400, &json!({"status": "error", "message": e.to_string()})),
                }
            };
            log.lock().unwrap().push(Exchange {
                event: format!("{}.{}", text(&payload["entity"]), text(&payload["action"])),
                model,
                version: text(&payload["data"]["version"]),
                key: payload["data"]["key"].as_str().map(str::to_owned),
                status: response.status_code,
                answer: serde_json::from_str(response.body.as_deref().unwrap_or("null")).unwrap_or(Value::Null),
                headers: headers.clone(),
                body: body.clone(),
            });
            response
        } else {
            json_response(200, &json!({"status": "not_for_this_test"}))
        };
        let body = response.body.unwrap_or_default();
        let head = format!(
            "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            response.status_code,
            body.len()
        );
        socket.write_all(head.as_bytes()).await?;
        socket.write_all(body.as_bytes()).await?;
        if close {
            return Ok(());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// An MLflow webhook, deleted when dropped (a webhook to a closed port costs MLflow retries).

struct MlflowWebhook {
    id: String,
    mlflow_url: String,
    created: Instant,
    deleted: bool,
}

/// The prefix of the names of the webhooks these tests create.
const WEBHOOK_PREFIX: &str = "deltaone-registry-webhook-test";

impl MlflowWebhook {
    /// Deletes webhooks an interrupted earlier run left behind: this test's, pointing at a port
    /// nobody listens on any more (MLflow would keep retrying every registry event against them).
    async fn remove_dead(stack: &Stack) {
        let listed = stack.mlflow().get("webhooks", &[("max_results", "1000")]).await;
        for hook in listed["webhooks"].as_array().into_iter().flatten() {
            let (Some(name), Some(id), Some(url)) =
                (hook["name"].as_str(), hook["webhook_id"].as_str(), hook["url"].as_str())
            else {
                continue;
            };
            let Some(authority) = url.strip_prefix("http://").and_then(|rest| rest.split('/').next()) else { continue };
            if !name.starts_with(WEBHOOK_PREFIX) {
                continue;
            }
            let connect = tokio::net::TcpStream::connect(authority.to_owned());
            if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(1), connect).await {
                continue; // alive: another run's test
            }
            delete_webhook(&stack.mlflow_url, id).await;
        }
    }

    async fn create(stack: &Stack, url: &str, secret: &str) -> Self {
        Self::remove_dead(stack).await;
        let reply = stack
            .mlflow()
            .post(
                "webhooks",
                json!({
                    "name": unique(WEBHOOK_PREFIX),
                    "url": url,
                    "events": [
                        {"entity": "MODEL_VERSION", "action": "CREATED"},
                        {"entity": "MODEL_VERSION_TAG", "action": "SET"},
                    ],
                    "secret": secret,
                    "description": "DeltaOne system test",
                }),
            )
            .await;
        let id = reply["webhook"]["webhook_id"].as_str().expect("webhook id").to_owned();
        Self { id, mlflow_url: stack.mlflow_url.clone(), created: Instant::now(), deleted: false }
    }

    /// MLflow's "test webhook": a fake model_version.created for `example_model`, sent at once.
    async fn test(&self, stack: &Stack) -> Value {
        stack.mlflow().post(&format!("webhooks/{}/test", self.id), json!({})).await
    }

    /// Each MLflow worker caches the webhook list per event for MLFLOW_WEBHOOK_CACHE_TTL seconds
    /// (60 unless the stack sets it). Until that has passed since the webhook was created, a worker
    /// may still deliver from a list without it.
    async fn wait_until_every_worker_sees_it(&self) {
        tokio::time::sleep_until((self.created + mlflow_webhook_cache_ttl()).into()).await;
    }

    /// Deletes the webhook, then waits until no MLflow worker delivers from a list that still has it:
    /// the caller keeps its URL answering meanwhile. (Deliveries to a closed port cost MLflow about
    /// 7 s of retries each, in a thread pool every registry event shares: a test that stopped
    /// listening at once could hold up the next run's webhook deliveries for minutes.)
    async fn delete_and_linger(mut self) {
        let deleted = Instant::now();
        delete_webhook(&self.mlflow_url, &self.id).await;
        self.deleted = true;
        tokio::time::sleep_until((deleted + mlflow_webhook_cache_ttl()).into()).await;
    }
}

/// How long an MLflow worker may deliver from a cached webhook list: MLFLOW_WEBHOOK_CACHE_TTL (60 s
/// unless the stack sets it), and a margin.
fn mlflow_webhook_cache_ttl() -> Duration {
    let ttl = std::env::var("MLFLOW_WEBHOOK_CACHE_TTL").ok().and_then(|t| t.parse().ok()).unwrap_or(60u64);
    Duration::from_secs(ttl + 2)
}

async fn delete_webhook(mlflow_url: &str, id: &str) {
    let url = format!("{mlflow_url}/api/2.0/mlflow/webhooks/{id}");
    let _ = reqwest::Client::new().delete(url).send().await;
}

impl Drop for MlflowWebhook {
    fn drop(&mut self) {
        if self.deleted {
            return;
        }
        let (mlflow_url, id) = (self.mlflow_url.clone(), self.id.clone());
        // Drop cannot await; a thread with its own runtime can.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(delete_webhook(&mlflow_url, &id));
            Some(())
        })
        .join();
    }
}

// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn a_real_mlflow_webhook_checks_new_versions_and_benchmark_tags_and_ignores_deltaone_tags() {
    let rig = rig().await;
    let model = unique("webhook-e2e");
    let url = FunctionUrl::start(rig.webhook.clone(), Some(vec![model.clone(), "example_model".into()])).await;
    let hook = MlflowWebhook::create(&rig.stack, &url.url, &rig.secret).await;

    // MLflow's test button reaches the function and is answered without a check.
    let tested = hook.test(&rig.stack).await;
    assert_eq!(tested["result"]["success"], true, "{tested}");
    assert_eq!(tested["result"]["response_status"], 200, "{tested}");
    let body: Value = serde_json::from_str(tested["result"]["response_body"].as_str().unwrap()).unwrap();
    assert_eq!(body["status"], "test", "{tested}");

    assert!(url.exchanges().iter().any(|x| x.model == "example_model" && x.answered() == "test"));

    hook.wait_until_every_worker_sees_it().await;
    let fixtures = rig.stack.mlflow();
    fixtures.create_model(&model, &[]).await;
    let experiment = fixtures.create_experiment(&format!("{model}-runs")).await;

    // Version 1: the benchmarked baseline. Its own check has no baseline to compare with.
    let baseline = NewVersion::tagged(&[("benchmark_value", "0.9"), ("benchmark_metric", "accuracy")]);
    fixtures.create_version(&model, &experiment, &baseline).await;
    let first = url
        .wait_for("check of version 1", |x| {
            x.model == model && x.event == "model_version.created" && x.version == "1" && x.status == 200
        })
        .await;
    assert_eq!((first.answered(), first.answer["outcome"].as_str()), ("checked", Some("no_baseline")), "{first:?}");

    // Version 2: +1.5 pp → recorded, written back, alerted.
    fixtures.create_version(&model, &experiment, &NewVersion::with_run(&[("accuracy", 0.915)])).await;
    let second = url
        .wait_for("check of version 2", |x| {
            x.model == model && x.event == "model_version.created" && x.version == "2" && x.status == 200
        })
        .await;
    assert_eq!(second.answered(), "checked", "{second:?}");
    assert_eq!(
        (second.answer["outcome"].as_str(), second.answer["delta_pp"].as_str()),
        (Some("achieved"), Some("1.5"))
    );
    assert_eq!((second.answer["stored"].as_str(), second.answer["wrote_back"].as_bool()), (Some("new"), Some(true)));
    let stored = rig.verdicts.get(&model, v(2)).await.unwrap().expect("verdict recorded before the 200");
    assert!(stored.verdict.achieved() && stored.written_back && stored.notified);

    // The write-back's four tags come back as model_version_tag.set deliveries, all ignored.
    let own = |x: &Exchange, version: &str| {
        x.model == model
            && x.event == "model_version_tag.set"
            && x.version == version
            && x.key.as_deref().is_some_and(|k| deltaone::tags::WRITTEN_BY_DELTAONE.contains(&k))
    };
    let echoes = url.wait_for_count("write-back tag deliveries for version 2", 4, |x| own(x, "2")).await;
    for echo in &echoes {
        assert_eq!((echo.status, echo.answered()), (200, "ignored"), "{echo:?}");
    }
    let tags = fixtures.version_tags(&model, 2).await;
    assert_eq!((tags["deltaone_achieved"].as_str(), tags["delta_value"].as_str()), ("true", "1.5"));

    // Version 3 without a value: recorded as metric_missing.
    fixtures.create_version(&model, &experiment, &NewVersion::default()).await;
    let third = url
        .wait_for("check of version 3", |x| {
            x.model == model && x.event == "model_version.created" && x.version == "3" && x.status == 200
        })
        .await;
    assert_eq!((third.answered(), third.answer["outcome"].as_str()), ("checked", Some("metric_missing")), "{third:?}");

    let tag = |key: &str, value: &str| {
        let fixtures = fixtures.clone();
        let body = json!({"name": model, "version": "3", "key": key, "value": value});
        async move { fixtures.post("model-versions/set-tag", body).await }
    };
    let tag_answer = |key: &'static str, version: &'static str| {
        let model = model.clone();
        move |x: &Exchange| {
            x.model == model
                && x.event == "model_version_tag.set"
                && x.version == version
                && x.key.as_deref() == Some(key)
                && x.status == 200
        }
    };
    // A tag that is neither a benchmark tag nor the metric changes nothing.
    tag("owner", "risk-team").await;
    let owner = url.wait_for("the owner tag's delivery", tag_answer("owner", "3")).await;
    assert_eq!(owner.answered(), "ignored", "{owner:?}");
    assert!(owner.answer["reason"].as_str().unwrap().contains("(accuracy)"), "{owner:?}");

    // A tag named like the metric supplies the missing value: checked again, the verdict replaced.
    tag("accuracy", "0.925").await;
    let metric = url.wait_for("the accuracy tag's delivery", tag_answer("accuracy", "3")).await;
    assert_eq!(metric.answered(), "checked", "{metric:?}");
    assert_eq!(
        (metric.answer["outcome"].as_str(), metric.answer["delta_pp"].as_str()),
        (Some("achieved"), Some("2.5"))
    );
    assert_eq!(metric.answer["stored"], "replaced", "{metric:?}");
    let echoes = url.wait_for_count("write-back tag deliveries for version 3", 4, |x| own(x, "3")).await;
    assert!(echoes.iter().all(|x| x.answered() == "ignored"), "{echoes:?}");

    // A benchmark tag set later runs the check again; the recorded comparison stands.
    fixtures
        .post(
            "model-versions/set-tag",
            json!({"name": model, "version": "2", "key": "benchmark_value", "value": "0.915"}),
        )
        .await;
    let again = url.wait_for("the benchmark tag's delivery", tag_answer("benchmark_value", "2")).await;
    assert_eq!((again.answered(), again.answer["stored"].as_str()), ("checked", Some("existing")), "{again:?}");

    // One record per version, one alert per record; nothing parked.
    let history = rig.verdicts.history(&model, 10).await.unwrap();
    let outcomes: Vec<_> = history.iter().map(|r| (r.version.get(), r.verdict.outcome.as_str())).collect();
    assert_eq!(outcomes, [(3, "achieved"), (2, "achieved"), (1, "no_baseline")]);
    let alerts = rig.alerts(Duration::from_secs(3)).await;
    let mut seen: Vec<_> = alerts
        .iter()
        .map(|m| {
            assert_eq!(m["model"], model.as_str());
            (
                m["body"]["candidate_version"].as_str().unwrap_or("").to_owned(),
                m["event_type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    seen.sort();
    let expected =
        [("1", "deltaone.checked"), ("2", "deltaone.achieved"), ("3", "deltaone.achieved"), ("3", "deltaone.checked")];
    assert_eq!(seen, expected.map(|(v, e)| (v.to_owned(), e.to_owned())), "{alerts:#?}");
    assert!(rig.dead_letters(Duration::from_millis(500)).await.is_empty());
    // Every delivery that ran something is remembered as done.
    assert!(rig.item_count(rig.deliveries.table()).await >= 6);
    hook.delete_and_linger().await;
    drop(url);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_delivery_100_times_20_at_a_time_is_checked_once_and_alerted_once() {
    let rig = rig().await;
    let model = unique("webhook-dup");
    rig.stack
        .mlflow()
        .create_model_with_versions(
            &model,
            &[],
            &[
                NewVersion::tagged(&[("benchmark_value", "0.87"), ("benchmark_metric", "accuracy")]),
                NewVersion::with_run(&[("accuracy", 0.88)]),
            ],
        )
        .await;
    let url = FunctionUrl::start(rig.webhook.clone(), None).await;

    let delivery_id = unique("delivery");
    let body = created_body(&model, 2);
    let timestamp = now_unix();
    let signature = sign_mlflow(rig.secret.as_bytes(), &delivery_id, timestamp, body.as_bytes());
    let http = reqwest::Client::new();
    let answers: Vec<(u16, Value)> = futures::stream::iter(0..100)
        .map(|_| {
            let request = http
                .post(&url.url)
                .header("Content-Type", "application/json")
                .header("X-MLflow-Delivery-Id", &delivery_id)
                .header("X-MLflow-Timestamp", timestamp.to_string())
                .header("X-MLflow-Signature", &signature)
                .body(body.clone());
            async move {
                let response = request.send().await.expect("the function URL answers");
                let status = response.status().as_u16();
                (status, response.json().await.expect("JSON"))
            }
        })
        .buffer_unordered(20)
        .collect()
        .await;

    assert!(answers.iter().all(|(status, _)| *status == 200), "{answers:?}");
    let checked: Vec<_> = answers.iter().filter(|(_, a)| a["status"] == "checked").collect();
    assert_eq!(checked.len(), 1, "{answers:?}");
    assert_eq!((checked[0].1["stored"].as_str(), checked[0].1["outcome"].as_str()), (Some("new"), Some("achieved")));
    assert!(answers.iter().all(|(_, a)| a["status"] == "checked" || a["status"] == "duplicate"), "{answers:?}");
    assert_eq!(url.exchanges().len(), 100);

    let history = rig.verdicts.history(&model, 10).await.unwrap();
    assert_eq!(history.len(), 1, "exactly one verdict record");
    assert_eq!(history[0].version, v(2));
    let alerts = rig.alerts(Duration::from_secs(3)).await;
    assert_eq!(alerts.len(), 1, "exactly one alert: {alerts:#?}");
    assert_eq!(
        (alerts[0]["event_type"].as_str(), alerts[0]["model"].as_str()),
        (Some("deltaone.achieved"), Some(model.as_str()))
    );
    assert_eq!(rig.deliveries.begin(&delivery_id).await.unwrap(), Begin::Done);
    assert_eq!(rig.item_count(rig.deliveries.table()).await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_stale_headerless_and_malformed_deliveries_are_refused_and_record_nothing() {
    let rig = rig().await;
    let model = unique("webhook-refused");
    rig.stack
        .mlflow()
        .create_model_with_versions(
            &model,
            &[],
            &[
                NewVersion::tagged(&[("benchmark_value", "0.8"), ("benchmark_metric", "accuracy")]),
                NewVersion::with_run(&[("accuracy", 0.85)]),
            ],
        )
        .await;
    let now = now_unix();
    let body = created_body(&model, 2);
    let good = rig.signed("refused-1", now, &body);

    let mut forged = good.clone();
    forged.body = Some(created_body(&model, 1));
    let mut wrong_secret = good.clone();
    let other = sign_mlflow(b"not the secret", "refused-1", now, body.as_bytes());
    wrong_secret.headers.insert("x-mlflow-signature", http::HeaderValue::from_str(&other).unwrap());
    let stale = rig.signed("refused-2", now - 301, &body);
    let future = rig.signed("refused-3", now + 400, &body);
    let mut cases = vec![
        ("forged body", forged, 401, "SignatureMismatch", "no signature matches"),
        ("wrong secret", wrong_secret, 401, "SignatureMismatch", "no signature matches"),
        ("stale", stale, 401, "StaleTimestamp", "s old, more than the tolerance"),
        ("from the future", future, 401, "StaleTimestamp", "in the future"),
    ];
    for header in ["X-MLflow-Signature", "X-MLflow-Delivery-Id", "X-MLflow-Timestamp"] {
        let mut missing = good.clone();
        missing.headers.remove(header);
        cases.push(("missing header", missing, 401, "MissingHeader", header));
    }
    let malformed =
        rig.signed("refused-4", now, "{\"entity\": \"model_version\", \"action\": \"created\", \"data\": {");
    cases.push(("malformed JSON", malformed, 400, "MalformedJson", "not JSON"));
    let shapeless = rig.signed(
        "refused-5",
        now,
        &json!({"entity": "model_version", "action": "created",
                                                          "data": {"name": model}})
        .to_string(),
    );
    cases.push(("no version", shapeless, 400, "UnknownShape", "data.version is missing"));

    for (what, request, status, error_type, message) in cases {
        let (got, answer) = rig.answer(request).await;
        assert_eq!(got, status, "{what}: {answer}");
        assert_eq!(
            (answer["status"].as_str(), answer["error_type"].as_str()),
            (Some("error"), Some(error_type)),
            "{what}"
        );
        assert!(answer["message"].as_str().unwrap().contains(message), "{what}: {answer}");
    }

    assert_eq!(rig.item_count(rig.verdicts.table()).await, 0, "no verdict item");
    assert_eq!(rig.item_count(rig.deliveries.table()).await, 0, "no delivery item");
    assert!(
        !rig.stack.mlflow().version_tags(&model, 2).await.contains_key("deltaone_achieved"),
        "nothing written back"
    );
    assert!(rig.alerts(Duration::from_millis(500)).await.is_empty(), "no alert");
    assert!(rig.dead_letters(Duration::from_millis(500)).await.is_empty(), "nothing parked");

    // The genuine delivery still goes through afterwards.
    let (status, answer) = rig.answer(good).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("checked")), "{answer}");
}

/// One captured request: headers and the raw body, byte for byte.
struct Captured {
    name: &'static str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Captured {
    fn parse(name: &'static str, raw: &[u8]) -> Self {
        // The request line ends in CRLF, the header lines (as captured) in LF.
        let (end, separator) = [&b"\r\n\r\n"[..], b"\n\n"]
            .iter()
            .filter_map(|sep| find(raw, sep).map(|at| (at, sep.len())))
            .min()
            .expect("a blank line ends the head");
        let head = std::str::from_utf8(&raw[..end]).expect("the head is text");
        let headers = head
            .lines()
            .skip(1)
            .filter_map(|line| line.split_once(':'))
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .collect();
        Self { name, headers, body: raw[end + separator..].to_vec() }
    }

    fn header(&self, name: &str) -> &str {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    fn request(&self) -> LambdaFunctionUrlRequest {
        let pairs: Vec<(&str, &str)> = self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        request(&pairs, &self.body)
    }
}

macro_rules! captured {
    ($($file:literal),* $(,)?) => {
        [$(Captured::parse($file, include_bytes!(concat!("../../samples/events/mlflow/", $file)))),*]
    };
}

#[tokio::test(flavor = "multi_thread")]
async fn captured_mlflow_deliveries_are_handled_as_documented() {
    let samples = captured![
        "001_model_version.created.request.txt",
        "002_registered_model.created.request.txt",
        "003_model_version.created.request.txt",
        "004_model_version_tag.set.request.txt",
        "005_model_version_alias.created.request.txt",
    ];
    // The function's clock at the capture (the deliveries were signed then, with this secret).
    let captured_at: i64 = samples[4].header("X-MLflow-Timestamp").parse().unwrap();
    let rig = rig_with("s3cr3t-deltaone".into(), Arc::new(move || captured_at)).await;
    let registry = rig.stack.mlflow_client();
    for absent in ["example_model", "capture_model"] {
        assert!(registry.model(absent).await.is_err(), "{absent} must not exist in the test MLflow");
    }

    let expected = [
        ("test", None),                          // MLflow's test button: example_model
        ("ignored", None),                       // registered_model.created
        ("parked", Some("UnknownModelVersion")), // capture_model is not in this registry
        ("parked", Some("UnknownModelVersion")), // benchmark_value set: a check ran, and failed for good
        ("ignored", None),                       // model_version_alias.created
    ];
    for (sample, (status, error_type)) in samples.iter().zip(expected) {
        let (code, answer) = rig.answer(sample.request()).await;
        assert_eq!((code, answer["status"].as_str()), (200, Some(status)), "{}: {answer}", sample.name);
        assert_eq!(answer["error_type"].as_str(), error_type, "{}: {answer}", sample.name);
        assert_eq!(answer["delivery_id"], sample.header("X-MLflow-Delivery-Id"), "{}", sample.name);
    }
    let parked = rig.dead_letters(Duration::from_secs(1)).await;
    let mut parked_ids: Vec<_> =
        parked.iter().map(|l| l.original["headers"]["x-mlflow-delivery-id"].as_str().unwrap().to_owned()).collect();
    parked_ids.sort();
    let mut expected_ids = vec![samples[2].header("X-MLflow-Delivery-Id"), samples[3].header("X-MLflow-Delivery-Id")];
    expected_ids.sort();
    assert_eq!(parked_ids, expected_ids);
    for letter in &parked {
        let sample = samples
            .iter()
            .find(|s| s.header("X-MLflow-Delivery-Id") == letter.original["headers"]["x-mlflow-delivery-id"])
            .unwrap();
        assert_eq!(
            letter.original["body"].as_str().unwrap().as_bytes(),
            sample.body.as_slice(),
            "the raw body, byte for byte"
        );
        assert_eq!(letter.original["headers"]["x-mlflow-signature"], sample.header("X-MLflow-Signature"));
        assert_eq!((letter.source.as_str(), letter.error_type.as_str()), ("registry-webhook", "UnknownModelVersion"));
        assert!(letter.reason.contains("capture_model"), "{}", letter.reason);
    }
    // Replays of the captured deliveries are duplicates (the parked ones are done too).
    for sample in &samples[2..4] {
        let (_, answer) = rig.answer(sample.request()).await;
        assert_eq!(
            (answer["status"].as_str(), answer["state"].as_str()),
            (Some("duplicate"), Some("done")),
            "{}",
            sample.name
        );
    }
    assert_eq!(rig.item_count(rig.verdicts.table()).await, 0);

    // The same two deliveries about a model that exists, re-signed under new ids: both run the check.
    let model = unique("capture");
    rig.stack
        .mlflow()
        .create_model_with_versions(
            &model,
            &[("benchmark_metric", "accuracy")],
            &[NewVersion::with_run(&[("accuracy", 0.87)])],
        )
        .await;
    for (sample, stored) in [(&samples[2], "new"), (&samples[3], "existing")] {
        let body = String::from_utf8(sample.body.clone()).unwrap().replace("capture_model", &model);
        let id = unique("resigned");
        let (code, answer) = rig.answer(rig.signed(&id, captured_at, &body)).await;
        assert_eq!((code, answer["status"].as_str()), (200, Some("checked")), "{}: {answer}", sample.name);
        assert_eq!(
            (answer["outcome"].as_str(), answer["stored"].as_str()),
            (Some("no_baseline"), Some(stored)),
            "{answer}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_parked_delivery_is_redriven_once_its_model_exists() {
    let rig = rig().await;
    let model = unique("webhook-redrive");
    let (_, answer) = rig.answer(rig.signed(&unique("early"), now_unix(), &created_body(&model, 2))).await;
    assert_eq!(
        (answer["status"].as_str(), answer["error_type"].as_str()),
        (Some("parked"), Some("UnknownModelVersion"))
    );
    let letters = rig.dead_letters(Duration::from_secs(1)).await;
    assert_eq!(letters.len(), 1);

    // The cause is fixed (the model is registered), then the letter is redriven: checked, once.
    rig.stack
        .mlflow()
        .create_model_with_versions(
            &model,
            &[],
            &[
                NewVersion::tagged(&[("benchmark_value", "0.7"), ("benchmark_metric", "accuracy")]),
                NewVersion::with_run(&[("accuracy", 0.75)]),
            ],
        )
        .await;
    let secret = WebhookSecret::new(rig.secret.clone()).unwrap();
    let redriven = redrive_request(&letters[0].original, &secret, now_unix()).unwrap();
    let (status, answer) = rig.answer(redriven.clone()).await;
    assert_eq!(
        (status, answer["status"].as_str(), answer["outcome"].as_str()),
        (200, Some("checked"), Some("achieved")),
        "{answer}"
    );
    let (_, again) = rig.answer(redriven).await;
    assert_eq!(again["status"], "duplicate");
    assert_eq!(rig.verdicts.history(&model, 10).await.unwrap().len(), 1);
    assert_eq!(rig.alerts(Duration::from_secs(2)).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn dynamo_deliveries_claim_once_take_over_stale_claims_and_forget_abandoned_ones() {
    let rig = rig().await;
    let d = &rig.deliveries;
    assert_eq!(d.begin("a").await.unwrap(), Begin::Fresh);
    assert_eq!(d.begin("a").await.unwrap(), Begin::InProgress);
    d.finish("a").await.unwrap();
    assert_eq!(d.begin("a").await.unwrap(), Begin::Done);
    d.abandon("a").await.unwrap();
    assert_eq!(d.begin("a").await.unwrap(), Begin::Done, "abandon leaves done deliveries alone");

    assert_eq!(d.begin("b").await.unwrap(), Begin::Fresh);
    d.abandon("b").await.unwrap();
    assert_eq!(d.begin("b").await.unwrap(), Begin::Fresh, "a retry after a failure runs again");

    let now = now_unix();
    let put = |id: &str, status: &str, started_at: i64, expires_at: i64| {
        rig.dynamodb
            .put_item()
            .table_name(d.table())
            .item("delivery_id", AttributeValue::S(id.into()))
            .item("status", AttributeValue::S(status.into()))
            .item("started_at", AttributeValue::N(started_at.to_string()))
            .item("expires_at", AttributeValue::N(expires_at.to_string()))
            .send()
    };
    put("stale", "processing", now - 121, now + 1000).await.unwrap();
    put("fresh", "processing", now - 30, now + 1000).await.unwrap();
    put("expired", "done", now - 900_000, now - 10).await.unwrap();
    assert_eq!(d.begin("stale").await.unwrap(), Begin::Fresh, "a claim older than 120 s is taken over");
    assert_eq!(d.begin("fresh").await.unwrap(), Begin::InProgress);
    assert_eq!(d.begin("expired").await.unwrap(), Begin::Fresh, "past its TTL, not yet deleted by DynamoDB");

    let racers: Vec<Begin> =
        futures::future::join_all((0..20).map(|_| d.begin("raced"))).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(racers.iter().filter(|b| **b == Begin::Fresh).count(), 1, "{racers:?}");

    let item = rig
        .dynamodb
        .get_item()
        .table_name(d.table())
        .key("delivery_id", AttributeValue::S("raced".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(item["status"].as_s().unwrap(), "processing");
    let expires: i64 = item["expires_at"].as_n().unwrap().parse().unwrap();
    let seven_days = 7 * 24 * 3600;
    assert!((now + seven_days - 5..=now + seven_days + 60).contains(&expires), "{expires}");
    let ttl = rig.dynamodb.describe_time_to_live().table_name(d.table()).send().await.unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(ttl.attribute_name(), Some("expires_at"));
    assert!(!d.create_table_if_missing().await.unwrap(), "the table exists");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_lost_while_the_function_is_down_gets_its_verdict_from_the_sweep_exactly_once() {
    let rig = rig().await;
    let model = unique("webhook-lost");
    let url = FunctionUrl::start(rig.webhook.clone(), Some(vec![model.clone()])).await;
    let hook = MlflowWebhook::create(&rig.stack, &url.url, &rig.secret).await;
    hook.wait_until_every_worker_sees_it().await;
    let fixtures = rig.stack.mlflow();
    fixtures.create_model(&model, &[]).await;
    let experiment = fixtures.create_experiment(&format!("{model}-runs")).await;
    let baseline = NewVersion::tagged(&[("benchmark_value", "0.9"), ("benchmark_metric", "accuracy")]);
    fixtures.create_version(&model, &experiment, &baseline).await;
    let created = |version: &'static str| {
        let model = model.clone();
        move |x: &Exchange| x.model == model && x.event == "model_version.created" && x.version == version
    };
    url.wait_for("check of version 1", |x| created("1")(x) && x.status == 200).await;

    // The function goes down; MLflow delivers version 2, hears 503, retries, and gives up.
    url.down.store(true, std::sync::atomic::Ordering::SeqCst);
    fixtures.create_version(&model, &experiment, &NewVersion::with_run(&[("accuracy", 0.915)])).await;
    let refused = url.wait_for("MLflow's delivery of version 2", |x| created("2")(x) && x.status == 503).await;
    tokio::time::sleep(Duration::from_secs(10)).await; // MLflow's retries of it, 1 + 2 + 4 s apart
    let attempts = url.exchanges().into_iter().filter(|x| created("2")(x)).count();
    assert!(attempts >= 2, "MLflow tried {attempts} time(s)");
    assert!(rig.verdicts.get(&model, v(2)).await.unwrap().is_none(), "nothing ran while the function was down");

    // The sweep finds version 2 without a verdict and checks it; version 1 had its own.
    let registry = Arc::new(MlflowRegistry::new(rig.stack.mlflow_client()));
    let checker = Checker::new(registry.clone(), Some(rig.verdicts.clone()), Policy::default())
        .with_notifier(Arc::new(SnsNotifier::new(rig.aws.sns.clone(), rig.topic.clone())));
    let sweep = Sweep {
        registry,
        store: rig.verdicts.clone(),
        checker,
        watermarks: Arc::new(DynamoWatermarks::new(rig.dynamodb.clone(), rig.deliveries.table())),
        dead_letters: Some(Arc::new(SqsDeadLetters::new(rig.aws.sqs.clone(), &rig.dlq))),
        settings: SweepSettings {
            models: Some(vec![model.clone()]),
            settle: Duration::ZERO,
            lookback: Duration::from_secs(3600),
            max_checks: 50,
        },
        source: "registry-sweep".into(),
    };
    let now_ms = || (now_unix() + 1) * 1000;
    let report = sweep.run(now_ms()).await.unwrap();
    let swept = &report.models[0];
    assert_eq!((swept.examined, swept.had_verdict, swept.reconciled, swept.error.as_deref()), (2, 1, 1, None));
    assert_eq!(swept.watermark_after, Some(v(2)));
    let stored = rig.verdicts.get(&model, v(2)).await.unwrap().expect("the sweep recorded version 2");
    assert!(stored.verdict.achieved() && stored.written_back && stored.notified, "{stored:?}");
    assert_eq!(fixtures.version_tags(&model, 2).await["delta_value"], "1.5");

    // A second sweep finds nothing; the lost delivery, replayed late, finds the verdict recorded.
    let again = sweep.run(now_ms()).await.unwrap();
    assert_eq!((again.models[0].examined, again.models[0].reconciled), (0, 0));
    url.down.store(false, std::sync::atomic::Ordering::SeqCst);
    let pairs: Vec<(&str, &str)> = refused.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let (status, answer) = rig.answer(function_url_request("POST", "/", &pairs, &refused.body).unwrap()).await;
    assert_eq!(
        (status, answer["status"].as_str(), answer["stored"].as_str()),
        (200, Some("checked"), Some("existing"))
    );

    // One alert for version 2 (the sweep's), one for version 1; nothing parked.
    let alerts = rig.alerts(Duration::from_secs(3)).await;
    let for_version = |n: &str| alerts.iter().filter(|m| m["body"]["candidate_version"] == n).count();
    assert_eq!((for_version("1"), for_version("2")), (1, 1), "{alerts:#?}");
    assert!(rig.dead_letters(Duration::from_millis(500)).await.is_empty());
    hook.delete_and_linger().await;
    drop(url);
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_check_queue_mlflow_hears_queued_and_the_queue_worker_records_the_verdict_once() {
    let mut rig = rig().await;
    let (checks, _) = rig.aws.queue(&unique("checks")).await;
    let webhook = Arc::get_mut(&mut rig.webhook).expect("not shared yet");
    webhook.queue = Some(Arc::new(deltaone_aws::sqs::SqsCheckQueue::new(rig.aws.sqs.clone(), &checks)));
    let model = unique("webhook-queued");
    let url = FunctionUrl::start(rig.webhook.clone(), Some(vec![model.clone()])).await;
    let hook = MlflowWebhook::create(&rig.stack, &url.url, &rig.secret).await;
    hook.wait_until_every_worker_sees_it().await;
    let fixtures = rig.stack.mlflow();
    fixtures.create_model(&model, &[]).await;
    let experiment = fixtures.create_experiment(&format!("{model}-runs")).await;
    let baseline = NewVersion::tagged(&[("benchmark_value", "0.9"), ("benchmark_metric", "accuracy")]);
    fixtures.create_version(&model, &experiment, &baseline).await;
    fixtures.create_version(&model, &experiment, &NewVersion::with_run(&[("accuracy", 0.915)])).await;
    let answered = url
        .wait_for_count("deliveries of both versions", 2, |x| x.model == model && x.event == "model_version.created")
        .await;
    for x in &answered {
        assert_eq!((x.status, x.answered()), (200, "queued"), "{x:?}");
    }
    assert!(rig.verdicts.get(&model, v(2)).await.unwrap().is_none(), "nothing ran inside MLflow's request");

    // The queue's trigger: one SQS batch with both checks, handed over as Lambda hands it.
    let batch = rig.aws.receive_as_lambda_event(&checks, 2).await;
    assert_eq!(rig.webhook.work(&batch).await, json!({"batchItemFailures": []}));
    let stored = rig.verdicts.get(&model, v(2)).await.unwrap().expect("the worker recorded version 2");
    assert!(stored.verdict.achieved() && stored.written_back && stored.notified, "{stored:?}");
    // SQS delivers at least once: the same batch again changes nothing.
    assert_eq!(rig.webhook.work(&batch).await, json!({"batchItemFailures": []}));
    let alerts = rig.alerts(Duration::from_secs(3)).await;
    let for_version = |n: &str| alerts.iter().filter(|m| m["body"]["candidate_version"] == n).count();
    assert_eq!((for_version("1"), for_version("2")), (1, 1), "{alerts:#?}");
    hook.delete_and_linger().await;
    drop(url);
}
