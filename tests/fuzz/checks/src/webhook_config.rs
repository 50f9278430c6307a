//! Webhook endpoint configuration (`deltaone_webhooks::config`): the endpoints document and the
//! endpoint URL check.

use deltaone_webhooks::config::{MAX_CONCURRENCY_LIMIT, WebhookConfig, check_url};

use crate::support::{rejected, text};

/// The bytes as the endpoints document, and as one endpoint URL:
///
/// * the document is read and validated, or refused naming the document;
/// * every endpoint read has a valid name and a concurrency within the limit;
/// * a URL is accepted (http or https, a host, no credentials; checked again, the same URL) or
///   refused without quoting it (a Slack URL is a secret).
pub fn webhook_config(data: &[u8]) {
    let text = text(data);
    match WebhookConfig::parse(&text, "endpoints.json") {
        Ok(config) => {
            assert!(!config.endpoints.is_empty());
            for endpoint in &config.endpoints {
                assert!(!endpoint.name.is_empty() && endpoint.name.len() <= 80, "{:?}", endpoint.name);
                assert!((1..=MAX_CONCURRENCY_LIMIT).contains(&endpoint.max_concurrency));
            }
        }
        Err(e) => rejected("webhook_config", &e, &[]),
    }
    for candidate in [text.as_str(), text.lines().next().unwrap_or("")] {
        match check_url(candidate) {
            Ok(url) => {
                assert!(matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|h| !h.is_empty()));
                assert!(url.username().is_empty() && url.password().is_none());
                assert_eq!(check_url(url.as_str()).as_ref(), Ok(&url), "a checked URL checked again differs");
            }
            Err(e) => {
                rejected("webhook_config", &e, &[]);
                let shown = e.to_string();
                let trimmed = candidate.trim();
                assert!(!trimmed.contains("://") || !shown.contains(trimmed), "a URL quoted in an error: {shown}");
            }
        }
    }
}
