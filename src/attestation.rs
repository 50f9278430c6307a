//! Signed, hash-chained attestations of DeltaOne verdicts.
//!
//! A [`Statement`] records what a check concluded and what it rested on (values, threshold, who
//! contributed, hashes of the inputs). Its bytes for hashing and signing are its **canonical JSON**
//! ([`canonical_json`]): object keys sorted, no whitespace, strings escaped minimally, in the manner
//! of RFC 8785 (JCS). Every number in a statement is a decimal *string*, so the JCS number rules never
//! come into play and the bytes are the same wherever the statement is re-serialised.
//!
//! * [`sign`] signs the canonical bytes with Ed25519 and returns a [`SignedStatement`] carrying the
//!   signature, the public key and a key id derived from it.
//! * [`verify`] checks the signature, and, given a trusted key, that the statement was signed by it.
//! * Statements of one model form a **hash chain**: each carries `previous_hash`, the SHA-256 of the
//!   previous statement's canonical bytes. [`verify_chain`] checks a history oldest to newest and
//!   names the record where it breaks (a record removed, reordered, edited or inserted).
//!
//! Keys come from a 32-byte seed ([`signing_key_from_seed`], [`parse_signing_key`] for hex or base64
//! text from the environment or a secret store); this crate draws no randomness.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::verdict::{Outcome, Verdict};
use crate::version::VersionNumber;

/// The schema every statement this crate writes carries.
pub const STATEMENT_SCHEMA: &str = "deltaone.attestation/v1";

/// Someone credited with a model version: a person, a team, or an address to pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contributor {
    /// A stable identifier: user id, e-mail or wallet address.
    pub id: String,
    /// A display name.
    pub name: Option<String>,
    /// Share of the credit as a decimal fraction ("0.6"), when credit is split.
    pub share: Option<Decimal>,
}

impl Contributor {
    pub fn new(id: impl Into<String>) -> Self {
        Self { id: id.into(), name: None, share: None }
    }

    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    pub fn with_share(mut self, share: Decimal) -> Self {
        self.share = Some(share);
        self
    }
}

/// What a DeltaOne check concluded, in the form that is hashed and signed.
///
/// Unknown fields are refused when reading, so nothing can ride along unsigned. All values are
/// decimal strings in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// Always [`STATEMENT_SCHEMA`].
    pub schema: String,
    pub model: String,
    pub candidate_version: VersionNumber,
    pub baseline_version: Option<VersionNumber>,
    pub metric: Option<String>,
    pub candidate_value: Option<Decimal>,
    pub baseline_value: Option<Decimal>,
    pub delta_pp: Option<Decimal>,
    pub threshold_pp: Decimal,
    pub outcome: Outcome,
    /// When the check ran (RFC 3339 UTC), as the caller's clock said.
    pub checked_at: String,
    pub contributors: Vec<Contributor>,
    /// SHA-256 (lower-case hex) of each input the verdict rests on, by name, e.g.
    /// `"registry_snapshot"`.
    pub input_hashes: BTreeMap<String, String>,
    /// [`Statement::hash`] of the previous statement for the same model; `None` for the first.
    pub previous_hash: Option<String>,
    /// What the check did with a registry alias (absent unless promotion is configured, so that
    /// statements without one hash exactly as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion: Option<crate::promotion::Promotion>,
}

/// A statement with its Ed25519 signature over [`Statement::canonical_bytes`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedStatement {
    pub statement: Statement,
    /// The 64-byte signature, base64.
    pub signature: String,
    /// The signer's 32-byte public key, base64.
    pub public_key: String,
    /// [`key_id`] of the public key.
    pub key_id: String,
}

