//! S3 `ObjectCreated` notifications, direct and inside SNS and SQS envelopes, as the evaluation
//! function reads them (`deltaone_app::s3event`).

use deltaone_app::s3event::{self, Delivery, decode_key};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use crate::support::{rejected, text};

/// The event as the Lambda runtime hands it over (JSON), split into deliveries:
///
/// * a rejection names where the event went wrong (`$…` or `Records[i]…`);
/// * every created object has a bucket and a decoded key, and the key encoded as S3 encodes it
///   decodes back to itself;
/// * the same event gives the same objects direct, inside an SNS notification, inside an SQS
///   message and inside SNS inside SQS (or the same rejection);
/// * an SQS event gives one delivery per record, carrying its message id.
pub fn s3_event(data: &[u8]) {
    key(&text(data));
    let Ok(event) = serde_json::from_slice::<Value>(data) else { return };
    let direct = s3event::parse(&event);
    match &direct {
        Ok(deliveries) => deliveries.iter().for_each(objects_are_whole),
        Err(e) => {
            rejected("s3_event", e, &["malformed S3 event at "]);
            assert!(e.path.starts_with('$') || e.path.starts_with("Records["), "a path that names nothing: {e}");
        }
    }
    let records = event.get("Records").and_then(Value::as_array);
    let sqs = records.is_some_and(|r| r.iter().any(|r| source(r) == Some("aws:sqs")));
    if sqs {
        if let Ok(deliveries) = &direct {
            let records = records.expect("an SQS event has records");
            assert_eq!(deliveries.len(), records.len(), "one delivery per SQS message");
            for (delivery, record) in deliveries.iter().zip(records) {
                assert_eq!(delivery.message_id.as_deref(), record.get("messageId").and_then(Value::as_str));
                assert_eq!(&delivery.original, record, "the SQS record is kept as received");
            }
        }
        return;
    }
    let objects = direct.as_ref().map(|d| d.iter().flat_map(|d| d.objects.clone()).collect::<Vec<_>>());
    let body = event.to_string();
    let sns = json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
                                  "Sns": {"Type": "Notification", "MessageId": "m", "Message": body}}]});
    let sns_in_sqs_body = json!({"Type": "Notification", "MessageId": "m", "Message": body}).to_string();
    for (envelope, wrapped) in [
        ("SNS", sns),
        ("SQS", json!({"Records": [{"messageId": "q", "eventSource": "aws:sqs", "body": body}]})),
        ("SNS in SQS", json!({"Records": [{"messageId": "q", "eventSource": "aws:sqs", "body": sns_in_sqs_body}]})),
    ] {
        let unwrapped = s3event::parse(&wrapped);
        match (&objects, &unwrapped) {
            (Ok(objects), Ok(deliveries)) => {
                let found: Vec<_> = deliveries.iter().flat_map(|d| d.objects.clone()).collect();
                assert_eq!(&found, objects, "the objects of an event {envelope}-wrapped differ from the direct ones");
            }
            (Err(direct), Err(wrapped)) => {
                assert_eq!(direct.reason, wrapped.reason, "{envelope}: the same event is refused for another reason");
            }
            (direct, wrapped) => panic!("{envelope}: direct {direct:?} but wrapped {wrapped:?}"),
        }
    }
}

fn source(record: &Value) -> Option<&str> {
    record.get("eventSource").or_else(|| record.get("EventSource")).and_then(Value::as_str)
}

fn objects_are_whole(delivery: &Delivery) {
    for object in &delivery.objects {
        assert!(!object.bucket.is_empty(), "an object without a bucket: {object:?}");
        assert!(!object.key.is_empty(), "an object without a key: {object:?}");
        assert!(object.event_name.is_empty() || object.event_name.starts_with("ObjectCreated"), "{object:?}");
        key(&object.key);
    }
}

/// A key S3 would send for `raw` (every byte but letters and digits percent-encoded, which is
/// stricter than S3 and decodes the same) decodes back to `raw`; any text decodes or is refused
/// naming the key.
fn key(raw: &str) {
    let encoded = utf8_percent_encode(raw, NON_ALPHANUMERIC).to_string();
    assert_eq!(decode_key(&encoded).as_deref(), Ok(raw), "an encoded key does not decode to itself");
    if let Err(e) = decode_key(raw) {
        rejected("s3_event", &e, &[&format!("{raw:?}")]);
    }
}
