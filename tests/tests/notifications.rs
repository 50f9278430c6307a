//! The SNS publisher against moto: filter policies on the message attributes, the plain-text e-mail
//! variant next to the JSON for everything else, and large messages offloaded to S3 and linked.
//! Every message received is validated against `schemas/message.v1.schema.json`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use deltaone::message::{DriftBody, EventType, FeatureScore, Message, TimeWindow};
use deltaone::{Policy, VersionFacts, VersionNumber, judge, select};
use deltaone_app::notify::{MESSAGE_REF_SCHEMA, Notifier, Published, SNS_MAX_BYTES, notification};
use deltaone_app::objects::ObjectStore;
use deltaone_aws::s3::S3Objects;
use deltaone_aws::sns::SnsNotifier;
use deltaone_system_tests::{Aws, Stack, unique};
use serde_json::Value;

fn schema() -> jsonschema::Validator {
    schema_file("message.v1.schema.json")
}

fn schema_file(name: &str) -> jsonschema::Validator {
    let path = format!("{}/../schemas/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("the message schema");
    jsonschema::draft202012::new(&serde_json::from_str(&text).unwrap()).expect("a valid schema")
}

fn assert_valid(validator: &jsonschema::Validator, message: &Value) {
    let errors: Vec<String> =
        validator.iter_errors(message).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{message}\n{errors:#?}");
}

fn verdict_message(model: &str, candidate: f64) -> Message {
    let v = |n| VersionNumber::new(n).unwrap();
    let versions = [
        VersionFacts::new(v(1)).with_tag("benchmark_value", "0.9").with_tag("benchmark_metric", "accuracy"),
        VersionFacts::new(v(2)).with_metric("accuracy", candidate),
    ];
    let verdict = judge(&select(model, &versions, None), &Default::default(), &Policy::default());
    Message::from_verdict(unique("verdict"), "2026-11-23T10:00:00Z", &verdict, Vec::new(), None, None)
}

fn drift_message(model: &str, detected: bool, features: usize) -> Message {
    let top_features = (0..features)
        .map(|i| FeatureScore {
            column: format!("feature_with_a_rather_long_descriptive_name_{i:06}"),
            method: "ks".into(),
            score: 0.5 / (i + 1) as f64,
            drifted: i % 2 == 0,
        })
        .collect();
    let body = DriftBody {
        run_id: unique("run"),
        window: TimeWindow { start: "2026-11-22T00:00:00Z".into(), end: "2026-11-23T00:00:00Z".into() },
        drifted_columns: if detected { vec!["amount".into()] } else { Vec::new() },
        share_drifted: if detected { 0.2 } else { 0.0 },
        dataset_drift: detected,
        report_link: Some("s3://reports/fraud/drift.html".into()),
        top_features,
        negligible_columns: Vec::new(),
        alert: None,
    };
    Message::from_drift(unique("drift"), "2026-11-23T11:00:00Z", model, body, None).unwrap()
}

/// The JSON message inside each SNS envelope a queue received.
async fn received(aws: &Aws, queue: &str) -> Vec<Value> {
    aws.drain(queue, Duration::from_secs(2))
        .await
        .iter()
        .map(|body| {
            let envelope: Value = serde_json::from_str(body).unwrap();
            serde_json::from_str(envelope["Message"].as_str().expect("an SNS envelope")).unwrap()
        })
        .collect()
}

#[tokio::test]
async fn sqs_subscribers_with_filter_policies_get_exactly_the_matching_events() {
    let stack = Stack::get();
    let aws = stack.aws().await;
    let model = unique("fraud");
    let topic = aws.topic(&unique("notify-filter")).await;
    let (achievements, achievements_arn) = aws.queue(&unique("only-achieved-or-drift")).await;
    let (warnings, warnings_arn) = aws.queue(&unique("only-warnings")).await;
    let (everything, everything_arn) = aws.queue(&unique("everything")).await;
    let filter = r#"{"event_type": ["deltaone.achieved", "drift.detected"]}"#;
    aws.subscribe(&topic, &achievements_arn, Some(filter)).await;
    aws.subscribe(&topic, &warnings_arn, Some(r#"{"severity": ["warning", "critical"]}"#)).await;
    aws.subscribe(&topic, &everything_arn, None).await;

    let messages = [
        verdict_message(&model, 0.92),   // deltaone.achieved, info
        verdict_message(&model, 0.905),  // deltaone.checked (not achieved), info
        drift_message(&model, true, 3),  // drift.detected, warning
        drift_message(&model, false, 3), // drift.report, info
    ];
    let types: Vec<EventType> = messages.iter().map(|m| m.event_type).collect();
    assert_eq!(types, EventType::ALL, "one message of each event type");
    let notifier = SnsNotifier::new(aws.sns.clone(), &topic);
    for message in &messages {
        notifier.publish(&notification(message)).await.unwrap();
    }

    let validator = schema();
    let ids = |got: &[Value]| {
        let mut ids: Vec<String> = got.iter().map(|m| m["id"].as_str().unwrap().to_owned()).collect();
        ids.sort();
        ids
    };
    let expect = |pick: &dyn Fn(&Message) -> bool| {
        let mut ids: Vec<String> = messages.iter().filter(|m| pick(m)).map(|m| m.id.clone()).collect();
        ids.sort();
        ids
    };
    let got = received(&aws, &achievements).await;
    got.iter().for_each(|m| assert_valid(&validator, m));
    assert_eq!(ids(&got), expect(&|m| matches!(m.event_type, EventType::DeltaOneAchieved | EventType::DriftDetected)));
    let got = received(&aws, &warnings).await;
    assert_eq!(ids(&got), expect(&|m| m.severity.as_str() != "info"));
    assert_eq!(ids(&got).len(), 1);
    let got = received(&aws, &everything).await;
    got.iter().for_each(|m| assert_valid(&validator, m));
    assert_eq!(ids(&got), expect(&|_| true));
    // The JSON subscribers get the message exactly as built.
    for m in &got {
        let original = messages.iter().find(|o| o.id == m["id"]).unwrap();
        assert_eq!(m, &serde_json::to_value(original).unwrap());
    }
}

/// What moto recorded as published to a topic: (structured message, subject) per publish.
async fn published(stack: &Stack, topic: &str) -> Vec<(Value, String)> {
    let data: Value =
        reqwest::get(format!("{}/moto-api/data.json", stack.moto_url)).await.unwrap().json().await.unwrap();
    let topics = data["sns"]["Topic"].as_array().expect("moto's SNS topics");
    let topic = topics.iter().find(|t| t["arn"] == topic).expect("the topic in moto's data");
    topic["sent_notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (serde_json::from_str(n[1].as_str().unwrap()).unwrap(), n[2].as_str().unwrap_or("").to_owned()))
        .collect()
}

#[tokio::test]
async fn email_subscribers_get_plain_text_while_queues_get_json() {
    let stack = Stack::get();
    let aws = stack.aws().await;
    let topic = aws.topic(&unique("notify-email")).await;
    let (queue, queue_arn) = aws.queue(&unique("json-subscriber")).await;
    aws.subscribe(&topic, &queue_arn, None).await;
    aws.sns.subscribe().topic_arn(&topic).protocol("email").endpoint("ml-team@example.com").send().await.unwrap();
    let subscriptions = aws.sns.list_subscriptions_by_topic().topic_arn(&topic).send().await.unwrap();
    let protocols: Vec<&str> = subscriptions.subscriptions().iter().filter_map(|s| s.protocol()).collect();
    assert!(protocols.contains(&"email") && protocols.contains(&"sqs"), "{protocols:?}");

    let message = verdict_message(&unique("fraud"), 0.92);
    SnsNotifier::new(aws.sns.clone(), &topic).publish(&notification(&message)).await.unwrap();

    let got = received(&aws, &queue).await;
    assert_eq!(got, [serde_json::to_value(&message).unwrap()], "SQS gets the JSON");
    let sent = published(&stack, &topic).await;
    assert_eq!(sent.len(), 1);
    let (structured, subject) = &sent[0];
    assert_eq!(subject, &message.subject);
    let email = structured["email"].as_str().expect("an email variant");
    assert_eq!(email, message.render_text(), "e-mail gets the readable text");
    assert!(email.starts_with(&message.subject) && email.contains("Outcome: achieved"), "{email}");
    assert!(serde_json::from_str::<Value>(email).is_err(), "plain text, not JSON");
    let default: Value = serde_json::from_str(structured["default"].as_str().unwrap()).unwrap();
    assert_eq!(default, serde_json::to_value(&message).unwrap());
}

#[tokio::test]
async fn a_message_too_large_for_sns_goes_to_s3_and_subscribers_get_a_link() {
    let stack = Stack::get();
    let aws = stack.aws().await;
    let bucket = unique("notify-large");
    aws.bucket(&bucket).await;
    let topic = aws.topic(&unique("notify-large")).await;
    let (queue, queue_arn) = aws.queue(&unique("large-subscriber")).await;
    aws.subscribe(&topic, &queue_arn, None).await;
    aws.sns.subscribe().topic_arn(&topic).protocol("email").endpoint("ml-team@example.com").send().await.unwrap();

    let big = drift_message(&unique("fraud"), true, 4000);
    let small = drift_message(&unique("fraud"), true, 2);
    let full = serde_json::to_string(&big).unwrap();
    assert!(full.len() > SNS_MAX_BYTES, "the test message must exceed SNS's limit: {}", full.len());
    let objects: Arc<dyn ObjectStore> = Arc::new(S3Objects::new(aws.s3.clone()));

    // Without a bucket the notifier refuses, typed and not retryable.
    let plain = SnsNotifier::new(aws.sns.clone(), &topic);
    let refused = plain.publish(&notification(&big)).await.unwrap_err();
    assert!(!refused.is_retryable() && refused.to_string().contains("DELTAONE_NOTIFICATION_BUCKET"), "{refused}");

    let notifier = SnsNotifier::new(aws.sns.clone(), &topic).with_offload(objects.clone(), &bucket, "notifications/");
    notifier.publish(&notification(&big)).await.unwrap();
    notifier.publish(&notification(&small)).await.unwrap();

    let got = received(&aws, &queue).await;
    assert_eq!(got.len(), 2);
    let validator = schema();
    let small_got = got.iter().find(|m| m["id"] == small.id.as_str()).expect("the small message");
    assert_valid(&validator, small_got);
    assert!(small_got.get("detail_uri").is_none(), "small messages are sent whole");
    let reference = got.iter().find(|m| m["id"] == big.id.as_str()).expect("the large message's reference");
    assert_eq!(reference["schema"], MESSAGE_REF_SCHEMA);
    assert_valid(&schema_file("message-ref.v1.schema.json"), reference);
    let mut broken = reference.clone();
    broken["detail_sha256"] = "not-a-hash".into();
    assert!(!schema_file("message-ref.v1.schema.json").is_valid(&broken), "the schema checks the hash");
    assert_eq!(reference["event_type"], "drift.detected");
    assert_eq!(reference["subject"], big.subject.as_str());
    let uri = reference["detail_uri"].as_str().unwrap();
    assert!(uri.starts_with(&format!("s3://{bucket}/notifications/drift.detected/")), "{uri}");
    assert!(serde_json::to_string(reference).unwrap().len() < 4096, "the reference is small");

    // The object is the full message, byte for byte, and a subscriber resolves the reference to it.
    let key = uri.strip_prefix(&format!("s3://{bucket}/")).unwrap();
    let object = objects.get(&bucket, key).await.unwrap();
    assert_eq!(object.bytes.as_ref(), full.as_bytes());
    assert_valid(&validator, &serde_json::from_slice(&object.bytes).unwrap());
    let resolved = Published::parse(&reference.to_string()).unwrap().into_message(objects.as_ref()).await.unwrap();
    assert_eq!(resolved, big);

    // E-mail gets a readable, shortened text that says where the full message is.
    let sent = published(&stack, &topic).await;
    let emails: BTreeMap<bool, String> = sent
        .iter()
        .map(|(s, _)| {
            let email = s["email"].as_str().unwrap().to_owned();
            (email.contains(uri), email)
        })
        .collect();
    let offloaded = &emails[&true];
    assert!(offloaded.starts_with(&big.subject) && offloaded.len() < 40 * 1024, "{}", offloaded.len());
    assert!(offloaded.contains("too large for e-mail"), "{offloaded}");
}
