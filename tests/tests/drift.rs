//! The drift job against moto: Parquet prediction logs in S3 with Hive partitions, timestamp windows
//! and a model filter; results in S3 and DynamoDB (one Query per column history, TTL set); the SNS
//! `drift.detected` alert reaching an SQS subscriber; a corrupt object quarantined with its reason
//! while the run completes. The job runs through its real command line (`deltaone_drift::cli`).

use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use aws_sdk_dynamodb::types::AttributeValue;
use deltaone_drift::cli::{Cli, execute};
use deltaone_system_tests::{Aws, Stack, unique};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use serde_json::Value;

/// Milliseconds of an RFC 3339 time.
fn ms(rfc3339: &str) -> i64 {
    let range: deltaone_drift::TimeRange = format!("{rfc3339}..2100-01-01T00:00:00Z").parse().unwrap();
    (range.start.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Deterministic uniform numbers in [0, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A batch of prediction logs: `rows` rows from `start` one second apart, feature `x` uniform
/// plus `shift`, a categorical `channel`, the score `prediction` and the `label`.
fn logs(seed: u64, rows: usize, start: &str, shift: f64, models: &[&str]) -> RecordBatch {
    let mut rng = Lcg(seed);
    let t0 = ms(start);
    let ts: Vec<i64> = (0..rows as i64).map(|i| t0 + i * 1000).collect();
    let x: Vec<f64> = (0..rows).map(|_| rng.next() + shift).collect();
    let channel: Vec<&str> = (0..rows).map(|_| if rng.next() < 0.5 { "web" } else { "app" }).collect();
    let prediction: Vec<f64> = x.iter().map(|x| (x / 2.0).clamp(0.0, 1.0)).collect();
    let label: Vec<bool> = (0..rows).map(|_| rng.next() < 0.5).collect();
    let model: Vec<&str> = (0..rows).map(|i| models[i % models.len()]).collect();
    RecordBatch::try_from_iter([
        ("ts", Arc::new(TimestampMillisecondArray::from(ts).with_timezone("UTC")) as ArrayRef),
        ("model_name", Arc::new(StringArray::from(model)) as ArrayRef),
        ("model_version", Arc::new(Int64Array::from(vec![3i64; rows])) as ArrayRef),
        ("x", Arc::new(Float64Array::from(x)) as ArrayRef),
        ("channel", Arc::new(StringArray::from(channel)) as ArrayRef),
        ("prediction", Arc::new(Float64Array::from(prediction)) as ArrayRef),
        ("label", Arc::new(BooleanArray::from(label)) as ArrayRef),
    ])
    .unwrap()
}

/// Parquet bytes of batches; each batch becomes its own row group.
fn parquet(batches: &[RecordBatch]) -> Vec<u8> {
    let rows = batches.iter().map(RecordBatch::num_rows).max().unwrap();
    let props = WriterProperties::builder().set_max_row_group_row_count(Some(rows)).build();
    let mut bytes = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut bytes, batches[0].schema(), Some(props)).unwrap();
    for batch in batches {
        writer.write(batch).unwrap();
        writer.flush().unwrap();
    }
    writer.close().unwrap();
    bytes
}

async fn put(aws: &Aws, bucket: &str, key: &str, bytes: Vec<u8>) {
    aws.s3.put_object().bucket(bucket).key(key).body(bytes.into()).send().await.expect("put object");
}

async fn get(aws: &Aws, bucket: &str, key: &str) -> Vec<u8> {
    let out = aws.s3.get_object().bucket(bucket).key(key).send().await.unwrap_or_else(|e| panic!("get {key}: {e:?}"));
    out.body.collect().await.unwrap().into_bytes().to_vec()
}

async fn drift(args: &[&str]) -> Result<String, String> {
    let mut argv = vec!["deltaone-drift"];
    argv.extend_from_slice(args);
    let cli = Cli::from_args(argv).map_err(|e| e.to_string())?;
    execute(&cli).await.map_err(|e| e.to_string())
}

fn s(item: &std::collections::HashMap<String, AttributeValue>, name: &str) -> String {
    match &item[name] {
        AttributeValue::S(v) | AttributeValue::N(v) => v.clone(),
        other => panic!("{name} is {other:?}"),
    }
}

#[tokio::test]
async fn s3_logs_by_partition_window_and_model_drift_into_dynamodb_sns_and_a_quarantine() {
    let stack = Stack::get();
    let aws = stack.aws().await;
    let bucket = unique("drift-logs");
    aws.bucket(&bucket).await;
    let table = unique("drift-results");
    let (queue_url, queue_arn) = aws.queue(&unique("drift-alerts")).await;
    let topic = aws.topic(&unique("drift-topic")).await;
    aws.subscribe(&topic, &queue_arn, None).await;

    // Reference day: 300 rows of model fraud. Current day: 300 rows with x shifted.
    let day1 = "logs/model_name=fraud/dt=2026-11-01/part-0.parquet";
    let day2 = "logs/model_name=fraud/dt=2026-11-02/part-0.parquet";
    put(&aws, &bucket, day1, parquet(&[logs(1, 300, "2026-11-01T01:00:00Z", 0.0, &["fraud"])])).await;
    put(&aws, &bucket, day2, parquet(&[logs(2, 300, "2026-11-02T01:00:00Z", 0.6, &["fraud"])])).await;
    // Another model's partition holds garbage: pruned by its partition, it is never opened.
    put(&aws, &bucket, "logs/model_name=churn/dt=2026-11-02/part-0.parquet", b"not parquet".to_vec()).await;
    // No partitions: a row group in October (outside both windows, pruned by its statistics) and
    // one on Nov 2 with rows of two models (the model_name column filters them: 100 of 200).
    let mixed = parquet(&[
        logs(3, 200, "2026-10-15T00:00:00Z", 0.0, &["fraud", "churn"]),
        logs(4, 200, "2026-11-02T12:00:00Z", 0.6, &["fraud", "churn"]),
    ]);
    put(&aws, &bucket, "logs/mixed.parquet", mixed).await;
    // A corrupt object in the current partition: quarantined, and the run goes on.
    let mut corrupt = parquet(&[logs(5, 50, "2026-11-02T03:00:00Z", 0.0, &["fraud"])]);
    let middle = corrupt.len() / 2;
    corrupt.truncate(middle);
    let corrupt_key = "logs/model_name=fraud/dt=2026-11-02/part-1.parquet";
    put(&aws, &bucket, corrupt_key, corrupt.clone()).await;

    let endpoint = stack.moto_url.as_str();
    let init = drift(&["table", "init", "--table", &table, "--endpoint-url", endpoint]).await.unwrap();
    assert!(init.contains("created"), "{init}");
    let again = drift(&["table", "init", "--table", &table, "--endpoint-url", endpoint]).await.unwrap();
    assert!(again.contains("exists"), "idempotent: {again}");

    let input = format!("s3://{bucket}/logs/");
    let out = format!("s3://{bucket}/reports/");
    let run_id = unique("run");
    let json = drift(&[
        "run",
        "--reference",
        &input,
        "--timestamp-column",
        "ts",
        "--reference-window",
        "2026-11-01T00:00:00Z..2026-11-02T00:00:00Z",
        "--current-window",
        "2026-11-02T00:00:00Z..2026-11-03T00:00:00Z",
        "--model-name",
        "fraud",
        "--out",
        &out,
        "--table",
        &table,
        "--topic-arn",
        &topic,
        "--endpoint-url",
        endpoint,
        "--run-id",
        &run_id,
        "--read-concurrency",
        "3",
        "--no-progress",
        "--json",
    ])
    .await
    .unwrap();
    let report: Value = serde_json::from_str(&json).unwrap();

    // Rows: the windows, the partitions, the row groups and the model column selected them.
    assert_eq!(report["windows"]["reference"]["rows"], 300, "{}", report["windows"]);
    assert_eq!(report["windows"]["current"]["rows"], 400, "300 + 100 fraud rows of the mixed file");
    assert_eq!(report["windows"]["current"]["end"], "2026-11-03T00:00:00Z");
    // Reference: both Nov 2 partitions of fraud and the churn one are outside; current: day 1 and churn.
    assert!(report["windows"]["reference"]["pruned_files"].as_u64().unwrap() >= 3, "{}", report["windows"]);
    assert_eq!(report["windows"]["current"]["pruned_files"], 2, "{}", report["windows"]);
    let columns: Vec<&str> =
        report["columns"].as_array().unwrap().iter().map(|c| c["column"].as_str().unwrap()).collect();
    assert_eq!(columns, ["x", "channel", "prediction"], "ts, model_name, model_version and label are not features");
    let x = report["columns"].as_array().unwrap().iter().find(|c| c["column"] == "x").unwrap();
    assert_eq!(x["drifted"], true, "{x}");
    assert_eq!(report["dataset"]["drifted"], true, "{}", report["dataset"]);
    assert!(report["performance"]["current"]["metrics"]["accuracy"].as_f64().is_some(), "{}", report["performance"]);

    // The corrupt object: listed, copied to the quarantine with its reason; the run completed.
    assert_eq!(report["quarantined_files"], 1, "{}", report["skipped_files"]);
    let skipped = &report["skipped_files"][0];
    assert_eq!(skipped["path"], format!("s3://{bucket}/{corrupt_key}"));
    let quarantined_key = format!("quarantine/{run_id}/current/{bucket}/{corrupt_key}");
    assert_eq!(skipped["quarantined_to"], format!("s3://{bucket}/{quarantined_key}"));
    assert_eq!(get(&aws, &bucket, &quarantined_key).await, corrupt, "an exact copy");
    let reason: Value =
        serde_json::from_slice(&get(&aws, &bucket, &format!("{quarantined_key}.reason.json")).await).unwrap();
    assert_eq!(reason["source"], format!("s3://{bucket}/{corrupt_key}"));
    assert!(reason["reason"].as_str().unwrap().contains("Parquet"), "{reason}");

    // Results in S3.
    let report_key = format!("reports/{run_id}/report.html");
    let html = String::from_utf8(get(&aws, &bucket, &report_key).await).unwrap();
    assert!(html.contains("<svg") && html.contains("Performance"), "a full report");
    let stored: Value =
        serde_json::from_slice(&get(&aws, &bucket, &format!("reports/{run_id}/drift.json")).await).unwrap();
    assert_eq!(stored["run_id"], run_id.as_str());

    // DynamoDB: the history of feature x of model fraud is one Query, newest first.
    let dynamodb = stack.dynamodb().await;
    let history = dynamodb
        .query()
        .table_name(&table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S("fraud#COLUMN#x".into()))
        .scan_index_forward(false)
        .send()
        .await
        .unwrap();
    let items = history.items();
    assert_eq!(items.len(), 1, "{items:?}");
    let item = &items[0];
    assert_eq!(s(item, "sk"), format!("2026-11-03T00:00:00Z#{run_id}"));
    assert_eq!(
        (s(item, "method"), s(item, "kind"), s(item, "role")),
        ("wasserstein".into(), "numeric".into(), "feature".into())
    );
    assert_eq!(item["drifted"], AttributeValue::Bool(true));
    let expires: i64 = s(item, "expires_at").parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((expires - now - 400 * 86_400).abs() < 3_600, "400 days of retention: {expires} vs {now}");
    let detail: Value = serde_json::from_str(&s(item, "detail")).unwrap();
    assert_eq!(detail["column"], "x");
    let ttl = dynamodb.describe_time_to_live().table_name(&table).send().await.unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(ttl.attribute_name(), Some("expires_at"));

    // A second run over an earlier current window: the history Query returns both, newest window first.
    let earlier = unique("run");
    drift(&[
        "run",
        "--reference",
        &input,
        "--timestamp-column",
        "ts",
        "--reference-window",
        "2026-11-01T00:00:00Z..2026-11-02T00:00:00Z",
        "--current-window",
        "2026-11-02T00:00:00Z..2026-11-02T06:00:00Z",
        "--model-name",
        "fraud",
        "--out",
        &out,
        "--table",
        &table,
        "--endpoint-url",
        endpoint,
        "--run-id",
        &earlier,
        "--no-progress",
    ])
    .await
    .unwrap();
    let history = dynamodb
        .query()
        .table_name(&table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S("fraud#COLUMN#x".into()))
        .scan_index_forward(false)
        .send()
        .await
        .unwrap();
    let keys: Vec<String> = history.items().iter().map(|i| s(i, "sk")).collect();
    assert_eq!(
        keys,
        [format!("2026-11-03T00:00:00Z#{run_id}"), format!("2026-11-02T06:00:00Z#{earlier}")],
        "newest window first"
    );

    let runs = dynamodb
        .query()
        .table_name(&table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S("fraud#RUN".into()))
        .scan_index_forward(false)
        .send()
        .await
        .unwrap();
    let run = &runs.items()[0];
    assert_eq!(s(run, "quarantined_files"), "1");
    assert_eq!(s(run, "rows_current"), "400");
    assert_eq!(s(run, "report_uri"), format!("s3://{bucket}/{report_key}"));
    assert_eq!(run["dataset_drift"], AttributeValue::Bool(true));

    // SNS → SQS: one drift.detected message, linking the report, valid against the schema.
    let bodies = aws.drain(&queue_url, std::time::Duration::from_secs(2)).await;
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let envelope: Value = serde_json::from_str(&bodies[0]).unwrap();
    let message: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert_eq!(message["event_type"], "drift.detected");
    assert_eq!(message["model"], "fraud");
    assert_eq!(message["link"], format!("s3://{bucket}/{report_key}"));
    let schema_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/message.v1.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&message).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[tokio::test]
async fn without_drift_there_is_no_alert_and_local_quarantine_works_for_local_files() {
    let stack = Stack::get();
    let aws = stack.aws().await;
    let (queue_url, queue_arn) = aws.queue(&unique("drift-quiet")).await;
    let topic = aws.topic(&unique("drift-quiet")).await;
    aws.subscribe(&topic, &queue_arn, None).await;
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference.parquet");
    let current = dir.path().join("current.parquet");
    let broken = dir.path().join("broken.parquet");
    std::fs::write(&reference, parquet(&[logs(7, 400, "2026-11-01T00:00:00Z", 0.0, &["fraud"])])).unwrap();
    std::fs::write(&current, parquet(&[logs(7, 400, "2026-11-02T00:00:00Z", 0.0, &["fraud"])])).unwrap();
    std::fs::write(&broken, b"PAR1 this is not a parquet file").unwrap();
    let out = dir.path().join("out");
    let text = drift(&[
        "run",
        "--reference",
        reference.to_str().unwrap(),
        "--current",
        &format!("{},{}", current.display(), broken.display()),
        "--out",
        out.to_str().unwrap(),
        "--topic-arn",
        &topic,
        "--endpoint-url",
        &stack.moto_url,
        "--run-id",
        "quiet",
        "--no-progress",
    ])
    .await
    .unwrap();
    assert!(text.contains("not drifted"), "{text}");
    assert!(!text.contains("alert published"), "{text}");
    let quarantined = out.join("quarantine").join("quiet").join("current").join("broken.parquet");
    assert_eq!(std::fs::read(&quarantined).unwrap(), b"PAR1 this is not a parquet file");
    let reason: Value =
        serde_json::from_slice(&std::fs::read(quarantined.with_file_name("broken.parquet.reason.json")).unwrap())
            .unwrap();
    assert_eq!(reason["side"], "current");
    assert!(out.join("report.html").exists() && out.join("drift.json").exists());
    assert!(aws.drain(&queue_url, std::time::Duration::from_secs(2)).await.is_empty(), "no drift, no alert");
}
