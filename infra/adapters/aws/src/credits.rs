//! The credits ledger over DynamoDB (see `deltaone_app::credits` for the layout).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ScalarAttributeType};
use deltaone_app::credits::{Credit, CreditLedger, CreditsError, credits_for};
use deltaone_app::store::VerdictRecord;

/// Credits in DynamoDB (see the module documentation for the layout).
pub struct DynamoCredits {
    client: Client,
    table: String,
}

impl DynamoCredits {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The item a credit is stored as.
    pub fn item(credit: &Credit) -> HashMap<String, AttributeValue> {
        let s = |v: &str| AttributeValue::S(v.to_owned());
        let mut item = HashMap::from([
            ("contributor".to_owned(), s(&credit.contributor)),
            ("event".to_owned(), s(&credit.event())),
            ("model".to_owned(), s(&credit.model)),
            ("version".to_owned(), AttributeValue::N(credit.version.to_string())),
            ("metric".to_owned(), s(&credit.metric)),
            ("delta_pp".to_owned(), s(&credit.delta_pp.to_string())),
            ("credited_pp".to_owned(), s(&credit.credited_pp.to_string())),
            ("checked_at".to_owned(), s(&credit.checked_at)),
        ]);
        if let Some(share) = credit.share {
            item.insert("share".into(), s(&share.to_string()));
        }
        if let Some(name) = &credit.name {
            item.insert("name".into(), s(name));
        }
        item
    }

    fn failure<E, R>(&self, operation: &str, err: &aws_sdk_dynamodb::error::SdkError<E, R>) -> CreditsError
    where
        E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let (message, retryable) = crate::dynamodb::dynamodb_failure(operation, err);
        CreditsError::Backend { table: self.table.clone(), message, retryable }
    }

    /// Creates the table (on-demand billing) unless it exists, and waits until it is active.
    pub async fn create_table_if_missing(&self) -> Result<bool, CreditsError> {
        let keys = [("contributor", ScalarAttributeType::S), ("event", ScalarAttributeType::S)];
        crate::dynamodb::create_dynamodb_table(&self.client, &self.table, &keys)
            .await
            .map_err(|(message, retryable)| CreditsError::Backend { table: self.table.clone(), message, retryable })
    }
}

#[async_trait]
impl CreditLedger for DynamoCredits {
    async fn credit(&self, record: &VerdictRecord) -> Result<usize, CreditsError> {
        let mut written = 0;
        for credit in credits_for(record) {
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(Self::item(&credit)))
                .condition_expression("attribute_not_exists(contributor)")
                .send()
                .await;
            match put {
                Ok(_) => written += 1,
                Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {}
                Err(e) => return Err(self.failure("PutItem", &e)),
            }
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltaone::attestation::Contributor;
    use deltaone::{Policy, VersionFacts, VersionNumber, judge, select};

    fn achieved(contributors: Vec<Contributor>) -> VerdictRecord {
        let v = |n| VersionNumber::new(n).unwrap();
        let versions = [
            VersionFacts::new(v(1)).with_tag("benchmark_value", "0.87").with_tag("benchmark_metric", "accuracy"),
            VersionFacts::new(v(2)).with_metric("accuracy", 0.885),
        ];
        let verdict = judge(&select("fraud", &versions, None), &Default::default(), &Policy::default());
        assert!(verdict.achieved());
        VerdictRecord {
            model: "fraud".into(),
            version: v(2),
            checked_at: "2026-11-23T10:00:00Z".into(),
            run_id: None,
            verdict,
            written_back: false,
            notified: false,
            attestation: None,
            contributors,
            promotion: None,
        }
    }

    #[test]
    fn items_carry_exact_decimal_strings_and_the_event_key() {
        let credit = &credits_for(&achieved(vec![Contributor::new("0xabc").with_name("Ada")]))[0];
        let item = DynamoCredits::item(credit);
        assert_eq!(item["contributor"].as_s().unwrap(), "0xabc");
        assert_eq!(item["event"].as_s().unwrap(), "2026-11-23T10:00:00Z#fraud#2");
        assert_eq!(item["credited_pp"].as_s().unwrap(), "1.5");
        assert_eq!(item["version"].as_n().unwrap(), "2");
        assert_eq!(item["name"].as_s().unwrap(), "Ada");
        assert!(!item.contains_key("share"));
    }
}
