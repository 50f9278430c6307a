//! The read model over DynamoDB: Query (key condition on the partition, newest first) and GetItem only.
//!
//! Tables: verdicts (`model`, `version`; see [`deltaone_app::store::dynamo`]), credits (`contributor`, `event`;
//! see `deltaone_app::credits`) and drift results (`pk`, `sk`: `{model}#RUN` for run summaries,
//! `{model}#COLUMN#{column}` for a column's history; sort keys start with the window's end). Drift items
//! past their `expires_at` are filtered out: TTL deletion is late on AWS (and absent in emulators).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use rust_decimal::Decimal;

use crate::verdicts::DynamoVerdictStore;
use deltaone_app::query::{
    ChainCheck, CreditEvent, CreditTotals, Cursor, DriftColumn, DriftRun, MAX_LIMIT, Page, PageRequest, QueryError,
    ReadModel,
};
use deltaone_app::store::VerdictRecord;
use deltaone_app::{drift_keys, env};

type Item = HashMap<String, AttributeValue>;

/// Which tables the read model reads; credits and drift are optional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    pub verdicts: String,
    pub credits: Option<String>,
    pub drift: Option<String>,
}

pub struct DynamoReadModel {
    client: Client,
    tables: Tables,
    verdicts: DynamoVerdictStore,
}

/// One key-bounded query: the partition, the sort key, and how to continue.
struct Spec<'a> {
    table: &'a str,
    scope: &'a str,
    partition: (&'a str, &'a str),
    /// The sort key's name and whether it is a number.
    sort: (&'a str, bool),
    /// A lower bound on the sort key (the verdict table's chain head is version 0).
    sort_above: Option<&'a str>,
    /// Leave out items past their `expires_at`.
    live_only: bool,
    /// A projection and the attribute names it uses (`#pk` is the partition key's name).
    projection: Option<(&'a str, &'a [(&'a str, &'a str)])>,
}

impl DynamoReadModel {
    /// `client` should be built with [`crate::read_only::read_only_client`], which refuses anything but reads.
    pub fn new(client: Client, tables: Tables) -> Self {
        let verdicts = DynamoVerdictStore::new(client.clone(), tables.verdicts.clone());
        Self { client, tables, verdicts }
    }

    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    fn credits_table(&self) -> Result<&str, QueryError> {
        self.tables
            .credits
            .as_deref()
            .ok_or(QueryError::NotConfigured { what: "the credits table", env: env::CREDITS_TABLE })
    }

    /// One page of a drift-table partition (live items only, newest first), each item read by `read`.
    async fn drift_page<T>(
        &self,
        scope: &str,
        pk: &str,
        page: &PageRequest,
        read: fn(&str, &Item) -> Result<T, QueryError>,
    ) -> Result<Page<T>, QueryError> {
        let table = self.drift_table()?;
        let spec = Spec {
            table,
            scope,
            partition: (drift_keys::PARTITION_KEY, pk),
            sort: (drift_keys::SORT_KEY, false),
            sort_above: None,
            live_only: true,
            projection: None,
        };
        let (items, next) = self.page(&spec, page).await?;
        let items = items.iter().map(|item| read(table, item)).collect::<Result<_, _>>()?;
        Ok(Page { items, next })
    }

    fn drift_table(&self) -> Result<&str, QueryError> {
        self.tables
            .drift
            .as_deref()
            .ok_or(QueryError::NotConfigured { what: "the drift results table", env: env::DRIFT_TABLE })
    }

    /// One page of `spec`, newest first: up to `limit` items and, when more follow, the cursor after
    /// the last one. Reads one item beyond the page to know whether another page exists, so the last
    /// page never comes with a cursor to an empty one.
    async fn page(&self, spec: &Spec<'_>, page: &PageRequest) -> Result<(Vec<Item>, Option<Cursor>), QueryError> {
        let limit = page.limit.clamp(1, MAX_LIMIT);
        let mut start = match &page.cursor {
            Some(cursor) => Some(crate::cursor::start_key(cursor, spec.scope, spec.partition, spec.sort)?),
            None => None,
        };
        let mut items: Vec<Item> = Vec::new();
        loop {
            let want = limit + 1 - items.len();
            let mut request = self
                .client
                .query()
                .table_name(spec.table)
                .expression_attribute_names("#pk", spec.partition.0)
                .expression_attribute_values(":pk", AttributeValue::S(spec.partition.1.to_owned()))
                .scan_index_forward(false)
                .limit(i32::try_from(want).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take());
            request = match spec.sort_above {
                Some(above) => request
                    .key_condition_expression("#pk = :pk AND #sk > :above")
                    .expression_attribute_names("#sk", spec.sort.0)
                    .expression_attribute_values(
                        ":above",
                        if spec.sort.1 { AttributeValue::N(above.into()) } else { AttributeValue::S(above.into()) },
                    ),
                None => request.key_condition_expression("#pk = :pk"),
            };
            if spec.live_only {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                request = request
                    .filter_expression("attribute_not_exists(#exp) OR #exp > :now")
                    .expression_attribute_names("#exp", drift_keys::TTL_ATTRIBUTE)
                    .expression_attribute_values(":now", AttributeValue::N(now.to_string()));
            }
            if let Some((projection, names)) = spec.projection {
                request = request.projection_expression(projection);
                for (placeholder, name) in names {
                    request = request.expression_attribute_names(*placeholder, *name);
                }
            }
            let answer = request.send().await.map_err(|e| {
                let (message, retryable) = crate::dynamodb::dynamodb_failure("Query", &e);
                QueryError::Backend { table: spec.table.to_owned(), message, retryable }
            })?;
            items.extend(answer.items().iter().cloned());
            match answer.last_evaluated_key() {
                Some(key) if !key.is_empty() && items.len() <= limit => start = Some(key.clone()),
                _ => break,
            }
        }
        let next = if items.len() > limit {
            items.truncate(limit);
            let keys = [spec.partition.0, spec.sort.0];
            Some(crate::cursor::cursor_after(spec.scope, items.last().expect("a full page"), &keys).ok_or_else(
                || QueryError::Corrupt {
                    table: spec.table.to_owned(),
                    key: spec.partition.1.to_owned(),
                    message: "an item without its key attributes".into(),
                },
            )?)
        } else {
            None
        };
        Ok((items, next))
    }

