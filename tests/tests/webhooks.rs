//! The webhook notifier against real receivers on loopback and a real SQS (moto): signatures checked
//! by the `standardwebhooks` Python library, retries with growing waits, the dead-letter queue and
//! `deltaone webhooks redrive`, the SSRF guard, Slack payloads, and 1,000 events to 5 endpoints with
//! one slow endpoint.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deltaone::message::{DriftBody, EventType, Message, TimeWindow};
use deltaone::signature::StandardWebhookSecret;
use deltaone_app::notify::{Notifier, notification};
use deltaone_aws::s3::S3Objects;
use deltaone_aws::sns::SnsNotifier;
use deltaone_aws::sqs::SqsDeadLetters;
use deltaone_system_tests::{Aws, Stack, deltaone_binary, unique};
use deltaone_webhook_notifier::WebhookNotifier;
use deltaone_webhooks::retry::RetryPolicy;
use deltaone_webhooks::{Deliverer, Endpoint, EndpointKind, webhook_id};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---------------------------------------------------------------------------------------------
// A small HTTP/1.1 receiver (keep-alive, Content-Length bodies) that records what it is sent.

#[derive(Debug, Clone)]
struct Seen {
    at: Instant,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
    status: u16,
}

type Behaviour = dyn Fn(usize) -> (u16, Duration) + Send + Sync;

struct Receiver {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
}

impl Receiver {
    /// Answers request number `n` (0-based) with `behaviour(n)`: a status after a delay.
    async fn start(behaviour: impl Fn(usize) -> (u16, Duration) + Send + Sync + 'static) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let counter = Arc::new(AtomicUsize::new(0));
        let behaviour: Arc<Behaviour> = Arc::new(behaviour);
        let (seen2, in_flight2, max2) = (seen.clone(), in_flight.clone(), max_in_flight.clone());
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else { return };
                let (seen, in_flight, max, counter, behaviour) =
                    (seen2.clone(), in_flight2.clone(), max2.clone(), counter.clone(), behaviour.clone());
                tokio::spawn(async move {
                    serve(socket, seen, in_flight, max, counter, behaviour).await;
                });
            }
        });
        Self { url, seen, in_flight, max_in_flight }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn delivered(&self) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| (200..300).contains(&s.status)).collect()
    }
}

