//! The alert rule against DynamoDB and SNS in moto: runs of one model over successive windows,
//! each reading the model's history from the drift table the earlier runs wrote. The first drift
//! fires; the same drift six hours later is held by the cooldown (no message); a severer drift
//! during the cooldown fires again; the next clean run publishes a recovery notice; with "2 of 3"
//! the first drifted run is held and the second fires. Every message is checked against the schema
//! and every held run says why, in `drift.json`, the CLI's text and the table's items.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray};
use aws_sdk_dynamodb::types::AttributeValue;
use deltaone_drift::cli::{Cli, execute};
use deltaone_system_tests::{Aws, Stack, unique};
use parquet::arrow::ArrowWriter;
use serde_json::Value;

/// Rows per window: enough for a shift of a sixth of a standard deviation to be significant.
const ROWS: usize = 5000;

fn ms(rfc3339: &str) -> i64 {
    let range: deltaone_drift::TimeRange = format!("{rfc3339}..2100-01-01T00:00:00Z").parse().unwrap();
    (range.start.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Prediction logs from `start`, one row a second: `x` uniform in [0, 1) plus `shift`, a stable
/// categorical `channel`, and the score `prediction = x / 2`.
fn logs(seed: u64, start: &str, shift: f64) -> Vec<u8> {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let t0 = ms(start);
    let ts: Vec<i64> = (0..ROWS as i64).map(|i| t0 + i * 1000).collect();
    let x: Vec<f64> = (0..ROWS).map(|_| next() + shift).collect();
    let channel: Vec<&str> = (0..ROWS).map(|_| if next() < 0.5 { "web" } else { "app" }).collect();
    let prediction: Vec<f64> = x.iter().map(|x| (x / 2.0).clamp(0.0, 1.0)).collect();
    let batch = RecordBatch::try_from_iter([
        ("ts", Arc::new(TimestampMillisecondArray::from(ts).with_timezone("UTC")) as ArrayRef),
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

struct Fixture {
    aws: Aws,
    dir: tempfile::TempDir,
    table: String,
    topic: String,
    queue: String,
    moto: String,
    validator: jsonschema::Validator,
}

impl Fixture {
    async fn new() -> Self {
        let stack = Stack::get();
        let aws = stack.aws().await;
        let table = unique("drift-alerts");
        let (queue, queue_arn) = aws.queue(&unique("drift-alerts")).await;
        let topic = aws.topic(&unique("drift-alerts")).await;
        aws.subscribe(&topic, &queue_arn, None).await;
        let schema_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/message.v1.schema.json");
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
        let validator = jsonschema::draft202012::new(&schema).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("reference.parquet"), logs(1, "2026-11-01T00:00:00Z", 0.0)).unwrap();
        let fixture = Self { aws, dir, table, topic, queue, moto: stack.moto_url.clone(), validator };
        fixture.drift(&["table", "init", "--table", &fixture.table, "--endpoint-url", &fixture.moto]).await;
        fixture
    }

    async fn drift(&self, args: &[&str]) -> String {
        let mut argv = vec!["deltaone-drift"];
        argv.extend_from_slice(args);
        let cli = Cli::from_args(argv).unwrap();
        execute(&cli).await.unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    /// One run of `model` over the current window starting at `start` (one hour of rows), with
    /// `x` shifted by `shift`; returns the CLI's text and `drift.json`.
    async fn run(&self, model: &str, start: &str, end: &str, shift: f64, extra: &[&str]) -> (String, Value) {
        let name = format!("{model}-{}.parquet", ms(start));
        let current = self.dir.path().join(&name);
        std::fs::write(&current, logs(ms(start) as u64, start, shift)).unwrap();
        let out = self.dir.path().join(format!("out-{name}"));
        let reference = self.dir.path().join("reference.parquet");
        let window = format!("{start}..{end}");
        // A run id of its own: runs in the same second would otherwise share the default one.
        let run_id = unique("run");
        let mut args = vec![
            "run",
            "--run-id",
            &run_id,
            "--reference",
            reference.to_str().unwrap(),
            "--current",
            current.to_str().unwrap(),
            "--timestamp-column",
            "ts",
            "--reference-window",
            "2026-11-01T00:00:00Z..2026-11-02T00:00:00Z",
            "--current-window",
            &window,
            "--out",
            out.to_str().unwrap(),
            "--table",
            &self.table,
            "--model",
            model,
            "--topic-arn",
            &self.topic,
            "--endpoint-url",
            &self.moto,
            "--no-progress",
        ];
        args.extend_from_slice(extra);
        let text = self.drift(&args).await;
        let json: Value = serde_json::from_str(&std::fs::read_to_string(out.join("drift.json")).unwrap()).unwrap();
        (text, json)
    }

    /// The messages published since the last call, each valid against the schema.
    async fn messages(&self) -> Vec<Value> {
        let bodies = self.aws.drain(&self.queue, std::time::Duration::from_secs(2)).await;
        bodies
            .iter()
            .map(|body| {
                let envelope: Value = serde_json::from_str(body).unwrap();
                let message: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
                let errors: Vec<String> = self.validator.iter_errors(&message).map(|e| e.to_string()).collect();
                assert!(errors.is_empty(), "{errors:?} in {message}");
                message
            })
            .collect()
    }

    /// The `alert` attribute of the column item of `model`'s column `x` written by the run ending at `end`.
    async fn stored_alert(&self, model: &str, end: &str) -> (String, String) {
        let client = Stack::get().dynamodb().await;
        let page = client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :end)")
            .expression_attribute_values(":pk", AttributeValue::S(format!("{model}#COLUMN#x")))
            .expression_attribute_values(":end", AttributeValue::S(format!("{end}#")))
            .send()
            .await
            .unwrap();
        let item = &page.items()[0];
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        (text("alert"), text("alert_reason"))
    }
}

fn x_alert(report: &Value) -> &Value {
    report["alert"]["columns"].as_array().unwrap().iter().find(|c| c["column"] == "x").expect("x has an alert entry")
}

#[tokio::test]
async fn a_cooldown_holds_a_repeated_drift_a_rise_in_severity_fires_and_recovery_is_announced() {
    let f = Fixture::new().await;
    let model = unique("fraud");

    // 1. First drift (x moved by 0.045, about 0.16 SD: normalised Wasserstein ≈ 0.16, moderate): fires.
    let (text, report) = f.run(&model, "2026-11-02T00:00:00Z", "2026-11-02T02:00:00Z", 0.045, &[]).await;
    let x = report["columns"].as_array().unwrap().iter().find(|c| c["column"] == "x").unwrap();
    assert_eq!((x["verdict"].as_str(), x["severity"].as_str()), (Some("drift"), Some("moderate")), "{x}");
    assert_eq!(report["alert"]["action"], "fired", "{}", report["alert"]);
    assert!(text.contains("drift.detected alert published"), "{text}");
    let messages = f.messages().await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["event_type"], "drift.detected");
    assert_eq!(messages[0]["body"]["alert"]["action"], "fired");
    assert!(messages[0]["body"]["alert"]["fired"].as_array().unwrap().contains(&Value::from("x")));
    assert_eq!(f.stored_alert(&model, "2026-11-02T02:00:00Z").await.0, "fired");

    // 2. The same drift six hours (of window time) later: held by the cooldown, no message.
    let (text, report) = f.run(&model, "2026-11-02T06:00:00Z", "2026-11-02T08:00:00Z", 0.045, &[]).await;
    assert_eq!(report["dataset"]["drifted"], true);
    assert_eq!(report["alert"]["action"], "held", "{}", report["alert"]);
    let reason = x_alert(&report)["reason"].as_str().unwrap();
    assert!(reason.starts_with("cooldown: alerted for the run of 2026-11-02T02:00:00Z (6.0 h earlier"), "{reason}");
    assert!(text.contains("alert: held") && text.contains("cooldown"), "{text}");
    assert!(!text.contains("published"), "{text}");
    assert!(f.messages().await.is_empty(), "a held alert sends nothing");
    let (stored, stored_reason) = f.stored_alert(&model, "2026-11-02T08:00:00Z").await;
    assert_eq!((stored.as_str(), stored_reason.as_str()), ("held", reason));
    let html = std::fs::read_to_string(
        f.dir.path().join(format!("out-{model}-{}.parquet", ms("2026-11-02T06:00:00Z"))).join("report.html"),
    )
    .unwrap();
    assert!(html.contains("<h2>Alert</h2>") && html.contains("cooldown: alerted"), "the report says why");

    // 3. A severer drift within the cooldown (0.2: ≈ 0.7 SD, severe): fires again, saying why.
    let (_, report) = f.run(&model, "2026-11-02T12:00:00Z", "2026-11-02T14:00:00Z", 0.2, &[]).await;
    assert_eq!(report["alert"]["action"], "fired", "{}", report["alert"]);
    assert!(
        x_alert(&report)["reason"].as_str().unwrap().contains("severity rose from moderate to severe"),
        "{}",
        report["alert"]
    );
    let messages = f.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["event_type"], "drift.detected");
    assert!(messages[0]["body"]["alert"]["reason"].as_str().unwrap().contains("alert for"), "{}", messages[0]);

    // 4. Back to normal: a recovery notice (drift.report), once.
    let (text, report) = f.run(&model, "2026-11-03T12:00:00Z", "2026-11-03T14:00:00Z", 0.0, &[]).await;
    assert_eq!(report["dataset"]["drifted"], false);
    assert_eq!(report["alert"]["action"], "recovered", "{}", report["alert"]);
    assert!(text.contains("recovery notice published"), "{text}");
    let messages = f.messages().await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["event_type"], "drift.report");
    assert!(messages[0]["subject"].as_str().unwrap().starts_with("Drift recovered:"), "{}", messages[0]["subject"]);
    assert!(messages[0]["body"]["alert"]["recovered"].as_array().unwrap().contains(&Value::from("x")));
    let (_, report) = f.run(&model, "2026-11-04T12:00:00Z", "2026-11-04T14:00:00Z", 0.0, &[]).await;
    assert_eq!(report["alert"]["action"], "none", "recovered once: {}", report["alert"]);
    assert!(f.messages().await.is_empty());
}

#[tokio::test]
async fn two_of_three_holds_the_first_drifted_run_and_fires_on_the_second() {
    let f = Fixture::new().await;
    let model = unique("churn");
    let rule = ["--alert-k", "2", "--alert-n", "3", "--alert-cooldown-hours", "0"];

    let (text, report) = f.run(&model, "2026-11-02T00:00:00Z", "2026-11-02T02:00:00Z", 0.2, &rule).await;
    assert_eq!(report["alert"]["action"], "held", "{}", report["alert"]);
    let reason = x_alert(&report)["reason"].as_str().unwrap();
    assert_eq!(reason, "drifted in 1 of the last 3 run(s); the rule needs 2 of 3");
    assert!(text.contains(reason), "{text}");
    assert!(f.messages().await.is_empty(), "held: nothing published");
    assert_eq!(f.stored_alert(&model, "2026-11-02T02:00:00Z").await, ("held".to_owned(), reason.to_owned()));

    let (_, report) = f.run(&model, "2026-11-03T00:00:00Z", "2026-11-03T02:00:00Z", 0.2, &rule).await;
    assert_eq!(report["alert"]["action"], "fired", "{}", report["alert"]);
    assert_eq!(x_alert(&report)["reason"], "drifted in 2 of the last 3 run(s) (rule: 2 of 3)");
    let messages = f.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["event_type"], "drift.detected");
    assert_eq!(f.stored_alert(&model, "2026-11-03T02:00:00Z").await.0, "fired");
}
