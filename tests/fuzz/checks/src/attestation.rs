//! Attestation files (`deltaone::attestation`): signed statements, their canonical JSON, signature
//! and chain verification, and key parsing.

use deltaone::attestation::{
    SignedStatement, Statement, canonical_json, encode_verifying_key, parse_signing_key, parse_verifying_key, sign,
    signing_key_from_seed, verify, verify_chain, verify_chain_trusted,
};
use serde_json::Value;

use crate::support::{rejected, text};

/// The bytes as a signed statement or a history of them (a JSON array, oldest first), and as key
/// text:
///
/// * every statement verifies or is refused with a reason; a history verifies or is refused
///   naming the record at fault;
/// * a statement read, written and read again is the same; its canonical JSON reads back to the
///   same statement and is canonical already;
/// * any JSON value's canonical form reads back to the same value and is its own canonical form;
/// * re-signed with a key of ours, every statement verifies with that key trusted, and so does the
///   history relinked (each statement naming its predecessor's hash);
/// * key text is read or refused saying why; a public key read is written and read back.
pub fn attestation(data: &[u8]) {
    keys(text(data).trim());
    let Ok(value) = serde_json::from_slice::<Value>(data) else { return };
    let canonical = canonical_json(&value);
    let reread: Value = serde_json::from_str(&canonical).expect("canonical JSON is JSON");
    assert_eq!(reread, value, "canonical JSON reads back to another value");
    assert_eq!(canonical_json(&reread), canonical, "canonical JSON is not its own canonical form");

    let records: Vec<SignedStatement> = match &value {
        Value::Array(_) => serde_json::from_value(value).unwrap_or_default(),
        _ => serde_json::from_value(value).map(|one| vec![one]).unwrap_or_default(),
    };
    for record in &records {
        let written = serde_json::to_vec(record).expect("a statement serialises");
        assert_eq!(&serde_json::from_slice::<SignedStatement>(&written).expect("reads back"), record);
        let bytes = record.statement.canonical_bytes();
        let statement: Statement = serde_json::from_slice(&bytes).expect("canonical bytes read back");
        assert_eq!(statement, record.statement, "a statement's canonical bytes read back to another statement");
        assert_eq!(statement.canonical_bytes(), bytes);
        if let Err(e) = verify(record, None) {
            rejected("attestation", &e, &[]);
        }
    }
    if let Err(e) = verify_chain(&records) {
        rejected("attestation", &e, &["record "]);
    }

    let key = signing_key_from_seed(&[7; 32]).expect("a 32-byte seed");
    let trusted = key.verifying_key();
    let mut previous = None;
    let mut chain = Vec::new();
    for record in &records {
        let mut statement = record.statement.clone();
        statement.model = records[0].statement.model.clone();
        statement.previous_hash = previous.take();
        let signed = sign(statement, &key);
        match verify(&signed, Some(&trusted)) {
            Ok(()) => {}
            // A statement of another schema is refused whoever signs it.
            Err(e) => assert!(signed.statement.schema != deltaone::attestation::STATEMENT_SCHEMA, "{e}"),
        }
        previous = Some(signed.statement.hash());
        chain.push(signed);
    }
    if chain.iter().all(|s| s.statement.schema == deltaone::attestation::STATEMENT_SCHEMA) {
        assert_eq!(verify_chain_trusted(&chain, &trusted), Ok(()), "a relinked, re-signed history does not verify");
    }
}

fn keys(text: &str) {
    // Key errors carry no text of the key (the type holds none), so only their wording is checked.
    match parse_signing_key(text) {
        Ok(key) => {
            let public = encode_verifying_key(&key.verifying_key());
            assert_eq!(parse_verifying_key(&public), Ok(key.verifying_key()));
        }
        Err(e) => rejected("attestation", &e, &["key"]),
    }
    match parse_verifying_key(text) {
        Ok(public) => assert_eq!(parse_verifying_key(&encode_verifying_key(&public)), Ok(public)),
        Err(e) => rejected("attestation", &e, &["key"]),
    }
}
