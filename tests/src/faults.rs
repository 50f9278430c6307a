//! Faults on loopback, for the fault scenarios (`tests/tests/faults.rs`) and the load bench: an HTTP
//! proxy in front of moto that answers chosen AWS calls with the errors AWS gives under load (S3
//! `503 SlowDown`, DynamoDB `ThrottlingException`) or drops every connection (an outage); an MLflow
//! server of a test's own that can be killed and restarted on the same port and database; and
//! pollers that consume an SQS queue the way Lambda's SQS event source runs a function.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Which calls the proxy answers with an error instead of forwarding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// S3 GetObject: `503 SlowDown`.
    S3SlowDown,
    /// Any DynamoDB call: `400 ThrottlingException`.
    DynamoThrottling,
}

#[derive(Default)]
struct Rules {
    /// (fault, every n-th matching request)
    every: std::sync::Mutex<Vec<(Fault, usize)>>,
    seen: [AtomicUsize; 2],
    injected: [AtomicUsize; 2],
    down: AtomicBool,
    refused: AtomicUsize,
}

/// An HTTP/1.1 proxy in front of an AWS endpoint (moto). Stopped when dropped.
pub struct FaultProxy {
    pub url: String,
    rules: Arc<Rules>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    pub async fn start(target: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = target.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let rules = Arc::new(Rules::default());
        let shared = rules.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else { continue };
                let (rules, upstream) = (shared.clone(), upstream.clone());
                tokio::spawn(async move {
                    let _ = proxy_connection(socket, &upstream, &rules).await;
                });
            }
        });
        Self { url, rules, task }
    }

    /// Answers every `n`-th request that `fault` matches with its error (n = 1: every one).
    pub fn every(&self, n: usize, fault: Fault) {
        self.rules.every.lock().unwrap().push((fault, n.max(1)));
    }

    /// Stops injecting errors.
    pub fn clear(&self) {
        self.rules.every.lock().unwrap().clear();
    }

    /// While down, every connection is closed before a byte is answered (an endpoint unreachable).
    pub fn set_down(&self, down: bool) {
        self.rules.down.store(down, Ordering::SeqCst);
    }

    /// Errors injected so far for `fault`.
    pub fn injected(&self, fault: Fault) -> usize {
        self.rules.injected[fault as usize].load(Ordering::SeqCst)
    }

    /// Connections dropped while down.
    pub fn refused(&self) -> usize {
        self.rules.refused.load(Ordering::SeqCst)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One request read off a connection: head lines and body.
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn matches(&self, fault: Fault) -> bool {
        let target = self.header("x-amz-target").unwrap_or("");
        match fault {
            Fault::DynamoThrottling => target.starts_with("DynamoDB_"),
            Fault::S3SlowDown => {
                let (path, query) = self.path.split_once('?').unwrap_or((&self.path, ""));
                self.method == "GET"
                    && target.is_empty()
                    && path.trim_start_matches('/').contains('/')
                    && !query.contains("list-type")
                    && !path.starts_with("/moto-api")
            }
        }
    }
}

async fn read_request(socket: &mut TcpStream, buffer: &mut Vec<u8>) -> std::io::Result<Option<Request>> {
    let mut chunk = vec![0u8; 64 * 1024];
    let head_end = loop {
        if let Some(at) = find(buffer, b"\r\n\r\n") {
            break at + 4;
        }
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end - 4]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let (method, path) = (first.next().unwrap_or("").to_owned(), first.next().unwrap_or("/").to_owned());
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut request = Request { method, path, headers, body: Vec::new() };
    let chunked = request.header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked"));
    let end = if chunked {
        loop {
            if let Some(at) = find(&buffer[head_end..], b"0\r\n\r\n") {
                break head_end + at + 5;
            }
            let n = socket.read(&mut chunk).await?;
            if n == 0 {
                return Ok(None);
            }
            buffer.extend_from_slice(&chunk[..n]);
        }
    } else {
        let length: usize = request.header("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
        while buffer.len() < head_end + length {
            let n = socket.read(&mut chunk).await?;
            if n == 0 {
                return Ok(None);
            }
            buffer.extend_from_slice(&chunk[..n]);
        }
        head_end + length
    };
    request.body = buffer.drain(..end).skip(head_end).collect();
    Ok(Some(request))
}

fn injected_response(fault: Fault) -> String {
    let (status, content_type, body) = match fault {
        Fault::S3SlowDown => (
            "503 Slow Down",
            "application/xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code>\
             <Message>Please reduce your request rate.</Message><RequestId>fault</RequestId></Error>",
        ),
        Fault::DynamoThrottling => (
            "400 Bad Request",
            "application/x-amz-json-1.0",
            "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ThrottlingException\",\
             \"message\":\"Rate of requests exceeds the allowed throughput.\"}",
        ),
    };
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\nx-amz-request-id: fault\r\nx-amzn-requestid: fault\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    )
}

