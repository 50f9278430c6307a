//! The drift job's map / reduce against moto, as AWS Batch runs it: a run manifest in S3, N map
//! children each writing its partial to S3, one reduce writing drift.json, report.html and the
//! DynamoDB items; the scheduled summary (`drift.report`, nothing drifted) reaches an SQS
//! subscriber with a presigned link that opens the report; a corrupt partial fails the reduce
//! naming its shard. The job runs through its real command line (`deltaone_drift::cli`).

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use aws_sdk_dynamodb::types::AttributeValue;
use deltaone_drift::cli::{Cli, execute};
use deltaone_system_tests::{Aws, Stack, unique};
use parquet::arrow::ArrowWriter;
use serde_json::{Value, json};

/// Deterministic uniform numbers in [0, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Parquet bytes of `rows` rows: feature `x` uniform, a categorical `channel`, a `prediction`.
fn logs(seed: u64, rows: usize) -> Vec<u8> {
    let mut rng = Lcg(seed);
    let x: Vec<f64> = (0..rows).map(|_| rng.next()).collect();
    let channel: Vec<&str> = (0..rows).map(|_| if rng.next() < 0.5 { "web" } else { "app" }).collect();
    let prediction: Vec<f64> = x.iter().map(|x| x * 0.9).collect();
    let batch = RecordBatch::try_from_iter([
        ("x", Arc::new(Float64Array::from(x)) as ArrayRef),
        ("channel", Arc::new(StringArray::from(channel)) as ArrayRef),
        ("prediction", Arc::new(Float64Array::from(prediction)) as ArrayRef),
    ])
    .unwrap();
    let mut bytes = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut bytes, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
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

fn without_bytes_read(mut report: Value) -> Value {
    report.as_object_mut().unwrap().remove("bytes_read");
    report
}

#[tokio::test]
async fn a_manifest_in_s3_maps_into_partials_and_reduces_into_results_items_and_a_presigned_summary() {
    let stack = Stack::get();
    let aws = stack.aws().await;
    let endpoint = stack.moto_url.as_str();
    let bucket = unique("scaleout");
    aws.bucket(&bucket).await;
    let table = unique("drift-results");
    let (queue_url, queue_arn) = aws.queue(&unique("drift-summary")).await;
    let topic = aws.topic(&unique("drift-topic")).await;
    aws.subscribe(&topic, &queue_arn, None).await;
    drift(&["table", "init", "--table", &table, "--endpoint-url", endpoint]).await.unwrap();

    // Five reference and four current files of one distribution: nothing drifts.
    let files = |side: &str, count: u64, seed: u64| {
        let list: Vec<(String, Vec<u8>)> = (0..count)
            .map(|i| (format!("logs/{side}/part-{i}.parquet"), logs(seed + i, 150 + 40 * i as usize)))
            .collect();
        list
    };
    let reference = files("reference", 5, 10);
    let current = files("current", 4, 50);
    let entries = |list: &[(String, Vec<u8>)]| -> Vec<Value> {
        list.iter().map(|(key, bytes)| json!({"uri": format!("s3://{bucket}/{key}"), "bytes": bytes.len()})).collect()
    };
    let (reference_entries, current_entries) = (entries(&reference), entries(&current));
    for (key, bytes) in reference.into_iter().chain(current) {
        put(&aws, &bucket, &key, bytes).await;
    }
    let model = unique("fraud");
    let run_id = unique("run");
    let manifest = |shards: u32, run_id: &str| {
        json!({
            "format": 1,
            "run_id": run_id,
            "model": model,
            "scheduled_time": "2026-11-23T06:00:00Z",
            "reference": reference_entries,
            "current": current_entries,
            "current_window": {"start": "2026-11-22T06:00:00Z", "end": "2026-11-23T06:00:00Z"},
            "shards": shards,
            "output": format!("s3://{bucket}/drift/{run_id}/"),
        })
    };
    let manifest_key = format!("drift/{run_id}/manifest.json");
    put(&aws, &bucket, &manifest_key, serde_json::to_vec(&manifest(3, &run_id)).unwrap()).await;
    let manifest_uri = format!("s3://{bucket}/{manifest_key}");

    // Map: three children, as the array job runs them.
    for shard in ["0", "1", "2"] {
        let out = drift(&["map", "--manifest", &manifest_uri, "--shard", shard, "--endpoint-url", endpoint]).await;
        assert!(out.unwrap().contains(&format!("partials/{shard}.json")));
    }
    let partial: Value =
        serde_json::from_slice(&get(&aws, &bucket, &format!("drift/{run_id}/partials/1.json")).await).unwrap();
    assert_eq!((partial["shard"].as_u64(), partial["shards"].as_u64()), (Some(1), Some(3)));

    // Reduce: results next to the manifest, items in DynamoDB, the summary on SNS.
    let reduce = ["reduce", "--manifest", &manifest_uri, "--endpoint-url", endpoint, "--table", &table];
    let text = drift(&[&reduce[..], &["--topic-arn", &topic]].concat()).await.unwrap();
    assert!(text.contains("drift.report summary published"), "{text}");
    let reduced: Value =
        serde_json::from_slice(&get(&aws, &bucket, &format!("drift/{run_id}/drift.json")).await).unwrap();
    assert_eq!(reduced["dataset"]["drifted"], false, "{}", reduced["dataset"]);
    assert_eq!(reduced["windows"]["reference"]["files"].as_array().unwrap().len(), 5);
    assert_eq!(reduced["windows"]["current"]["rows"], 150 + 190 + 230 + 270);

    // The same manifest in one process: the same result.
    let single_id = unique("single");
    let single_key = format!("drift/{single_id}/manifest.json");
    put(&aws, &bucket, &single_key, serde_json::to_vec(&manifest(1, &single_id)).unwrap()).await;
    let single_uri = format!("s3://{bucket}/{single_key}");
    drift(&["run", "--manifest", &single_uri, "--endpoint-url", endpoint, "--no-progress"]).await.unwrap();
    let mut single: Value =
        serde_json::from_slice(&get(&aws, &bucket, &format!("drift/{single_id}/drift.json")).await).unwrap();
    single["run_id"] = json!(run_id);
    // The reduce had the drift table, so its alert rule ran (nothing drifted: nothing to say).
    assert_eq!(reduced["alert"]["action"], "none", "{}", reduced["alert"]);
    let mut reduced_without_alert = reduced.clone();
    reduced_without_alert.as_object_mut().unwrap().remove("alert");
    assert_eq!(without_bytes_read(single), without_bytes_read(reduced_without_alert));

    // DynamoDB: the run and each column's history, one Query each.
    let dynamodb = stack.dynamodb().await;
    let query = |pk: String| {
        dynamodb
            .query()
            .table_name(&table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(pk))
            .scan_index_forward(false)
            .send()
    };
    let runs = query(format!("{model}#RUN")).await.unwrap();
    assert_eq!(runs.items().len(), 1);
    assert_eq!(runs.items()[0]["run_id"], AttributeValue::S(run_id.clone()));
    assert_eq!(runs.items()[0]["dataset_drift"], AttributeValue::Bool(false));
    let history = query(format!("{model}#COLUMN#x")).await.unwrap();
    assert_eq!(history.items().len(), 1);
    assert_eq!(history.items()[0]["sk"], AttributeValue::S(format!("2026-11-23T06:00:00Z#{run_id}")));

    // The scheduled summary: drift.report although nothing drifted, schema-valid, with a
    // presigned link that opens the report.
    let bodies = aws.drain(&queue_url, std::time::Duration::from_secs(2)).await;
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let envelope: Value = serde_json::from_str(&bodies[0]).unwrap();
    let message: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert_eq!(message["event_type"], "drift.report");
    assert_eq!(message["model"], model.as_str());
    let schema_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/message.v1.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&message).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let link = message["link"].as_str().unwrap();
    assert_eq!(message["body"]["report_link"], link);
    assert!(link.starts_with(endpoint) && link.contains("X-Amz-Signature=") && link.contains("X-Amz-Expires=604800"));
    assert!(link.contains(&format!("drift/{run_id}/report.html")), "{link}");
    let page = reqwest::get(link).await.unwrap();
    assert!(page.status().is_success(), "{}", page.status());
    assert!(page.text().await.unwrap().contains("<svg"), "the report opens through the link");

    // The next scheduled run of the model: its report shows each feature's trend from the table.
    let next_id = unique("next");
    let next_key = format!("drift/{next_id}/manifest.json");
    put(&aws, &bucket, &next_key, serde_json::to_vec(&manifest(2, &next_id)).unwrap()).await;
    let next_uri = format!("s3://{bucket}/{next_key}");
    for shard in ["0", "1"] {
        drift(&["map", "--manifest", &next_uri, "--shard", shard, "--endpoint-url", endpoint]).await.unwrap();
    }
    drift(&["reduce", "--manifest", &next_uri, "--endpoint-url", endpoint, "--table", &table]).await.unwrap();
    let next: Value =
        serde_json::from_slice(&get(&aws, &bucket, &format!("drift/{next_id}/drift.json")).await).unwrap();
    let x = next["history"].as_array().unwrap().iter().find(|h| h["column"] == "x").expect("x has history");
    assert_eq!(x["runs"].as_array().unwrap().len(), 1, "{x}");
    assert_eq!(x["runs"][0]["run_id"], run_id.as_str());
    assert_eq!(x["runs"][0]["method"], "wasserstein");
    let html = String::from_utf8(get(&aws, &bucket, &format!("drift/{next_id}/report.html")).await).unwrap();
    assert!(html.contains("<h2>Trend</h2>") && html.contains("<polyline"), "the trend is drawn");

    // A corrupt partial fails the reduce, naming the shard; a missing one too.
    put(&aws, &bucket, &format!("drift/{run_id}/partials/2.json"), b"{\"format\": 1".to_vec()).await;
    let err = drift(&reduce).await.unwrap_err();
    assert!(err.starts_with("partial of shard 2:"), "{err}");
    aws.s3.delete_object().bucket(&bucket).key(format!("drift/{run_id}/partials/2.json")).send().await.unwrap();
    let err = drift(&reduce).await.unwrap_err();
    assert!(err.starts_with("partial of shard 2:") && err.contains("no such object"), "{err}");
}
