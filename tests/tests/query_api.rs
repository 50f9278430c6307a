//! The query API against moto's DynamoDB: 10,000 verdicts across 50 models, credits of 200
//! contributors and drift results, seeded in the item layouts production writes (the store's and the
//! credits ledger's own encoders), then read through the Lambda handler with real Function URL events.
//! Every answer is validated against `schemas/openapi.json`; every page is walked and compared with
//! what was seeded; the client's operation log proves no request issued anything but Query/GetItem.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, ScalarAttributeType, WriteRequest};
use deltaone::attestation::{Contributor, Statement, sign, signing_key_from_seed};
use deltaone::{BaselineSource, Outcome, Verdict, VersionNumber};
use deltaone_app::credits::credits_for;
use deltaone_app::store::VerdictRecord;
use deltaone_aws::credits::DynamoCredits;
use deltaone_aws::read_model::Tables;
use deltaone_aws::read_only::OperationLog;
use deltaone_aws::verdicts::DynamoVerdictStore;
use deltaone_fn_query_api::{QueryApi, request};
use deltaone_system_tests::{Stack, unique};
use futures::StreamExt;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use rust_decimal::Decimal;
use serde_json::Value;

const MODELS: usize = 50;
const VERSIONS: u64 = 200;
const CONTRIBUTORS: usize = 200;
const DRIFT_RUNS: usize = 30;

type Item = HashMap<String, AttributeValue>;

fn model_name(i: usize) -> String {
    // Some names need percent-encoding in a path: a space and a slash.
    if i.is_multiple_of(10) { format!("fraud {i:02}/eu") } else { format!("model-{i:02}") }
}

fn address(i: usize) -> String {
    format!("0x{:040x}", i * 7919 + 1)
}

fn enc(segment: &str) -> String {
    utf8_percent_encode(segment, NON_ALPHANUMERIC).to_string()
}

fn checked_at(model: usize, version: u64) -> String {
    // Distinct per (model, version), increasing with the version.
    let seconds = version * 60 + model as u64;
    format!(
        "2026-01-{:02}T{:02}:{:02}:{:02}Z",
        1 + seconds / 86_400,
        (seconds / 3600) % 24,
        (seconds / 60) % 60,
        seconds % 60
    )
}

/// The verdict of version `v` of model `m`: version 1 has no baseline, the others compare with the
/// previous one; about a third achieve a DeltaOne.
fn record(m: usize, v: u64) -> VerdictRecord {
    let model = model_name(m);
    let version = VersionNumber::new(v).unwrap();
    let mut verdict = Verdict {
        model: model.clone(),
        outcome: Outcome::NoBaseline,
        reason: format!("version {v} of {model}"),
        candidate_version: Some(version),
        baseline_version: None,
        baseline_source: None,
        metric: None,
        candidate_value: None,
        baseline_value: None,
        delta_pp: None,
        threshold_pp: Decimal::ONE,
        direction: None,
        scale: None,
        confidence: None,
        guardrails: Vec::new(),
    };
    let mut contributors = Vec::new();
    if v > 1 {
        let delta = Decimal::new(((v * 37 + m as u64 * 11) % 250) as i64, 2); // 0.00 ..= 2.49
        verdict.outcome = if delta >= Decimal::ONE { Outcome::Achieved } else { Outcome::NotAchieved };
        verdict.baseline_version = VersionNumber::new(v - 1);
        verdict.baseline_source = Some(BaselineSource::Tagged);
        verdict.metric = Some("accuracy".into());
        verdict.baseline_value = Some(Decimal::new(80, 2));
        verdict.candidate_value = Some(Decimal::new(80, 2) + delta / Decimal::new(100, 0));
        verdict.delta_pp = Some(delta);
        let first = (m * 31 + v as usize * 17) % CONTRIBUTORS;
        contributors.push(Contributor::new(address(first)));
        if v.is_multiple_of(4) {
            contributors[0].share = Some(Decimal::new(6, 1));
            contributors.push(Contributor::new(address((first + 1) % CONTRIBUTORS)).with_name("second"));
        }
        if v.is_multiple_of(10) {
            contributors.push(Contributor::new(address((first + 100) % CONTRIBUTORS)));
        }
    }
    VerdictRecord {
        model,
        version,
        checked_at: checked_at(m, v),
        run_id: Some(format!("run{m}x{v}")),
        verdict,
        written_back: true,
        notified: v.is_multiple_of(3),
        attestation: None,
        contributors,
        promotion: None,
    }
}

