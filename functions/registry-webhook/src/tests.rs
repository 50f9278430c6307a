//! The handler on the shipped registry snapshot, with local verdict files and in-memory deliveries
//! and dead letters: no servers. The system tests (`tests/tests/registry_webhook.rs`) run it against
//! MLflow's real webhooks, DynamoDB, SNS and SQS.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use deltaone::{Metrics, Policy, Tags, VersionFacts, VersionNumber};
use deltaone_app::check::Checker;
use deltaone_app::deadletter::{DeadLetter, DeadLetterError, DeadLetters};
use deltaone_app::deliveries::{Begin, MemoryDeliveries, WebhookDeliveries};
use deltaone_app::registry::snapshot::SAMPLE_REGISTRY;
use deltaone_app::registry::{Registry, RegistryError, SnapshotRegistry, WriteBack};
use deltaone_app::store::VerdictStore;
use deltaone_app::store::file::FileVerdictStore;
use serde_json::{Value, json};

use super::*;

const SECRET: &[u8] = b"unit-test-secret";
const NOW: i64 = 1_800_000_000;

#[derive(Default)]
struct Parked(Mutex<Vec<DeadLetter>>);

#[async_trait]
impl DeadLetters for Parked {
    async fn park(&self, letter: &DeadLetter) -> Result<(), DeadLetterError> {
        self.0.lock().unwrap().push(letter.clone());
        Ok(())
    }
}

struct Unparkable;

#[async_trait]
impl DeadLetters for Unparkable {
    async fn park(&self, _: &DeadLetter) -> Result<(), DeadLetterError> {
        Err(DeadLetterError { queue: "dlq".into(), message: "SQS is down".into() })
    }
}

/// A registry whose server answers 503 to everything.
struct Down;

#[async_trait]
impl Registry for Down {
    async fn versions_for_check(&self, _: &str, _: Option<VersionNumber>) -> Result<Vec<VersionFacts>, RegistryError> {
        Err(down())
    }
    async fn all_versions(&self, _: &str) -> Result<Vec<VersionFacts>, RegistryError> {
        Err(down())
    }
    async fn model_tags(&self, _: &str) -> Result<Tags, RegistryError> {
        Err(down())
    }
    async fn run_metrics(&self, _: &str) -> Result<Metrics, RegistryError> {
        Err(down())
    }
    async fn model_names(&self) -> Result<Vec<String>, RegistryError> {
        Err(down())
    }
    async fn write_back(&self, _: &WriteBack) -> Result<(), RegistryError> {
        Err(down())
    }
    async fn log_evaluation(&self, _: &str, _: VersionNumber, _: &BTreeMap<String, f64>) -> Result<(), RegistryError> {
        Err(down())
    }
}

fn down() -> RegistryError {
    RegistryError::Unavailable("MLflow failed model-versions/search with HTTP 503 (after retries): unavailable".into())
}

struct Rig {
    webhook: RegistryWebhook,
    registry: Arc<SnapshotRegistry>,
    store: Arc<FileVerdictStore>,
    deliveries: Arc<MemoryDeliveries>,
    parked: Arc<Parked>,
    _dir: tempfile::TempDir,
}

fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let registry = Arc::new(SnapshotRegistry::from_json(SAMPLE_REGISTRY).unwrap());
    let store = Arc::new(FileVerdictStore::new(dir.path()));
    let deliveries = Arc::new(MemoryDeliveries::new());
    let parked = Arc::new(Parked::default());
    let webhook = RegistryWebhook {
        checker: Checker::new(registry.clone(), Some(store.clone()), Policy::default()),
        deliveries: deliveries.clone(),
        dead_letters: parked.clone(),
        secret: WebhookSecret::new(SECRET).unwrap(),
        tolerance_secs: DEFAULT_TOLERANCE_SECS,
        clock: Arc::new(|| NOW),
        queue: None,
    };
    Rig { webhook, registry, store, deliveries, parked, _dir: dir }
}

fn request(headers: &[(&str, &str)], body: &str) -> LambdaFunctionUrlRequest {
    let mut request = LambdaFunctionUrlRequest::default();
    request.request_context.http.method = Some("POST".into());
    for (name, value) in headers {
        let name = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        request.headers.insert(name, http::HeaderValue::from_str(value).unwrap());
    }
    request.body = Some(body.to_owned());
    request
}

