//! Faults in the middle of work, each with a count-in = count-out check: S3 answering 503 SlowDown
//! and DynamoDB throttling (a fault-injecting proxy in front of moto), AWS unreachable for a while,
//! MLflow killed (SIGKILL) and restarted mid-batch, and a function that dies between recording a
//! verdict and announcing it. The evaluation function's handler runs under pollers that do what
//! Lambda's SQS event source does (`deltaone_system_tests::faults::poll_like_lambda`).
//!
//! Each test prints its `count-in = count-out` line (`--no-capture`); `tests/faults/campaign.sh`
//! collects them into docs/reliability.md.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use deltaone::Policy;
use deltaone_app::artifact::KeyTemplate;
use deltaone_app::check::Checker;
use deltaone_app::notify::{Notification, Notifier, NotifyError};
use deltaone_app::store::VerdictStore;
use deltaone_aws::s3::S3Objects;
use deltaone_aws::sns::SnsNotifier;
use deltaone_aws::sqs::SqsDeadLetters;
use deltaone_aws::verdicts::DynamoVerdictStore;
use deltaone_fn_evaluation::Evaluation;
use deltaone_mlflow::{MlflowClient, MlflowConfig, MlflowRegistry};
use deltaone_system_tests::faults::{Fault, FaultProxy, Polled, PrivateMlflow, poll_like_lambda};
use deltaone_system_tests::{Aws, MlflowFixtures, NewVersion, Stack, unique};
use serde_json::{Value, json};

/// A recorded verdict is left to its writer this long; the queue's visibility timeout is longer, as
/// in the deployment (6 min against 60 s), so a redelivery completes what a failure left. Both are
/// scaled down here, with the takeover still well above what one AWS call takes under these faults.
const TAKEOVER: Duration = Duration::from_secs(8);
const VISIBILITY_SECS: i32 = 10;
/// For the cut-off invocation, where nothing else runs: a short takeover, so the test is quick.
const QUICK_TAKEOVER: Duration = Duration::from_secs(1);

/// Everything one scenario uses, uniquely named in the stack's moto; `aws_config` is where the
/// function's S3 and DynamoDB clients point (the stack's moto, or a proxy in front of it).
struct Rig {
    aws: Aws,
    bucket: String,
    uploads: String,
    alerts: String,
    dlq: String,
    store: Arc<DynamoVerdictStore>,
    evaluation: Arc<Evaluation>,
}

async fn rig(function_aws: &aws_config::SdkConfig, mlflow_url: &str) -> Rig {
    let stack = Stack::get();
    let aws = stack.aws().await;
    let bucket = unique("faults");
    aws.bucket(&bucket).await;
    let (uploads, _) = aws.queue(&unique("faults-uploads")).await;
    let topic = aws.topic(&unique("faults-alerts")).await;
    let (alerts, alerts_arn) = aws.queue(&unique("faults-alerts-sub")).await;
    aws.subscribe(&topic, &alerts_arn, None).await;
    let (dlq, _) = aws.queue(&unique("faults-dlq")).await;
    let table = unique("faults-verdicts");
    DynamoVerdictStore::new(stack.dynamodb().await, &table).create_table_if_missing().await.expect("table");
    let store = Arc::new(DynamoVerdictStore::new(aws_sdk_dynamodb::Client::new(function_aws), &table));
    let mut config = MlflowConfig::new(mlflow_url);
    config.retries = 1;
    config.timeout = Duration::from_secs(5);
    let registry = Arc::new(MlflowRegistry::new(MlflowClient::new(config).unwrap()));
    let sns = aws_sdk_sns::Client::new(function_aws);
    let checker = Checker::new(registry.clone(), Some(store.clone()), Policy::default())
        .with_notifier(Arc::new(SnsNotifier::new(sns, &topic)))
        .with_write_back_takeover(TAKEOVER);
    let evaluation = Arc::new(Evaluation {
        objects: Arc::new(S3Objects::new(S3Objects::client(function_aws, true))),
        registry,
        checker,
        dead_letters: Arc::new(SqsDeadLetters::new(aws.sqs.clone(), &dlq)),
        template: KeyTemplate::default(),
        quarantine_prefix: "quarantine/".into(),
    });
    Rig { aws, bucket, uploads, alerts, dlq, store, evaluation }
}

