//! Writes the seeds that only our own code can make — signed attestation histories, pagination
//! cursors, signed Standard Webhooks requests — into `<dir>/<target>/seed-*`:
//! `cargo run -p deltaone-fuzz-checks --example make-seeds -- tests/fuzz/corpus`.
//! (The other seeds are the shipped samples and small files; see tests/fuzz/README.md.)

use std::collections::BTreeMap;
use std::path::Path;

use deltaone::attestation::{Statement, sign, signing_key_from_seed};
use deltaone::signature::StandardWebhookSecret;
use deltaone_app::query::Cursor;
use deltaone_app::query::cursor::KeyValue;
use serde_json::json;

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
    let dir = dir.join(target);
    std::fs::create_dir_all(&dir).expect("a corpus directory");
    std::fs::write(dir.join(format!("seed-{name}")), bytes).expect("a seed");
    println!("{target}/seed-{name}");
}

fn statement(version: u64, outcome: &str, previous: Option<String>) -> Statement {
    serde_json::from_value(json!({
        "schema": "deltaone.attestation/v1", "model": "fraud-detector", "candidate_version": version,
        "baseline_version": version - 1, "metric": "accuracy", "candidate_value": "0.9312",
        "baseline_value": "0.9187", "delta_pp": "1.25", "threshold_pp": "1", "outcome": outcome,
        "checked_at": "2026-11-23T10:00:00Z",
        "contributors": [{"id": "ada@example.com", "name": "Ada", "share": "0.6"}, {"id": "0xabc", "name": null, "share": null}],
        "input_hashes": {"s3://evals/fraud-detector/3/metrics.json": deltaone::attestation::sha256_hex(b"metrics")},
        "previous_hash": previous,
    }))
    .expect("a statement")
}

fn main() {
    let dir = std::env::args().nth(1).expect("usage: make-seeds <corpus dir>");
    let dir = Path::new(&dir);

    let key = signing_key_from_seed(&[42; 32]).expect("a seed");
    let mut chain = Vec::new();
    let mut previous = None;
    for (version, outcome) in [(2, "achieved"), (3, "not_achieved"), (4, "achieved")] {
        let signed = sign(statement(version, outcome, previous.take()), &key);
        previous = Some(signed.statement.hash());
        chain.push(signed);
    }
    write(dir, "attestation", "statement.json", &pretty(&chain[0]));
    write(dir, "attestation", "history.json", &pretty(&chain));
    write(
        dir,
        "attestation",
        "public-key.txt",
        deltaone::attestation::encode_verifying_key(&key.verifying_key()).as_bytes(),
    );
    write(
        dir,
        "attestation",
        "signing-key-hex.txt",
        b"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    );

    let cursor = Cursor {
        scope: "verdicts".into(),
        key: BTreeMap::from([
            ("pk".into(), KeyValue::S("MODEL#fraud".into())),
            ("sk".into(), KeyValue::N("12".into())),
        ]),
    };
    let encoded = cursor.encode();
    write(dir, "query_request", "cursor.txt", encoded.as_bytes());
    write(
        dir,
        "query_request",
        "get-with-cursor.txt",
        format!("GET /models/fraud/deltaone?limit=5&cursor={encoded}").as_bytes(),
    );
    write(dir, "query_request", "drift-feature.txt", b"GET /models/fraud%2Feu/drift?feature=amount%20usd&limit=7");
    write(dir, "query_request", "impact.txt", b"GET /contributors/0xabc/impact");
    write(dir, "query_request", "post.txt", b"POST /models/a/lineage");

    let secret = StandardWebhookSecret::from_random_bytes(&[9; 32]).expect("32 bytes");
    let body = br#"{"schema":"deltaone.message/v2","type":"deltaone.achieved","model":"fraud","version":3}"#;
    let headers = secret.sign("msg_2Kx7qHj", 1_795_457_828, body).expect("signs");
    let request = [secret.to_whsec(), headers.id, headers.timestamp, headers.signature].join("\n");
    write(dir, "webhook_signature", "signed.txt", &[request.as_bytes(), b"\n", body].concat());
    let rotated = format!("{}\nmsg_1\n1795457828\nv1a,abc v1,{} v2,xyz\n{{}}", secret.to_whsec(), "A".repeat(43) + "=");
    write(dir, "webhook_signature", "rotation.txt", rotated.as_bytes());
}

fn pretty<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec_pretty(value).expect("serialises")
}