/// A request as MLflow signs it (header names in MLflow's capitalisation).
fn signed(id: &str, body: &str) -> LambdaFunctionUrlRequest {
    let signature = sign_mlflow(SECRET, id, NOW, body.as_bytes());
    let ts = NOW.to_string();
    request(
        &[
            ("Content-Type", "application/json"),
            ("X-MLflow-Delivery-Id", id),
            ("X-MLflow-Timestamp", &ts),
            ("X-MLflow-Signature", &signature),
        ],
        body,
    )
}

fn created(model: &str, version: &str) -> String {
    json!({"entity": "model_version", "action": "created", "timestamp": "2027-01-15T08:00:00+00:00",
           "data": {"name": model, "version": version, "source": "s3://m", "run_id": "r", "tags": {}}})
    .to_string()
}

fn tag_set(model: &str, version: &str, key: &str, value: &str) -> String {
    json!({"entity": "model_version_tag", "action": "set", "timestamp": "2027-01-15T08:00:00+00:00",
           "data": {"name": model, "version": version, "key": key, "value": value}})
    .to_string()
}

async fn answer(rig: &Rig, request: LambdaFunctionUrlRequest) -> (i64, Value) {
    let response = rig.webhook.handle(request).await;
    assert_eq!(response.headers.get("content-type").unwrap(), "application/json");
    (response.status_code, serde_json::from_str(response.body.as_deref().unwrap()).unwrap())
}

fn v(n: u64) -> VersionNumber {
    VersionNumber::new(n).unwrap()
}

async fn nothing_recorded(rig: &Rig) {
    assert!(rig.deliveries.is_empty(), "no delivery recorded");
    assert!(rig.store.history("fraud-detector", 10).await.unwrap().is_empty(), "no verdict recorded");
    assert!(rig.registry.written().is_empty(), "nothing written back");
    assert!(rig.parked.0.lock().unwrap().is_empty(), "nothing parked");
}