/// Writes items with BatchWriteItem (25 at a time, 8 batches in flight), retrying unprocessed items.
async fn batch_write(client: &aws_sdk_dynamodb::Client, table: &str, items: Vec<Item>) {
    let batches: Vec<Vec<Item>> = items.chunks(25).map(<[Item]>::to_vec).collect();
    futures::stream::iter(batches)
        .for_each_concurrent(8, |batch| async move {
            let mut pending: Vec<WriteRequest> = batch
                .into_iter()
                .map(|item| {
                    WriteRequest::builder()
                        .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
                        .build()
                })
                .collect();
            for attempt in 0..10 {
                let answer =
                    client.batch_write_item().request_items(table, pending.clone()).send().await.unwrap_or_else(|e| {
                        panic!("BatchWriteItem: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e))
                    });
                pending = answer.unprocessed_items().and_then(|u| u.get(table)).cloned().unwrap_or_default();
                if pending.is_empty() {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50 * (attempt + 1))).await;
            }
            panic!("{} items left unprocessed", pending.len());
        })
        .await;
}

/// OpenAPI: one validator per response schema, resolving references inside the document.
struct Contract {
    validators: HashMap<&'static str, jsonschema::Validator>,
}

impl Contract {
    fn load() -> Self {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/openapi.json")).unwrap();
        let document: Value = serde_json::from_str(&text).unwrap();
        let mut validators = HashMap::new();
        for name in [
            "Health",
            "Error",
            "DeltaoneResponse",
            "LineageResponse",
            "ImpactResponse",
            "DriftRunsResponse",
            "FeatureHistoryResponse",
        ] {
            let mut root = document.clone();
            root["$ref"] = Value::String(format!("#/components/schemas/{name}"));
            validators.insert(name, jsonschema::draft202012::new(&root).unwrap_or_else(|e| panic!("{name}: {e}")));
        }
        Self { validators }
    }

    fn check(&self, schema: &str, body: &Value) {
        let errors: Vec<String> = self.validators[schema].iter_errors(body).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "answer does not match {schema} in openapi.json: {errors:?}\n{body}");
    }
}

struct Api {
    api: QueryApi,
    log: OperationLog,
    contract: Contract,
}

impl Api {
    /// GETs `path`, checks the status and validates the body against the document.
    async fn get(&self, path: &str, status: i64, schema: &str) -> Value {
        self.call("GET", path, status, schema).await
    }

    async fn call(&self, method: &str, path: &str, status: i64, schema: &str) -> Value {
        let response = self.api.handle(&request(method, path)).await;
        let body: Value = serde_json::from_str(response.body.as_deref().unwrap_or("")).unwrap();
        assert_eq!(response.status_code, status, "{method} {path}: {body}");
        assert_eq!(response.headers["content-type"], "application/json");
        self.contract.check(schema, &body);
        body
    }

