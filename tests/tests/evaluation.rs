//! The S3 evaluation function end to end on loopback: an upload to moto S3 → moto's bucket
//! notification to SQS → the function's handler → MLflow (metric logged, tags written back),
//! DynamoDB (one verdict) and SNS → an SQS subscriber (one alert); failures retried or parked.

use std::sync::Arc;
use std::time::Duration;

use arrow_array::{ArrayRef, BooleanArray, Float64Array, RecordBatch};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Event, NotificationConfiguration, QueueConfiguration};
use deltaone::Policy;
use deltaone::VersionNumber;
use deltaone_app::artifact::KeyTemplate;
use deltaone_app::check::Checker;
use deltaone_app::store::VerdictStore;
use deltaone_aws::s3::S3Objects;
use deltaone_aws::sns::SnsNotifier;
use deltaone_aws::sqs::SqsDeadLetters;
use deltaone_aws::verdicts::DynamoVerdictStore;
use deltaone_fn_evaluation::Evaluation;
use deltaone_mlflow::MlflowRegistry;
use deltaone_mlflow::{MlflowClient, MlflowConfig};
use deltaone_predictions::paired::PredictionsReader;
use deltaone_system_tests::{Aws, NewVersion, Stack, unique};
use futures::StreamExt;
use serde_json::Value;

struct Rig {
    stack: Stack,
    aws: Aws,
    bucket: String,
    uploads_queue: String,
    alerts_queue: String,
    dlq: String,
    topic: String,
    store: Arc<DynamoVerdictStore>,
    evaluation: Evaluation,
}

async fn rig() -> Rig {
    rig_with_mlflow(None).await
}

/// Everything in moto with unique names; MLflow at `mlflow_url` (default: the stack's).
async fn rig_with_mlflow(mlflow_url: Option<String>) -> Rig {
    let stack = Stack::get();
    let aws = stack.aws().await;
    let bucket = unique("evals");
    aws.bucket(&bucket).await;
    let (uploads_queue, uploads_arn) = aws.queue(&unique("uploads")).await;
    let notification = NotificationConfiguration::builder()
        .queue_configurations(
            QueueConfiguration::builder().queue_arn(uploads_arn).events(Event::S3ObjectCreated).build().unwrap(),
        )
        .build();
    aws.s3
        .put_bucket_notification_configuration()
        .bucket(&bucket)
        .notification_configuration(notification)
        .send()
        .await
        .unwrap();
    // moto announces the configuration with an s3:TestEvent; the function ignores those (tested
    // separately), so clear it here to count real uploads.
    aws.drain(&uploads_queue, Duration::from_millis(500)).await;

    let topic = aws.topic(&unique("alerts")).await;
    let (alerts_queue, alerts_arn) = aws.queue(&unique("alerts-sub")).await;
    aws.subscribe(&topic, &alerts_arn, None).await;
    let (dlq, _) = aws.queue(&unique("dlq")).await;

    let store = Arc::new(DynamoVerdictStore::new(stack.dynamodb().await, unique("verdicts")));
    store.create_table_if_missing().await.unwrap();
    let mut config = MlflowConfig::new(mlflow_url.unwrap_or_else(|| stack.mlflow_url.clone()));
    config.retries = 1;
    config.timeout = Duration::from_secs(5);
    let registry = Arc::new(MlflowRegistry::new(MlflowClient::new(config).unwrap()));
    // As the function's wiring does: predictions files named by versions are read from S3.
    let predictions = Arc::new(PredictionsReader::new(Some(Arc::new(S3Objects::new(aws.s3.clone())))));
    let checker = Checker::new(registry.clone(), Some(store.clone()), Policy::default())
        .with_notifier(Arc::new(SnsNotifier::new(aws.sns.clone(), &topic)))
        .with_predictions(predictions);
    let evaluation = Evaluation {
        objects: Arc::new(S3Objects::new(aws.s3.clone())),
        registry,
        checker,
        dead_letters: Arc::new(SqsDeadLetters::new(aws.sqs.clone(), &dlq)),
        template: KeyTemplate::default(),
        quarantine_prefix: "quarantine/".into(),
    };
    Rig { stack, aws, bucket, uploads_queue, alerts_queue, dlq, topic, store, evaluation }
}

