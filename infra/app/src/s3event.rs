//! S3 `ObjectCreated` notifications, in every envelope they arrive in.
//!
//! An S3 event reaches a Lambda function directly, inside an SNS notification, or inside an SQS
//! message (whose body is the S3 event, or an SNS notification when SNS fans out to SQS). AWS's S3
//! records carry `userIdentity`, `requestParameters`, `responseElements` and `sequencer`; the local
//! emulator's do not, so this parser reads only what it needs from a JSON tree instead of a strict
//! struct. Object keys arrive URL-encoded (`+` for space, `%XX`); they are decoded here.

use percent_encoding::percent_decode_str;
use serde_json::Value;

/// One created object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedObject {
    pub bucket: String,
    /// The decoded key.
    pub key: String,
    pub size: Option<u64>,
    pub etag: Option<String>,
    pub sequencer: Option<String>,
    pub event_name: String,
}

/// One unit of delivery: the whole event (direct or SNS) or one SQS message, which succeeds or fails
/// on its own (SQS partial batch responses).
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The SQS message id, when the event came through SQS.
    pub message_id: Option<String>,
    pub objects: Vec<CreatedObject>,
    /// The delivery as received (the SQS record, or the whole event), kept for the dead-letter queue.
    pub original: Value,
}

/// An event that is not a (wrapped) S3 notification, named by where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed S3 event at {path}: {reason}")]
pub struct MalformedEvent {
    pub path: String,
    pub reason: String,
}

fn malformed(path: impl Into<String>, reason: impl Into<String>) -> MalformedEvent {
    MalformedEvent { path: path.into(), reason: reason.into() }
}

/// An S3 event key whose percent-encoding is not UTF-8.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("key {raw:?} does not decode to UTF-8: {source}")]
pub struct KeyNotUtf8 {
    pub raw: String,
    pub source: std::str::Utf8Error,
}

/// Decodes an S3 event key: `+` is a space, then percent-decoding; invalid UTF-8 is an error.
pub fn decode_key(raw: &str) -> Result<String, KeyNotUtf8> {
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|source| KeyNotUtf8 { raw: raw.to_owned(), source })
}

/// Splits an event into deliveries. SQS events give one delivery per message; the others give one.
pub fn parse(event: &Value) -> Result<Vec<Delivery>, MalformedEvent> {
    let records = event.get("Records").and_then(Value::as_array);
    let is_sqs = records.is_some_and(|r| r.iter().any(|rec| source(rec) == Some("aws:sqs")));
    if is_sqs {
        let records = records.expect("checked above");
        return records
            .iter()
            .enumerate()
            .map(|(i, rec)| {
                let path = format!("Records[{i}]");
                let message_id = rec.get("messageId").and_then(Value::as_str).map(str::to_owned);
                let body = rec
                    .get("body")
                    .and_then(Value::as_str)
                    .ok_or_else(|| malformed(format!("{path}.body"), "an SQS record needs a string body"))?;
                let inner: Value = serde_json::from_str(body)
                    .map_err(|e| malformed(format!("{path}.body"), format!("not JSON: {e}")))?;
                let objects = objects_in(&inner, &format!("{path}.body"))?;
                Ok(Delivery { message_id, objects, original: rec.clone() })
            })
            .collect();
    }
    Ok(vec![Delivery { message_id: None, objects: objects_in(event, "$")?, original: event.clone() }])
}

fn source(record: &Value) -> Option<&str> {
    record.get("eventSource").or_else(|| record.get("EventSource")).and_then(Value::as_str)
}