/// Why an attestation could not be made or does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttestationError {
    /// A verdict without a candidate version (`no_candidate`) attests nothing.
    #[error("verdict for model {model:?} has no candidate version to attest")]
    NoCandidate { model: String },
    #[error("unsupported attestation schema {found:?} (expected {STATEMENT_SCHEMA})")]
    UnsupportedSchema { found: String },
    #[error("public key is not the base64 of a valid 32-byte Ed25519 key")]
    BadPublicKey,
    #[error("signature is not the base64 of 64 bytes")]
    MalformedSignature,
    #[error("key id {found:?} does not belong to the public key (expected {expected:?})")]
    KeyIdMismatch { expected: String, found: String },
    /// Signed by a valid key, but not the trusted one.
    #[error("signed by key {found}, not by the trusted key {trusted}")]
    UntrustedKey { trusted: String, found: String },
    /// The signature does not match the statement: it was altered after signing, or signed by
    /// another key.
    #[error("signature does not match the statement")]
    BadSignature,
}

/// Why a key text could not be loaded. Never contains the key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the key is empty")]
    Empty,
    #[error("the key is neither 64 hex digits nor base64")]
    Encoding,
    #[error("the key has {found} bytes; an Ed25519 key has 32")]
    Length { found: usize },
    #[error("the bytes are not a valid Ed25519 public key")]
    InvalidPublicKey,
}

/// Where and why a statement history fails [`verify_chain`]. `index` counts from 0, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// A record's signature does not verify (it was edited without being re-signed, …).
    #[error("record {index} (version {version}): {source}")]
    Signature { index: usize, version: VersionNumber, source: AttestationError },
    /// A record belongs to another model than the first one.
    #[error("record {index} (version {version}) is for model {found:?}, the chain is for {expected:?}")]
    OtherModel { index: usize, version: VersionNumber, expected: String, found: String },
    /// The first record links to a predecessor: the history does not start at the beginning.
    #[error("record 0 (version {version}) links to a previous statement {found}: earlier records are missing")]
    MissingStart { version: VersionNumber, found: String },
    /// A record does not link to the record before it: something between them was removed,
    /// inserted, reordered, or the record before it was edited.
    #[error(
        "chain breaks at record {index} (version {version}): it links to {}, but record {} hashes to {expected}",
        found.as_deref().unwrap_or("nothing"),
        index - 1
    )]
    Broken { index: usize, version: VersionNumber, expected: String, found: Option<String> },
}

impl Statement {
    /// The statement of a verdict. `checked_at` is the check's time (RFC 3339); `previous_hash` is
    /// the [`Statement::hash`] of the model's previous statement, `None` for its first.
    pub fn from_verdict(
        verdict: &Verdict,
        checked_at: impl Into<String>,
        contributors: Vec<Contributor>,
        input_hashes: BTreeMap<String, String>,
        previous_hash: Option<String>,
    ) -> Result<Self, AttestationError> {
        let candidate_version =
            verdict.candidate_version.ok_or_else(|| AttestationError::NoCandidate { model: verdict.model.clone() })?;
        Ok(Self {
            schema: STATEMENT_SCHEMA.to_owned(),
            model: verdict.model.clone(),
            candidate_version,
            baseline_version: verdict.baseline_version,
            metric: verdict.metric.clone(),
            candidate_value: verdict.candidate_value,
            baseline_value: verdict.baseline_value,
            delta_pp: verdict.delta_pp,
            threshold_pp: verdict.threshold_pp,
            outcome: verdict.outcome,
            checked_at: checked_at.into(),
            contributors,
            input_hashes,
            previous_hash,
            promotion: None,
        })
    }

    /// The canonical JSON of the statement: what is hashed and signed.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let value = serde_json::to_value(self).expect("a statement always serialises");
        canonical_json(&value).into_bytes()
    }

    /// SHA-256 of [`Statement::canonical_bytes`], lower-case hex: the link the next statement
    /// of the model carries as `previous_hash`.
    pub fn hash(&self) -> String {
        sha256_hex(&self.canonical_bytes())
    }
}

/// SHA-256 of `data`, lower-case hex (for [`Statement::input_hashes`] and the chain).
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        write!(out, "{b:02x}").expect("writing to a String cannot fail");
    }
    out
}