impl Rig {
    async fn upload(&self, key: &str, bytes: Vec<u8>) {
        self.aws.s3.put_object().bucket(&self.bucket).key(key).body(ByteStream::from(bytes)).send().await.unwrap();
    }

    /// A model whose version 1 is the tagged baseline (accuracy 0.9) and version 2 has an empty run.
    async fn model(&self) -> (String, String) {
        let model = unique("eval-model");
        let baseline = NewVersion::tagged(&[("benchmark_value", "0.9"), ("benchmark_metric", "accuracy")]);
        let runs =
            self.stack.mlflow().create_model_with_versions(&model, &[], &[baseline, NewVersion::with_run(&[])]).await;
        (model, runs[1].clone().unwrap())
    }

    async fn alerts(&self) -> Vec<Value> {
        let bodies = self.aws.drain(&self.alerts_queue, Duration::from_secs(2)).await;
        bodies.iter().map(|b| serde_json::from_str(b).unwrap()).collect()
    }
}

fn predictions_parquet(labels: &[bool], scores: &[f64]) -> Vec<u8> {
    let batch = RecordBatch::try_from_iter([
        ("label", Arc::new(BooleanArray::from(labels.to_vec())) as ArrayRef),
        ("score", Arc::new(Float64Array::from(scores.to_vec())) as ArrayRef),
    ])
    .unwrap();
    let mut bytes = Vec::new();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut bytes, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    bytes
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_json_upload_flows_through_to_mlflow_dynamodb_and_subscribers() {
    let rig = rig().await;
    let (model, run_id) = rig.model().await;
    let metrics = br#"{"schema_version": 1, "metrics": {"accuracy": 0.915, "f1": 0.9}, "contributor": {"id": "ada"}}"#;
    rig.upload(&format!("evaluations/{model}/2/metrics.json"), metrics.to_vec()).await;

    let event = rig.aws.receive_as_lambda_event(&rig.uploads_queue, 1).await;
    let response = rig.evaluation.handle(event).await.unwrap();
    assert_eq!(response["batchItemFailures"], serde_json::json!([]));

    let logged = rig.stack.mlflow().run_metrics(&run_id).await;
    assert_eq!(logged["accuracy"], 0.915);
    assert_eq!(logged["f1"], 0.9);
    assert_eq!(logged["delta_value"], 1.5);
    let tags = rig.stack.mlflow().version_tags(&model, 2).await;
    assert_eq!(tags["deltaone_achieved"], "true");

    let record = rig.store.get(&model, VersionNumber::new(2).unwrap()).await.unwrap().unwrap();
    assert!(record.written_back && record.notified);
    let alerts = rig.alerts().await;
    assert_eq!(alerts.len(), 1);
    let message: Value = serde_json::from_str(alerts[0]["Message"].as_str().unwrap()).unwrap();
    assert_eq!(message["event_type"], "deltaone.achieved");
    assert_eq!(message["model"], model.as_str());
    assert_eq!(alerts[0]["MessageAttributes"]["event_type"]["Value"], "deltaone.achieved");
    assert!(rig.aws.drain(&rig.dlq, Duration::from_millis(500)).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn predictions_parquet_upload_computes_the_metric_itself() {
    let rig = rig().await;
    let (model, run_id) = rig.model().await;
    // 20 rows, 19 right at threshold 0.5: accuracy 0.95 (+5 pp over 0.9).
    let labels: Vec<bool> = (0..20).map(|i| i % 2 == 0).collect();
    let mut scores: Vec<f64> = labels.iter().map(|&l| if l { 0.8 } else { 0.2 }).collect();
    scores[1] = 0.7;
    rig.upload(&format!("evaluations/{model}/2/predictions.parquet"), predictions_parquet(&labels, &scores)).await;

    let event = rig.aws.receive_as_lambda_event(&rig.uploads_queue, 1).await;
    rig.evaluation.handle(event).await.unwrap();
    let logged = rig.stack.mlflow().run_metrics(&run_id).await;
    assert_eq!(logged["accuracy"], 0.95);
    assert!(logged.contains_key("auroc") && logged.contains_key("log_loss"), "{logged:?}");
    let record = rig.store.get(&model, VersionNumber::new(2).unwrap()).await.unwrap().unwrap();
    assert_eq!(record.verdict.delta_pp.unwrap().to_string(), "5");
    // The version now names its predictions, for later checks' confidence intervals; this one has
    // no baseline predictions to pair with, and says so.
    let tags = rig.stack.mlflow().version_tags(&model, 2).await;
    assert_eq!(tags["predictions_uri"], format!("s3://{}/evaluations/{model}/2/predictions.parquet", rig.bucket));
    let confidence = record.verdict.confidence.expect("the check looked for an interval");
    assert_eq!(confidence.status, deltaone::ConfidenceStatus::NoPredictions);
    let reason = confidence.reason.unwrap();
    assert!(reason.contains("version 1 has no predictions_uri tag"), "{reason}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_zstd_predictions_file_written_by_polars_is_read_to_the_metrics_of_its_snappy_twin() {
    let rig = rig().await;
    let (model, run_id) = rig.model().await;
    let files = deltaone_system_tests::parquet_writer_files();
    let zstd = std::fs::read(files.join("codecs/polars/zstd/reference.parquet")).unwrap();
    let snappy = std::fs::read(files.join("codecs/polars/snappy/reference.parquet")).unwrap();
    let expected = deltaone_predictions::metrics_from_parquet("snappy", snappy.into()).unwrap();
    rig.upload(&format!("evaluations/{model}/2/predictions.parquet"), zstd).await;

    let event = rig.aws.receive_as_lambda_event(&rig.uploads_queue, 1).await;
    let response = rig.evaluation.handle(event).await.unwrap();
    assert_eq!(response["batchItemFailures"], serde_json::json!([]));
    let logged = rig.stack.mlflow().run_metrics(&run_id).await;
    assert_eq!(expected.len(), 6, "{expected:?}");
    for (name, value) in &expected {
        assert_eq!(logged.get(name), Some(value), "{name}: {logged:?}");
    }
    assert!(rig.store.get(&model, VersionNumber::new(2).unwrap()).await.unwrap().is_some());
    assert!(rig.aws.drain(&rig.dlq, Duration::from_millis(500)).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn corrupt_parquet_is_quarantined_and_parked_with_the_reason() {
    let rig = rig().await;
    let (model, _) = rig.model().await;
    let key = format!("evaluations/{model}/2/predictions.parquet");
    rig.upload(&key, b"PAR1 this is not parquet".to_vec()).await;

    let event = rig.aws.receive_as_lambda_event(&rig.uploads_queue, 1).await;
    let response = rig.evaluation.handle(event).await.unwrap();
    assert_eq!(response["batchItemFailures"], serde_json::json!([]), "a permanent failure is not retried");

    let copy = rig.aws.s3.get_object().bucket(&rig.bucket).key(format!("quarantine/{key}")).send().await.unwrap();
    assert_eq!(copy.body.collect().await.unwrap().into_bytes().as_ref(), b"PAR1 this is not parquet");
    let reason =
        rig.aws.s3.get_object().bucket(&rig.bucket).key(format!("quarantine/{key}.reason.json")).send().await.unwrap();
    let reason: Value = serde_json::from_slice(&reason.body.collect().await.unwrap().into_bytes()).unwrap();
    assert!(reason["reason"].as_str().unwrap().contains("unreadable"), "{reason}");

    let parked = rig.aws.drain(&rig.dlq, Duration::from_secs(1)).await;
    assert_eq!(parked.len(), 1);
    let letter: Value = serde_json::from_str(&parked[0]).unwrap();
    assert_eq!(letter["error_type"], "InvalidArtifact");
    assert!(
        letter["original"]["body"].as_str().unwrap().contains("predictions.parquet"),
        "the original delivery is kept"
    );
    assert!(rig.store.get(&model, VersionNumber::new(2).unwrap()).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_model_and_malformed_events_are_parked_not_lost() {
    let rig = rig().await;
    let ghost = unique("ghost");
    rig.upload(&format!("evaluations/{ghost}/1/metrics.json"), br#"{"metrics": {"accuracy": 0.9}}"#.to_vec()).await;
    let event = rig.aws.receive_as_lambda_event(&rig.uploads_queue, 1).await;
    assert_eq!(rig.evaluation.handle(event).await.unwrap()["batchItemFailures"], serde_json::json!([]));

    let malformed =
        serde_json::json!({"Records": [{"eventSource": "aws:sqs", "messageId": "m-1", "body": "{\"nope\": true}"}]});
    rig.evaluation.handle(malformed).await.unwrap();
    let not_even_records = serde_json::json!({"hello": "world"});
    rig.evaluation.handle(not_even_records).await.unwrap();

    let letters: Vec<Value> = rig
        .aws
        .drain(&rig.dlq, Duration::from_secs(1))
        .await
        .iter()
        .map(|b| serde_json::from_str(b).unwrap())
        .collect();
    let types: Vec<&str> = letters.iter().map(|l| l["error_type"].as_str().unwrap()).collect();
    assert_eq!(letters.len(), 3, "{letters:?}");
    assert!(types.contains(&"UnknownModelVersion"), "{types:?}");
    assert_eq!(types.iter().filter(|t| **t == "MalformedEvent").count(), 2, "{types:?}");
    assert!(letters.iter().any(|l| l["original"]["hello"] == "world"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_event_delivered_a_hundred_times_makes_one_record_and_one_alert() {
    let rig = rig().await;
    let (model, _) = rig.model().await;
    rig.upload(&format!("evaluations/{model}/2/metrics.json"), br#"{"metrics": {"accuracy": 0.93}}"#.to_vec()).await;
    let event = rig.aws.receive_as_lambda_event(&rig.uploads_queue, 1).await;

    let evaluation = &rig.evaluation;
    let responses: Vec<_> = futures::stream::iter((0..100).map(|_| {
        let event = event.clone();
        async move { evaluation.handle(event).await }
    }))
    .buffer_unordered(20)
    .collect()
    .await;
    assert!(responses.iter().all(|r| r.as_ref().unwrap()["batchItemFailures"] == serde_json::json!([])));
    assert_eq!(rig.store.history(&model, 10).await.unwrap().len(), 1);
    assert_eq!(rig.alerts().await.len(), 1, "exactly one alert");
}

#[tokio::test(flavor = "multi_thread")]
async fn sns_and_direct_envelopes_and_the_s3_test_event_are_handled() {
    let rig = rig().await;
    let (model, _) = rig.model().await;
    rig.upload(&format!("evaluations/{model}/2/metrics.json"), br#"{"metrics": {"accuracy": 0.95}}"#.to_vec()).await;
    let sqs_event = rig.aws.receive_as_lambda_event(&rig.uploads_queue, 1).await;
    let s3_event: Value = serde_json::from_str(sqs_event["Records"][0]["body"].as_str().unwrap()).unwrap();

    // Directly, as S3 invokes a function: moto's thin event shape, key URL-encoded.
    let direct = rig.evaluation.handle(s3_event.clone()).await.unwrap();
    assert_eq!(direct["evaluated"], 1);
    // Through SNS.
    let sns = serde_json::json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": s3_event.to_string()}}]});
    assert_eq!(rig.evaluation.handle(sns).await.unwrap()["evaluated"], 1);
    assert_eq!(rig.store.history(&model, 10).await.unwrap().len(), 1);

    let test_event = serde_json::json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": rig.bucket});
    assert_eq!(rig.evaluation.handle(test_event).await.unwrap()["evaluated"], 0);
}

/// A TCP proxy in front of MLflow that the test can take down and bring back on the same port.
struct Switch {
    port: u16,
    target: String,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Switch {
    async fn new(target: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut switch = Self { port, target: target.trim_start_matches("http://").to_owned(), task: None };
        switch.up().await;
        switch
    }

    async fn up(&mut self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        let target = self.target.clone();
        self.task = Some(tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        }));
    }

    fn down(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mlflow_down_mid_run_means_retry_and_success_once_it_is_back() {
    let stack = Stack::get();
    let mut switch = Switch::new(&stack.mlflow_url).await;
    let rig = rig_with_mlflow(Some(format!("http://127.0.0.1:{}", switch.port))).await;
    let (model, _) = rig.model().await;
    rig.upload(&format!("evaluations/{model}/2/metrics.json"), br#"{"metrics": {"accuracy": 0.925}}"#.to_vec()).await;
    let event = rig.aws.receive_as_lambda_event(&rig.uploads_queue, 1).await;
    let message_id = event["Records"][0]["messageId"].clone();

    switch.down();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let response = rig.evaluation.handle(event.clone()).await.unwrap();
    assert_eq!(response["batchItemFailures"][0]["itemIdentifier"], message_id, "SQS will redeliver it");
    assert!(rig.store.get(&model, VersionNumber::new(2).unwrap()).await.unwrap().is_none());
    assert!(rig.aws.drain(&rig.dlq, Duration::from_millis(500)).await.is_empty(), "not parked: it may pass");

    switch.up().await;
    let response = rig.evaluation.handle(event).await.unwrap();
    assert_eq!(response["batchItemFailures"], serde_json::json!([]));
    let record = rig.store.get(&model, VersionNumber::new(2).unwrap()).await.unwrap().unwrap();
    assert_eq!(record.verdict.delta_pp.unwrap().to_string(), "2.5");
    assert_eq!(rig.alerts().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_parked_upload_is_redriven_once_its_model_exists() {
    let rig = rig().await;
    let model = unique("late-model");
    rig.upload(&format!("evaluations/{model}/2/metrics.json"), br#"{"metrics": {"accuracy": 0.95}}"#.to_vec()).await;
    let event = rig.aws.receive_as_lambda_event(&rig.uploads_queue, 1).await;
    rig.evaluation.handle(event).await.unwrap();

    // The model is registered after the upload: the parked event can now succeed.
    let baseline = NewVersion::tagged(&[("benchmark_value", "0.9"), ("benchmark_metric", "accuracy")]);
    rig.stack.mlflow().create_model_with_versions(&model, &[], &[baseline, NewVersion::with_run(&[])]).await;
    let moved =
        deltaone_aws::sqs::redrive(&rig.aws.sqs, &rig.dlq, &rig.uploads_queue, "evaluation", 100).await.unwrap();
    assert_eq!(moved.moved, 1);
    assert!(rig.aws.drain(&rig.dlq, Duration::from_millis(500)).await.is_empty());

    let event = rig.aws.receive_as_lambda_event(&rig.uploads_queue, 1).await;
    assert_eq!(rig.evaluation.handle(event).await.unwrap()["batchItemFailures"], serde_json::json!([]));
    let record = rig.store.get(&model, VersionNumber::new(2).unwrap()).await.unwrap().unwrap();
    assert_eq!(record.verdict.outcome, deltaone::Outcome::Achieved);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_alert_carries_a_signed_attestation_with_contributors_and_the_artifact_hash() {
    let mut rig = rig().await;
    let key = Arc::new(deltaone::attestation::signing_key_from_seed(&[42; 32]).unwrap());
    rig.evaluation.checker = Checker::new(rig.evaluation.registry.clone(), Some(rig.store.clone()), Policy::default())
        .with_notifier(Arc::new(SnsNotifier::new(rig.aws.sns.clone(), &rig.topic)))
        .with_signing_key(key.clone());
    let (model, _) = rig.model().await;
    let metrics = br#"{"metrics": {"accuracy": 0.93}, "contributor": {"id": "0xada", "name": "Ada", "share": 0.6}}"#;
    let key_name = format!("evaluations/{model}/2/metrics.json");
    rig.upload(&key_name, metrics.to_vec()).await;
    let event = rig.aws.receive_as_lambda_event(&rig.uploads_queue, 1).await;
    rig.evaluation.handle(event).await.unwrap();

    let alerts = rig.alerts().await;
    assert_eq!(alerts.len(), 1);
    let message: deltaone::message::Message = serde_json::from_str(alerts[0]["Message"].as_str().unwrap()).unwrap();
    let deltaone::message::EventBody::DeltaOne(body) = &message.body else { panic!("a DeltaOne message") };
    let signed = body.attestation.as_deref().expect("attested");
    deltaone::attestation::verify(signed, Some(&key.verifying_key())).unwrap();
    assert_eq!(signed.statement.contributors[0].id, "0xada");
    assert_eq!(body.contributors, signed.statement.contributors);
    let artifact = format!("s3://{}/{key_name}", rig.bucket);
    assert_eq!(signed.statement.input_hashes[&artifact], deltaone::attestation::sha256_hex(metrics));
}
