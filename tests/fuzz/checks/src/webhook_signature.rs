//! Standard Webhooks signatures (`deltaone::signature`): the `whsec_` secret DeltaOne's endpoints are
//! configured with, signing and verifying.

use deltaone::signature::{DEFAULT_TOLERANCE_SECS, MAX_SECRET_BYTES, SignatureError, StandardWebhookSecret};

use crate::support::{first_line, rejected};

/// Four lines — a secret, a `webhook-id`, a `webhook-timestamp`, a `webhook-signature` — then the body:
///
/// * a secret is read or refused saying why; one that is read is
///   written back as `whsec_…` and read again to the same key;
/// * a signature is accepted or refused with a reason, at the request's own time;
/// * what `sign` makes verifies, and does not once the body changed;
/// * a secret made from random bytes round-trips through its `whsec_` form.
pub fn webhook_signature(data: &[u8]) {
    let (secret_text, rest) = first_line(data);
    let (id, rest) = first_line(rest);
    let (timestamp, rest) = first_line(rest);
    let (signature, body) = first_line(rest);
    let now = timestamp.trim().parse::<i64>().ok().filter(|t| *t >= 0).unwrap_or(1_795_457_828);

    let random = &data[..data.len().min(MAX_SECRET_BYTES)];
    match StandardWebhookSecret::from_random_bytes(random) {
        Ok(secret) => assert_eq!(StandardWebhookSecret::parse(&secret.to_whsec()), Ok(secret)),
        Err(e) => rejected("webhook_signature", &e, &["bad secret"]),
    }

    let secret = match StandardWebhookSecret::parse(&secret_text) {
        Ok(secret) => secret,
        // The reason is a fixed text (`&'static str`): it cannot quote the secret.
        Err(e) => return rejected("webhook_signature", &e, &["bad secret"]),
    };
    let whsec = secret.to_whsec();
    assert_eq!(StandardWebhookSecret::parse(&whsec).as_ref(), Ok(&secret), "whsec_ form does not read back");

    if let Err(e) = secret.verify(&id, &timestamp, &signature, body, now, DEFAULT_TOLERANCE_SECS) {
        rejected("webhook_signature", &e, &[]);
    }
    match secret.sign(&id, now, body) {
        Ok(headers) => {
            let verified = secret.verify(&headers.id, &headers.timestamp, &headers.signature, body, now, 0);
            assert_eq!(verified, Ok(()), "a signature made by sign does not verify");
            let mut altered = body.to_vec();
            altered.push(b' ');
            let forged = secret.verify(&headers.id, &headers.timestamp, &headers.signature, &altered, now, 0);
            assert_eq!(forged, Err(SignatureError::Mismatch), "a changed body still verifies");
        }
        Err(e) => rejected("webhook_signature", &e, &[]),
    }
}