    fn verdict_spec<'a>(&'a self, model: &'a str) -> Spec<'a> {
        Spec {
            table: &self.tables.verdicts,
            scope: "verdicts",
            partition: ("model", model),
            sort: ("version", true),
            sort_above: Some("0"),
            live_only: false,
            projection: None,
        }
    }
}

/// Reads the attributes of one item, naming the item in errors.
struct Fields<'a> {
    table: &'a str,
    item: &'a Item,
}

impl Fields<'_> {
    fn corrupt(&self, message: String) -> QueryError {
        let key = ["pk", "sk", "contributor", "event"]
            .iter()
            .filter_map(|k| self.item.get(*k).and_then(|v| v.as_s().ok()))
            .cloned()
            .collect::<Vec<_>>()
            .join(" / ");
        QueryError::Corrupt { table: self.table.to_owned(), key, message }
    }

    fn s_opt(&self, name: &str) -> Option<String> {
        self.item.get(name).and_then(|v| v.as_s().ok()).cloned()
    }

    fn s(&self, name: &str) -> Result<String, QueryError> {
        self.s_opt(name).ok_or_else(|| self.corrupt(format!("no string attribute `{name}`")))
    }

    fn n_text(&self, name: &str) -> Option<&String> {
        self.item.get(name).and_then(|v| v.as_n().ok())
    }

    fn f64_opt(&self, name: &str) -> Result<Option<f64>, QueryError> {
        match self.n_text(name) {
            None => Ok(None),
            Some(text) => {
                text.parse::<f64>().map(Some).map_err(|_| self.corrupt(format!("`{name}` = {text:?} is not a number")))
            }
        }
    }

    fn f64(&self, name: &str) -> Result<f64, QueryError> {
        self.f64_opt(name)?.ok_or_else(|| self.corrupt(format!("no number attribute `{name}`")))
    }

    fn u64(&self, name: &str) -> Result<u64, QueryError> {
        let text = self.n_text(name).ok_or_else(|| self.corrupt(format!("no number attribute `{name}`")))?;
        text.parse::<u64>().map_err(|_| self.corrupt(format!("`{name}` = {text:?} is not a whole number")))
    }

    fn bool(&self, name: &str) -> Result<bool, QueryError> {
        self.item
            .get(name)
            .and_then(|v| v.as_bool().ok())
            .copied()
            .ok_or_else(|| self.corrupt(format!("no boolean attribute `{name}`")))
    }

    fn decimal(&self, name: &str) -> Result<Decimal, QueryError> {
        let text = self.s(name)?;
        text.parse().map_err(|_| self.corrupt(format!("`{name}` = {text:?} is not a decimal")))
    }

    fn json(&self, name: &str) -> Result<serde_json::Value, QueryError> {
        let text = self.s(name)?;
        serde_json::from_str(&text).map_err(|e| self.corrupt(format!("`{name}` is not JSON: {e}")))
    }
}

fn credit_event(table: &str, item: &Item) -> Result<CreditEvent, QueryError> {
    let f = Fields { table, item };
    Ok(CreditEvent {
        model: f.s("model")?,
        version: f.u64("version")?,
        metric: f.s_opt("metric").unwrap_or_default(),
        delta_pp: f.decimal("delta_pp")?,
        share: match f.s_opt("share") {
            Some(_) => Some(f.decimal("share")?),
            None => None,
        },
        credited_pp: f.decimal("credited_pp")?,
        checked_at: f.s("checked_at")?,
        name: f.s_opt("name"),
    })
}