async fn serve(
    mut socket: tokio::net::TcpStream,
    seen: Arc<Mutex<Vec<Seen>>>,
    in_flight: Arc<AtomicUsize>,
    max: Arc<AtomicUsize>,
    counter: Arc<AtomicUsize>,
    behaviour: Arc<Behaviour>,
) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        // Read one request: headers, then Content-Length bytes of body.
        let header_end = loop {
            if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buffer[..header_end]).to_string();
        let headers: BTreeMap<String, String> = head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let length: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        while buffer.len() < header_end + length {
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        let body = buffer[header_end..header_end + length].to_vec();
        buffer.drain(..header_end + length);
        let at = Instant::now();
        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        max.fetch_max(now, Ordering::SeqCst);
        let n = counter.fetch_add(1, Ordering::SeqCst);
        let (status, delay) = behaviour(n);
        tokio::time::sleep(delay).await;
        in_flight.fetch_sub(1, Ordering::SeqCst);
        seen.lock().unwrap().push(Seen { at, headers, body, status });
        let answer = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n");
        if socket.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------------

fn secret() -> StandardWebhookSecret {
    StandardWebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap()
}

fn endpoint(name: &str, url: &str, max_concurrency: usize) -> Endpoint {
    Endpoint {
        name: name.to_owned(),
        url: reqwest::Url::parse(url).unwrap(),
        kind: EndpointKind::Standard,
        event_types: None,
        secret: Some(secret()),
        headers: reqwest::header::HeaderMap::new(),
        max_concurrency,
        allow_private: true,
    }
}

fn quick_policy(max_tries: u32, base_ms: u64) -> RetryPolicy {
    RetryPolicy {
        max_tries,
        base_delay: Duration::from_millis(base_ms),
        max_delay: Duration::from_secs(5),
        timeout: Duration::from_secs(10),
        max_retry_after: Duration::from_secs(1),
        jitter: 0.25,
    }
}

fn drift_message(id: &str, model: &str) -> Message {
    drift(id, model, true)
}

fn drift(id: &str, model: &str, detected: bool) -> Message {
    let body = DriftBody {
        run_id: format!("run-{id}"),
        window: TimeWindow { start: "2026-11-22T00:00:00Z".into(), end: "2026-11-23T00:00:00Z".into() },
        drifted_columns: vec!["amount".into()],
        share_drifted: 0.25,
        dataset_drift: detected,
        report_link: Some("s3://reports/drift.html".into()),
        top_features: Vec::new(),
        negligible_columns: Vec::new(),
        alert: None,
    };
    Message::from_drift(id, "2026-11-23T10:00:00Z", model, body, None).unwrap()
}

/// The notifier as the Lambda function wires it, over moto's SQS and S3.
async fn notifier(aws: &Aws, endpoints: Vec<Endpoint>, policy: RetryPolicy, dlq: &str) -> WebhookNotifier {
    let dead_letters = Arc::new(SqsDeadLetters::new(aws.sqs.clone(), dlq).with_tries(3));
    WebhookNotifier {
        deliverer: Arc::new(Deliverer::new(endpoints, policy, dead_letters).unwrap()),
        objects: Arc::new(S3Objects::new(aws.s3.clone())),
        malformed: Arc::new(SqsDeadLetters::new(aws.sqs.clone(), dlq)),
    }
}

/// An SQS event of raw-delivered messages (as with `RawMessageDelivery`).
fn raw_sqs_event(messages: &[Message]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            json!({"messageId": format!("m-{i}"), "receiptHandle": "h", "body": serde_json::to_string(m).unwrap(),
                   "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"})
        })
        .collect();
    json!({"Records": records})
}

/// Messages in a queue (visible and in flight), as moto counts them.
async fn queue_depth(aws: &Aws, url: &str) -> usize {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let attrs = aws
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap();
    let attrs = attrs.attributes().unwrap();
    let n = |a: &A| attrs.get(a).and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
    n(&A::ApproximateNumberOfMessages) + n(&A::ApproximateNumberOfMessagesNotVisible)
}

/// The letters in the DLQ, read without keeping them hidden.
async fn peek_letters(aws: &Aws, url: &str) -> Vec<Value> {
    let got =
        aws.sqs.receive_message().queue_url(url).max_number_of_messages(10).visibility_timeout(0).send().await.unwrap();
    got.messages().iter().map(|m| serde_json::from_str(m.body().unwrap()).unwrap()).collect()
}