/// The created objects in an S3 event or an SNS notification (event or envelope) wrapping one.
fn objects_in(value: &Value, path: &str) -> Result<Vec<CreatedObject>, MalformedEvent> {
    // S3's configuration test event: nothing to do.
    if value.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(Vec::new());
    }
    // An SNS notification as SQS carries it (`Type: Notification`, `Message` a string).
    if value.get("Type").and_then(Value::as_str) == Some("Notification") {
        return sns_message(value.get("Message"), &format!("{path}.Message"));
    }
    let Some(records) = value.get("Records").and_then(Value::as_array) else {
        return Err(malformed(path, "no Records array, S3 test event or SNS notification"));
    };
    let mut objects = Vec::new();
    for (i, rec) in records.iter().enumerate() {
        let rec_path = format!("{path}.Records[{i}]");
        if source(rec) == Some("aws:sns") {
            let sns = rec.get("Sns").ok_or_else(|| malformed(&rec_path, "an SNS record needs Sns"))?;
            objects.extend(sns_message(sns.get("Message"), &format!("{rec_path}.Sns.Message"))?);
        } else if rec.get("s3").is_some() {
            if let Some(object) = s3_record(rec, &rec_path)? {
                objects.push(object);
            }
        } else {
            return Err(malformed(rec_path, "a record that is neither S3 nor SNS"));
        }
    }
    Ok(objects)
}

fn sns_message(message: Option<&Value>, path: &str) -> Result<Vec<CreatedObject>, MalformedEvent> {
    let text = message.and_then(Value::as_str).ok_or_else(|| malformed(path, "an SNS message must be a string"))?;
    let inner: Value = serde_json::from_str(text).map_err(|e| malformed(path, format!("not JSON: {e}")))?;
    objects_in(&inner, path)
}