fn drift_run(table: &str, item: &Item) -> Result<DriftRun, QueryError> {
    let f = Fields { table, item };
    Ok(DriftRun {
        run_id: f.s("run_id")?,
        window_start: f.s("window_start")?,
        window_end: f.s("window_end")?,
        dataset_drift: f.bool("dataset_drift")?,
        drifted_columns: f.u64("drifted_columns")?,
        columns: f.u64("columns")?,
        drift_share: f.f64("drift_share")?,
        share_threshold: f.f64("share_threshold")?,
        rows_reference: f.u64("rows_reference")?,
        rows_current: f.u64("rows_current")?,
        quarantined_files: f.u64("quarantined_files")?,
        report_uri: f.s_opt("report_uri"),
        created_at: f.s("created_at")?,
        summary: f.json("summary")?,
    })
}

fn drift_column(table: &str, item: &Item) -> Result<DriftColumn, QueryError> {
    let f = Fields { table, item };
    Ok(DriftColumn {
        column: f.s("column")?,
        run_id: f.s("run_id")?,
        window_start: f.s("window_start")?,
        window_end: f.s("window_end")?,
        role: f.s("role")?,
        kind: f.s("kind")?,
        method: f.s("method")?,
        score: f.f64_opt("score")?,
        threshold: f.f64("threshold")?,
        drifted: f.bool("drifted")?,
        psi: f.f64_opt("psi")?,
        js: f.f64_opt("js")?,
        wasserstein_norm: f.f64_opt("wasserstein_norm")?,
        created_at: f.s("created_at")?,
        detail: f.json("detail")?,
    })
}

#[async_trait]
impl ReadModel for DynamoReadModel {
    async fn verdicts(&self, model: &str, page: &PageRequest) -> Result<Page<VerdictRecord>, QueryError> {
        let (items, next) = self.page(&self.verdict_spec(model), page).await?;
        let items = items.iter().map(|item| self.verdicts.parse(item)).collect::<Result<_, _>>()?;
        Ok(Page { items, next })
    }

    async fn chain_head(&self, model: &str) -> Result<Option<String>, QueryError> {
        use deltaone_app::store::VerdictStore as _;
        Ok(self.verdicts.chain_head(model).await?)
    }

    async fn verify_chain(&self, model: &str) -> Result<ChainCheck, QueryError> {
        use deltaone_app::audit::{AuditError, audit};
        match audit(&self.verdicts, model, None).await {
            Ok(report) => {
                Ok(ChainCheck { head: report.head, attested: report.attested as u64, verified: true, problem: None })
            }
            Err(AuditError::Store(e)) => Err(e.into()),
            Err(broken) => {
                use deltaone_app::store::VerdictStore as _;
                let head = self.verdicts.chain_head(model).await?;
                let attested =
                    self.verdicts.history(model, usize::MAX).await?.iter().filter(|r| r.attestation.is_some()).count();
                Ok(ChainCheck { head, attested: attested as u64, verified: false, problem: Some(broken.to_string()) })
            }
        }
    }

    async fn credits(&self, contributor: &str, page: &PageRequest) -> Result<Page<CreditEvent>, QueryError> {
        let table = self.credits_table()?;
        let spec = Spec {
            table,
            scope: "credits",
            partition: ("contributor", contributor),
            sort: ("event", false),
            sort_above: None,
            live_only: false,
            projection: None,
        };
        let (items, next) = self.page(&spec, page).await?;
        let items = items.iter().map(|item| credit_event(table, item)).collect::<Result<_, _>>()?;
        Ok(Page { items, next })
    }

    async fn credit_totals(&self, contributor: &str) -> Result<CreditTotals, QueryError> {
        let table = self.credits_table()?;
        let spec = Spec {
            table,
            scope: "credits",
            partition: ("contributor", contributor),
            sort: ("event", false),
            sort_above: None,
            live_only: false,
            projection: Some((
                "#pk, #event, #model, #credited",
                &[("#event", "event"), ("#model", "model"), ("#credited", "credited_pp")],
            )),
        };
        let mut totals = CreditTotals::default();
        let mut page = PageRequest { limit: MAX_LIMIT, cursor: None };
        loop {
            let (items, next) = self.page(&spec, &page).await?;
            for item in &items {
                let f = Fields { table, item };
                let (model, credited) = (f.s("model")?, f.decimal("credited_pp")?);
                totals.events += 1;
                totals.credited_pp += credited;
                let entry = totals.by_model.entry(model).or_default();
                entry.0 += 1;
                entry.1 += credited;
            }
            match next {
                Some(next) => page.cursor = Some(next),
                None => break,
            }
        }
        totals.credited_pp = totals.credited_pp.normalize();
        for entry in totals.by_model.values_mut() {
            entry.1 = entry.1.normalize();
        }
        Ok(totals)
    }

    async fn drift_runs(&self, model: &str, page: &PageRequest) -> Result<Page<DriftRun>, QueryError> {
        self.drift_page("drift-runs", &drift_keys::run_pk(model), page, drift_run).await
    }

    async fn drift_history(
        &self,
        model: &str,
        column: &str,
        page: &PageRequest,
    ) -> Result<Page<DriftColumn>, QueryError> {
        self.drift_page("drift-column", &drift_keys::column_pk(model, column), page, drift_column).await
    }
}