/// Canonical JSON of a value, RFC 8785 (JCS) style: object members sorted by their keys' UTF-16
/// code units, no insignificant whitespace, strings with only the escapes JSON requires (`"`, `\`,
/// and control characters; `\b \t \n \f \r` by name, the others as `\u00xx` in lower-case hex;
/// nothing else, so non-ASCII text is written as UTF-8), `true`, `false`, `null` as such.
///
/// Numbers are written as `serde_json` writes them, which is what JCS prescribes for integers;
/// fractional numbers may differ from JCS's ECMAScript form (e.g. exponents), which is why
/// statements hold every decimal as a string. The ordering is done here, so the output does not
/// depend on whether `serde_json`'s maps keep insertion order.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {
            out.push_str(&serde_json::to_string(value).expect("scalars always serialise"));
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, (key, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key).expect("strings always serialise"));
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
    }
}

/// The key id of a public key: `ed25519:` and the first 16 hex digits of its SHA-256.
pub fn key_id(key: &VerifyingKey) -> String {
    format!("ed25519:{}", &sha256_hex(key.as_bytes())[..16])
}

/// A public key as [`SignedStatement::public_key`] carries it (base64).
pub fn encode_verifying_key(key: &VerifyingKey) -> String {
    STANDARD.encode(key.as_bytes())
}

/// The signing key of a 32-byte seed (the caller draws it from a CSPRNG or a secret store).
pub fn signing_key_from_seed(seed: &[u8]) -> Result<SigningKey, KeyError> {
    let seed: [u8; 32] = seed.try_into().map_err(|_| KeyError::Length { found: seed.len() })?;
    Ok(SigningKey::from_bytes(&seed))
}

/// A signing key from text, as kept in an environment variable or Secrets Manager: the 32-byte
/// seed as 64 hex digits or as base64 (standard or URL-safe, padded or not). Surrounding
/// whitespace is ignored.
pub fn parse_signing_key(text: &str) -> Result<SigningKey, KeyError> {
    signing_key_from_seed(&decode_key_text(text)?)
}

/// A trusted public key from text: 32 bytes as 64 hex digits or base64.
pub fn parse_verifying_key(text: &str) -> Result<VerifyingKey, KeyError> {
    let bytes: [u8; 32] =
        decode_key_text(text)?.try_into().map_err(|b: Vec<u8>| KeyError::Length { found: b.len() })?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::InvalidPublicKey)
}

fn decode_key_text(text: &str) -> Result<Vec<u8>, KeyError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(KeyError::Empty);
    }
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(decode_hex(text));
    }
    let bytes = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
        .ok_or(KeyError::Encoding)?;
    if bytes.len() != 32 {
        return Err(KeyError::Length { found: bytes.len() });
    }
    Ok(bytes)
}

/// Decodes hex digits already checked to be an even number of ASCII hex digits.
fn decode_hex(text: &str) -> Vec<u8> {
    text.as_bytes()
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).expect("ASCII"), 16).expect("hex digits"))
        .collect()
}

/// Signs a statement with `key`.
pub fn sign(statement: Statement, key: &SigningKey) -> SignedStatement {
    let signature = key.sign(&statement.canonical_bytes());
    let public = key.verifying_key();
    SignedStatement {
        statement,
        signature: STANDARD.encode(signature.to_bytes()),
        public_key: encode_verifying_key(&public),
        key_id: key_id(&public),
    }
}

