//! A DynamoDB client that can only read by key: an SDK interceptor sees every request the client is
//! about to send, records its operation (the `X-Amz-Target` header, e.g. `DynamoDB_20120810.Query`)
//! and refuses anything but Query and GetItem before it leaves the process. The query API builds its
//! client with it, so a Scan (whose cost grows with the table) cannot happen even by mistake, and the
//! tests read the record to prove which operations a request issued.

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};

/// The operations a read-only client may send.
pub const ALLOWED_OPERATIONS: [&str; 2] = ["Query", "GetItem"];

/// The operations sent through a guarded client, in order (refused ones included).
#[derive(Debug, Clone, Default)]
pub struct OperationLog(Arc<Mutex<Vec<String>>>);

impl OperationLog {
    pub fn operations(&self) -> Vec<String> {
        self.0.lock().expect("not poisoned").clone()
    }

    pub fn clear(&self) {
        self.0.lock().expect("not poisoned").clear();
    }

    fn push(&self, operation: &str) {
        self.0.lock().expect("not poisoned").push(operation.to_owned());
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the query API's DynamoDB client only reads by key ({allowed}); {operation} was refused", allowed = ALLOWED_OPERATIONS.join(", "))]
pub struct RefusedOperation {
    pub operation: String,
}

/// The interceptor; see the module documentation.
#[derive(Debug, Clone)]
pub struct ReadOnlyGuard {
    log: OperationLog,
}

impl Intercept for ReadOnlyGuard {
    fn name(&self) -> &'static str {
        "deltaone-read-only-guard"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let target = context.request().headers().get("x-amz-target").unwrap_or("unknown");
        let operation = target.rsplit('.').next().unwrap_or(target);
        self.log.push(operation);
        if ALLOWED_OPERATIONS.contains(&operation) {
            Ok(())
        } else {
            Err(Box::new(RefusedOperation { operation: operation.to_owned() }))
        }
    }
}

/// A DynamoDB client for the read model: the shared SDK configuration plus the [`ReadOnlyGuard`].
/// Returns the log of operations it sent.
pub fn read_only_client(config: &aws_config::SdkConfig) -> (aws_sdk_dynamodb::Client, OperationLog) {
    let log = OperationLog::default();
    let guarded = aws_sdk_dynamodb::config::Builder::from(config).interceptor(ReadOnlyGuard { log: log.clone() });
    (aws_sdk_dynamodb::Client::from_conf(guarded.build()), log)
}