async fn proxy_connection(mut socket: TcpStream, upstream: &str, rules: &Rules) -> std::io::Result<()> {
    if rules.down.load(Ordering::SeqCst) {
        rules.refused.fetch_add(1, Ordering::SeqCst);
        return Ok(()); // dropped: the client sees the connection closed
    }
    let mut buffer = Vec::new();
    loop {
        let Some(request) = read_request(&mut socket, &mut buffer).await? else { return Ok(()) };
        if rules.down.load(Ordering::SeqCst) {
            rules.refused.fetch_add(1, Ordering::SeqCst);
            return Ok(());
        }
        let fault = {
            let every = rules.every.lock().unwrap().clone();
            every.into_iter().find(|(fault, n)| {
                request.matches(*fault)
                    && (rules.seen[*fault as usize].fetch_add(1, Ordering::SeqCst) + 1).is_multiple_of(*n)
            })
        };
        if let Some((fault, _)) = fault {
            rules.injected[fault as usize].fetch_add(1, Ordering::SeqCst);
            socket.write_all(injected_response(fault).as_bytes()).await?;
            continue;
        }
        // Forwarded with `Connection: close`, so the answer ends where the upstream closes; the
        // client's connection closes with it (the answer says so).
        let mut upstream = TcpStream::connect(upstream).await?;
        let mut head = format!("{} {} HTTP/1.1\r\n", request.method, request.path);
        for (name, value) in &request.headers {
            if !name.eq_ignore_ascii_case("connection") {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        head.push_str("connection: close\r\n\r\n");
        upstream.write_all(head.as_bytes()).await?;
        upstream.write_all(&request.body).await?;
        tokio::io::copy(&mut upstream, &mut socket).await?;
        socket.shutdown().await?;
        return Ok(());
    }
}

/// An MLflow server of one test's own (sqlite in a temporary directory), which the test can kill and
/// start again on the same port and database. Stopped when dropped.
pub struct PrivateMlflow {
    child: Option<std::process::Child>,
    port: u16,
    dir: tempfile::TempDir,
    pub url: String,
}

impl PrivateMlflow {
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut mlflow = Self { child: None, port, dir, url: format!("http://127.0.0.1:{port}") };
        mlflow.restart().await;
        mlflow
    }

    fn venv() -> PathBuf {
        PathBuf::from(
            std::env::var("DELTAONE_VENV")
                .unwrap_or_else(|_| panic!("DELTAONE_VENV is not set: run the tests with `bash tests/run.sh`")),
        )
    }

    /// Kills the server at once: SIGKILL to its whole process group (`mlflow server` runs its
    /// workers as child processes, which would otherwise keep serving).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let group = format!("-{}", child.id());
            let _ = std::process::Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server (again) on its port and database, and waits until it answers.
    pub async fn restart(&mut self) {
        self.kill();
        let db = self.dir.path().join("mlflow.db");
        use std::os::unix::process::CommandExt as _;
        let child = std::process::Command::new(Self::venv().join("bin/mlflow"))
            .process_group(0)
            .args(["server", "--host", "127.0.0.1", "--port", &self.port.to_string(), "--workers", "1"])
            .arg("--backend-store-uri")
            .arg(format!("sqlite:///{}", db.display()))
            .arg("--default-artifact-root")
            .arg(self.dir.path().join("artifacts"))
            .env("MLFLOW_DISABLE_TELEMETRY", "true")
            .env("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(self.dir.path().join("mlflow.log")).expect("log file"))
            .spawn()
            .expect("start mlflow");
        self.child = Some(child);
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            if http.get(format!("{}/health", self.url)).send().await.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let log = std::fs::read_to_string(self.dir.path().join("mlflow.log")).unwrap_or_default();
        panic!("the private MLflow did not answer within 90 s; its log:\n{log}");
    }
}

impl Drop for PrivateMlflow {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What the pollers did.
#[derive(Debug, Default, Clone)]
pub struct Polled {
    /// Distinct messages handled and deleted.
    pub handled: usize,
    /// Receives handled to the end, counting a message that SQS delivered again while another
    /// poller still had it (its visibility timeout passed): at-least-once delivery.
    pub receives: usize,
    /// Receives of a message that came back (listed in `batchItemFailures`, or its handler failed).
    pub retried: usize,
    /// Milliseconds each batch took, per message deleted.
    pub batch_ms: Vec<f64>,
}

/// Consumes `queue_url` with `pollers` concurrent pollers, as Lambda's SQS event source runs a
/// function: receive up to 10 (held for `visibility`), hand them over as one event, delete what
/// succeeded; messages in `batchItemFailures` (or all, when the handler fails) come back once the
/// visibility timeout passes. Stops when `expect` messages were handled, or after `idle` without one.
pub async fn poll_like_lambda<F, Fut>(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    pollers: usize,
    expect: usize,
    visibility: i32,
    idle: Duration,
    handler: F,
) -> Polled
where
    F: Fn(Value) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, String>> + Send,
{
    let handled = Arc::new(std::sync::Mutex::new(std::collections::HashSet::<String>::new()));
    let receives = Arc::new(AtomicUsize::new(0));
    let retried = Arc::new(AtomicUsize::new(0));
    let batch_ms = Arc::new(std::sync::Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..pollers)
        .map(|_| {
            let (sqs, url, handler) = (sqs.clone(), queue_url.to_owned(), handler.clone());
            let (handled, receives, retried, batch_ms) =
                (handled.clone(), receives.clone(), retried.clone(), batch_ms.clone());
            tokio::spawn(async move {
                let mut last = Instant::now();
                while handled.lock().unwrap().len() < expect && last.elapsed() < idle {
                    let got = sqs
                        .receive_message()
                        .queue_url(&url)
                        .max_number_of_messages(10)
                        .visibility_timeout(visibility)
                        .wait_time_seconds(1)
                        .send()
                        .await
                        .expect("receive");
                    let messages = got.messages();
                    if messages.is_empty() {
                        continue;
                    }
                    last = Instant::now();
                    let records: Vec<Value> = messages
                        .iter()
                        .map(|m| json!({"eventSource": "aws:sqs", "messageId": m.message_id(), "body": m.body()}))
                        .collect();
                    let started = Instant::now();
                    let failures: Vec<String> = match handler(json!({"Records": records})).await {
                        Ok(answer) => answer["batchItemFailures"]
                            .as_array()
                            .map(|f| f.iter().filter_map(|x| x["itemIdentifier"].as_str().map(str::to_owned)).collect())
                            .unwrap_or_default(),
                        Err(_) => messages.iter().filter_map(|m| m.message_id().map(str::to_owned)).collect(),
                    };
                    let ms = started.elapsed().as_secs_f64() * 1000.0;
                    for m in messages {
                        if failures.iter().any(|f| Some(f.as_str()) == m.message_id()) {
                            retried.fetch_add(1, Ordering::SeqCst);
                            continue;
                        }
                        let handle = m.receipt_handle().unwrap_or_default();
                        sqs.delete_message().queue_url(&url).receipt_handle(handle).send().await.expect("delete");
                        handled.lock().unwrap().insert(m.message_id().unwrap_or_default().to_owned());
                        receives.fetch_add(1, Ordering::SeqCst);
                        batch_ms.lock().unwrap().push(ms);
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("poller");
    }
    let batch_ms = batch_ms.lock().unwrap().clone();
    let handled = handled.lock().unwrap().len();
    Polled { handled, receives: receives.load(Ordering::SeqCst), retried: retried.load(Ordering::SeqCst), batch_ms }
}