/// Verifies a signed statement: its schema, its key id, and its signature over the canonical
/// bytes (strict Ed25519: no malleable signatures, no weak keys).
///
/// With `trusted_public_key`, the statement must also have been signed by that key. Without it,
/// only integrity is shown: *someone* holding the embedded key signed exactly this statement.
pub fn verify(signed: &SignedStatement, trusted_public_key: Option<&VerifyingKey>) -> Result<(), AttestationError> {
    if signed.statement.schema != STATEMENT_SCHEMA {
        return Err(AttestationError::UnsupportedSchema { found: signed.statement.schema.clone() });
    }
    let public: [u8; 32] = STANDARD
        .decode(&signed.public_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(AttestationError::BadPublicKey)?;
    let public = VerifyingKey::from_bytes(&public).map_err(|_| AttestationError::BadPublicKey)?;
    let expected_id = key_id(&public);
    if signed.key_id != expected_id {
        return Err(AttestationError::KeyIdMismatch { expected: expected_id, found: signed.key_id.clone() });
    }
    if let Some(trusted) = trusted_public_key
        && trusted != &public
    {
        return Err(AttestationError::UntrustedKey { trusted: key_id(trusted), found: expected_id });
    }
    let signature: [u8; 64] = STANDARD
        .decode(&signed.signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(AttestationError::MalformedSignature)?;
    public
        .verify_strict(&signed.statement.canonical_bytes(), &Signature::from_bytes(&signature))
        .map_err(|_| AttestationError::BadSignature)
}

/// Verifies one model's statement history, oldest first: every signature (with its embedded key),
/// one model throughout, the first record without a predecessor, and each later record's
/// `previous_hash` equal to the hash of the record before it. An empty history is valid.
pub fn verify_chain(records: &[SignedStatement]) -> Result<(), ChainError> {
    verify_chain_with(records, None)
}

/// [`verify_chain`], and every record signed by `trusted_public_key`.
pub fn verify_chain_trusted(records: &[SignedStatement], trusted_public_key: &VerifyingKey) -> Result<(), ChainError> {
    verify_chain_with(records, Some(trusted_public_key))
}

fn verify_chain_with(records: &[SignedStatement], trusted: Option<&VerifyingKey>) -> Result<(), ChainError> {
    let Some(first) = records.first() else { return Ok(()) };
    let model = &first.statement.model;
    let mut previous_hash: Option<String> = None;
    for (index, record) in records.iter().enumerate() {
        let statement = &record.statement;
        let version = statement.candidate_version;
        verify(record, trusted).map_err(|source| ChainError::Signature { index, version, source })?;
        if &statement.model != model {
            return Err(ChainError::OtherModel {
                index,
                version,
                expected: model.clone(),
                found: statement.model.clone(),
            });
        }
        match (&previous_hash, &statement.previous_hash) {
            (None, None) => {}
            (None, Some(found)) => return Err(ChainError::MissingStart { version, found: found.clone() }),
            (Some(expected), found) => {
                if found.as_ref() != Some(expected) {
                    return Err(ChainError::Broken {
                        index,
                        version,
                        expected: expected.clone(),
                        found: found.clone(),
                    });
                }
            }
        }
        previous_hash = Some(statement.hash());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::{Policy, VersionFacts, judge, select};
    use crate::tags;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn n(v: u64) -> VersionNumber {
        VersionNumber::new(v).unwrap()
    }

    /// A verdict from the rule itself: version `candidate` at `value` against the tagged `baseline`.
    fn verdict(model: &str, baseline: u64, baseline_value: &str, candidate: u64, value: f64) -> Verdict {
        let versions = [
            VersionFacts::new(n(baseline))
                .with_tag(tags::BENCHMARK_VALUE, baseline_value)
                .with_tag(tags::BENCHMARK_METRIC, "accuracy"),
            VersionFacts::new(n(candidate)).with_metric("accuracy", value),
        ];
        judge(&select(model, &versions, None), &Default::default(), &Policy::default())
    }

    fn key(seed: u8) -> SigningKey {
        signing_key_from_seed(&[seed; 32]).unwrap()
    }

    fn statement(previous_hash: Option<String>) -> Statement {
        let contributors = vec![
            Contributor::new("ada@example.com").with_name("Ada").with_share(dec("0.6")),
            Contributor::new("0xb0b"),
        ];
        let inputs = BTreeMap::from([("registry_snapshot".to_owned(), sha256_hex(b"snapshot"))]);
        Statement::from_verdict(
            &verdict("fraud", 1, "0.87", 2, 0.88),
            "2026-05-01T12:00:00Z",
            contributors,
            inputs,
            previous_hash,
        )
        .unwrap()
    }

    /// A signed history of `len` statements for model "fraud", versions 2, 3, …
    fn history(len: u64) -> Vec<SignedStatement> {
        let signing = key(1);
        let mut records: Vec<SignedStatement> = Vec::new();
        for i in 0..len {
            let previous = records.last().map(|r| r.statement.hash());
            let v = verdict("fraud", 1 + i, "0.80", 2 + i, 0.85);
            let st =
                Statement::from_verdict(&v, format!("2026-05-0{}T00:00:00Z", i + 1), vec![], BTreeMap::new(), previous)
                    .unwrap();
            records.push(sign(st, &signing));
        }
        records
    }

    #[test]
    fn statement_carries_the_verdict_facts_as_decimal_strings() {
        let st = statement(None);
        assert_eq!(st.schema, STATEMENT_SCHEMA);
        assert_eq!(st.outcome, Outcome::Achieved);
        assert_eq!(st.delta_pp, Some(dec("1")));
        let json = serde_json::to_value(&st).unwrap();
        assert_eq!(json["candidate_version"], "2");
        assert_eq!(json["baseline_value"], "0.87");
        assert_eq!(json["candidate_value"], "0.88");
        assert_eq!(json["threshold_pp"], "1");
        assert_eq!(json["contributors"][0]["share"], "0.6");
        assert_eq!(json["contributors"][1]["name"], Value::Null);
        assert_eq!(json["previous_hash"], Value::Null);
    }

    #[test]
    fn verdict_without_a_candidate_cannot_be_attested() {
        let v = judge(&select("empty", &[], None), &Default::default(), &Policy::default());
        let r = Statement::from_verdict(&v, "t", vec![], BTreeMap::new(), None);
        assert_eq!(r, Err(AttestationError::NoCandidate { model: "empty".into() }));
    }

    #[test]
    fn canonical_json_sorts_keys_and_drops_whitespace() {
        let value: Value =
            serde_json::from_str(r#"{ "b": [1, {"z": null, "a": true}], "a": "x\ny\u0001\"é", "A": {} }"#).unwrap();
        assert_eq!(canonical_json(&value), r#"{"A":{},"a":"x\ny\u0001\"é","b":[1,{"a":true,"z":null}]}"#);
    }

    #[test]
    fn canonical_json_orders_keys_by_utf16_code_units() {
        // U+1F600 is the surrogate pair D83D DE00 in UTF-16, so it sorts before U+E000 there; in UTF-8
        // (and in Rust's string order) U+E000 comes first.
        let value = serde_json::json!({ "\u{E000}": 2, "\u{1F600}": 1 });
        assert!("\u{E000}" < "\u{1F600}");
        assert_eq!(canonical_json(&value), "{\"\u{1F600}\":1,\"\u{E000}\":2}");
    }

    #[test]
    fn canonical_bytes_are_stable_across_a_json_round_trip() {
        let st = statement(Some("ab".repeat(32)));
        let pretty = serde_json::to_string_pretty(&st).unwrap();
        let back: Statement = serde_json::from_str(&pretty).unwrap();
        assert_eq!(back.canonical_bytes(), st.canonical_bytes());
        assert_eq!(back.hash(), st.hash());
        let text = String::from_utf8(st.canonical_bytes()).unwrap();
        assert!(
            text.starts_with(r#"{"baseline_value":"0.87","baseline_version":"1","candidate_value":"0.88""#),
            "{text}"
        );
        assert!(!text.contains([' ', '\n']), "no whitespace: {text}");
    }

    #[test]
    fn hash_is_sha256_hex_of_the_canonical_bytes() {
        let st = statement(None);
        assert_eq!(st.hash(), sha256_hex(&st.canonical_bytes()));
        assert_eq!(st.hash().len(), 64);
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn signed_statement_round_trips_and_verifies() {
        let signing = key(7);
        let signed = sign(statement(None), &signing);
        let json = serde_json::to_string(&signed).unwrap();
        let back: SignedStatement = serde_json::from_str(&json).unwrap();
        assert_eq!(back, signed);
        assert_eq!(verify(&back, None), Ok(()));
        assert_eq!(verify(&back, Some(&signing.verifying_key())), Ok(()));
        assert_eq!(back.key_id, key_id(&signing.verifying_key()));
        assert!(back.key_id.starts_with("ed25519:") && back.key_id.len() == 24, "{}", back.key_id);
    }

    #[test]
    fn rfc8032_seed_gives_the_rfc8032_public_key() {
        // RFC 8032 section 7.1, TEST 1.
        let seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
        let public = parse_signing_key(seed).unwrap().verifying_key();
        assert_eq!(hex(public.as_bytes()), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    }

    #[test]
    fn tampered_delta_fails_verification() {
        let mut signed = sign(statement(None), &key(7));
        signed.statement.delta_pp = Some(dec("5"));
        assert_eq!(verify(&signed, None), Err(AttestationError::BadSignature));
        let mut signed = sign(statement(None), &key(7));
        signed.statement.outcome = Outcome::NotAchieved;
        assert_eq!(verify(&signed, None), Err(AttestationError::BadSignature));
    }

    #[test]
    fn tampered_json_with_an_extra_field_is_refused_when_read() {
        let signed = sign(statement(None), &key(7));
        let mut json = serde_json::to_value(&signed).unwrap();
        json["statement"]["approved_by"] = "mallory".into();
        assert!(serde_json::from_value::<SignedStatement>(json).is_err());
    }

    #[test]
    fn wrong_key_fails_verification() {
        let signed = sign(statement(None), &key(7));
        let other = key(8).verifying_key();
        assert_eq!(
            verify(&signed, Some(&other)),
            Err(AttestationError::UntrustedKey { trusted: key_id(&other), found: signed.key_id.clone() })
        );
        // Swapping in another public key (and its id) leaves a signature that does not match it.
        let mut swapped = signed.clone();
        swapped.public_key = encode_verifying_key(&other);
        swapped.key_id = key_id(&other);
        assert_eq!(verify(&swapped, None), Err(AttestationError::BadSignature));
        assert_eq!(verify(&swapped, Some(&other)), Err(AttestationError::BadSignature));
    }

    #[test]
    fn malformed_signed_fields_are_named() {
        let signed = sign(statement(None), &key(7));
        let mut bad = signed.clone();
        bad.key_id = "ed25519:0000000000000000".into();
        assert!(matches!(verify(&bad, None), Err(AttestationError::KeyIdMismatch { .. })));
        let mut bad = signed.clone();
        bad.signature = "AAAA".into();
        assert_eq!(verify(&bad, None), Err(AttestationError::MalformedSignature));
        let mut bad = signed.clone();
        bad.public_key = "not a key".into();
        assert_eq!(verify(&bad, None), Err(AttestationError::BadPublicKey));
        let mut bad = signed;
        bad.statement.schema = "deltaone.attestation/v0".into();
        assert_eq!(
            verify(&bad, None),
            Err(AttestationError::UnsupportedSchema { found: "deltaone.attestation/v0".into() })
        );
    }

    #[test]
    fn keys_load_from_hex_or_base64_seeds() {
        let seed = [42u8; 32];
        let from_hex = parse_signing_key(&format!("  {}\n", hex(&seed))).unwrap();
        let from_b64 = parse_signing_key(&STANDARD.encode(seed)).unwrap();
        let from_b64_nopad = parse_signing_key(&URL_SAFE_NO_PAD.encode(seed)).unwrap();
        let expected = signing_key_from_seed(&seed).unwrap();
        for k in [&from_hex, &from_b64, &from_b64_nopad] {
            assert_eq!(k.to_bytes(), expected.to_bytes());
        }
        let public = parse_verifying_key(&encode_verifying_key(&expected.verifying_key())).unwrap();
        assert_eq!(public, expected.verifying_key());
    }

    #[test]
    fn bad_key_texts_get_typed_errors() {
        assert_eq!(parse_signing_key(" ").err(), Some(KeyError::Empty));
        assert_eq!(parse_signing_key("not a key!").err(), Some(KeyError::Encoding));
        assert_eq!(parse_signing_key(&STANDARD.encode([1u8; 16])).err(), Some(KeyError::Length { found: 16 }));
        assert_eq!(signing_key_from_seed(&[0; 31]).err(), Some(KeyError::Length { found: 31 }));
        assert_eq!(parse_verifying_key(&STANDARD.encode([1u8; 33])).err(), Some(KeyError::Length { found: 33 }));
        // The error text never repeats the key.
        let secret = STANDARD.encode([9u8; 31]);
        assert!(!parse_signing_key(&secret).unwrap_err().to_string().contains(&secret));
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(verify_chain(&history(4)), Ok(()));
        assert_eq!(verify_chain_trusted(&history(4), &key(1).verifying_key()), Ok(()));
        assert_eq!(verify_chain(&[]), Ok(()));
    }

    #[test]
    fn removed_middle_record_breaks_the_chain_where_it_was() {
        let mut records = history(4);
        let removed = records.remove(1);
        let expected = records[0].statement.hash();
        assert_eq!(
            verify_chain(&records),
            Err(ChainError::Broken { index: 1, version: n(4), expected, found: Some(removed.statement.hash()) })
        );
    }

    #[test]
    fn reordered_records_break_the_chain() {
        let mut records = history(4);
        records.swap(2, 3);
        let err = verify_chain(&records).unwrap_err();
        assert!(matches!(err, ChainError::Broken { index: 2, version, .. } if version == n(5)), "{err}");
    }

    #[test]
    fn edited_record_is_caught_by_its_signature_and_by_the_next_link() {
        let mut records = history(4);
        records[2].statement.delta_pp = Some(dec("9"));
        assert_eq!(
            verify_chain(&records),
            Err(ChainError::Signature { index: 2, version: n(4), source: AttestationError::BadSignature })
        );
        // Re-signed by someone else: the signature holds, but record 3 no longer links to it.
        records[2] = sign(records[2].statement.clone(), &key(9));
        let err = verify_chain(&records).unwrap_err();
        assert!(matches!(err, ChainError::Broken { index: 3, version, .. } if version == n(5)), "{err}");
        assert!(err.to_string().contains("chain breaks at record 3 (version 5)"), "{err}");
        // And against the trusted key, the re-signed record itself is refused.
        let err = verify_chain_trusted(&records, &key(1).verifying_key()).unwrap_err();
        assert!(matches!(err, ChainError::Signature { index: 2, source: AttestationError::UntrustedKey { .. }, .. }));
    }

    #[test]
    fn history_missing_its_first_record_is_reported() {
        let records = history(3);
        let err = verify_chain(&records[1..]).unwrap_err();
        assert_eq!(err, ChainError::MissingStart { version: n(3), found: records[0].statement.hash() });
    }

    #[test]
    fn record_of_another_model_breaks_the_chain() {
        let mut records = history(2);
        let mut st = records[1].statement.clone();
        st.model = "other".into();
        records[1] = sign(st, &key(1));
        assert!(matches!(verify_chain(&records), Err(ChainError::OtherModel { index: 1, .. })));
    }

    #[test]
    fn record_without_a_link_after_the_first_breaks_the_chain() {
        let mut records = history(2);
        let mut st = records[1].statement.clone();
        st.previous_hash = None;
        records[1] = sign(st, &key(1));
        let err = verify_chain(&records).unwrap_err();
        assert!(matches!(err, ChainError::Broken { index: 1, found: None, .. }), "{err}");
        assert!(err.to_string().contains("it links to nothing"), "{err}");
    }
}
