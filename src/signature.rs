//! Webhook request signatures: HMAC-SHA256 over `id.timestamp.body`, verified in constant time.
//!
//! Two schemes share one construction and differ only in header names and in how the key is given:
//!
//! * **MLflow** webhooks ([`verify_mlflow`]): `X-MLflow-Signature: v1,<base64 mac>` with
//!   `X-MLflow-Delivery-Id` and `X-MLflow-Timestamp`; the key is the webhook's secret as given.
//! * **Standard Webhooks** (<https://www.standardwebhooks.com/>, [`StandardWebhookSecret`]):
//!   `webhook-signature: v1,<base64 mac>` with `webhook-id` and `webhook-timestamp`; the secret is
//!   written `whsec_<base64 key>` and the key is its base64-decoded bytes.
//!
//! In both, the MAC is `HMAC-SHA256(key, id + "." + timestamp + "." + raw_body)`, the signature
//! header is a space-separated list (several keys during a rotation; entries of other versions such
//! as `v1a` are skipped), and a request is accepted when any `v1` entry matches. Verification works
//! on the raw body bytes (never on re-serialised JSON), compares with `Mac::verify_slice` (constant
//! time), and rejects timestamps further than `tolerance_secs` from `now_unix` in either direction.
//! Callers should also de-duplicate on the id: a fresh, validly signed request can be replayed within
//! the tolerance.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// MLflow's signature header.
pub const MLFLOW_SIGNATURE_HEADER: &str = "X-MLflow-Signature";
/// MLflow's delivery id header (a UUID, the same on every retry of a delivery).
pub const MLFLOW_DELIVERY_ID_HEADER: &str = "X-MLflow-Delivery-Id";
/// MLflow's timestamp header (unix seconds of the attempt).
pub const MLFLOW_TIMESTAMP_HEADER: &str = "X-MLflow-Timestamp";

/// Standard Webhooks' message id header.
pub const WEBHOOK_ID_HEADER: &str = "webhook-id";
/// Standard Webhooks' timestamp header (unix seconds of the attempt).
pub const WEBHOOK_TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// Standard Webhooks' signature header.
pub const WEBHOOK_SIGNATURE_HEADER: &str = "webhook-signature";

/// How far a timestamp may be from the receiver's clock, as the Standard Webhooks libraries use.
pub const DEFAULT_TOLERANCE_SECS: i64 = 5 * 60;

/// The prefix of a serialised Standard Webhooks secret.
pub const WHSEC_PREFIX: &str = "whsec_";
/// Fewest key bytes a Standard Webhooks secret may have (192 bits, as the spec requires).
pub const MIN_SECRET_BYTES: usize = 24;
/// Most key bytes a Standard Webhooks secret may have (512 bits, as the spec allows).
pub const MAX_SECRET_BYTES: usize = 64;

/// The signature version this module computes and accepts.
const VERSION: &str = "v1";
/// Bytes in an HMAC-SHA256 tag.
const TAG_BYTES: usize = 32;