impl Rig {
    /// A model with a benchmarked version 1 and `n` more versions in `mlflow`; each new version's
    /// metrics artifact uploaded and its S3 event queued. Returns the model.
    async fn artifacts(&self, mlflow: &MlflowFixtures, n: usize) -> String {
        let model = unique("faults-model");
        let mut versions = vec![NewVersion::tagged(&[("benchmark_value", "0.9"), ("benchmark_metric", "accuracy")])];
        versions.extend((0..n).map(|_| NewVersion::default()));
        mlflow.create_model_with_versions(&model, &[], &versions).await;
        for v in 2..n + 2 {
            let key = format!("evaluations/{model}/{v}/metrics.json");
            let body = ByteStream::from_static(br#"{"metrics": {"accuracy": 0.915}}"#);
            self.aws.s3.put_object().bucket(&self.bucket).key(&key).body(body).send().await.expect("upload");
            let event = json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": self.bucket}, "object": {"key": key, "size": 32}}}]});
            self.aws.sqs.send_message().queue_url(&self.uploads).message_body(event.to_string()).send().await.unwrap();
        }
        model
    }

    async fn poll(&self, expect: usize, pollers: usize) -> Polled {
        let evaluation = self.evaluation.clone();
        let handler = move |event: Value| {
            let evaluation = evaluation.clone();
            async move { evaluation.handle(event).await.map_err(|e| e.to_string()) }
        };
        poll_like_lambda(
            &self.aws.sqs,
            &self.uploads,
            pollers,
            expect,
            VISIBILITY_SECS,
            Duration::from_secs(60),
            handler,
        )
        .await
    }

    /// (verdicts, notices, distinct notice ids, dead letters), counted from the outside.
    async fn counts(&self, model: &str) -> (usize, usize, usize, usize) {
        let verdicts = self.store.history(model, 1000).await.expect("history").len();
        let notices: Vec<Value> = self
            .aws
            .drain(&self.alerts, Duration::from_secs(3))
            .await
            .iter()
            .map(|b| {
                let envelope: Value = serde_json::from_str(b).unwrap();
                serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap()
            })
            .collect();
        let ids: BTreeSet<&str> = notices.iter().filter_map(|n| n["id"].as_str()).collect();
        let letters = self.aws.drain(&self.dlq, Duration::from_millis(500)).await;
        for letter in &letters {
            let letter: Value = serde_json::from_str(letter).unwrap_or(Value::Null);
            println!("parked: {} {}", letter["error_type"], letter["reason"]);
        }
        let parked = letters.len();
        (verdicts, notices.len(), ids.len(), parked)
    }
}

/// The scenario's line for the reliability table; asserts count-in = count-out.
fn count_line(scenario: &str, sent: usize, polled: &Polled, counts: (usize, usize, usize, usize), faults: &str) {
    let (verdicts, notices, distinct, parked) = counts;
    println!(
        "count-in = count-out | {scenario} | in {sent} | handled {} ({} receives, {} failed and redelivered) | \
         verdicts {verdicts} | notices {notices} ({distinct} distinct) | dead letters {parked} | {faults}",
        polled.handled, polled.receives, polled.retried
    );
    assert_eq!(polled.handled, sent, "{scenario}: every message handled");
    assert_eq!(verdicts, sent, "{scenario}: one verdict per artifact");
    assert_eq!(distinct, sent, "{scenario}: a notice for every verdict");
    assert_eq!(parked, 0, "{scenario}: nothing parked (every fault may pass)");
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_slowdown_and_dynamodb_throttling_lose_nothing_and_double_nothing() {
    let stack = Stack::get();
    let proxy = FaultProxy::start(&stack.moto_url).await;
    proxy.every(3, Fault::S3SlowDown);
    proxy.every(4, Fault::DynamoThrottling);
    let faulty = deltaone_aws::sdk_config(Some(&proxy.url)).await;
    let rig = rig(&faulty, &stack.mlflow_url).await;
    let model = rig.artifacts(&stack.mlflow(), 30).await;
    let polled = rig.poll(30, 4).await;
    let counts = rig.counts(&model).await;
    let (slow, throttled) = (proxy.injected(Fault::S3SlowDown), proxy.injected(Fault::DynamoThrottling));
    count_line(
        "S3 503 SlowDown (every 3rd GET) + DynamoDB throttling (every 4th call)",
        30,
        &polled,
        counts,
        &format!("{slow} SlowDown, {throttled} ThrottlingException injected"),
    );
    assert!(slow >= 10 && throttled >= 30, "the faults were injected: {slow} SlowDown, {throttled} throttled");
    assert_eq!(counts.1, counts.2, "no notice twice: the proxy refuses before forwarding, so no write half-happened");
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_unreachable_mid_batch_then_back_loses_nothing() {
    let stack = Stack::get();
    let proxy = Arc::new(FaultProxy::start(&stack.moto_url).await);
    let faulty = deltaone_aws::sdk_config(Some(&proxy.url)).await;
    let rig = rig(&faulty, &stack.mlflow_url).await;
    let model = rig.artifacts(&stack.mlflow(), 30).await;
    // S3, DynamoDB and SNS go away for 4 s, 1 s into the batch.
    let outage = {
        let proxy = proxy.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            proxy.set_down(true);
            tokio::time::sleep(Duration::from_secs(4)).await;
            proxy.set_down(false);
        })
    };
    let polled = rig.poll(30, 4).await;
    outage.await.unwrap();
    let counts = rig.counts(&model).await;
    count_line(
        "S3, DynamoDB and SNS unreachable for 4 s mid-batch",
        30,
        &polled,
        counts,
        &format!("{} connections dropped", proxy.refused()),
    );
    assert!(proxy.refused() > 0, "the outage happened during the batch");
    // A notice published just before DynamoDB went away cannot be marked sent; its redelivery
    // publishes it again under the same id (docs/exactly-once.md): none lost, repeats dedupable.
    assert!(counts.1 >= counts.2, "{counts:?}");
}

// Open finding (2026-12-08): in about one run in two, one of the 30 artifacts is parked (not lost:
// the dead-letter queue holds it, redrivable) instead of retried — an MLflow answer or error during
// the kill is classed as permanent. Run by `bash tests/faults/campaign.sh` (ignored tests included)
// until the classification is fixed; the printed `parked:` line names the error.
#[ignore = "open finding: a request cut by MLflow's SIGKILL is sometimes parked instead of retried"]
#[tokio::test(flavor = "multi_thread")]
async fn mlflow_killed_and_restarted_mid_batch_loses_nothing() {
    let stack = Stack::get();
    let mut mlflow = PrivateMlflow::start().await;
    let direct = stack.aws().await.config;
    let rig = rig(&direct, &mlflow.url).await;
    let fixtures = MlflowFixtures::at(&mlflow.url);
    let model = rig.artifacts(&fixtures, 30).await;
    let batch = {
        let (evaluation, sqs, uploads) = (rig.evaluation.clone(), rig.aws.sqs.clone(), rig.uploads.clone());
        tokio::spawn(async move {
            let handler = move |event: Value| {
                let evaluation = evaluation.clone();
                async move { evaluation.handle(event).await.map_err(|e| e.to_string()) }
            };
            poll_like_lambda(&sqs, &uploads, 4, 30, VISIBILITY_SECS, Duration::from_secs(120), handler).await
        })
    };
    // SIGKILL while the batch runs, then the same server back on its port and database.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let handled_before = rig.store.history(&model, 1000).await.unwrap().len();
    mlflow.kill();
    tokio::time::sleep(Duration::from_secs(2)).await;
    mlflow.restart().await;
    let polled = batch.await.unwrap();
    let counts = rig.counts(&model).await;
    count_line(
        "MLflow killed (SIGKILL) mid-batch and restarted",
        30,
        &polled,
        counts,
        &format!("{handled_before} verdicts before the kill"),
    );
    assert!(handled_before < 30, "MLflow died with work left ({handled_before} of 30 done)");
    assert!(polled.retried > 0, "deliveries failed while MLflow was down and came back");
}

/// SNS that never answers the first publish: the function is killed there (Lambda's timeout),
/// after the verdict was recorded and before the notice went out.
struct HangsOnce {
    inner: SnsNotifier,
    hung: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl Notifier for HangsOnce {
    async fn publish(&self, notification: &Notification) -> Result<(), NotifyError> {
        if !self.hung.swap(true, std::sync::atomic::Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        self.inner.publish(notification).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timeout_between_the_record_and_the_notice_still_notifies_exactly_once() {
    let stack = Stack::get();
    let direct = stack.aws().await.config;
    let mut rig = rig(&direct, &stack.mlflow_url).await;
    let topic = rig.aws.topic(&unique("faults-timeout")).await;
    let (alerts, alerts_arn) = rig.aws.queue(&unique("faults-timeout-sub")).await;
    rig.aws.subscribe(&topic, &alerts_arn, None).await;
    rig.alerts = alerts;
    let registry = rig.evaluation.registry.clone();
    let notifier = HangsOnce { inner: SnsNotifier::new(rig.aws.sns.clone(), &topic), hung: false.into() };
    let evaluation = Evaluation {
        checker: Checker::new(registry.clone(), Some(rig.store.clone()), Policy::default())
            .with_notifier(Arc::new(notifier))
            .with_write_back_takeover(QUICK_TAKEOVER),
        objects: rig.evaluation.objects.clone(),
        registry,
        dead_letters: rig.evaluation.dead_letters.clone(),
        template: KeyTemplate::default(),
        quarantine_prefix: "quarantine/".into(),
    };
    let model = rig.artifacts(&stack.mlflow(), 1).await;
    let event = rig.aws.receive_as_lambda_event(&rig.uploads, 1).await;

    // The first invocation records the verdict, then hangs in SNS until Lambda's timeout kills it.
    let killed = tokio::time::timeout(Duration::from_secs(3), evaluation.handle(event.clone())).await;
    assert!(killed.is_err(), "the invocation was cut off");
    let record = rig.store.history(&model, 10).await.unwrap().pop().expect("recorded before the cut");
    assert!(!record.notified, "no notice yet");

    // A redelivery while the record is fresh leaves it to its writer; once stale, it completes it.
    evaluation.handle(event.clone()).await.unwrap();
    tokio::time::sleep(QUICK_TAKEOVER + Duration::from_millis(200)).await;
    evaluation.handle(event.clone()).await.unwrap();
    evaluation.handle(event).await.unwrap();
    let record = rig.store.history(&model, 10).await.unwrap().pop().unwrap();
    assert!(record.notified && record.written_back, "{record:?}");
    let counts = rig.counts(&model).await;
    let polled = Polled { handled: 1, receives: 4, retried: 3, batch_ms: Vec::new() };
    count_line("a Lambda timeout between the record and the notice", 1, &polled, counts, "1 invocation cut off");
    assert_eq!(counts.1, 1, "exactly one notice");
}
