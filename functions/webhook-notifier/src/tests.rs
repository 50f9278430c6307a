//! The handler over a receiver on loopback, in-memory S3 and in-memory dead-letter queues: SQS
//! batches as the queue subscribed to the topic delivers them, no servers. The system tests
//! (`tests/tests/webhooks.rs`) run it against moto's SQS and SNS and verify signatures with the
//! `standardwebhooks` library.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deltaone::message::{DriftBody, Message, TimeWindow};
use deltaone::signature::StandardWebhookSecret;
use deltaone_app::deadletter::MemoryDeadLetters;
use deltaone_app::notify::{MESSAGE_REF_SCHEMA, MessageRef, notification};
use deltaone_app::objects::MemoryObjects;
use deltaone_webhooks::retry::RetryPolicy;
use deltaone_webhooks::{Endpoint, EndpointKind, ParkedDelivery, webhook_id};

use super::*;

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
struct Seen {
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

/// An HTTP receiver on 127.0.0.1 that answers every request with `status` and records it.
struct Receiver {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Receiver {
    fn start(status: u16) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        // A thread with blocking I/O: the crate builds tokio without its network features.
        std::thread::spawn(move || {
            for socket in listener.incoming().flatten() {
                if let Some(request) = read_request(&socket) {
                    log.lock().unwrap().push(request);
                }
                let answer = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                let _ = (&socket).write_all(answer.as_bytes());
            }
        });
        Self { url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Headers (lower-case names) and a Content-Length body.
fn read_request(socket: &std::net::TcpStream) -> Option<Seen> {
    let mut reader = BufReader::new(socket);
    let mut headers = BTreeMap::new();
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let Some((name, value)) = line.trim_end().split_once(':') else { break };
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
    let length = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Seen { headers, body })
}

struct Rig {
    notifier: WebhookNotifier,
    receiver: Receiver,
    objects: Arc<MemoryObjects>,
    /// The webhook dead-letter queue: deliveries the endpoint did not take.
    parked: Arc<MemoryDeadLetters<ParkedDelivery>>,
    /// The same queue as the malformed records see it.
    malformed: Arc<MemoryDeadLetters>,
}

/// The notifier with one endpoint, `orders`, at a receiver answering `status`.
fn rig(status: u16) -> Rig {
    let receiver = Receiver::start(status);
    let endpoint = Endpoint {
        name: "orders".into(),
        url: receiver.url.parse().unwrap(),
        kind: EndpointKind::Standard,
        event_types: None,
        secret: Some(StandardWebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap()),
        headers: Default::default(),
        max_concurrency: 2,
        // The receiver is on loopback, which the guard refuses otherwise.
        allow_private: true,
    };
    let policy = RetryPolicy {
        max_tries: 2,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        timeout: Duration::from_secs(5),
        max_retry_after: Duration::from_millis(50),
        jitter: 0.0,
    };
    let parked = Arc::new(MemoryDeadLetters::new());
    let deliverer = Deliverer::new(vec![endpoint], policy, parked.clone()).unwrap();
    let (objects, malformed) = (Arc::new(MemoryObjects::new()), Arc::new(MemoryDeadLetters::new()));
    let notifier =
        WebhookNotifier { deliverer: Arc::new(deliverer), objects: objects.clone(), malformed: malformed.clone() };
    Rig { notifier, receiver, objects, parked, malformed }
}

fn drift_message(id: &str) -> Message {
    let body = DriftBody {
        run_id: format!("run-{id}"),
        window: TimeWindow { start: "2026-11-22T00:00:00Z".into(), end: "2026-11-23T00:00:00Z".into() },
        drifted_columns: vec!["amount".into()],
        share_drifted: 0.25,
        dataset_drift: true,
        report_link: Some("s3://reports/drift.html".into()),
        top_features: Vec::new(),
        negligible_columns: Vec::new(),
        alert: None,
    };
    Message::from_drift(id, "2026-11-23T10:00:00Z", "fraud-detector", body, None).unwrap()
}

/// An SQS record as the queue subscribed to the topic receives it.
fn record(message_id: &str, body: &str) -> Value {
    json!({
        "messageId": message_id,
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:deltaone-webhooks",
        "awsRegion": "us-east-1"
    })
}

/// The body SNS puts in the queue: its envelope around the JSON message.
fn sns_envelope(message: &str) -> String {
    json!({
        "Type": "Notification",
        "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:deltaone-notifications",
        "Subject": "drift",
        "Message": message,
        "Timestamp": "2026-11-23T10:00:01.000Z"
    })
    .to_string()
}

fn batch(records: Vec<Value>) -> Value {
    json!({"Records": records})
}

#[tokio::test]
async fn messages_in_sns_envelopes_and_raw_are_delivered_signed_to_the_endpoint() {
    let rig = rig(200);
    let (a, b) = (drift_message("drift:a"), drift_message("drift:b"));
    let event =
        batch(vec![record("m-1", &sns_envelope(&notification(&a).message)), record("m-2", &notification(&b).message)]);
    let response = rig.notifier.handle(event).await.unwrap();
    assert_eq!(response, json!({"batchItemFailures": []}));

    let seen = rig.receiver.seen();
    assert_eq!(seen.len(), 2);
    let mut ids: Vec<&str> = seen.iter().map(|s| s.headers["webhook-id"].as_str()).collect();
    ids.sort();
    let mut expected = [webhook_id(&a.id, "orders"), webhook_id(&b.id, "orders")];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(seen.iter().all(|s| s.headers["webhook-signature"].starts_with("v1,")), "{seen:?}");
    let delivered: Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(delivered["model"], "fraud-detector");
    assert!(rig.parked.parked().is_empty() && rig.malformed.parked().is_empty());
}

#[tokio::test]
async fn a_record_that_is_not_a_deltaone_message_is_parked_whole_with_the_reason() {
    let rig = rig(200);
    let good = drift_message("drift:good");
    let records = vec![
        record("m-text", "not json"),
        record("m-other", &sns_envelope(r#"{"schema": "someone-else/v1"}"#)),
        record("m-good", &notification(&good).message),
    ];
    let handled = rig.notifier.handle_batch(&batch(records.clone())).await.unwrap();
    assert_eq!(handled, Handled { delivered: 1, parked: 0, malformed: 2, retry: Vec::new() });

    let letters = rig.malformed.parked();
    assert_eq!(letters.len(), 2);
    for (letter, original) in letters.iter().zip(&records) {
        assert_eq!((letter.source.as_str(), letter.error_type.as_str()), (SOURCE, "MalformedMessage"));
        assert_eq!(&letter.original, original, "the record is kept whole");
    }
    assert!(letters[0].reason.contains("not JSON"), "{}", letters[0].reason);
    assert!(letters[1].reason.contains("someone-else/v1"), "{}", letters[1].reason);
    assert_eq!(rig.receiver.seen().len(), 1, "only the message went out");
}

#[tokio::test]
async fn a_delivery_the_endpoint_refuses_is_parked_and_the_record_is_not_redelivered() {
    let rig = rig(410);
    let message = drift_message("drift:gone");
    let event = batch(vec![record("m-1", &sns_envelope(&notification(&message).message))]);
    let handled = rig.notifier.handle_batch(&event).await.unwrap();
    assert_eq!(handled, Handled { delivered: 0, parked: 1, malformed: 0, retry: Vec::new() });

    let parked = rig.parked.parked();
    assert_eq!(parked.len(), 1);
    assert_eq!((parked[0].endpoint.as_str(), parked[0].attempts), ("orders", 1), "410 is not retried");
    assert_eq!(parked[0].message.id, message.id);
    assert_eq!(parked[0].webhook_id, webhook_id(&message.id, "orders"));
}

#[tokio::test]
async fn a_failed_delivery_that_cannot_be_parked_is_a_batch_item_failure() {
    let rig = rig(410);
    rig.parked.refuse(true);
    let event = batch(vec![record("m-1", &notification(&drift_message("drift:x")).message)]);
    let response = rig.notifier.handle(event).await.unwrap();
    assert_eq!(response, json!({"batchItemFailures": [{"itemIdentifier": "m-1"}]}));
}

#[tokio::test]
async fn a_record_whose_delivery_could_not_be_parked_is_parked_when_sqs_delivers_it_again() {
    let rig = rig(410);
    let message = drift_message("drift:again");
    let event = batch(vec![record("m-1", &notification(&message).message)]);
    rig.parked.refuse(true);
    let handled = rig.notifier.handle_batch(&event).await.unwrap();
    assert_eq!(handled, Handled { delivered: 0, parked: 0, malformed: 0, retry: vec!["m-1".into()] });
    assert!(rig.parked.parked().is_empty());

    rig.parked.refuse(false);
    let handled = rig.notifier.handle_batch(&event).await.unwrap();
    assert_eq!(handled, Handled { delivered: 0, parked: 1, malformed: 0, retry: Vec::new() });
    assert_eq!(rig.parked.parked()[0].webhook_id, webhook_id(&message.id, "orders"));
}

#[tokio::test]
async fn a_record_that_is_not_a_message_and_cannot_be_parked_fails_the_invocation_to_be_retried() {
    let rig = rig(200);
    rig.malformed.refuse(true);
    let good = drift_message("drift:good");
    let event = batch(vec![record("m-text", "not json"), record("m-good", &notification(&good).message)]);
    let error = rig.notifier.handle(event).await.unwrap_err();
    assert!(matches!(error, NotifierError::DeadLetter(_)), "{error}");
    assert_eq!(Diagnostic::from(error).error_type, "Retryable", "Lambda retries the whole batch");
    assert!(rig.malformed.parked().is_empty() && rig.parked.parked().is_empty());
    assert!(rig.receiver.seen().is_empty(), "nothing went out before the batch failed");
}

#[tokio::test]
async fn an_offloaded_message_is_read_from_s3_and_retried_while_s3_is_down() {
    let rig = rig(200);
    let message = drift_message("drift:large");
    let bytes = serde_json::to_vec(&message).unwrap();
    rig.objects.insert("notifications", "notifications/large.json", bytes.clone(), BTreeMap::new());
    let reference = MessageRef {
        schema: MESSAGE_REF_SCHEMA.into(),
        id: message.id.clone(),
        event_type: message.event_type,
        occurred_at: message.occurred_at.clone(),
        model: message.model.clone(),
        severity: message.severity,
        subject: message.subject.clone(),
        link: None,
        detail_uri: "s3://notifications/notifications/large.json".into(),
        detail_sha256: deltaone::attestation::sha256_hex(&bytes),
        detail_bytes: bytes.len(),
    };
    let event = batch(vec![record("m-ref", &sns_envelope(&serde_json::to_string(&reference).unwrap()))]);

    rig.objects.set_down(true);
    let response = rig.notifier.handle(event.clone()).await.unwrap();
    assert_eq!(response, json!({"batchItemFailures": [{"itemIdentifier": "m-ref"}]}), "it may pass: SQS retries");
    assert!(rig.receiver.seen().is_empty() && rig.malformed.parked().is_empty());

    rig.objects.set_down(false);
    let handled = rig.notifier.handle_batch(&event).await.unwrap();
    assert_eq!(handled, Handled { delivered: 1, parked: 0, malformed: 0, retry: Vec::new() });
    assert_eq!(rig.receiver.seen()[0].headers["webhook-id"], webhook_id(&message.id, "orders"));
}

#[tokio::test]
async fn an_event_that_is_not_an_sqs_batch_is_a_malformed_event() {
    let rig = rig(200);
    let error = rig.notifier.handle(json!({"hello": "world"})).await.unwrap_err();
    assert_eq!(Diagnostic::from(error).error_type, "MalformedEvent");
}
