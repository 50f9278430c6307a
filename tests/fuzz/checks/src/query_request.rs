//! Query API requests (`functions/query-api` without AWS: over an empty read model), the page
//! parameters (`deltaone_app::query::PageRequest::parse`) and cursors (`Cursor::decode`).

use std::sync::Arc;

use async_trait::async_trait;
use deltaone_app::query::{
    ChainCheck, CreditEvent, CreditTotals, Cursor, DriftColumn, DriftRun, Page, PageRequest, QueryError, ReadModel,
};
use deltaone_app::store::VerdictRecord;
use deltaone_fn_query_api::{LambdaFunctionUrlRequest, QueryApi, request};
use serde_json::Value;

use crate::support::{block_on, first_line, rejected, text};

/// A read model with nothing in it; pages end where they started.
struct Empty;

fn page<T>(page: &PageRequest) -> Result<Page<T>, QueryError> {
    Ok(Page { items: Vec::new(), next: page.cursor.clone() })
}

#[async_trait]
impl ReadModel for Empty {
    async fn verdicts(&self, _model: &str, p: &PageRequest) -> Result<Page<VerdictRecord>, QueryError> {
        page(p)
    }
    async fn chain_head(&self, _model: &str) -> Result<Option<String>, QueryError> {
        Ok(None)
    }
    async fn verify_chain(&self, _model: &str) -> Result<ChainCheck, QueryError> {
        Ok(ChainCheck { head: None, attested: 0, verified: true, problem: None })
    }
    async fn credits(&self, _contributor: &str, p: &PageRequest) -> Result<Page<CreditEvent>, QueryError> {
        page(p)
    }
    async fn credit_totals(&self, _contributor: &str) -> Result<CreditTotals, QueryError> {
        Ok(CreditTotals::default())
    }
    async fn drift_runs(&self, _model: &str, p: &PageRequest) -> Result<Page<DriftRun>, QueryError> {
        page(p)
    }
    async fn drift_history(&self, _m: &str, _c: &str, p: &PageRequest) -> Result<Page<DriftColumn>, QueryError> {
        page(p)
    }
}

/// The bytes as a Function URL request (the event JSON), or else as `METHOD /path?query`:
///
/// * the API answers every request with JSON: 200, or 400, 404 or 405 with an error code and a
///   message (never 500: nothing in a request can break the function);
/// * cursor text is read or refused saying what a cursor is; a cursor read is encoded and read
///   again to the same cursor;
/// * page parameters are read (a limit within bounds) or refused naming the parameter.
pub fn query_request(data: &[u8]) {
    let request = match serde_json::from_slice::<LambdaFunctionUrlRequest>(data) {
        Ok(request) => request,
        Err(_) => {
            let (line, _) = first_line(data);
            let (method, target) = line.split_once(' ').unwrap_or(("GET", &line));
            request(method, target)
        }
    };
    let response = block_on(QueryApi::new(Arc::new(Empty)).handle(&request));
    let status = response.status_code;
    assert!(matches!(status, 200 | 400 | 404 | 405), "answered {status}: {:?}", response.body);
    let body: Value = serde_json::from_str(response.body.as_deref().unwrap_or("")).expect("a JSON answer");
    if status != 200 {
        let code = body["error"]["code"].as_str().unwrap_or("");
        let message = body["error"]["message"].as_str().unwrap_or("");
        assert!(!code.is_empty() && !message.trim().is_empty(), "an error without a code or message: {body}");
    }

    let text = text(data);
    for candidate in [text.as_str(), text.lines().next().unwrap_or("")] {
        match Cursor::decode(candidate) {
            Ok(cursor) => assert_eq!(Cursor::decode(&cursor.encode()).as_ref(), Ok(&cursor), "a cursor changed"),
            Err(e) => rejected("query_request", &e, &["cursor: "]),
        }
        match PageRequest::parse(Some(candidate), None) {
            Ok(page) => assert!((1..=deltaone_app::query::MAX_LIMIT).contains(&page.limit)),
            Err(e) => rejected("query_request", &e, &["limit"]),
        }
    }
}
