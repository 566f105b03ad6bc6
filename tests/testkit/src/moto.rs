//! A real SQS API for tests: moto in server mode on a loopback port.
//!
//! [`Moto::shared`] starts moto's server (`pip install 'moto[server]'`,
//! tests/requirements.txt) once per test process on a free 127.0.0.1 port
//! and waits until it answers. It runs through `python/moto_sqs.py`, which
//! gives FIFO queues the group order and deduplication interval SQS
//! documents and moto 5 lacks: the pipeline's tests rely on both.
//!
//! As with the throwaway PostgreSQL cluster, a small `sh` keeper holds it:
//! its stdin is a pipe whose write end lives in a static, so when this
//! process ends (however it ends) the keeper reads EOF and stops moto.
//!
//! Clients get dummy credentials and a region of their own: nothing here
//! reads the environment's AWS settings, so a test can never reach AWS.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use tokio::sync::OnceCell;

const KEEPER: &str = r#"
log=$1; shift
"$@" >"$log" 2>&1 &
moto=$!
read -r _ignored
kill "$moto" 2>/dev/null
wait "$moto"
rm -f "$log"
"#;

/// moto's server with SQS's FIFO promises (see the module's comment).
const MOTO_SQS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/moto_sqs.py");

const START_ATTEMPTS: usize = 3;
const READY_WITHIN: Duration = Duration::from_secs(30);

static SHARED: OnceCell<Moto> = OnceCell::const_new();
static NEXT_QUEUE: AtomicU64 = AtomicU64::new(0);

/// The region every test client uses.
pub const REGION: &str = "us-east-1";

/// A running moto server.
#[derive(Debug)]
pub struct Moto {
    endpoint: String,
    _keeper: Keeper,
}

#[derive(Debug)]
struct Keeper {
    _stdin: ChildStdin,
    _child: Child,
}

/// One message as a consumer received it (already deleted from the queue).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub body: String,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
}