/// Why a request's signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// A header the scheme needs is absent or empty.
    #[error("header {name} is missing or empty")]
    MissingHeader { name: &'static str },
    /// The signature header holds no well-formed `v1,<base64 of 32 bytes>` entry.
    #[error("malformed signature header: {reason}")]
    MalformedSignature { reason: &'static str },
    /// The id contains a `.`, which would make `id.timestamp.body` ambiguous.
    #[error("header {name} must not contain '.'")]
    BadId { name: &'static str },
    /// An id to sign begins or ends with whitespace, which receivers strip before verifying.
    #[error("header {name} must not begin or end with whitespace")]
    PaddedId { name: &'static str },
    /// The timestamp header is not a whole number of unix seconds.
    #[error("timestamp {value:?} is not a whole number of unix seconds")]
    BadTimestamp { value: String },
    /// The timestamp is older than the tolerance allows (a replay, or a very late retry).
    #[error("timestamp is {age_secs} s old, more than the tolerance")]
    Stale { age_secs: i64 },
    /// The timestamp lies further in the future than the tolerance allows.
    #[error("timestamp is {ahead_secs} s in the future, more than the tolerance")]
    FromTheFuture { ahead_secs: i64 },
    /// No `v1` signature matches: the body, id or timestamp was altered, or the secret differs.
    #[error("no signature matches the request")]
    Mismatch,
    /// The secret is unusable (empty, not `whsec_<base64>`, or a key of the wrong size).
    #[error("bad secret: {reason}")]
    BadSecret { reason: &'static str },
}

/// The header names one scheme uses, for the errors.
struct Scheme {
    id: &'static str,
    timestamp: &'static str,
    signature: &'static str,
}

const MLFLOW: Scheme =
    Scheme { id: MLFLOW_DELIVERY_ID_HEADER, timestamp: MLFLOW_TIMESTAMP_HEADER, signature: MLFLOW_SIGNATURE_HEADER };
const STANDARD_WEBHOOKS: Scheme =
    Scheme { id: WEBHOOK_ID_HEADER, timestamp: WEBHOOK_TIMESTAMP_HEADER, signature: WEBHOOK_SIGNATURE_HEADER };

/// Verifies an MLflow webhook delivery.
///
/// `secret` is the webhook's secret as configured in MLflow (its bytes are the HMAC key);
/// `delivery_id`, `timestamp` and `signature_header` are the values of `X-MLflow-Delivery-Id`,
/// `X-MLflow-Timestamp` and `X-MLflow-Signature` (pass `""` for an absent header); `raw_body` is the
/// body exactly as received. `now_unix` is the receiver's clock in unix seconds.
pub fn verify_mlflow(
    secret: &[u8],
    delivery_id: &str,
    timestamp: &str,
    signature_header: &str,
    raw_body: &[u8],
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    if secret.is_empty() {
        return Err(SignatureError::BadSecret { reason: "the secret is empty" });
    }
    verify(&MLFLOW, secret, delivery_id, timestamp, signature_header, raw_body, now_unix, tolerance_secs)
}

/// Computes the MLflow signature header value (`v1,<base64 mac>`) for a delivery, as MLflow sends it.
/// Useful to build test requests.
pub fn sign_mlflow(secret: &[u8], delivery_id: &str, timestamp_unix: i64, raw_body: &[u8]) -> String {
    format!("{VERSION},{}", STANDARD.encode(tag(secret, delivery_id, &timestamp_unix.to_string(), raw_body)))
}

/// A Standard Webhooks signing secret: 24 to 64 key bytes, written `whsec_<base64 key>`.
///
/// `Debug` does not show the key.
#[derive(Clone, PartialEq, Eq)]
pub struct StandardWebhookSecret {
    key: Vec<u8>,
}

impl std::fmt::Debug for StandardWebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StandardWebhookSecret({} key bytes)", self.key.len())
    }
}

/// The three header values of a signed Standard Webhooks request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardWebhookHeaders {
    /// `webhook-id`
    pub id: String,
    /// `webhook-timestamp`
    pub timestamp: String,
    /// `webhook-signature`
    pub signature: String,
}

impl StandardWebhookSecret {
    /// A secret whose key is `random` (which the caller draws from a CSPRNG: this crate has none).
    /// The spec wants 24 to 64 bytes; 32 is a good choice.
    pub fn from_random_bytes(random: &[u8]) -> Result<Self, SignatureError> {
        if random.len() < MIN_SECRET_BYTES {
            return Err(SignatureError::BadSecret { reason: "a key needs at least 24 bytes" });
        }
        if random.len() > MAX_SECRET_BYTES {
            return Err(SignatureError::BadSecret { reason: "a key has at most 64 bytes" });
        }
        Ok(Self { key: random.to_vec() })
    }

    /// Reads a serialised secret: `whsec_<base64 key>`, or the bare base64 key (as the official
    /// libraries also accept). Surrounding whitespace is ignored.
    pub fn parse(text: &str) -> Result<Self, SignatureError> {
        let text = text.trim();
        let encoded = text.strip_prefix(WHSEC_PREFIX).unwrap_or(text);
        if encoded.is_empty() {
            return Err(SignatureError::BadSecret { reason: "the secret is empty" });
        }
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| SignatureError::BadSecret { reason: "the secret is not whsec_ followed by base64" })?;
        if key.is_empty() {
            return Err(SignatureError::BadSecret { reason: "the secret is empty" });
        }
        Ok(Self { key })
    }

    /// The secret as it is shown to a receiver: `whsec_<base64 key>`.
    pub fn to_whsec(&self) -> String {
        format!("{WHSEC_PREFIX}{}", STANDARD.encode(&self.key))
    }

    /// Signs a request: the values of `webhook-id`, `webhook-timestamp` and `webhook-signature`.
    /// `id` must be non-empty, without `.` and without surrounding whitespace; `timestamp_unix` is
    /// the send time (not negative).
    pub fn sign(&self, id: &str, timestamp_unix: i64, body: &[u8]) -> Result<StandardWebhookHeaders, SignatureError> {
        check_id(&STANDARD_WEBHOOKS, id)?;
        // HTTP drops the spaces around a header value and `verify` trims: a signature over a padded
        // id would verify nowhere.
        if id.trim() != id {
            return Err(SignatureError::PaddedId { name: STANDARD_WEBHOOKS.id });
        }
        if timestamp_unix < 0 {
            return Err(SignatureError::BadTimestamp { value: timestamp_unix.to_string() });
        }
        let timestamp = timestamp_unix.to_string();
        let signature = format!("{VERSION},{}", STANDARD.encode(tag(&self.key, id, &timestamp, body)));
        Ok(StandardWebhookHeaders { id: id.to_owned(), timestamp, signature })
    }

    /// Verifies a request from its three header values (`""` for an absent header) and raw body.
    pub fn verify(
        &self,
        id: &str,
        timestamp: &str,
        signature_header: &str,
        body: &[u8],
        now_unix: i64,
        tolerance_secs: i64,
    ) -> Result<(), SignatureError> {
        verify(&STANDARD_WEBHOOKS, &self.key, id, timestamp, signature_header, body, now_unix, tolerance_secs)
    }
}