fn s3_record(rec: &Value, path: &str) -> Result<Option<CreatedObject>, MalformedEvent> {
    let event_name = rec.get("eventName").and_then(Value::as_str).unwrap_or_default().to_owned();
    if !event_name.is_empty() && !event_name.starts_with("ObjectCreated") {
        tracing::info!(event_name, "ignoring an S3 event that is not ObjectCreated");
        return Ok(None);
    }
    let s3 = &rec["s3"];
    let bucket = s3
        .pointer("/bucket/name")
        .and_then(Value::as_str)
        .filter(|b| !b.is_empty())
        .ok_or_else(|| malformed(format!("{path}.s3.bucket.name"), "missing or empty"))?;
    let raw_key = s3
        .pointer("/object/key")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| malformed(format!("{path}.s3.object.key"), "missing or empty"))?;
    let key = decode_key(raw_key).map_err(|e| malformed(format!("{path}.s3.object.key"), e.to_string()))?;
    let text = |p: &str| s3.pointer(p).and_then(Value::as_str).map(str::to_owned);
    Ok(Some(CreatedObject {
        bucket: bucket.to_owned(),
        key,
        size: s3.pointer("/object/size").and_then(Value::as_u64),
        etag: text("/object/eTag").or_else(|| text("/object/etag")),
        sequencer: text("/object/sequencer"),
        event_name,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn aws_s3_event(key: &str) -> Value {
        json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "2026-11-23T10:00:00.000Z", "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "AWS:X"}, "requestParameters": {"sourceIPAddress": "1.2.3.4"},
            "responseElements": {"x-amz-request-id": "r", "x-amz-id-2": "i"},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
                   "bucket": {"name": "evals", "ownerIdentity": {"principalId": "P"}, "arn": "arn:aws:s3:::evals"},
                   "object": {"key": key, "size": 42, "eTag": "abc", "sequencer": "0055"}}
        }]})
    }

    fn moto_s3_event(key: &str) -> Value {
        json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "2026-11-23T10:00:00.000Z", "eventName": "ObjectCreated:Put",
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
                   "bucket": {"name": "evals", "arn": "arn:aws:s3:::evals"},
                   "object": {"key": key, "size": 42, "eTag": "abc"}}
        }]})
    }

    fn sns_wrapped(inner: &Value) -> Value {
        json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
                            "Sns": {"Type": "Notification", "MessageId": "m", "Message": inner.to_string()}}]})
    }

    fn sqs_wrapped(bodies: &[Value]) -> Value {
        let records: Vec<Value> = bodies
            .iter()
            .enumerate()
            .map(|(i, b)| json!({"messageId": format!("msg-{i}"), "eventSource": "aws:sqs", "body": b.to_string()}))
            .collect();
        json!({"Records": records})
    }

    #[test]
    fn direct_events_in_both_shapes_decode_keys() {
        for event in [
            aws_s3_event("evaluations/fraud+model/3/metrics%2Bv1.json"),
            moto_s3_event("evaluations%2Ffraud+model%2F3%2Fmetrics%2Bv1.json"),
        ] {
            let deliveries = parse(&event).unwrap();
            assert_eq!(deliveries.len(), 1);
            let object = &deliveries[0].objects[0];
            assert_eq!(object.bucket, "evals");
            assert_eq!(object.key, "evaluations/fraud model/3/metrics+v1.json");
            assert_eq!(object.size, Some(42));
        }
    }

    #[test]
    fn sns_and_sqs_envelopes_unwrap_to_the_same_object() {
        let s3 = moto_s3_event("evaluations/m/1/metrics.json");
        let sns = sns_wrapped(&s3);
        // SNS → SQS carries the SNS notification JSON as the SQS body.
        let sns_notification = json!({"Type": "Notification", "MessageId": "n", "Message": s3.to_string()});
        let sqs = sqs_wrapped(&[s3.clone(), sns_notification]);
        let key = |d: &Delivery| d.objects[0].key.clone();
        assert_eq!(key(&parse(&sns).unwrap()[0]), "evaluations/m/1/metrics.json");
        let deliveries = parse(&sqs).unwrap();
        assert_eq!(deliveries.len(), 2);
        assert_eq!(deliveries[1].message_id.as_deref(), Some("msg-1"));
        assert!(deliveries.iter().all(|d| key(d) == "evaluations/m/1/metrics.json"));
        assert_eq!(deliveries[0].original["messageId"], "msg-0");
    }

    #[test]
    fn test_events_and_removals_yield_nothing() {
        let test_event = json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "evals"});
        assert!(parse(&test_event).unwrap()[0].objects.is_empty());
        assert!(parse(&sqs_wrapped(&[test_event])).unwrap()[0].objects.is_empty());
        let mut removed = moto_s3_event("k");
        removed["Records"][0]["eventName"] = json!("ObjectRemoved:Delete");
        assert!(parse(&removed).unwrap()[0].objects.is_empty());
    }

    #[test]
    fn shipped_sample_events_all_name_the_same_object() {
        let samples = [
            include_str!("../../../samples/events/s3-put.json"),
            include_str!("../../../samples/events/s3-put-via-sns.json"),
            include_str!("../../../samples/events/s3-put-via-sqs.json"),
            include_str!("../../../samples/events/s3-put-via-sns-via-sqs.json"),
        ];
        for sample in samples {
            let deliveries = parse(&serde_json::from_str(sample).unwrap()).unwrap();
            let object = &deliveries[0].objects[0];
            assert_eq!(object.bucket, "deltaone-evaluations");
            assert_eq!(object.key, "evaluations/fraud-detector/4/metrics 2026-11.json");
        }
    }

    #[test]
    fn malformed_events_name_the_place() {
        let err = parse(&json!({"hello": 1})).unwrap_err();
        assert_eq!(err.path, "$");
        let mut no_key = moto_s3_event("k");
        no_key["Records"][0]["s3"]["object"].as_object_mut().unwrap().remove("key");
        assert_eq!(parse(&no_key).unwrap_err().path, "$.Records[0].s3.object.key");
        let err = parse(&json!({"Records": [{"eventSource": "aws:sqs", "messageId": "x", "body": "{not json"}]}))
            .unwrap_err();
        assert_eq!(err.path, "Records[0].body");
        let err = parse(&moto_s3_event("bad%FF")).unwrap_err();
        assert!(err.reason.contains("UTF-8"), "{err}");
    }
}