impl Moto {
    /// The process's moto server, started on first use. Panics (it is test
    /// code) when moto cannot be started, saying how to install it.
    pub async fn shared() -> &'static Moto {
        SHARED
            .get_or_init(|| async {
                let mut errors = Vec::new();
                for _ in 0..START_ATTEMPTS {
                    match tokio::task::spawn_blocking(start).await {
                        Ok(Ok(m)) => return m,
                        Ok(Err(e)) => errors.push(e),
                        Err(e) => errors.push(e.to_string()),
                    }
                }
                panic!(
                    "cannot start moto ({}); install it with `python3 -m pip install -r tests/requirements.txt`",
                    errors.join("; ")
                )
            })
            .await
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL_SQS` or a client's
    /// `endpoint_url`.
    pub fn endpoint_url(&self) -> &str {
        &self.endpoint
    }

    /// The production SQS client (rustls on ring) pointed at this server
    /// with dummy credentials.
    pub fn sqs_client(&self) -> aws_sdk_sqs::Client {
        sqs_client_for(&self.endpoint)
    }

    /// A new FIFO queue with a unique name; returns its URL.
    pub async fn create_fifo_queue(&self, prefix: &str) -> String {
        let name = format!(
            "{prefix}-{}-{}.fifo",
            std::process::id(),
            NEXT_QUEUE.fetch_add(1, Ordering::Relaxed)
        );
        let out = self
            .sqs_client()
            .create_queue()
            .queue_name(&name)
            .attributes(QueueAttributeName::FifoQueue, "true")
            .send()
            .await
            .unwrap_or_else(|e| panic!("cannot create queue {name}: {e:?}"));
        out.queue_url()
            .unwrap_or_else(|| panic!("moto returned no URL for {name}"))
            .to_owned()
    }

    /// Receives (and deletes) every message currently available, in order,
    /// as a FIFO consumer would: one call, up to 10 messages.
    pub async fn receive(&self, queue_url: &str) -> Vec<Received> {
        let client = self.sqs_client();
        let out = client
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(0)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap_or_else(|e| panic!("cannot receive from {queue_url}: {e:?}"));
        let mut received = Vec::new();
        for m in out.messages() {
            let attr = |name: MessageSystemAttributeName| {
                m.attributes().and_then(|a| a.get(&name)).cloned()
            };
            received.push(Received {
                body: m.body().unwrap_or_default().to_owned(),
                group_id: attr(MessageSystemAttributeName::MessageGroupId),
                dedup_id: attr(MessageSystemAttributeName::MessageDeduplicationId),
            });
            if let Some(handle) = m.receipt_handle() {
                client
                    .delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("cannot delete from {queue_url}: {e:?}"));
            }
        }
        received
    }

    /// Receives until `count` messages arrived or `within` passed, then
    /// checks once more that nothing beyond them is waiting; returns all.
    pub async fn receive_n(
        &self,
        queue_url: &str,
        count: usize,
        within: Duration,
    ) -> Vec<Received> {
        let deadline = Instant::now() + within;
        let mut all = Vec::new();
        while all.len() < count && Instant::now() < deadline {
            let got = self.receive(queue_url).await;
            if got.is_empty() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            all.extend(got);
        }
        all.extend(self.receive(queue_url).await);
        all
    }
}

/// The production SQS client for a local endpoint, with dummy credentials.
pub fn sqs_client_for(endpoint: &str) -> aws_sdk_sqs::Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "sheetsync-testkit",
        ))
        .endpoint_url(endpoint)
        .http_client(http)
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

/// An endpoint where nothing listens (a port just freed), for tests of an
/// unreachable queue.
pub fn closed_endpoint() -> String {
    let port = free_port().unwrap_or(9);
    format!("http://127.0.0.1:{port}")
}

fn start() -> Result<Moto, String> {
    let port = free_port()?;
    let log =
        std::env::temp_dir().join(format!("sheetsync-moto-{}-{port}.log", std::process::id()));
    let mut keeper = Command::new("sh");
    keeper
        .arg("-c")
        .arg(KEEPER)
        .arg("sheetsync-moto-keeper")
        .arg(&log);
    keeper
        .args(["python3", MOTO_SQS])
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    let mut child = keeper
        .spawn()
        .map_err(|e| format!("cannot start the moto keeper: {e}"))?;
    let stdin = child
        .stdin
        .take()
        .ok_or_else(|| "moto keeper has no stdin".to_string())?;
    let deadline = Instant::now() + READY_WITHIN;
    loop {
        if answers(port) {
            break;
        }
        let exited = matches!(child.try_wait(), Ok(Some(_)));
        if exited || Instant::now() > deadline {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            drop(stdin);
            let _ = child.wait();
            return Err(format!(
                "moto on port {port} did not start: {}",
                text.trim()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(Moto {
        endpoint: format!("http://127.0.0.1:{port}"),
        _keeper: Keeper {
            _stdin: stdin,
            _child: child,
        },
    })
}

/// True when an HTTP server (moto's dashboard API) answers on the port.
fn answers(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let request = "GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if s.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}

fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free loopback port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn moto_serves_fifo_queues_with_deduplication() {
        let moto = Moto::shared().await;
        assert!(moto.endpoint_url().starts_with("http://127.0.0.1:"));
        let url = moto.create_fifo_queue("testkit").await;
        let client = moto.sqs_client();
        for (body, dedup) in [("one", "a"), ("two", "b"), ("one again", "a")] {
            client
                .send_message()
                .queue_url(&url)
                .message_body(body)
                .message_group_id("g")
                .message_deduplication_id(dedup)
                .send()
                .await
                .unwrap();
        }
        let got = moto.receive_n(&url, 2, Duration::from_secs(10)).await;
        let bodies: Vec<&str> = got.iter().map(|r| r.body.as_str()).collect();
        assert_eq!(bodies, vec!["one", "two"]);
        assert_eq!(got[0].group_id.as_deref(), Some("g"));
        assert_eq!(got[1].dedup_id.as_deref(), Some("b"));
    }

    async fn send_all(client: &aws_sdk_sqs::Client, url: &str, bodies: &[&str]) {
        for body in bodies {
            client
                .send_message()
                .queue_url(url)
                .message_body(*body)
                .message_group_id("g")
                .message_deduplication_id(*body)
                .send()
                .await
                .unwrap();
        }
    }

    /// Receives up to 10 messages, hidden for `hidden_secs`.
    async fn receive_hidden(
        client: &aws_sdk_sqs::Client,
        url: &str,
        hidden_secs: i32,
    ) -> Vec<aws_sdk_sqs::types::Message> {
        let out = client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(hidden_secs)
            .send()
            .await
            .unwrap();
        out.messages().to_vec()
    }

    fn bodies(messages: &[aws_sdk_sqs::types::Message]) -> Vec<&str> {
        messages.iter().filter_map(|m| m.body()).collect()
    }

    /// A partial batch failure as the writer reports one: the first two
    /// messages come back, the rest of the batch is deleted. SQS gives the
    /// group back from its first message; moto alone gave m1 and m6 first.
    #[tokio::test]
    async fn a_fifo_group_comes_back_from_its_first_unacknowledged_message() {
        let moto = Moto::shared().await;
        let url = moto.create_fifo_queue("testkit-order").await;
        let client = moto.sqs_client();
        send_all(&client, &url, &["m0", "m1", "m2", "m3", "m4", "m5"]).await;
        let first = receive_hidden(&client, &url, 60).await;
        assert_eq!(bodies(&first), ["m0", "m1", "m2", "m3", "m4", "m5"]);
        for m in &first[2..] {
            let handle = m.receipt_handle().unwrap();
            client
                .delete_message()
                .queue_url(&url)
                .receipt_handle(handle)
                .send()
                .await
                .unwrap();
        }
        send_all(&client, &url, &["m6"]).await;
        for m in &first[..2] {
            let handle = m.receipt_handle().unwrap();
            client
                .change_message_visibility()
                .queue_url(&url)
                .receipt_handle(handle)
                .visibility_timeout(1)
                .send()
                .await
                .unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let again = loop {
            let got = receive_hidden(&client, &url, 60).await;
            if !got.is_empty() || Instant::now() > deadline {
                break got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(bodies(&again), ["m0", "m1", "m6"]);
    }

    /// While a message of the group is in flight, nothing behind it is
    /// delivered; a deleted message's deduplication id still holds back a
    /// re-send (moto alone delivered it again).
    #[tokio::test]
    async fn a_fifo_group_waits_for_its_message_in_flight_and_deduplicates_after_delete() {
        let moto = Moto::shared().await;
        let url = moto.create_fifo_queue("testkit-dedup").await;
        let client = moto.sqs_client();
        send_all(&client, &url, &["a"]).await;
        let in_flight = receive_hidden(&client, &url, 60).await;
        assert_eq!(bodies(&in_flight), ["a"]);
        send_all(&client, &url, &["b"]).await;
        assert!(receive_hidden(&client, &url, 60).await.is_empty());
        client
            .delete_message()
            .queue_url(&url)
            .receipt_handle(in_flight[0].receipt_handle().unwrap())
            .send()
            .await
            .unwrap();
        send_all(&client, &url, &["a"]).await;
        let got = moto.receive_n(&url, 1, Duration::from_secs(10)).await;
        let got: Vec<&str> = got.iter().map(|r| r.body.as_str()).collect();
        assert_eq!(got, ["b"]);
    }

    #[test]
    fn a_closed_endpoint_refuses_connections() {
        let url = closed_endpoint();
        let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
        assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    }
}