#[tokio::test]
async fn a_new_version_is_checked_recorded_and_a_repeat_is_a_duplicate() {
    let rig = rig();
    let (status, body) = answer(&rig, signed("d-1", &created("fraud-detector", "3"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "checked");
    assert_eq!(
        (body["event"].as_str(), body["model"].as_str()),
        (Some("model_version.created"), Some("fraud-detector"))
    );
    assert_eq!((body["version"].as_str(), body["outcome"].as_str()), (Some("3"), Some("achieved")));
    assert_eq!((body["delta_pp"].as_str(), body["stored"].as_str()), (Some("1"), Some("new")));
    assert_eq!(body["wrote_back"], true);
    assert!(rig.store.get("fraud-detector", v(3)).await.unwrap().is_some());
    assert_eq!(rig.registry.written().len(), 1);

    let (status, body) = answer(&rig, signed("d-1", &created("fraud-detector", "3"))).await;
    assert_eq!((status, body), (200, json!({"status": "duplicate", "delivery_id": "d-1", "state": "done"})));
    assert_eq!(rig.registry.written().len(), 1, "a duplicate runs nothing");
}

#[tokio::test]
async fn a_delivery_in_progress_is_a_duplicate() {
    let rig = rig();
    assert_eq!(rig.deliveries.begin("d-2").await.unwrap(), Begin::Fresh);
    let (status, body) = answer(&rig, signed("d-2", &created("fraud-detector", "3"))).await;
    assert_eq!((status, &body["state"]), (200, &json!("in_progress")), "{body}");
    assert!(rig.registry.written().is_empty());
}

#[tokio::test]
async fn signature_failures_are_401_naming_what_is_wrong_and_record_nothing() {
    let rig = rig();
    let body = created("fraud-detector", "3");
    let good = signed("d-3", &body);

    let mut missing = good.clone();
    missing.headers.remove("x-mlflow-signature");
    let mut forged = good.clone();
    forged.body = Some(created("fraud-detector", "2"));
    let mut wrong_secret = good.clone();
    let other = sign_mlflow(b"another secret", "d-3", NOW, body.as_bytes());
    wrong_secret.headers.insert("x-mlflow-signature", http::HeaderValue::from_str(&other).unwrap());
    let mut no_id = good.clone();
    no_id.headers.remove("x-mlflow-delivery-id");
    let mut garbled = good.clone();
    garbled.headers.insert("x-mlflow-signature", http::HeaderValue::from_static("sha256=abc"));

    let cases = [
        (missing, "MissingHeader", "X-MLflow-Signature is missing"),
        (no_id, "MissingHeader", "X-MLflow-Delivery-Id is missing"),
        (forged, "SignatureMismatch", "no signature matches"),
        (wrong_secret, "SignatureMismatch", "no signature matches"),
        (garbled, "MalformedSignature", "malformed signature header"),
    ];
    for (request, error_type, message) in cases {
        let (status, answer) = answer(&rig, request).await;
        assert_eq!(status, 401, "{answer}");
        assert_eq!(answer["status"], "error");
        assert_eq!(answer["error_type"], error_type, "{answer}");
        assert!(answer["message"].as_str().unwrap().contains(message), "{answer}");
    }

    let stale = rig_at(&rig, NOW + DEFAULT_TOLERANCE_SECS + 1);
    let (status, answer_) = answer_with(&stale, good.clone()).await;
    assert_eq!((status, answer_["error_type"].as_str()), (401, Some("StaleTimestamp")), "{answer_}");
    assert!(answer_["message"].as_str().unwrap().contains("301 s old"), "{answer_}");
    let early = rig_at(&rig, NOW - DEFAULT_TOLERANCE_SECS - 1);
    let (status, answer_) = answer_with(&early, good).await;
    assert_eq!((status, answer_["error_type"].as_str()), (401, Some("StaleTimestamp")), "{answer_}");
    nothing_recorded(&rig).await;
}

/// The rig's handler with another clock (sharing everything else).
fn rig_at(rig: &Rig, now: i64) -> RegistryWebhook {
    RegistryWebhook {
        checker: rig.webhook.checker.clone(),
        deliveries: rig.deliveries.clone(),
        dead_letters: rig.parked.clone(),
        secret: rig.webhook.secret.clone(),
        tolerance_secs: rig.webhook.tolerance_secs,
        clock: Arc::new(move || now),
        queue: rig.webhook.queue.clone(),
    }
}

async fn answer_with(webhook: &RegistryWebhook, request: LambdaFunctionUrlRequest) -> (i64, Value) {
    let response = webhook.handle(request).await;
    (response.status_code, serde_json::from_str(response.body.as_deref().unwrap()).unwrap())
}

#[tokio::test]
async fn bodies_that_are_not_webhook_payloads_are_400_and_record_nothing() {
    let rig = rig();
    let cases = [
        ("{\"entity\": \"model_version\", ", "MalformedJson", "not JSON"),
        ("[1, 2]", "UnknownShape", "not a JSON object"),
        ("{\"action\": \"created\", \"data\": {}}", "UnknownShape", "`entity` is missing"),
        ("{\"entity\": \"model_version\", \"action\": \"created\"}", "UnknownShape", "`data` is missing"),
        (
            "{\"entity\": \"model_version\", \"action\": \"created\", \"data\": {\"name\": \"fraud-detector\"}}",
            "UnknownShape",
            "data.version is missing",
        ),
        (
            "{\"entity\": \"model_version\", \"action\": \"created\", \"data\": {\"name\": \"m\", \"version\": \"v2\"}}",
            "UnknownShape",
            "\"v2\" is not a positive whole number",
        ),
        (
            "{\"entity\": \"model_version_tag\", \"action\": \"set\", \"data\": {\"name\": \"m\", \"version\": 2}}",
            "UnknownShape",
            "data.key is missing",
        ),
    ];
    for (i, (body, error_type, message)) in cases.into_iter().enumerate() {
        let (status, answer) = answer(&rig, signed(&format!("bad-{i}"), body)).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error_type"], error_type, "{body}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains(message), "{body}: {answer}");
    }
    nothing_recorded(&rig).await;
}

#[tokio::test]
async fn a_base64_body_is_verified_over_its_decoded_bytes() {
    let rig = rig();
    let body = created("fraud-detector", "3");
    let mut request = signed("d-4", &body);
    request.body = Some(BASE64.encode(body.as_bytes()));
    request.is_base64_encoded = true;
    let (status, answer_) = answer(&rig, request.clone()).await;
    assert_eq!((status, answer_["status"].as_str()), (200, Some("checked")), "{answer_}");

    request.body = Some("not base64!".into());
    let (status, answer_) = answer(&rig, request).await;
    assert_eq!((status, answer_["error_type"].as_str()), (400, Some("BadBase64")), "{answer_}");
}

#[tokio::test]
async fn only_post_is_accepted() {
    let rig = rig();
    let mut request = signed("d-5", &created("fraud-detector", "3"));
    request.request_context.http.method = Some("GET".into());
    let (status, answer_) = answer(&rig, request).await;
    assert_eq!((status, answer_["error_type"].as_str()), (405, Some("MethodNotAllowed")));
    nothing_recorded(&rig).await;
}

#[tokio::test]
async fn tags_deltaone_writes_and_other_events_are_ignored_without_a_record() {
    let rig = rig();
    for (i, key) in deltaone::tags::WRITTEN_BY_DELTAONE.iter().chain(&["deltaone_future"]).enumerate() {
        let (status, answer_) =
            answer(&rig, signed(&format!("own-{i}"), &tag_set("fraud-detector", "3", key, "x"))).await;
        assert_eq!((status, answer_["status"].as_str()), (200, Some("ignored")), "{key}: {answer_}");
        assert!(answer_["reason"].as_str().unwrap().contains("written by DeltaOne"), "{answer_}");
    }
    let others = [
        json!({"entity": "registered_model", "action": "created", "data": {"name": "fraud-detector", "tags": {}}}),
        json!({"entity": "model_version_alias", "action": "created",
               "data": {"name": "fraud-detector", "alias": "champion", "version": "3"}}),
        json!({"entity": "model_version_tag", "action": "deleted",
               "data": {"name": "fraud-detector", "version": "3", "key": "benchmark_value"}}),
        json!({"entity": "prompt", "action": "created", "data": {}}),
    ];
    for (i, body) in others.iter().enumerate() {
        let (status, answer_) = answer(&rig, signed(&format!("other-{i}"), &body.to_string())).await;
        assert_eq!((status, answer_["status"].as_str()), (200, Some("ignored")), "{body}: {answer_}");
    }
    nothing_recorded(&rig).await;
}

#[tokio::test]
async fn benchmark_tags_and_the_metric_trigger_a_check_other_tags_do_not() {
    let rig = rig();
    let (status, answer_) =
        answer(&rig, signed("t-1", &tag_set("fraud-detector", "3", "benchmark_direction", "higher"))).await;
    assert_eq!((status, answer_["status"].as_str()), (200, Some("checked")), "{answer_}");

    // fraud-detector's benchmark metric is accuracy (its baseline's benchmark_metric tag).
    let (_, answer_) = answer(&rig, signed("t-2", &tag_set("fraud-detector", "3", "accuracy", "0.9"))).await;
    assert_eq!(answer_["status"], "checked", "{answer_}");
    assert_eq!(answer_["stored"], "existing", "the verdict is recorded once: {answer_}");

    let (_, answer_) = answer(&rig, signed("t-3", &tag_set("fraud-detector", "3", "owner", "risk-team"))).await;
    assert_eq!(answer_["status"], "ignored", "{answer_}");
    assert!(answer_["reason"].as_str().unwrap().contains("(accuracy)"), "{answer_}");
    assert_eq!(rig.deliveries.begin("t-3").await.unwrap(), Begin::Done, "the decision is remembered");
    assert_eq!(rig.registry.written().len(), 1);
}

#[tokio::test]
async fn mlflows_test_delivery_is_answered_test() {
    let rig = rig();
    let (status, answer_) = answer(&rig, signed("t-4", &created(TEST_MODEL, "1"))).await;
    assert_eq!((status, answer_["status"].as_str()), (200, Some("test")), "{answer_}");
    let (_, answer_) = answer(&rig, signed("t-5", &tag_set(TEST_MODEL, "1", "example_key", "v"))).await;
    assert_eq!(answer_["status"], "test", "{answer_}");
    assert!(rig.parked.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn unknown_models_and_versions_are_parked_with_the_original_and_answered_200() {
    let rig = rig();
    let body = created("no-such-model", "1");
    let (status, answer_) = answer(&rig, signed("p-1", &body)).await;
    assert_eq!((status, answer_["status"].as_str()), (200, Some("parked")), "{answer_}");
    assert_eq!(answer_["error_type"], "UnknownModelVersion");
    let (_, answer_) = answer(&rig, signed("p-2", &created("fraud-detector", "9"))).await;
    assert_eq!(
        (answer_["status"].as_str(), answer_["error_type"].as_str()),
        (Some("parked"), Some("UnknownModelVersion"))
    );
    assert!(answer_["reason"].as_str().unwrap().contains("has no version 9"), "{answer_}");

    let letters = rig.parked.0.lock().unwrap().clone();
    assert_eq!(letters.len(), 2);
    let letter = &letters[0];
    assert_eq!((letter.source.as_str(), letter.error_type.as_str()), (FUNCTION, "UnknownModelVersion"));
    assert!(letter.reason.contains("no-such-model"), "{}", letter.reason);
    assert_eq!(letter.original["body"], body, "the raw body, byte for byte");
    assert_eq!(letter.original["headers"]["x-mlflow-delivery-id"], "p-1");
    assert!(letter.original["headers"]["x-mlflow-signature"].as_str().unwrap().starts_with("v1,"));

    // Parked is final: a retry of the same delivery is a duplicate and parks nothing more.
    let (_, answer_) = answer(&rig, signed("p-1", &body)).await;
    assert_eq!(answer_["status"], "duplicate");
    assert_eq!(rig.parked.0.lock().unwrap().len(), 2);
}

// Found by fuzzing (tests/fuzz/regressions/mlflow_webhook/): a parked id that is not ASCII text
// gave a redriven request the function refused (401) instead of a typed error.
#[test]
fn a_parked_delivery_whose_id_is_not_ascii_text_is_not_redriven() {
    let secret = WebhookSecret::new(b"s".to_vec()).unwrap();
    for id in ["8e37\u{fffd}f991", "a b"] {
        let original = json!({"headers": {"x-mlflow-delivery-id": id}, "body": "{}"});
        let err = redrive_request(&original, &secret, 5).unwrap_err().to_string();
        assert!(err.contains("is not visible ASCII text") && err.contains(&format!("{id:?}")), "{err}");
    }
    let original = json!({"headers": {"x-mlflow-delivery-id": " p.3 "}, "body": "{}"});
    assert_eq!(redrive_request(&original, &secret, 5).unwrap().headers["x-mlflow-delivery-id"], "p-3-redrive-5");
}

#[tokio::test]
async fn a_parked_delivery_redrives_as_a_new_signed_delivery() {
    let rig = rig();
    answer(&rig, signed("p-3", &created("fraud-detector", "9"))).await;
    let letter = rig.parked.0.lock().unwrap()[0].clone();
    let secret = WebhookSecret::new(SECRET).unwrap();
    let redriven = redrive_request(&letter.original, &secret, NOW + 10).unwrap();
    assert_eq!(redriven.headers["x-mlflow-delivery-id"], format!("p-3-redrive-{}", NOW + 10));
    assert_eq!(redriven.body.as_deref(), letter.original["body"].as_str());
    // Accepted (signature, freshness, a new id), and parked again as the version still does not exist.
    let (_, answer_) = answer_with(&rig_at(&rig, NOW + 10), redriven).await;
    assert_eq!(
        (answer_["status"].as_str(), answer_["delivery_id"].as_str()),
        (Some("parked"), Some("p-3-redrive-1800000010"))
    );
    assert!(redrive_request(&json!({"headers": {}}), &secret, NOW).is_err());
}

#[tokio::test]
async fn retryable_failures_answer_503_and_forget_the_delivery_so_a_retry_runs() {
    let rig = rig();
    let down = RegistryWebhook {
        checker: Checker::new(Arc::new(Down), Some(rig.store.clone()), Policy::default()),
        ..rig_at(&rig, NOW)
    };
    let request = signed("r-1", &created("fraud-detector", "3"));
    let response = down.handle(request.clone()).await;
    let answer_: Value = serde_json::from_str(response.body.as_deref().unwrap()).unwrap();
    assert_eq!((response.status_code, answer_["error_type"].as_str()), (503, Some("Retryable")), "{answer_}");
    assert!(answer_["message"].as_str().unwrap().contains("HTTP 503"), "{answer_}");
    assert!(rig.deliveries.is_empty(), "abandoned");
    assert!(rig.parked.0.lock().unwrap().is_empty(), "not parked: it may pass");

    // MLflow's retry, once MLflow is back.
    let (status, answer_) = answer(&rig, request).await;
    assert_eq!((status, answer_["status"].as_str()), (200, Some("checked")), "{answer_}");
}

#[tokio::test]
async fn a_dead_letter_queue_that_fails_answers_503_and_forgets_the_delivery() {
    let rig = rig();
    let unparkable = RegistryWebhook { dead_letters: Arc::new(Unparkable), ..rig_at(&rig, NOW) };
    let response = unparkable.handle(signed("r-2", &created("no-such-model", "1"))).await;
    let answer_: Value = serde_json::from_str(response.body.as_deref().unwrap()).unwrap();
    assert_eq!(response.status_code, 503, "{answer_}");
    assert!(answer_["message"].as_str().unwrap().contains("SQS is down"), "{answer_}");
    assert!(rig.deliveries.is_empty());
}

#[test]
fn errors_map_to_statuses_and_diagnostics() {
    let e = WebhookError::Signature(SignatureError::Stale { age_secs: 400 });
    assert_eq!((e.status(), e.error_type()), (401, "StaleTimestamp"));
    let d = Diagnostic::from(e);
    assert_eq!(
        (d.error_type.as_str(), d.error_message.as_str()),
        ("StaleTimestamp", "timestamp is 400 s old, more than the tolerance")
    );
    let e = WebhookError::Check(CheckError::Registry(RegistryError::UnknownModel("m".into())));
    assert_eq!((e.status(), e.error_type(), e.is_retryable()), (500, "UnknownModelVersion", false));
    let e = WebhookError::Check(CheckError::Registry(down()));
    assert_eq!((e.status(), e.error_type(), e.is_retryable()), (503, "Retryable", true));
    assert_eq!(format!("{:?}", WebhookSecret::new("hunter2").unwrap()), "WebhookSecret(7 bytes)");
    assert!(WebhookSecret::new("").is_none());
}

#[test]
fn tolerance_is_whole_seconds_in_range() {
    assert_eq!(parse_tolerance(None).unwrap(), 300);
    assert_eq!(parse_tolerance(Some(" 60 ")).unwrap(), 60);
    for bad in ["0", "-5", "1.5", "five", "86401"] {
        let e = parse_tolerance(Some(bad)).unwrap_err().to_string();
        assert!(e.starts_with(TOLERANCE_ENV) && e.contains(bad), "{e}");
    }
}

/// A one-shot stand-in for the Parameters and Secrets extension: answers each request with `reply`
/// and hands back what it was asked.
async fn fake_extension(status: &str, body: &str) -> (String, tokio::task::JoinHandle<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let reply = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let served = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        socket.write_all(reply.as_bytes()).await.unwrap();
        socket.shutdown().await.ok();
        String::from_utf8_lossy(&head).into_owned()
    });
    (base, served)
}

#[tokio::test]
async fn the_secret_is_read_through_the_secrets_extension() {
    let reply = r#"{"ARN":"arn:aws:secretsmanager:x","SecretString":"s3cr3t-deltaone"}"#;
    let (base, served) = fake_extension("200 OK", reply).await;
    let secret = secret_from_extension(&base, "arn:aws:secretsmanager:us-east-1:1:secret:hook", "session-token").await;
    assert_eq!(secret.unwrap(), WebhookSecret::new("s3cr3t-deltaone").unwrap());
    let asked = served.await.unwrap().to_ascii_lowercase();
    assert!(asked.starts_with("get /secretsmanager/get?secretid=arn%3aaws%3asecretsmanager"), "{asked}");
    assert!(asked.contains("x-aws-parameters-secrets-token: session-token"), "{asked}");

    let (base, _) = fake_extension("400 Bad Request", "no secret").await;
    let e = secret_from_extension(&base, "hook", "t").await.unwrap_err().to_string();
    assert!(e.starts_with(SECRET_ARN_ENV) && e.contains("HTTP 400") && e.contains("no secret"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Acknowledge fast, then queue: the check runs from the queue, not inside MLflow's request.

fn queued_rig() -> (Rig, Arc<deltaone_app::checkqueue::MemoryCheckQueue>) {
    let mut rig = rig();
    let queue = Arc::new(deltaone_app::checkqueue::MemoryCheckQueue::new());
    rig.webhook.queue = Some(queue.clone());
    (rig, queue)
}

/// An SQS batch of message bodies, as Lambda's SQS trigger delivers it.
fn sqs_batch(bodies: &[String]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| json!({"messageId": format!("m-{i}"), "eventSource": "aws:sqs", "body": body}))
        .collect();
    json!({"Records": records})
}

#[tokio::test]
async fn with_a_queue_a_delivery_is_answered_queued_and_the_worker_checks_it_once() {
    let (rig, queue) = queued_rig();
    let (status, body) = answer(&rig, signed("d-q1", &created("fraud-detector", "3"))).await;
    assert_eq!((status, body["status"].as_str(), body["version"].as_str()), (200, Some("queued"), Some("3")), "{body}");
    assert_eq!(rig.deliveries.begin("d-q1").await.unwrap(), Begin::Done, "the delivery is done once queued");
    assert!(rig.store.get("fraud-detector", v(3)).await.unwrap().is_none(), "nothing ran inside the request");

    let bodies: Vec<String> = queue.take().iter().map(|c| c.to_body()).collect();
    assert_eq!(bodies.len(), 1);
    let batch = sqs_batch(&bodies);
    assert!(is_queue_batch(&batch));
    assert_eq!(rig.webhook.work(&batch).await, json!({"batchItemFailures": []}));
    let record = rig.store.get("fraud-detector", v(3)).await.unwrap().expect("the worker recorded it");
    assert_eq!(record.verdict.outcome.as_str(), "achieved");
    assert_eq!(rig.registry.written().len(), 1);

    // SQS delivers at least once: the same message again finds the verdict recorded.
    assert_eq!(rig.webhook.work(&batch).await, json!({"batchItemFailures": []}));
    assert_eq!(rig.registry.written().len(), 1, "one write-back, one verdict");
    assert!(rig.parked.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_queue_that_cannot_be_reached_is_a_503_and_the_retry_queues_it() {
    let (rig, queue) = queued_rig();
    queue.refuse(true);
    let (status, body) = answer(&rig, signed("d-q2", &created("fraud-detector", "3"))).await;
    assert_eq!((status, body["error_type"].as_str()), (503, Some("Retryable")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("cannot queue the check"), "{body}");
    queue.refuse(false);
    let (status, body) = answer(&rig, signed("d-q2", &created("fraud-detector", "3"))).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("queued")), "MLflow's retry: {body}");
    assert_eq!(queue.queued().len(), 1);
}

#[tokio::test]
async fn the_worker_parks_what_never_passes_retries_what_may_and_acks_mlflows_test() {
    let (rig, queue) = queued_rig();
    for (id, model, version) in
        [("d-a", "no-such-model", "1"), ("d-b", TEST_MODEL, "1"), ("d-c", "fraud-detector", "3")]
    {
        let (status, body) = answer(&rig, signed(id, &created(model, version))).await;
        assert_eq!((status, body["status"].as_str()), (200, Some("queued")), "{body}");
    }
    let mut bodies: Vec<String> = queue.take().iter().map(|c| c.to_body()).collect();
    bodies.push(r#"{"Records":[{"eventSource":"aws:s3"}]}"#.to_owned());
    let answer = rig.webhook.work(&sqs_batch(&bodies)).await;
    assert_eq!(answer, json!({"batchItemFailures": []}));
    let parked = rig.parked.0.lock().unwrap().clone();
    let kinds: Vec<(&str, &str)> =
        parked.iter().map(|l| (l.error_type.as_str(), l.original["messageId"].as_str().unwrap())).collect();
    assert_eq!(kinds, [("UnknownModelVersion", "m-0"), ("UnknownShape", "m-3")], "{parked:#?}");
    assert!(parked[1].reason.contains("not a queued check"), "{}", parked[1].reason);
    assert!(rig.store.get("fraud-detector", v(3)).await.unwrap().is_some());

    // The registry down: the message is listed for redelivery, nothing parked.
    let down = RegistryWebhook {
        checker: Checker::new(Arc::new(Down), Some(rig.store.clone()), Policy::default()),
        ..rig_at(&rig, NOW)
    };
    let retry = QueuedCheck::from_body(&bodies[2]).unwrap();
    let again = QueuedCheck { version: v(2), ..retry };
    let answer = down.work(&sqs_batch(&[again.to_body()])).await;
    assert_eq!(answer, json!({"batchItemFailures": [{"itemIdentifier": "m-0"}]}));
    assert_eq!(rig.parked.0.lock().unwrap().len(), 2, "a failure that may pass is not parked");
}

#[test]
fn a_function_url_request_is_not_a_queue_batch() {
    let request: Value = serde_json::from_str(include_str!("../../../samples/events/function-url-query.json")).unwrap();
    assert!(!is_queue_batch(&request));
    assert!(!is_queue_batch(&json!({"Records": [{"eventSource": "aws:s3"}]})));
}
