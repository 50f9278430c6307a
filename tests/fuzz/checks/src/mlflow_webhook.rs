//! MLflow registry webhook requests, as the registry webhook function reads them: the Function URL
//! request (`function_url_request`, `raw_body`), the signature (`deltaone::signature::verify_mlflow`),
//! the payload (`parse_payload`) and the parked copy a redrive turns back into a request.

use deltaone::signature::{
    DEFAULT_TOLERANCE_SECS, MLFLOW_DELIVERY_ID_HEADER, MLFLOW_SIGNATURE_HEADER, MLFLOW_TIMESTAMP_HEADER,
    SignatureError, sign_mlflow, verify_mlflow,
};
use deltaone_fn_registry_webhook::{
    LambdaFunctionUrlRequest, RegistryEvent, WebhookError, WebhookSecret, function_url_request, original_delivery,
    parse_payload, raw_body, redrive_request,
};

use crate::support::{rejected, text};

/// The secret the captured deliveries in the corpus were signed with (samples/events/mlflow).
pub const SECRET: &[u8] = b"s3cr3t-deltaone";

/// A delivery time used when the request carries no usable timestamp (the captures' era).
const FALLBACK_NOW: i64 = 1_795_457_828;

/// A raw HTTP request (as captured: request line, headers, a blank line, the body):
///
/// * the Function URL form of the body (text, or base64 when not UTF-8) gives back the bytes sent;
/// * a payload is an `entity.action` with a model and a version where the event needs them, or a
///   400 naming what is missing;
/// * a signature is accepted or refused with a 401 that says why, at the delivery's own time;
/// * what the function signs verifies, and one changed body byte does not;
/// * a parked delivery redriven is the same body under a signature that verifies.
pub fn mlflow_webhook(data: &[u8]) {
    let raw = RawRequest::parse(data);
    let headers: Vec<(&str, &str)> = raw.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let request = match function_url_request(&raw.method, "/", &headers, &raw.body) {
        Ok(request) => request,
        Err(e) => return rejected("mlflow_webhook", &e, &["header"]),
    };
    let body = raw_body(&request).expect("a body the Function URL encoded decodes");
    assert_eq!(body, raw.body, "the Function URL's form of the body is not the body sent");

    match parse_payload(&body) {
        Ok(payload) => {
            assert!(payload.name.contains('.'), "an event name that is not entity.action: {:?}", payload.name);
            match &payload.event {
                RegistryEvent::VersionCreated { model, .. } => assert!(!model.trim().is_empty()),
                RegistryEvent::VersionTagSet { model, key, .. } => {
                    assert!(!model.trim().is_empty() && !key.trim().is_empty());
                }
                RegistryEvent::Other => {}
            }
        }
        Err(e) => {
            assert_eq!(e.status(), 400, "a payload refused with {}: {e}", e.status());
            rejected("mlflow_webhook", &e, &[]);
        }
    }

    let (id, timestamp, signature) = (
        header(&request, MLFLOW_DELIVERY_ID_HEADER),
        header(&request, MLFLOW_TIMESTAMP_HEADER),
        header(&request, MLFLOW_SIGNATURE_HEADER),
    );
    let now = timestamp.trim().parse::<i64>().ok().filter(|t| *t >= 0).unwrap_or(FALLBACK_NOW);
    if let Err(e) = verify_mlflow(SECRET, &id, &timestamp, &signature, &body, now, DEFAULT_TOLERANCE_SECS) {
        rejected("mlflow_webhook", &e, &[]);
        let answer = WebhookError::from(e);
        assert_eq!(answer.status(), 401, "a signature refused with {}: {answer}", answer.status());
    }

    let id = id.trim();
    if !id.is_empty() && !id.contains('.') {
        let signed = sign_mlflow(SECRET, id, now, &body);
        let verified = verify_mlflow(SECRET, id, &now.to_string(), &signed, &body, now, DEFAULT_TOLERANCE_SECS);
        assert_eq!(verified, Ok(()), "a signature made by sign_mlflow does not verify");
        let mut altered = body.clone();
        match altered.first_mut() {
            Some(byte) => *byte ^= 1,
            None => altered.push(b'x'),
        }
        let forged = verify_mlflow(SECRET, id, &now.to_string(), &signed, &altered, now, DEFAULT_TOLERANCE_SECS);
        assert_eq!(forged, Err(SignatureError::Mismatch), "a changed body still verifies");
    }

    let secret = WebhookSecret::new(SECRET).expect("a non-empty secret");
    let parked = original_delivery(&request, &body);
    match redrive_request(&parked, &secret, now) {
        Ok(redriven) => {
            let again = raw_body(&redriven).expect("a redriven body decodes");
            assert_eq!(again, body, "a redrive changed the body");
            let verified = verify_mlflow(
                SECRET,
                &header(&redriven, MLFLOW_DELIVERY_ID_HEADER),
                &header(&redriven, MLFLOW_TIMESTAMP_HEADER),
                &header(&redriven, MLFLOW_SIGNATURE_HEADER),
                &again,
                now,
                DEFAULT_TOLERANCE_SECS,
            );
            assert_eq!(verified, Ok(()), "a redriven delivery does not verify");
        }
        Err(e) => rejected("mlflow_webhook", &e, &["cannot redrive"]),
    }
}

/// A header's text as the function reads it (`""` when absent or not text).
fn header(request: &LambdaFunctionUrlRequest, name: &str) -> String {
    request.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

/// A raw HTTP/1.1 request; without a blank line, the whole input is the body of a bare POST.
struct RawRequest {
    method: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawRequest {
    fn parse(raw: &[u8]) -> Self {
        let split = [&b"\r\n\r\n"[..], b"\n\n"]
            .iter()
            .filter_map(|sep| raw.windows(sep.len()).position(|w| w == *sep).map(|at| (at, sep.len())))
            .min();
        let Some((at, len)) = split else {
            return Self { method: "POST".into(), headers: Vec::new(), body: raw.to_vec() };
        };
        let head = text(&raw[..at]);
        let mut lines = head.lines();
        let method = lines.next().and_then(|l| l.split_whitespace().next()).unwrap_or("POST").to_owned();
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
            .collect();
        Self { method, headers, body: raw[at + len..].to_vec() }
    }
}