/// A new Standard Webhooks secret, serialised (`whsec_…`), from caller-supplied random bytes.
pub fn generate_standard_secret(random: &[u8]) -> Result<String, SignatureError> {
    StandardWebhookSecret::from_random_bytes(random).map(|s| s.to_whsec())
}

fn mac(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

fn tag(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> Vec<u8> {
    mac(key, id, timestamp, body).finalize().into_bytes().to_vec()
}

fn check_id(scheme: &Scheme, id: &str) -> Result<(), SignatureError> {
    if id.trim().is_empty() {
        return Err(SignatureError::MissingHeader { name: scheme.id });
    }
    if id.contains('.') {
        return Err(SignatureError::BadId { name: scheme.id });
    }
    Ok(())
}

/// Unix seconds: ASCII digits only (no sign, no fraction, no spaces inside).
fn parse_timestamp(text: &str) -> Result<i64, SignatureError> {
    let bad = || SignatureError::BadTimestamp { value: text.to_owned() };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    text.parse::<i64>().map_err(|_| bad())
}

#[allow(clippy::too_many_arguments)]
fn verify(
    scheme: &Scheme,
    key: &[u8],
    id: &str,
    timestamp: &str,
    signature_header: &str,
    body: &[u8],
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let (id, timestamp, signature_header) = (id.trim(), timestamp.trim(), signature_header.trim());
    check_id(scheme, id)?;
    if timestamp.is_empty() {
        return Err(SignatureError::MissingHeader { name: scheme.timestamp });
    }
    if signature_header.is_empty() {
        return Err(SignatureError::MissingHeader { name: scheme.signature });
    }

    let sent_at = parse_timestamp(timestamp)?;
    let tolerance = tolerance_secs.max(0);
    let age = now_unix.checked_sub(sent_at).ok_or_else(|| SignatureError::BadTimestamp { value: timestamp.into() })?;
    if age > tolerance {
        return Err(SignatureError::Stale { age_secs: age });
    }
    if age < -tolerance {
        return Err(SignatureError::FromTheFuture { ahead_secs: -age });
    }

    // Every well-formed v1 entry is checked; entries of other versions (e.g. `v1a`) are skipped.
    let mut candidates = Vec::new();
    let mut saw_v1 = false;
    for entry in signature_header.split_ascii_whitespace() {
        let Some((version, encoded)) = entry.split_once(',') else { continue };
        if version != VERSION {
            continue;
        }
        saw_v1 = true;
        if let Ok(bytes) = STANDARD.decode(encoded)
            && bytes.len() == TAG_BYTES
        {
            candidates.push(bytes);
        }
    }
    if candidates.is_empty() {
        let reason = if saw_v1 {
            "no v1 entry is the base64 of a 32-byte HMAC-SHA256 tag"
        } else {
            "no entry of the form v1,<base64 signature>"
        };
        return Err(SignatureError::MalformedSignature { reason });
    }

    let expected = mac(key, id, timestamp, body);
    // Check every candidate (no early exit), each comparison in constant time.
    let matched = candidates.iter().fold(false, |matched, candidate| {
        let ok = expected.clone().verify_slice(candidate).is_ok();
        matched | ok
    });
    if matched { Ok(()) } else { Err(SignatureError::Mismatch) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MLFLOW_SECRET: &[u8] = b"s3cr3t-deltaone";

    /// One captured request: its headers (names lower-cased) and raw body.
    struct RawRequest {
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    }

    impl RawRequest {
        /// Parses a raw HTTP/1.1 request: request line, header lines (CRLF or LF), a blank line,
        /// then the body, kept byte for byte.
        fn parse(raw: &[u8]) -> Self {
            let split = [&b"\r\n\r\n"[..], b"\n\n"]
                .iter()
                .filter_map(|sep| raw.windows(sep.len()).position(|w| w == *sep).map(|at| (at, sep.len())))
                .min()
                .expect("a blank line ends the head");
            let head = std::str::from_utf8(&raw[..split.0]).expect("the head is text");
            let body = raw[split.0 + split.1..].to_vec();
            let headers = head
                .lines()
                .skip(1)
                .map(|line| {
                    let (name, value) = line.split_once(':').expect("a header line has a colon");
                    (name.trim().to_ascii_lowercase(), value.trim().to_owned())
                })
                .collect();
            Self { headers, body }
        }

        fn header(&self, name: &str) -> &str {
            let name = name.to_ascii_lowercase();
            self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str()).unwrap_or("")
        }

        fn timestamp(&self) -> i64 {
            self.header(MLFLOW_TIMESTAMP_HEADER).parse().unwrap()
        }

        fn verify_at(&self, secret: &[u8], body: &[u8], now: i64) -> Result<(), SignatureError> {
            verify_mlflow(
                secret,
                self.header(MLFLOW_DELIVERY_ID_HEADER),
                self.header(MLFLOW_TIMESTAMP_HEADER),
                self.header(MLFLOW_SIGNATURE_HEADER),
                body,
                now,
                DEFAULT_TOLERANCE_SECS,
            )
        }

        fn verify(&self) -> Result<(), SignatureError> {
            self.verify_at(MLFLOW_SECRET, &self.body, self.timestamp())
        }
    }

    /// The deliveries an MLflow 3.17 server sent (see samples/events/mlflow).
    const CAPTURED: [(&str, &[u8]); 5] = [
        ("001_model_version.created", include_bytes!("../samples/events/mlflow/001_model_version.created.request.txt")),
        (
            "002_registered_model.created",
            include_bytes!("../samples/events/mlflow/002_registered_model.created.request.txt"),
        ),
        ("003_model_version.created", include_bytes!("../samples/events/mlflow/003_model_version.created.request.txt")),
        ("004_model_version_tag.set", include_bytes!("../samples/events/mlflow/004_model_version_tag.set.request.txt")),
        (
            "005_model_version_alias.created",
            include_bytes!("../samples/events/mlflow/005_model_version_alias.created.request.txt"),
        ),
    ];

    fn captured(index: usize) -> RawRequest {
        RawRequest::parse(CAPTURED[index].1)
    }

    // Found by the fuzz checks (tests/fuzz/regressions/webhook_signature/): a signature over " a" was made,
    // then verified against the trimmed "a" and never matched.
    #[test]
    fn an_id_with_surrounding_whitespace_is_refused_for_signing_not_signed_unverifiably() {
        let secret = StandardWebhookSecret::from_random_bytes(&[1; 32]).unwrap();
        for id in [" msg_1", "msg_1 ", "\tmsg_1"] {
            assert_eq!(secret.sign(id, 5, b"{}"), Err(SignatureError::PaddedId { name: WEBHOOK_ID_HEADER }), "{id:?}");
        }
        let headers = secret.sign("msg_1", 5, b"{}").unwrap();
        assert_eq!(
            secret.verify(&format!(" {} ", headers.id), &headers.timestamp, &headers.signature, b"{}", 5, 0),
            Ok(())
        );
    }

    #[test]
    fn raw_request_parser_keeps_the_body_byte_for_byte() {
        for (name, raw) in CAPTURED {
            let request = RawRequest::parse(raw);
            let length: usize = request.header("Content-Length").parse().unwrap();
            assert_eq!(request.body.len(), length, "{name}");
            assert_eq!(request.body.first(), Some(&b'{'), "{name}");
            assert_eq!(request.body.last(), Some(&b'}'), "{name}");
        }
    }

    #[test]
    fn every_captured_mlflow_delivery_verifies() {
        for (name, raw) in CAPTURED {
            let request = RawRequest::parse(raw);
            assert_eq!(request.verify(), Ok(()), "{name}");
        }
    }

    #[test]
    fn captured_delivery_verifies_anywhere_inside_the_tolerance() {
        let request = captured(0);
        let sent = request.timestamp();
        for now in [sent - DEFAULT_TOLERANCE_SECS, sent + 1, sent + DEFAULT_TOLERANCE_SECS] {
            assert_eq!(request.verify_at(MLFLOW_SECRET, &request.body, now), Ok(()), "now = sent {:+}", now - sent);
        }
    }

    #[test]
    fn sign_mlflow_reproduces_the_captured_signature() {
        for (name, raw) in CAPTURED {
            let request = RawRequest::parse(raw);
            let id = request.header(MLFLOW_DELIVERY_ID_HEADER);
            let signed = sign_mlflow(MLFLOW_SECRET, id, request.timestamp(), &request.body);
            assert_eq!(signed, request.header(MLFLOW_SIGNATURE_HEADER), "{name}");
        }
    }

    #[test]
    fn forged_body_is_a_mismatch() {
        let request = captured(0);
        let forged =
            String::from_utf8(request.body.clone()).unwrap().replace("\"version\": \"1\"", "\"version\": \"9\"");
        assert_ne!(forged.as_bytes(), request.body.as_slice(), "the forgery changes the body");
        assert_eq!(
            request.verify_at(MLFLOW_SECRET, forged.as_bytes(), request.timestamp()),
            Err(SignatureError::Mismatch)
        );
        // One extra byte (say a trailing newline a proxy added) is a mismatch too.
        let mut appended = request.body.clone();
        appended.push(b'\n');
        assert_eq!(request.verify_at(MLFLOW_SECRET, &appended, request.timestamp()), Err(SignatureError::Mismatch));
    }

    #[test]
    fn body_of_another_delivery_is_a_mismatch() {
        let (first, third) = (captured(0), captured(2));
        assert_eq!(first.verify_at(MLFLOW_SECRET, &third.body, first.timestamp()), Err(SignatureError::Mismatch));
    }

    #[test]
    fn wrong_secret_is_a_mismatch() {
        let request = captured(1);
        assert_eq!(
            request.verify_at(b"s3cr3t-deltaonE", &request.body, request.timestamp()),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            request.verify_at(b"", &request.body, request.timestamp()),
            Err(SignatureError::BadSecret { reason: "the secret is empty" })
        );
    }

    #[test]
    fn altered_delivery_id_or_timestamp_is_a_mismatch() {
        let request = captured(3);
        let ts = request.header(MLFLOW_TIMESTAMP_HEADER);
        let sig = request.header(MLFLOW_SIGNATURE_HEADER);
        let other_id = "00000000-0000-4000-8000-000000000000";
        let r = verify_mlflow(MLFLOW_SECRET, other_id, ts, sig, &request.body, request.timestamp(), 300);
        assert_eq!(r, Err(SignatureError::Mismatch));
        let id = request.header(MLFLOW_DELIVERY_ID_HEADER);
        let later = (request.timestamp() + 1).to_string();
        let r = verify_mlflow(MLFLOW_SECRET, id, &later, sig, &request.body, request.timestamp(), 300);
        assert_eq!(r, Err(SignatureError::Mismatch));
    }

    #[test]
    fn delivery_older_than_the_tolerance_is_stale_with_its_age() {
        let request = captured(2);
        let now = request.timestamp() + DEFAULT_TOLERANCE_SECS + 1;
        assert_eq!(
            request.verify_at(MLFLOW_SECRET, &request.body, now),
            Err(SignatureError::Stale { age_secs: DEFAULT_TOLERANCE_SECS + 1 })
        );
    }

    #[test]
    fn delivery_from_beyond_the_tolerance_in_the_future_is_refused() {
        let request = captured(2);
        let now = request.timestamp() - DEFAULT_TOLERANCE_SECS - 7;
        assert_eq!(
            request.verify_at(MLFLOW_SECRET, &request.body, now),
            Err(SignatureError::FromTheFuture { ahead_secs: DEFAULT_TOLERANCE_SECS + 7 })
        );
    }

    #[test]
    fn negative_tolerance_counts_as_zero() {
        let request = captured(0);
        let (id, ts, sig) = (
            request.header(MLFLOW_DELIVERY_ID_HEADER),
            request.header(MLFLOW_TIMESTAMP_HEADER),
            request.header(MLFLOW_SIGNATURE_HEADER),
        );
        assert_eq!(verify_mlflow(MLFLOW_SECRET, id, ts, sig, &request.body, request.timestamp(), -5), Ok(()));
        assert_eq!(
            verify_mlflow(MLFLOW_SECRET, id, ts, sig, &request.body, request.timestamp() + 1, -5),
            Err(SignatureError::Stale { age_secs: 1 })
        );
    }

    #[test]
    fn missing_headers_are_named() {
        let request = captured(0);
        let (id, ts, sig) = (
            request.header(MLFLOW_DELIVERY_ID_HEADER),
            request.header(MLFLOW_TIMESTAMP_HEADER),
            request.header(MLFLOW_SIGNATURE_HEADER),
        );
        let now = request.timestamp();
        let check = |id: &str, ts: &str, sig: &str| verify_mlflow(MLFLOW_SECRET, id, ts, sig, &request.body, now, 300);
        assert_eq!(check("", ts, sig), Err(SignatureError::MissingHeader { name: MLFLOW_DELIVERY_ID_HEADER }));
        assert_eq!(check(id, " ", sig), Err(SignatureError::MissingHeader { name: MLFLOW_TIMESTAMP_HEADER }));
        assert_eq!(check(id, ts, ""), Err(SignatureError::MissingHeader { name: MLFLOW_SIGNATURE_HEADER }));
    }

    #[test]
    fn timestamps_that_are_not_unix_seconds_are_bad() {
        let request = captured(0);
        let (id, sig) = (request.header(MLFLOW_DELIVERY_ID_HEADER), request.header(MLFLOW_SIGNATURE_HEADER));
        for ts in ["hello", "-1795457828", "+1795457828", "1795457828.5", "1.7e9", "99999999999999999999"] {
            let r = verify_mlflow(MLFLOW_SECRET, id, ts, sig, &request.body, request.timestamp(), 300);
            assert_eq!(r, Err(SignatureError::BadTimestamp { value: ts.into() }), "{ts}");
        }
    }

    #[test]
    fn malformed_signature_headers_are_reported_as_malformed() {
        let request = captured(0);
        let (id, ts) = (request.header(MLFLOW_DELIVERY_ID_HEADER), request.header(MLFLOW_TIMESTAMP_HEADER));
        let good = request.header(MLFLOW_SIGNATURE_HEADER);
        let truncated = &good[..good.len() - 8];
        let unprefixed = good.trim_start_matches("v1,");
        for header in ["v1,", "v1", "garbage", "v1,not base64!", "v1,dawfeoifkpqwoekfpqoekf", truncated, unprefixed] {
            let r = verify_mlflow(MLFLOW_SECRET, id, ts, header, &request.body, request.timestamp(), 300);
            assert!(matches!(r, Err(SignatureError::MalformedSignature { .. })), "{header:?}: {r:?}");
        }
        // Only a version we do not know (the asymmetric v1a) is no usable signature either.
        let v1a = good.replacen("v1,", "v1a,", 1);
        let r = verify_mlflow(MLFLOW_SECRET, id, ts, &v1a, &request.body, request.timestamp(), 300);
        assert_eq!(r, Err(SignatureError::MalformedSignature { reason: "no entry of the form v1,<base64 signature>" }));
    }

    #[test]
    fn any_matching_v1_among_several_signatures_is_accepted() {
        let request = captured(4);
        let (id, ts) = (request.header(MLFLOW_DELIVERY_ID_HEADER), request.header(MLFLOW_TIMESTAMP_HEADER));
        let good = request.header(MLFLOW_SIGNATURE_HEADER);
        let other = sign_mlflow(b"previous-secret", id, request.timestamp(), &request.body);
        let header = format!("{other} v2,{} garbage {good} v1,short", &good[3..]);
        assert_eq!(verify_mlflow(MLFLOW_SECRET, id, ts, &header, &request.body, request.timestamp(), 300), Ok(()));
        let header = format!("{other}  {other}");
        assert_eq!(
            verify_mlflow(MLFLOW_SECRET, id, ts, &header, &request.body, request.timestamp(), 300),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn ids_containing_a_dot_are_refused() {
        let r = verify_mlflow(MLFLOW_SECRET, "a.1795457828", "1795457828", "v1,x", b"{}", 1_795_457_828, 300);
        assert_eq!(r, Err(SignatureError::BadId { name: MLFLOW_DELIVERY_ID_HEADER }));
    }

    // The example of the Standard Webhooks reference libraries ("sign function works" in
    // standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts; the other
    // language libraries use the same vector).
    const SW_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SW_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SW_TIMESTAMP: i64 = 1_614_265_330;
    const SW_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SW_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn sw_secret() -> StandardWebhookSecret {
        StandardWebhookSecret::parse(SW_SECRET).unwrap()
    }

    #[test]
    fn standard_webhooks_signing_matches_the_reference_vector() {
        let headers = sw_secret().sign(SW_ID, SW_TIMESTAMP, SW_BODY).unwrap();
        assert_eq!(
            headers,
            StandardWebhookHeaders { id: SW_ID.into(), timestamp: "1614265330".into(), signature: SW_SIGNATURE.into() }
        );
    }

    #[test]
    fn standard_webhooks_reference_vector_verifies() {
        let ts = SW_TIMESTAMP.to_string();
        assert_eq!(sw_secret().verify(SW_ID, &ts, SW_SIGNATURE, SW_BODY, SW_TIMESTAMP, 300), Ok(()));
        let bare = StandardWebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(bare, sw_secret(), "the whsec_ prefix is optional");
    }

    #[test]
    fn standard_webhooks_rejects_tampering_old_and_future_requests() {
        let secret = sw_secret();
        let ts = SW_TIMESTAMP.to_string();
        let verify = |body: &[u8], now: i64| secret.verify(SW_ID, &ts, SW_SIGNATURE, body, now, 300);
        assert_eq!(verify(br#"{"test": 2432232315}"#, SW_TIMESTAMP), Err(SignatureError::Mismatch));
        assert_eq!(verify(SW_BODY, SW_TIMESTAMP + 301), Err(SignatureError::Stale { age_secs: 301 }));
        assert_eq!(verify(SW_BODY, SW_TIMESTAMP - 301), Err(SignatureError::FromTheFuture { ahead_secs: 301 }));
        let other = StandardWebhookSecret::from_random_bytes(&[7; 32]).unwrap();
        assert_eq!(other.verify(SW_ID, &ts, SW_SIGNATURE, SW_BODY, SW_TIMESTAMP, 300), Err(SignatureError::Mismatch));
        assert_eq!(
            secret.verify("", &ts, SW_SIGNATURE, SW_BODY, SW_TIMESTAMP, 300),
            Err(SignatureError::MissingHeader { name: WEBHOOK_ID_HEADER })
        );
        assert_eq!(
            secret.verify(SW_ID, &ts, "v1,", SW_BODY, SW_TIMESTAMP, 300),
            Err(SignatureError::MalformedSignature {
                reason: "no v1 entry is the base64 of a 32-byte HMAC-SHA256 tag"
            })
        );
    }

    #[test]
    fn generated_secret_round_trips_and_signs_what_it_verifies() {
        let random: Vec<u8> = (0u8..32).collect();
        let text = generate_standard_secret(&random).unwrap();
        assert_eq!(text, "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
        let secret = StandardWebhookSecret::parse(&text).unwrap();
        assert_eq!(secret, StandardWebhookSecret::from_random_bytes(&random).unwrap());
        let headers = secret.sign("msg_1", 1_700_000_000, b"{\"type\":\"deltaone.achieved\"}").unwrap();
        let r = secret.verify(
            &headers.id,
            &headers.timestamp,
            &headers.signature,
            b"{\"type\":\"deltaone.achieved\"}",
            1_700_000_010,
            DEFAULT_TOLERANCE_SECS,
        );
        assert_eq!(r, Ok(()));
        assert!(!format!("{secret:?}").contains("AAEC"), "Debug hides the key");
    }

    #[test]
    fn secrets_of_the_wrong_size_or_encoding_are_refused() {
        assert!(matches!(StandardWebhookSecret::from_random_bytes(&[1; 23]), Err(SignatureError::BadSecret { .. })));
        assert!(matches!(StandardWebhookSecret::from_random_bytes(&[1; 65]), Err(SignatureError::BadSecret { .. })));
        assert!(StandardWebhookSecret::from_random_bytes(&[1; 24]).is_ok());
        assert!(StandardWebhookSecret::from_random_bytes(&[1; 64]).is_ok());
        for text in ["", "whsec_", "whsec_not base64!", "  "] {
            assert!(matches!(StandardWebhookSecret::parse(text), Err(SignatureError::BadSecret { .. })), "{text:?}");
        }
    }

    #[test]
    fn signing_refuses_ids_with_dots_and_negative_timestamps() {
        let secret = sw_secret();
        assert_eq!(secret.sign("msg.1", 1, b""), Err(SignatureError::BadId { name: WEBHOOK_ID_HEADER }));
        assert_eq!(secret.sign("", 1, b""), Err(SignatureError::MissingHeader { name: WEBHOOK_ID_HEADER }));
        assert_eq!(secret.sign("m", -1, b""), Err(SignatureError::BadTimestamp { value: "-1".into() }));
    }
}