    /// Walks every page of `path` (which has no query yet), returning the pages.
    async fn walk(&self, path: &str, extra: &str, schema: &str) -> Vec<Value> {
        let mut pages = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let query = match &cursor {
                Some(c) => format!("{extra}&cursor={c}"),
                None => extra.to_owned(),
            };
            let page = self.get(&format!("{path}?{query}"), 200, schema).await;
            cursor = page["next_cursor"].as_str().map(str::to_owned);
            pages.push(page);
            if cursor.is_none() {
                return pages;
            }
            assert!(pages.len() < 10_000, "pagination does not end");
        }
    }
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Drift items in the agreed layout: `{model}#RUN` summaries and `{model}#COLUMN#{column}` histories.
fn drift_items(model: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let far = n(4_102_444_800u64); // 2100-01-01
    for r in 0..=DRIFT_RUNS {
        let end = format!("2026-02-{:02}T00:00:00Z", r % 28 + 1);
        let end = if r >= 28 { format!("2026-03-{:02}T00:00:00Z", r - 27) } else { end };
        let run_id = format!("run-{r:03}");
        let sk = format!("{end}#{run_id}");
        // The last one expired long ago: TTL deletes late (moto never), so readers must leave it out.
        let expires = if r == DRIFT_RUNS { n(1_000) } else { far.clone() };
        items.push(HashMap::from([
            ("pk".to_owned(), s(&format!("{model}#RUN"))),
            ("sk".to_owned(), s(&sk)),
            ("model".to_owned(), s(model)),
            ("run_id".to_owned(), s(&run_id)),
            ("window_start".to_owned(), s("2026-01-01T00:00:00Z")),
            ("window_end".to_owned(), s(&end)),
            ("dataset_drift".to_owned(), AttributeValue::Bool(r % 4 == 0)),
            ("drifted_columns".to_owned(), n(r % 3)),
            ("columns".to_owned(), n(3)),
            ("drift_share".to_owned(), n(format!("{:.4}", (r % 3) as f64 / 3.0))),
            ("share_threshold".to_owned(), n("0.5")),
            ("rows_reference".to_owned(), n(10_000)),
            ("rows_current".to_owned(), n(5_000 + r)),
            ("quarantined_files".to_owned(), n(r % 2)),
            ("summary".to_owned(), s(&format!("{{\"run_id\":\"{run_id}\"}}"))),
            ("created_at".to_owned(), s(&end)),
            ("expires_at".to_owned(), expires.clone()),
        ]));
        for (column, role, kind, method) in [
            ("amount usd", "feature", "numeric", "ks"),
            ("country", "feature", "categorical", "chi2"),
            ("score", "prediction", "numeric", "ks"),
        ] {
            let mut item = HashMap::from([
                ("pk".to_owned(), s(&format!("{model}#COLUMN#{column}"))),
                ("sk".to_owned(), s(&sk)),
                ("model".to_owned(), s(model)),
                ("column".to_owned(), s(column)),
                ("run_id".to_owned(), s(&run_id)),
                ("window_start".to_owned(), s("2026-01-01T00:00:00Z")),
                ("window_end".to_owned(), s(&end)),
                ("role".to_owned(), s(role)),
                ("kind".to_owned(), s(kind)),
                ("method".to_owned(), s(method)),
                ("score".to_owned(), n(format!("0.{:03}", r * 31 % 1000))),
                ("threshold".to_owned(), n("0.05")),
                ("drifted".to_owned(), AttributeValue::Bool(r % 5 == 0)),
                ("detail".to_owned(), s(&format!("{{\"column\":\"{column}\",\"run\":{r}}}"))),
                ("created_at".to_owned(), s(&end)),
                ("expires_at".to_owned(), expires.clone()),
            ]);
            if kind == "numeric" {
                item.insert("psi".into(), n("0.12"));
                item.insert("wasserstein_norm".into(), n("0.03"));
            } else {
                item.insert("js".into(), n("0.2"));
            }
            items.push(item);
        }
    }
    items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_verdicts_answer_every_endpoint_page_by_page_with_only_queries() {
    let stack = Stack::get();
    let client = stack.dynamodb().await;
    let tables =
        Tables { verdicts: unique("q-verdicts"), credits: Some(unique("q-credits")), drift: Some(unique("q-drift")) };
    DynamoVerdictStore::new(client.clone(), &tables.verdicts).create_table_if_missing().await.unwrap();
    let credits_table = tables.credits.clone().unwrap();
    DynamoCredits::new(client.clone(), &credits_table).create_table_if_missing().await.unwrap();
    let drift_table = tables.drift.clone().unwrap();
    deltaone_aws::dynamodb::create_dynamodb_table(
        &client,
        &drift_table,
        &[("pk", ScalarAttributeType::S), ("sk", ScalarAttributeType::S)],
    )
    .await
    .unwrap();

    // Seed: 50 × 200 verdicts. Models 0 and 1 carry a signed hash chain over their comparisons;
    // model 1's chain then loses a record (v100), which the lineage must report.
    let key = signing_key_from_seed(&[9; 32]).unwrap();
    let mut records: Vec<VerdictRecord> = Vec::new();
    let mut heads: Vec<(String, String, u64)> = Vec::new();
    for m in 0..MODELS {
        let mut previous: Option<String> = None;
        for v in 1..=VERSIONS {
            let mut r = record(m, v);
            if m < 2 && r.verdict.outcome.is_comparison() {
                let statement = Statement::from_verdict(
                    &r.verdict,
                    r.checked_at.clone(),
                    r.contributors.clone(),
                    BTreeMap::new(),
                    previous.clone(),
                )
                .unwrap();
                previous = Some(statement.hash());
                r.attestation = Some(sign(statement, &key));
            }
            records.push(r);
        }
        if let Some(head) = previous {
            heads.push((model_name(m), head, VERSIONS));
        }
    }
    let removed = (model_name(1), 100u64);
    let mut verdict_items: Vec<Item> = records
        .iter()
        .filter(|r| (r.model.clone(), r.version.get()) != removed)
        .map(|r| DynamoVerdictStore::item(r).unwrap())
        .collect();
    for (model, hash, version) in &heads {
        verdict_items.push(HashMap::from([
            ("model".to_owned(), s(model)),
            ("version".to_owned(), n(0)),
            ("head_hash".to_owned(), s(hash)),
            ("head_version".to_owned(), n(version)),
        ]));
    }
    let credits: Vec<_> = records.iter().flat_map(credits_for).collect();
    let credit_items: Vec<Item> = credits.iter().map(DynamoCredits::item).collect();
    let seeded_at = std::time::Instant::now();
    futures::join!(
        batch_write(&client, &tables.verdicts, verdict_items),
        batch_write(&client, &credits_table, credit_items),
        batch_write(&client, &drift_table, drift_items(&model_name(0))),
    );
    eprintln!("seeded {} verdicts and {} credits in {:?}", records.len(), credits.len(), seeded_at.elapsed());
    assert!(records.len() >= 10_000);
    let contributors: std::collections::BTreeSet<_> = credits.iter().map(|c| c.contributor.clone()).collect();
    assert_eq!(contributors.len(), CONTRIBUTORS, "every contributor has credits");

    // The function as `from_env` wires it: the same read-only client construction.
    let sdk = deltaone_aws::sdk_config(Some(&stack.moto_url)).await;
    let (api, log) = deltaone_fn_query_api::with_config(&sdk, tables.clone());
    let api = Api { api, log, contract: Contract::load() };

    let health = api.get("/health", 200, "Health").await;
    assert_eq!(health["status"], "ok");

    // deltaone: every model, newest first, latest on every page; 10,000 verdicts in all. Every fifth
    // model is walked in small pages (moto answers a Query in time proportional to the whole table, so
    // the others take one page of 200).
    let mut seen = 0usize;
    for m in 0..MODELS {
        let name = model_name(m);
        let limit = if m % 5 == 0 { [64, 50, 7][m / 5 % 3] } else { 200 };
        let extra = format!("limit={limit}");
        let pages = api.walk(&format!("/models/{}/deltaone", enc(&name)), &extra, "DeltaoneResponse").await;
        let expected_versions: Vec<u64> = (1..=VERSIONS).rev().filter(|v| (name.clone(), *v) != removed).collect();
        assert_eq!(pages.len(), expected_versions.len().div_ceil(limit), "{name}: pages of {limit}");
        let mut versions = Vec::new();
        for page in &pages {
            assert_eq!(page["model"], name.as_str());
            assert_eq!(page["latest"]["version"], VERSIONS, "{name}: latest on every page");
            let history = page["history"].as_array().unwrap();
            assert!(history.len() <= limit);
            versions.extend(history.iter().map(|h| h["version"].as_u64().unwrap()));
        }
        assert_eq!(versions, expected_versions, "{name}: every version once, newest first");
        seen += versions.len();
    }
    assert_eq!(seen, MODELS * VERSIONS as usize - 1);

    // One model's answers field by field against what was seeded.
    let m = 3;
    let page = api.get(&format!("/models/{}/deltaone?limit=200", enc(&model_name(m))), 200, "DeltaoneResponse").await;
    for (answer, seeded) in page["history"].as_array().unwrap().iter().zip((1..=VERSIONS).rev().map(|v| record(m, v))) {
        let v = &seeded.verdict;
        assert_eq!(answer["outcome"], v.outcome.as_str());
        assert_eq!(answer["achieved"], v.achieved());
        assert_eq!(answer["delta_pp"].as_str(), v.delta_pp.map(|d| d.normalize().to_string()).as_deref());
        assert_eq!(answer["baseline_version"].as_u64(), v.baseline_version.map(|b| b.get()));
        assert_eq!(answer["checked_at"], seeded.checked_at.as_str());
        assert_eq!(answer["notified"], seeded.notified);
        let ids: Vec<&str> =
            answer["contributors"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
        let expected: Vec<&str> = seeded.contributors.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, expected);
    }

    // lineage: model 0's chain holds and links page to page; model 1's reports the removed record.
    let pages = api.walk(&format!("/models/{}/lineage", enc(&model_name(0))), "limit=45", "LineageResponse").await;
    assert_eq!(pages[0]["chain"]["verified"], true, "{}", pages[0]["chain"]);
    assert_eq!(pages[0]["chain"]["head"].as_str(), Some(heads[0].1.as_str()));
    let entries: Vec<&Value> = pages.iter().flat_map(|p| p["versions"].as_array().unwrap()).collect();
    assert_eq!(entries.len(), VERSIONS as usize);
    let attested: Vec<&&Value> = entries.iter().filter(|e| e["hash"].is_string()).collect();
    assert_eq!(attested.len(), VERSIONS as usize - 1, "every comparison is attested");
    assert_eq!(pages[0]["chain"]["attested"], attested.len());
    for pair in attested.windows(2) {
        assert_eq!(pair[0]["previous_hash"], pair[1]["hash"], "newest first, each links to the one before");
        assert_eq!(pair[0]["signature_valid"], true);
    }
    assert!(attested.last().unwrap()["previous_hash"].is_null());
    let first = &entries[0];
    assert_eq!((first["version"].as_u64(), first["baseline_version"].as_u64()), (Some(VERSIONS), Some(VERSIONS - 1)));
    let broken = api.get(&format!("/models/{}/lineage?limit=5", enc(&model_name(1))), 200, "LineageResponse").await;
    assert_eq!(broken["chain"]["verified"], false);
    assert!(broken["chain"]["problem"].as_str().unwrap().contains("not reachable"), "{}", broken["chain"]);
    let plain = api.get(&format!("/models/{}/lineage?limit=5", enc(&model_name(2))), 200, "LineageResponse").await;
    assert_eq!((&plain["chain"]["verified"], &plain["chain"]["attested"]), (&Value::Bool(true), &Value::from(0)));

    // impact: every contributor, every page; sums in exact decimal equal the seeded credits.
    let mut by_contributor: BTreeMap<String, Vec<&deltaone_app::credits::Credit>> = BTreeMap::new();
    for c in &credits {
        by_contributor.entry(c.contributor.clone()).or_default().push(c);
    }
    // Every eighth contributor, walked with pages of 10, 25 and 500.
    for (i, (contributor, seeded)) in by_contributor.iter().enumerate().filter(|(i, _)| i % 8 == 0) {
        let limit = [10, 25, 500][i / 8 % 3];
        let pages = api
            .walk(&format!("/contributors/{}/impact", enc(contributor)), &format!("limit={limit}"), "ImpactResponse")
            .await;
        let total: Decimal = seeded.iter().map(|c| c.credited_pp).sum();
        let mut events = Vec::new();
        for page in &pages {
            assert_eq!(
                page["total_credited_pp"].as_str(),
                Some(total.normalize().to_string().as_str()),
                "{contributor}"
            );
            assert_eq!(page["events_total"], seeded.len());
            events.extend(page["events"].as_array().unwrap().iter().cloned());
        }
        assert_eq!(events.len(), seeded.len(), "{contributor}: every event once");
        let answered: Decimal =
            events.iter().map(|e| e["credited_pp"].as_str().unwrap().parse::<Decimal>().unwrap()).sum();
        assert_eq!(answered, total);
        let times: Vec<&str> = events.iter().map(|e| e["checked_at"].as_str().unwrap()).collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "{contributor}: newest first");
        let mut per_model: BTreeMap<&str, Decimal> = BTreeMap::new();
        for c in seeded {
            *per_model.entry(c.model.as_str()).or_default() += c.credited_pp;
        }
        let models = pages[0]["models"].as_array().unwrap();
        assert_eq!(models.len(), per_model.len());
        for entry in models {
            let sum = per_model[entry["model"].as_str().unwrap()];
            assert_eq!(entry["credited_pp"].as_str(), Some(sum.normalize().to_string().as_str()));
        }
    }

    // drift: runs and one feature's history, newest window first, the expired run left out.
    let name0 = enc(&model_name(0));
    let runs = api.walk(&format!("/models/{name0}/drift"), "limit=7", "DriftRunsResponse").await;
    let runs: Vec<&Value> = runs.iter().flat_map(|p| p["runs"].as_array().unwrap()).collect();
    assert_eq!(runs.len(), DRIFT_RUNS);
    let ends: Vec<&str> = runs.iter().map(|r| r["window_end"].as_str().unwrap()).collect();
    assert!(ends.windows(2).all(|w| w[0] > w[1]), "{ends:?}");
    assert!(runs.iter().all(|r| r["run_id"] != format!("run-{DRIFT_RUNS:03}").as_str()));
    let history =
        api.walk(&format!("/models/{name0}/drift"), "feature=amount%20usd&limit=8", "FeatureHistoryResponse").await;
    assert_eq!(history[0]["feature"], "amount usd");
    let history: Vec<&Value> = history.iter().flat_map(|p| p["history"].as_array().unwrap()).collect();
    assert_eq!(history.len(), DRIFT_RUNS);
    assert!(history.iter().all(|h| h["column"] == "amount usd" && h["method"] == "ks" && h["psi"] == 0.12));
    assert_eq!(history[0]["detail"]["column"], "amount usd");
    let none = api.get(&format!("/models/{name0}/drift?feature=nope"), 200, "FeatureHistoryResponse").await;
    assert_eq!(none["history"], Value::Array(Vec::new()));

    // Bad paths and parameters: JSON errors with 400, 404, 405.
    let other = api.get(&format!("/models/{}/deltaone?limit=3", enc(&model_name(4))), 200, "DeltaoneResponse").await;
    let foreign_cursor = other["next_cursor"].as_str().unwrap();
    for (path, status, code) in [
        ("/models/no-such-model/deltaone".to_owned(), 404, "not_found"),
        ("/models/no-such-model/lineage".to_owned(), 404, "not_found"),
        ("/contributors/0xnobody/impact".to_owned(), 404, "not_found"),
        ("/models/x/verdicts".to_owned(), 404, "not_found"),
        (format!("/models/{}/deltaone?cursor={foreign_cursor}", enc(&model_name(5))), 400, "bad_cursor"),
        (format!("/contributors/{}/impact?cursor={foreign_cursor}", enc(&address(1))), 400, "bad_cursor"),
        (format!("/models/{}/deltaone?cursor=AAAA", enc(&model_name(5))), 400, "bad_cursor"),
        (format!("/models/{}/deltaone?limit=0", enc(&model_name(5))), 400, "bad_parameter"),
        (format!("/models/{}/deltaone?limit=100000", enc(&model_name(5))), 400, "bad_parameter"),
        (format!("/models/{}/lineage?sort=asc", enc(&model_name(5))), 400, "unknown_parameter"),
        ("/models/%C3%28/deltaone".to_owned(), 400, "bad_path"),
    ] {
        let body = api.get(&path, status, "Error").await;
        assert_eq!(body["error"]["code"], code, "{path}: {body}");
    }
    let body = api.call("DELETE", "/models/x/deltaone", 405, "Error").await;
    assert_eq!(body["error"]["code"], "method_not_allowed");

    // No request issued anything but Query and GetItem, and queries did happen.
    let operations = api.log.operations();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for op in &operations {
        *counts.entry(op.as_str()).or_default() += 1;
    }
    eprintln!("DynamoDB operations of every request above: {counts:?}");
    assert!(counts.get("Query").copied().unwrap_or(0) > MODELS, "{counts:?}");
    assert!(counts.contains_key("GetItem"), "lineage reads the chain head: {counts:?}");
    assert!(counts.keys().all(|op| ["Query", "GetItem"].contains(op)), "{counts:?}");

    // And the client refuses a Scan before it is sent, recording the attempt.
    let (guarded, guard_log) = deltaone_aws::read_only::read_only_client(&sdk);
    let scan = guarded.scan().table_name(&tables.verdicts).send().await;
    let message = format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(scan.unwrap_err()));
    assert!(message.contains("Scan was refused"), "{message}");
    assert_eq!(guard_log.operations(), vec!["Scan".to_owned()]);
}