fn venv_python() -> std::path::PathBuf {
    let venv = std::env::var("DELTAONE_VENV").expect(
        "DELTAONE_VENV is not set: it names the local stack's virtualenv (with standardwebhooks); run with `bash tests/run.sh`",
    );
    std::path::Path::new(&venv).join("bin").join("python")
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn signatures_verify_with_the_python_standardwebhooks_library_and_a_tampered_body_is_rejected() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/receivers/standard_webhooks_receiver.py");
    let mut child = std::process::Command::new(venv_python())
        .arg(script)
        .arg(secret().to_whsec())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the Python receiver");
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("receiver output").unwrap();
    let port = first.strip_prefix("listening ").expect("listening PORT").to_owned();
    let url = format!("http://127.0.0.1:{port}/hook");

    let stack = Stack::get();
    let aws = stack.aws().await;
    let (dlq, _) = aws.queue(&unique("wh-py-dlq")).await;
    let notifier = notifier(&aws, vec![endpoint("python", &url, 2)], quick_policy(1, 10), &dlq).await;
    let messages = [drift_message(&unique("evt"), "fraud"), drift_message(&unique("evt"), "churn")];
    let handled = notifier.handle_batch(&raw_sqs_event(&messages)).await.unwrap();
    assert_eq!((handled.delivered, handled.parked), (2, 0), "{handled:?}");

    // A tampered delivery: correctly signed headers over one body, another body sent.
    let body = serde_json::to_vec(&messages[0]).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let signed = secret().sign("msg_tampered", now, &body).unwrap();
    let mut tampered = body.clone();
    let at = tampered.iter().position(|b| *b == b'f').unwrap();
    tampered[at] = b'F';
    let answer = reqwest::Client::new()
        .post(&url)
        .header("webhook-id", &signed.id)
        .header("webhook-timestamp", &signed.timestamp)
        .header("webhook-signature", &signed.signature)
        .header("content-type", "application/json")
        .body(tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 400, "the library must reject a tampered body");

    let mut records = Vec::new();
    for _ in 0..3 {
        let line = lines.next().expect("a verdict line").unwrap();
        records.push(serde_json::from_str::<Value>(&line).unwrap());
    }
    child.kill().ok();
    child.wait().ok();
    let verified: BTreeSet<String> =
        records.iter().filter(|r| r["verified"] == true).map(|r| r["event_id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(verified, messages.iter().map(|m| m.id.clone()).collect(), "{records:?}");
    for r in records.iter().filter(|r| r["verified"] == true) {
        let event = r["event_id"].as_str().unwrap();
        assert_eq!(r["webhook_id"], webhook_id(event, "python"), "stable id per message and endpoint");
    }
    let rejected: Vec<&Value> = records.iter().filter(|r| r["verified"] == false).collect();
    assert_eq!(rejected.len(), 1, "{records:?}");
    assert_eq!(rejected[0]["webhook_id"], "msg_tampered");
    assert!(rejected[0]["error"].as_str().unwrap().contains("No matching signature"), "{records:?}");
    assert_eq!(queue_depth(&aws, &dlq).await, 0);
}

#[tokio::test]
async fn an_endpoint_failing_three_times_then_recovering_gets_the_message_once_with_growing_waits() {
    let stack = Stack::get();
    let aws = stack.aws().await;
    let topic = aws.topic(&unique("wh-retry")).await;
    let (queue, queue_arn) = aws.queue(&unique("wh-retry-in")).await;
    aws.subscribe(&topic, &queue_arn, None).await;
    let (dlq, _) = aws.queue(&unique("wh-retry-dlq")).await;
    let flaky = Receiver::start(|n| (if n < 3 { 503 } else { 204 }, Duration::ZERO)).await;
    let steady = Receiver::start(|_| (200, Duration::ZERO)).await;

    // Published through SNS with the real notifier; the function reads the SQS subscription.
    let message = drift_message(&unique("evt"), "fraud");
    SnsNotifier::new(aws.sns.clone(), &topic).publish(&notification(&message)).await.unwrap();
    let event = aws.receive_as_lambda_event(&queue, 1).await;
    let endpoints = vec![endpoint("flaky", &flaky.url, 2), endpoint("steady", &steady.url, 2)];
    let notifier = notifier(&aws, endpoints, quick_policy(5, 100), &dlq).await;
    let answer = notifier.handle(event).await.unwrap();
    assert_eq!(answer, json!({"batchItemFailures": []}));

    let seen = flaky.seen();
    assert_eq!(seen.iter().map(|s| s.status).collect::<Vec<_>>(), [503, 503, 503, 204]);
    assert_eq!(flaky.delivered().len(), 1, "delivered exactly once");
    let ids: BTreeSet<&String> = seen.iter().map(|s| &s.headers["webhook-id"]).collect();
    assert_eq!(ids.len(), 1, "every try carries the same webhook-id");
    assert_eq!(*ids.first().unwrap(), &webhook_id(&message.id, "flaky"));
    let body: Message = serde_json::from_slice(&seen[3].body).unwrap();
    assert_eq!(body, message, "the body is the published message");
    let gaps: Vec<Duration> = seen.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!(gaps[0] < gaps[1] && gaps[1] < gaps[2], "waits between tries must grow: {gaps:?}");
    assert_eq!(steady.seen().len(), 1, "the healthy endpoint got it once, untouched by the flaky one's retries");
    assert_eq!(queue_depth(&aws, &dlq).await, 0);
}

// Multi-threaded: the receivers keep serving while the test waits for the `deltaone` process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_down_for_good_parks_messages_and_redrive_delivers_them_once_it_is_back() {
    let stack = Stack::get();
    let aws = stack.aws().await;
    let (dlq, _) = aws.queue(&unique("wh-down-dlq")).await;
    let up = Arc::new(AtomicBool::new(false));
    let flag = up.clone();
    let down = Receiver::start(move |_| (if flag.load(Ordering::SeqCst) { 204 } else { 503 }, Duration::ZERO)).await;
    let healthy = Receiver::start(|_| (204, Duration::ZERO)).await;
    let messages: Vec<Message> = (0..5).map(|_| drift_message(&unique("evt"), "fraud")).collect();
    let sent = messages.len();

    let endpoints = vec![endpoint("down", &down.url, 2), endpoint("healthy", &healthy.url, 2)];
    let notifier = notifier(&aws, endpoints, quick_policy(3, 20), &dlq).await;
    let handled = notifier.handle_batch(&raw_sqs_event(&messages)).await.unwrap();
    assert_eq!((handled.delivered, handled.parked, handled.retry.len()), (5, 5, 0), "{handled:?}");
    assert_eq!(down.seen().len(), 3 * sent, "three tries each");
    assert_eq!(healthy.delivered().len(), sent);

    // Invariant: sent = delivered + parked, for the endpoint that is down.
    let count =
        |r: &Receiver| r.delivered().iter().map(|s| s.headers["webhook-id"].clone()).collect::<BTreeSet<_>>().len();
    assert_eq!(count(&down) + queue_depth(&aws, &dlq).await, sent);
    let letters = peek_letters(&aws, &dlq).await;
    assert_eq!(letters.len(), sent);
    for letter in &letters {
        assert_eq!(letter["source"], "webhook-notifier");
        assert_eq!(letter["endpoint"], "down");
        assert_eq!(letter["error_type"], "HttpStatus");
        assert_eq!(letter["attempts"], 3);
        assert!(letter["reason"].as_str().unwrap().contains("HTTP 503"), "{letter}");
        let id = letter["message"]["id"].as_str().unwrap();
        assert_eq!(letter["webhook_id"], webhook_id(id, "down"));
    }

    let config = json!({
        "endpoints": [
            {"name": "down", "url": down.url, "secret": "env:WH_TEST_SECRET", "allow_private": true},
            {"name": "healthy", "url": healthy.url, "secret": "env:WH_TEST_SECRET", "allow_private": true},
        ],
        "delivery": {"max_tries": 2, "base_delay_ms": 10},
    });
    let redrive = || {
        let mut command = std::process::Command::new(deltaone_binary());
        command
            .args(["webhooks", "redrive", "--endpoint", "down", "--dlq", &dlq])
            .env("DELTAONE_WEBHOOK_ENDPOINTS_JSON", config.to_string())
            .env("WH_TEST_SECRET", secret().to_whsec())
            .env("AWS_ENDPOINT_URL", &stack.moto_url)
            .env_remove("DELTAONE_WEBHOOK_ENDPOINTS");
        tokio::task::block_in_place(|| command.output().expect("run deltaone"))
    };

    // Still down: nothing delivered, everything stays parked.
    let still_down = redrive();
    let stdout = String::from_utf8_lossy(&still_down.stdout);
    assert_eq!(still_down.status.code(), Some(1), "{stdout}{}", String::from_utf8_lossy(&still_down.stderr));
    assert!(stdout.contains("delivered 0, still failing 5"), "{stdout}");
    assert_eq!(count(&down) + queue_depth(&aws, &dlq).await, sent);

    // Back: every parked message delivered once, with the webhook-id it was first tried with.
    up.store(true, Ordering::SeqCst);
    let back = redrive();
    let stdout = String::from_utf8_lossy(&back.stdout);
    assert!(back.status.success(), "{stdout}{}", String::from_utf8_lossy(&back.stderr));
    assert!(stdout.contains("delivered 5, still failing 0"), "{stdout}");
    assert_eq!(queue_depth(&aws, &dlq).await, 0);
    assert_eq!(count(&down), sent);
    assert_eq!(down.delivered().len(), sent, "each once");
    let expected: BTreeSet<String> = messages.iter().map(|m| webhook_id(&m.id, "down")).collect();
    let got: BTreeSet<String> = down.delivered().iter().map(|s| s.headers["webhook-id"].clone()).collect();
    assert_eq!(got, expected);
    assert_eq!(healthy.delivered().len(), sent, "redrive with --endpoint touches no other endpoint");
}

#[tokio::test]
async fn private_addresses_are_refused_without_allow_private_and_the_refusal_is_parked() {
    let stack = Stack::get();
    let aws = stack.aws().await;
    let (dlq, _) = aws.queue(&unique("wh-ssrf-dlq")).await;
    let receiver = Receiver::start(|_| (204, Duration::ZERO)).await;
    let mut guarded = endpoint("guarded", &receiver.url, 2);
    guarded.allow_private = false;
    let named = endpoint("named", &receiver.url.replace("127.0.0.1", "localhost"), 2);
    let mut named_guarded = named.clone();
    named_guarded.name = "named-guarded".into();
    named_guarded.allow_private = false;
    let notifier = notifier(&aws, vec![guarded, named_guarded], quick_policy(3, 10), &dlq).await;
    let message = drift_message(&unique("evt"), "fraud");
    let handled = notifier.handle_batch(&raw_sqs_event(std::slice::from_ref(&message))).await.unwrap();
    assert_eq!((handled.delivered, handled.parked), (0, 2), "{handled:?}");
    assert!(receiver.seen().is_empty(), "no request may reach a refused address");
    let letters = peek_letters(&aws, &dlq).await;
    assert_eq!(letters.len(), 2);
    for letter in &letters {
        assert_eq!(letter["error_type"], "AddressRefused", "{letter}");
        assert_eq!(letter["attempts"], 1, "a refusal is not retried");
        assert!(letter["reason"].as_str().unwrap().contains("loopback"), "{letter}");
    }
    // The same host with allow_private is delivered to (the tests' receivers rely on it).
    let (dlq2, _) = aws.queue(&unique("wh-ssrf-dlq2")).await;
    let allowed = notifier_with(&aws, named, &dlq2).await;
    let handled = allowed.handle_batch(&raw_sqs_event(&[message])).await.unwrap();
    assert_eq!(handled.delivered, 1);
}

async fn notifier_with(aws: &Aws, endpoint: Endpoint, dlq: &str) -> WebhookNotifier {
    notifier(aws, vec![endpoint], quick_policy(2, 10), dlq).await
}

#[tokio::test]
async fn slack_endpoints_get_block_kit_unsigned_and_filters_pick_event_types() {
    let stack = Stack::get();
    let aws = stack.aws().await;
    let (dlq, _) = aws.queue(&unique("wh-slack-dlq")).await;
    let slack = Receiver::start(|_| (200, Duration::ZERO)).await;
    let mut endpoint = endpoint("slack", &slack.url, 1);
    endpoint.kind = EndpointKind::Slack;
    endpoint.secret = None;
    endpoint.event_types = Some([EventType::DriftDetected].into());
    let mut auth = reqwest::header::HeaderValue::from_static("Bearer t0ken");
    auth.set_sensitive(true);
    endpoint.headers.insert(reqwest::header::AUTHORIZATION, auth);
    let notifier = notifier(&aws, vec![endpoint], quick_policy(2, 10), &dlq).await;
    let detected = drift_message(&unique("evt"), "fraud");
    let report = drift(&unique("evt"), "fraud", false);
    assert_eq!(report.event_type, EventType::DriftReport);
    notifier.handle_batch(&raw_sqs_event(&[detected.clone(), report])).await.unwrap();
    let seen = slack.seen();
    assert_eq!(seen.len(), 1, "only drift.detected passes the filter");
    let body: Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(body, detected.render_slack());
    assert_eq!(body["blocks"][0]["type"], "header");
    assert!(!seen[0].headers.contains_key("webhook-signature"));
    assert_eq!(seen[0].headers["authorization"], "Bearer t0ken");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_events_to_five_endpoints_one_slow_the_fast_ones_finish_first_and_the_bound_holds() {
    let stack = Stack::get();
    let aws = stack.aws().await;
    let (dlq, _) = aws.queue(&unique("wh-load-dlq")).await;
    const SLOW_BOUND: usize = 2;
    let slow = Receiver::start(|_| (204, Duration::from_millis(25))).await;
    let mut fast = Vec::new();
    for _ in 0..4 {
        fast.push(Receiver::start(|_| (204, Duration::ZERO)).await);
    }
    let mut endpoints = vec![endpoint("slow", &slow.url, SLOW_BOUND)];
    endpoints.extend(fast.iter().enumerate().map(|(i, r)| endpoint(&format!("fast-{i}"), &r.url, 8)));
    let notifier = notifier(&aws, endpoints, quick_policy(3, 50), &dlq).await;
    let messages: Vec<Message> =
        (0..1000).map(|i| drift_message(&format!("{}-{i}", unique("load")), "fraud")).collect();

    let started = Instant::now();
    let handled = notifier.handle_batch(&raw_sqs_event(&messages)).await.unwrap();
    assert_eq!((handled.delivered, handled.parked, handled.retry.len()), (5000, 0, 0), "{handled:?}");

    let finished = |r: &Receiver| r.seen().iter().map(|s| s.at).max().unwrap() - started;
    let slow_done = finished(&slow);
    for (i, r) in fast.iter().enumerate() {
        let ids: BTreeSet<String> = r.seen().iter().map(|s| s.headers["webhook-id"].clone()).collect();
        assert_eq!(ids.len(), 1000, "fast-{i} got every message once");
        let done = finished(r);
        assert!(done * 2 < slow_done, "fast-{i} finished at {done:?}, the slow endpoint at {slow_done:?}");
    }
    assert_eq!(slow.seen().len(), 1000);
    let peak = slow.max_in_flight.load(Ordering::SeqCst);
    assert!(peak <= SLOW_BOUND, "the slow endpoint saw {peak} concurrent requests (bound {SLOW_BOUND})");
    assert_eq!(peak, SLOW_BOUND, "the bound is used, not just respected");
    assert_eq!(slow.in_flight.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn records_that_are_not_messages_are_parked_whole_and_the_rest_of_the_batch_is_delivered() {
    let stack = Stack::get();
    let aws = stack.aws().await;
    let (dlq, _) = aws.queue(&unique("wh-bad-dlq")).await;
    let receiver = Receiver::start(|_| (204, Duration::ZERO)).await;
    let notifier = notifier(&aws, vec![endpoint("r", &receiver.url, 2)], quick_policy(2, 10), &dlq).await;
    let good = drift_message(&unique("evt"), "fraud");
    let mut event = raw_sqs_event(std::slice::from_ref(&good));
    let bad = json!({"messageId": "bad-1", "body": "{\"schema\": \"something/else\"}", "eventSource": "aws:sqs"});
    event["Records"].as_array_mut().unwrap().push(bad.clone());
    let answer = notifier.handle(event).await.unwrap();
    assert_eq!(answer, json!({"batchItemFailures": []}), "a bad record is handled by parking, not retried");
    assert_eq!(receiver.delivered().len(), 1);
    let letters = peek_letters(&aws, &dlq).await;
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0]["error_type"], "MalformedMessage");
    assert_eq!(letters[0]["original"], bad, "kept whole");
    assert!(letters[0]["reason"].as_str().unwrap().contains("unknown schema"), "{}", letters[0]);
}

#[test]
fn redrive_without_an_endpoint_configuration_is_a_usage_error_that_says_what_to_set() {
    let output = std::process::Command::new(deltaone_binary())
        .args(["webhooks", "redrive", "--dlq", "http://127.0.0.1:9/queue"])
        .env_remove("DELTAONE_WEBHOOK_ENDPOINTS")
        .env_remove("DELTAONE_WEBHOOK_ENDPOINTS_JSON")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("DELTAONE_WEBHOOK_ENDPOINTS") && stderr.contains("DELTAONE_WEBHOOK_ENDPOINTS_JSON"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_large_message_offloaded_to_s3_reaches_endpoints_whole() {
    let stack = Stack::get();
    let aws = stack.aws().await;
    let bucket = unique("wh-large");
    aws.bucket(&bucket).await;
    let topic = aws.topic(&unique("wh-large")).await;
    let (queue, queue_arn) = aws.queue(&unique("wh-large-in")).await;
    aws.subscribe(&topic, &queue_arn, None).await;
    let (dlq, _) = aws.queue(&unique("wh-large-dlq")).await;
    let receiver = Receiver::start(|_| (204, Duration::ZERO)).await;

    let mut big = drift_message(&unique("evt"), "fraud");
    if let deltaone::message::EventBody::Drift(body) = &mut big.body {
        body.top_features = (0..4000)
            .map(|i| deltaone::message::FeatureScore {
                column: format!("feature_with_a_rather_long_descriptive_name_{i:06}"),
                method: "psi".into(),
                score: 1.0 / (i + 1) as f64,
                drifted: false,
            })
            .collect();
    }
    let full = serde_json::to_vec(&big).unwrap();
    assert!(full.len() > deltaone_app::notify::SNS_MAX_BYTES);
    let objects = Arc::new(S3Objects::new(aws.s3.clone()));
    let sns = SnsNotifier::new(aws.sns.clone(), &topic).with_offload(objects, &bucket, "notifications/");
    sns.publish(&notification(&big)).await.unwrap();

    let event = aws.receive_as_lambda_event(&queue, 1).await;
    let envelope: Value = serde_json::from_str(event["Records"][0]["body"].as_str().unwrap()).unwrap();
    assert!(envelope["Message"].as_str().unwrap().contains("detail_uri"), "SNS carried the reference");
    let notifier = notifier(&aws, vec![endpoint("r", &receiver.url, 2)], quick_policy(2, 10), &dlq).await;
    assert_eq!(notifier.handle(event).await.unwrap(), json!({"batchItemFailures": []}));
    let delivered = receiver.delivered();
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].body, full, "the endpoint gets the whole message, not the reference");
}

#[tokio::test]
async fn a_try_that_times_out_is_retried_under_the_same_webhook_id() {
    let stack = Stack::get();
    let aws = stack.aws().await;
    let (dlq, _) = aws.queue(&unique("wh-timeout-dlq")).await;
    // The first answer comes after the client's timeout; the second at once.
    let receiver = Receiver::start(|n| (204, if n == 0 { Duration::from_millis(1500) } else { Duration::ZERO })).await;
    let policy = RetryPolicy { timeout: Duration::from_millis(300), ..quick_policy(3, 10) };
    let notifier = notifier(&aws, vec![endpoint("slowpoke", &receiver.url, 2)], policy, &dlq).await;
    let message = drift_message(&unique("evt"), "fraud");
    let handled = notifier.handle_batch(&raw_sqs_event(std::slice::from_ref(&message))).await.unwrap();
    assert_eq!((handled.delivered, handled.parked), (1, 0), "{handled:?}");
    tokio::time::sleep(Duration::from_millis(1500)).await; // let the abandoned first request finish
    let seen = receiver.seen();
    assert_eq!(seen.len(), 2, "one timed-out try, one delivered try");
    assert!(seen.iter().all(|s| s.headers["webhook-id"] == webhook_id(&message.id, "slowpoke")));
    assert_eq!(queue_depth(&aws, &dlq).await, 0);
}