#[tokio::test]
async fn routes_answer_503_naming_the_variable_when_credits_or_drift_are_not_configured() {
    let stack = Stack::get();
    let client = stack.dynamodb().await;
    let table = unique("q-only-verdicts");
    DynamoVerdictStore::new(client.clone(), &table).create_table_if_missing().await.unwrap();
    let sdk = deltaone_aws::sdk_config(Some(&stack.moto_url)).await;
    let (api, _log) = deltaone_fn_query_api::with_config(&sdk, Tables { verdicts: table, credits: None, drift: None });
    let api = Api { api, log: OperationLog::default(), contract: Contract::load() };
    let body = api.get("/contributors/0xabc/impact", 503, "Error").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("DELTAONE_CREDITS_TABLE"), "{body}");
    let body = api.get("/models/m/drift?feature=x", 503, "Error").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("DELTAONE_DRIFT_TABLE"), "{body}");
}

/// Runs the `deltaone` CLI against moto with the given tables; returns (exit code, stdout, stderr).
fn cli(stack: &Stack, env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(deltaone_system_tests::deltaone_binary())
        .args(args)
        .env("AWS_ENDPOINT_URL", &stack.moto_url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("DELTAONE_DRIFT_TABLE")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (output.status.code().unwrap_or(-1), text(output.stdout), text(output.stderr))
}

#[tokio::test]
async fn credits_are_written_once_however_often_a_record_is_credited_and_the_cli_reads_them() {
    use deltaone_app::credits::CreditLedger as _;
    use deltaone_app::store::VerdictStore as _;
    let stack = Stack::get();
    let client = stack.dynamodb().await;
    let (verdicts, credits) = (unique("q-cli-verdicts"), unique("q-cli-credits"));
    let store = DynamoVerdictStore::new(client.clone(), &verdicts);
    store.create_table_if_missing().await.unwrap();
    let ledger = DynamoCredits::new(client.clone(), &credits);
    ledger.create_table_if_missing().await.unwrap();

    // An achieved record (delta 1.5 pp: v4 of model 0) with two contributors, shares 0.6 and the rest.
    let mut record = record(0, 4);
    record.model = unique("cli model");
    record.verdict.model = record.model.clone();
    assert!(record.verdict.achieved(), "{:?}", record.verdict.delta_pp);
    record.contributors =
        vec![Contributor::new("0xada").with_share(Decimal::new(6, 1)), Contributor::new("0xbob").with_name("Bob")];
    store.record(&record).await.unwrap();
    // Retried and concurrent deliveries credit the same record: two credits in all.
    let written = futures::future::join_all((0..4).map(|_| ledger.credit(&record))).await;
    let total: usize = written.into_iter().map(Result::unwrap).sum();
    assert_eq!(total, 2);
    assert_eq!(ledger.credit(&record).await.unwrap(), 0);
    let items = client
        .query()
        .table_name(&credits)
        .key_condition_expression("contributor = :c")
        .expression_attribute_values(":c", AttributeValue::S("0xbob".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(items.count(), 1);

    let env = [("DELTAONE_VERDICT_TABLE", verdicts.as_str()), ("DELTAONE_CREDITS_TABLE", credits.as_str())];
    // Output is not a terminal here, so the CLI answers JSON — the query API's shapes.
    let (code, out, err) = cli(&stack, &env, &["impact", "0xada"]);
    assert_eq!(code, 0, "{err}");
    let impact: Value = serde_json::from_str(&out).unwrap();
    Contract::load().check("ImpactResponse", &impact);
    let delta = record.verdict.delta_pp.unwrap();
    let expected = (delta * Decimal::new(6, 1)).normalize().to_string();
    assert_eq!(impact["total_credited_pp"].as_str(), Some(expected.as_str()));
    assert_eq!(impact["events"][0]["model"], record.model.as_str());

    let (code, out, err) = cli(&stack, &env, &["lineage", &record.model, "--json"]);
    assert_eq!(code, 0, "{err}");
    let lineage: Value = serde_json::from_str(&out).unwrap();
    Contract::load().check("LineageResponse", &lineage);
    assert_eq!(lineage["versions"][0]["version"], 4);

    let (code, out, err) = cli(&stack, &env, &["status", &record.model]);
    assert_eq!(code, 0, "{err}");
    let status: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(status[0]["contributors"][1]["id"], "0xbob");

    let (code, _, err) = cli(&stack, &env, &["drift", "history", &record.model, "--feature", "amount"]);
    assert_eq!(code, 1);
    assert!(err.contains("DELTAONE_DRIFT_TABLE"), "{err}");
    let (code, _, err) = cli(&stack, &env, &["impact", "0xnobody"]);
    assert_eq!(code, 1);
    assert!(err.contains("no DeltaOne is credited"), "{err}");
}
