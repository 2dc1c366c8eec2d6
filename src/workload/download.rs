//! Seed 001's IO workload: GET a page, then rewrite it to a file `writes` times.
//!
//! Each runtime family fetches with its native client, so no measurement hides another
//! runtime: [`Download::run_blocking`] uses ureq and `std::fs` (threads, rayon, serial,
//! processes), [`Download::run_tokio`] uses reqwest and `tokio::fs`, and
//! [`Download::run_futures`] drives hyper 1 over the runtime's own `TcpStream` (smol,
//! async-std) with its own file API. Every client opens a new connection per task, as the
//! seed's `urllib.request.urlopen` does, so they do the same work.
//!
//! The file a task writes is named after its URL, sanitized so that no URL can name a path
//! outside the out-dir ([`file_name`]). Every runtime opens it the same way, with its own file
//! API: [`PAGE_OPEN_FLAGS`] so that a symlink in its place is never followed (and a FIFO never
//! blocks the open), then [`check_page_file`] on the opened file, so anything but a regular
//! file is refused. A page name is predictable, so without this a symlink planted under one
//! would make a run overwrite whatever it points at.

use std::future::Future;
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures_lite::{AsyncRead, AsyncWrite};
use http_body_util::{BodyExt, Empty, Limited};
use serde::{Deserialize, Serialize};

use super::{IoKind, Outcome, TaskError, TaskResult};

/// One download-and-rewrite task's parameters, the same for every task of a run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Download {
    /// The pages; task `i` fetches `urls[i % len]`.
    pub urls: Vec<String>,
    /// Times the page is written to its file.
    pub writes: u32,
    /// Where files go.
    pub out_dir: PathBuf,
    /// A larger body fails the task.
    pub max_page_size: u64,
    /// Limit on connecting, asking and reading the whole body.
    pub timeout: Duration,
    /// The blocking client, built once per process and shared by its threads.
    #[serde(skip)]
    agent: Arc<OnceLock<ureq::Agent>>,
}

impl PartialEq for Download {
    fn eq(&self, other: &Download) -> bool {
        // The agent is a cache, not part of what the work is.
        (
            &self.urls,
            self.writes,
            &self.out_dir,
            self.max_page_size,
            self.timeout,
        ) == (
            &other.urls,
            other.writes,
            &other.out_dir,
            other.max_page_size,
            other.timeout,
        )
    }
}

impl Download {
    /// A download of `urls` (at least one) into `out_dir`.
    pub fn new(
        urls: Vec<String>,
        writes: u32,
        out_dir: PathBuf,
        max_page_size: u64,
        timeout: Duration,
    ) -> Download {
        Download {
            urls,
            writes,
            out_dir,
            max_page_size,
            timeout,
            agent: Arc::default(),
        }
    }

    /// The URL task `task` fetches.
    pub fn url(&self, task: usize) -> &str {
        &self.urls[task % self.urls.len()]
    }

    /// The file task `task` writes.
    pub fn path(&self, task: usize) -> PathBuf {
        self.out_dir.join(file_name(self.url(task)))
    }

    /// ureq and `std::fs`, for runtimes whose tasks block a thread.
    pub fn run_blocking(&self, task: usize) -> TaskResult {
        let agent = self.agent.get_or_init(|| {
            ureq::Agent::config_builder()
                .timeout_global(Some(self.timeout))
                .http_status_as_error(false)
                // A fresh connection per task, as for every other client.
                .max_idle_connections(0)
                .max_idle_connections_per_host(0)
                .build()
                .into()
        });
        let mut resp = agent.get(self.url(task)).call().map_err(ureq_error)?;
        check_status(resp.status().as_u16())?;
        let page = resp
            .body_mut()
            .with_config()
            .limit(self.max_page_size)
            .read_to_vec()
            .map_err(ureq_error)?;
        let path = self.path(task);
        for _ in 0..self.writes {
            write_page(&path, &page).map_err(|e| write_error(&path, e))?;
        }
        Ok(Outcome {
            bytes: page.len() as u64,
        })
    }

    /// reqwest and `tokio::fs`; with `blocking_writes`, the writes run in one
    /// `spawn_blocking` with `std::fs` (tokio-blocking), else through `tokio::fs`.
    pub async fn run_tokio(
        &self,
        client: &reqwest::Client,
        task: usize,
        blocking_writes: bool,
    ) -> TaskResult {
        let mut resp = client
            .get(self.url(task))
            .send()
            .await
            .map_err(reqwest_error)?;
        check_status(resp.status().as_u16())?;
        let mut page = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(reqwest_error)? {
            if (page.len() + chunk.len()) as u64 > self.max_page_size {
                return Err(too_large(self.max_page_size));
            }
            page.extend_from_slice(&chunk);
        }
        let path = self.path(task);
        let bytes = page.len() as u64;
        if blocking_writes {
            let writes = self.writes;
            tokio::task::spawn_blocking(move || {
                for _ in 0..writes {
                    write_page(&path, &page).map_err(|e| write_error(&path, e))?;
                }
                Ok::<_, TaskError>(())
            })
            .await
            .map_err(|e| TaskError::Panic(e.to_string()))??;
        } else {
            for _ in 0..self.writes {
                write_page_tokio(&path, &page)
                    .await
                    .map_err(|e| write_error(&path, e))?;
            }
        }
        Ok(Outcome { bytes })
    }

    /// hyper 1 over the runtime `R`'s own sockets, timer and files.
    pub async fn run_futures<R: FuturesRuntime>(&self, task: usize) -> TaskResult {
        let url = self.url(task);
        let fetch = fetch_hyper::<R>(url, self.max_page_size);
        let timeout = self.timeout;
        let page = futures_lite::future::or(fetch, async move {
            R::sleep(timeout).await;
            Err(io_error(
                IoKind::Timeout,
                format!(
                    "no complete answer within {}",
                    humantime::format_duration(timeout)
                ),
            ))
        })
        .await?;
        let path = self.path(task);
        for _ in 0..self.writes {
            R::write_file(&path, &page)
                .await
                .map_err(|e| write_error(&path, e))?;
        }
        Ok(Outcome {
            bytes: page.len() as u64,
        })
    }
}

/// What a futures-io runtime gives the hyper client: sockets, a timer and files.
pub trait FuturesRuntime {
    /// The runtime's TCP stream.
    type Tcp: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// Connects to `host:port`.
    fn connect(host: String, port: u16) -> impl Future<Output = io::Result<Self::Tcp>> + Send;
    /// Waits `d` on the runtime's timer.
    fn sleep(d: Duration) -> impl Future<Output = ()> + Send;
    /// Makes `bytes` the whole content of the page file `path`, with the runtime's own file
    /// API: opened (created or truncated) with [`PAGE_OPEN_FLAGS`], refused by
    /// [`check_page_file`] unless it is a regular file, written, and flushed so that a failed
    /// write is reported rather than lost.
    fn write_file(path: &Path, bytes: &[u8]) -> impl Future<Output = io::Result<()>> + Send;
}

/// The flags every runtime adds when it opens a page file (write, create, truncate).
/// `O_NOFOLLOW`: a symlink in the page's place fails the open (`ELOOP`) instead of being
/// followed out of the out-dir. `O_NONBLOCK`: a FIFO with no reader fails it (`ENXIO`) instead
/// of blocking the task forever. `O_NOCTTY`: a terminal device never becomes the process's
/// controlling terminal. Truncation happens at open, which a FIFO or a device ignores; a hard
/// link is a regular file and is written (the kernel's `protected_hardlinks` already stops a
/// link to a file its planter could not write).
pub const PAGE_OPEN_FLAGS: i32 = libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY;

/// Refuses an opened page file that is not a regular file (a FIFO with a reader, a device, a
/// socket): the page is never written into something else. Checked on the open file, so
/// nothing can be swapped in between the check and the write.
pub fn check_page_file(meta: &std::fs::Metadata) -> io::Result<()> {
    let t = meta.file_type();
    if t.is_file() {
        return Ok(());
    }
    let what = if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_dir() {
        "a directory"
    } else {
        "not a file"
    };
    Err(io::Error::other(format!(
        "not a regular file ({what}); a page is only written to a regular file"
    )))
}

/// The steps of [`FuturesRuntime::write_file`] with `std::fs`: threads, rayon, serial, the
/// process runtimes and tokio-blocking's `spawn_blocking`.
fn write_page(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(PAGE_OPEN_FLAGS)
        .open(path)?;
    check_page_file(&file.metadata()?)?;
    file.write_all(bytes)
}

/// The steps of [`FuturesRuntime::write_file`] with `tokio::fs`.
async fn write_page_tokio(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(PAGE_OPEN_FLAGS)
        .open(path)
        .await?;
    check_page_file(&file.metadata().await?)?;
    file.write_all(bytes).await?;
    // tokio writes in the background; the error of a failed write (a full disk) comes here.
    file.flush().await
}

async fn fetch_hyper<R: FuturesRuntime>(url: &str, max: u64) -> Result<Vec<u8>, TaskError> {
    let parsed =
        url::Url::parse(url).map_err(|e| io_error(IoKind::Request, format!("{url}: {e}")))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| io_error(IoKind::Request, format!("{url}: no host")))?
        .to_string();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let tcp = R::connect(host.clone(), port)
        .await
        .map_err(|e| io_error(IoKind::Connect, format!("{host}:{port}: {e}")))?;
    match parsed.scheme() {
        "https" => {
            let name = rustls::pki_types::ServerName::try_from(host.clone())
                .map_err(|e| io_error(IoKind::Request, format!("{host}: {e}")))?;
            let tls = futures_rustls::TlsConnector::from(tls_config())
                .connect(name, tcp)
                .await
                .map_err(|e| io_error(IoKind::Connect, format!("TLS with {host}: {e}")))?;
            request(smol_hyper::rt::FuturesIo::new(tls), &parsed, max).await
        }
        _ => request(smol_hyper::rt::FuturesIo::new(tcp), &parsed, max).await,
    }
}

async fn request<IO>(io: IO, url: &url::Url, max: u64) -> Result<Vec<u8>, TaskError>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(io)
        .await
        .map_err(hyper_error)?;
    let host = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let req = hyper::Request::get(target)
        .header(hyper::header::HOST, host)
        .header(hyper::header::USER_AGENT, "asyncstudy")
        .body(Empty::<Bytes>::new())
        .map_err(|e| io_error(IoKind::Request, e.to_string()))?;
    let exchange = async {
        let resp = sender.send_request(req).await.map_err(hyper_error)?;
        check_status(resp.status().as_u16())?;
        let body = Limited::new(resp.into_body(), max as usize)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some()
                {
                    too_large(max)
                } else {
                    match e.downcast::<hyper::Error>() {
                        Ok(e) => hyper_error(*e),
                        Err(e) => io_error(IoKind::Reset, e.to_string()),
                    }
                }
            })?;
        Ok(body.to_bytes().to_vec())
    };
    // The connection is driven here rather than spawned, so the task needs no executor
    // handle; the exchange finishes first unless the connection breaks.
    futures_lite::future::or(exchange, async {
        match conn.await {
            Ok(()) => Err(io_error(
                IoKind::Reset,
                "the server closed the connection without an answer".into(),
            )),
            Err(e) => Err(hyper_error(e)),
        }
    })
    .await
}

/// The TLS settings of the hyper client: ring and the Mozilla roots, built once.
fn tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            Arc::new(
                rustls::ClientConfig::builder_with_provider(Arc::new(
                    rustls::crypto::ring::default_provider(),
                ))
                .with_safe_default_protocol_versions()
                .expect("ring supports the default TLS versions")
                .with_root_certificates(roots)
                .with_no_client_auth(),
            )
        })
        .clone()
}

/// Makes ring the process's TLS provider, which reqwest (built without one) needs. Idempotent.
pub fn install_tls_provider() {
    // An error means a provider is installed already, which is all that is needed.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The reqwest client of a tokio run.
pub fn reqwest_client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    install_tls_provider();
    reqwest::Client::builder()
        .timeout(timeout)
        .pool_max_idle_per_host(0)
        .no_proxy()
        .build()
        .map_err(|e| anyhow::anyhow!("could not build the HTTP client: {e}"))
}

/// A file name for `url`: its host and path with anything but `[A-Za-z0-9._-]` made `_`, at most
/// 80 characters, never starting with a dot, plus a hash of the whole URL so distinct URLs never
/// share a file. The result is always one plain file name: no separator, no `..`, no NUL.
/// Credentials (`user:password@`) are left out of both the name and the hash: urls files refuse
/// them, and a file name must never show (or let anyone guess back) a password.
pub fn file_name(url: &str) -> String {
    let url = &*without_credentials(url);
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let mut stem: String = rest
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    // No hidden files, no `.` or `..`.
    while stem.starts_with('.') {
        stem.replace_range(..1, "_");
    }
    let hash = url.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{stem}-{hash:016x}.html")
}

/// `url` without the `user:password@` of its authority, if it has one.
fn without_credentials(url: &str) -> std::borrow::Cow<'_, str> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.into();
    };
    // The authority ends where the path, query or fragment starts (a backslash too, as URL
    // parsers treat it as a slash in http URLs).
    let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]).into(),
        None => url.into(),
    }
}

fn check_status(status: u16) -> Result<(), TaskError> {
    match status {
        200..=299 => Ok(()),
        400..=499 => Err(io_error(IoKind::Http4xx, format!("HTTP {status}"))),
        500..=599 => Err(io_error(IoKind::Http5xx, format!("HTTP {status}"))),
        _ => Err(io_error(IoKind::Request, format!("HTTP {status}"))),
    }
}

fn io_error(kind: IoKind, message: String) -> TaskError {
    TaskError::Io { kind, message }
}

fn too_large(max: u64) -> TaskError {
    io_error(
        IoKind::TooLarge,
        format!("the body is over --max-page-size ({max} bytes)"),
    )
}

fn write_error(path: &Path, e: io::Error) -> TaskError {
    let shown = path.display();
    let message = match refusal(&e) {
        Some(why) => format!("{shown}: {why} ({})", with_causes(&e)),
        None => format!("{shown}: {}", with_causes(&e)),
    };
    io_error(IoKind::Write, message)
}

/// Why opening a page file with [`PAGE_OPEN_FLAGS`] was refused, from the operating system's
/// error wherever it sits in `e`'s chain (async-std wraps it).
fn refusal(e: &io::Error) -> Option<&'static str> {
    let mut link: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(l) = link {
        if let Some(os) = l
            .downcast_ref::<io::Error>()
            .and_then(io::Error::raw_os_error)
        {
            return match os {
                libc::ELOOP => Some("is a symlink, and a page is never written through one"),
                libc::EISDIR => Some("not a regular file (a directory)"),
                libc::ENXIO => Some(
                    "not a regular file (a FIFO or socket nobody reads, or a device that is absent)",
                ),
                _ => None,
            };
        }
        link = l.source();
    }
    None
}

/// An error with the errors it wraps: async-std's file errors say only "could not write to
/// file" and keep the operating system's reason (No space left on device) as their source.
fn with_causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(&format!(": {more}"));
        }
        cause = c.source();
    }
    text
}

/// The kind of an IO error that broke a connection.
fn io_kind(e: &io::Error) -> IoKind {
    use io::ErrorKind::*;
    match e.kind() {
        TimedOut | WouldBlock => IoKind::Timeout,
        ConnectionRefused | AddrNotAvailable | NotFound => IoKind::Connect,
        _ => IoKind::Reset,
    }
}

fn ureq_error(e: ureq::Error) -> TaskError {
    let kind = match &e {
        ureq::Error::Timeout(_) => IoKind::Timeout,
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => IoKind::Connect,
        ureq::Error::BodyExceedsLimit(_) => IoKind::TooLarge,
        ureq::Error::StatusCode(s) if *s >= 500 => IoKind::Http5xx,
        ureq::Error::StatusCode(_) => IoKind::Http4xx,
        ureq::Error::Io(io) => io_kind(io),
        ureq::Error::Protocol(_) => IoKind::Reset,
        _ => IoKind::Request,
    };
    io_error(kind, e.to_string())
}

fn reqwest_error(e: reqwest::Error) -> TaskError {
    let kind = if e.is_timeout() {
        IoKind::Timeout
    } else if e.is_connect() {
        IoKind::Connect
    } else if e.is_body() || e.is_request() || e.is_decode() {
        IoKind::Reset
    } else {
        IoKind::Request
    };
    // The top-level message of reqwest is generic; its sources say what happened.
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    io_error(kind, message)
}

fn hyper_error(e: hyper::Error) -> TaskError {
    let kind = if e.is_timeout() {
        IoKind::Timeout
    } else if e.is_incomplete_message() || e.is_closed() || e.is_canceled() {
        IoKind::Reset
    } else {
        match std::error::Error::source(&e).and_then(|s| s.downcast_ref::<io::Error>()) {
            Some(io) => io_kind(io),
            None => IoKind::Reset,
        }
    };
    io_error(kind, e.to_string())
}

#[cfg(test)]
mod tests {
    use std::path::Component;

    use super::*;

    #[test]
    fn file_names_never_leave_the_out_dir() {
        let hostile = [
            "http://127.0.0.1:8080/page/1",
            "http://x/../../etc/passwd",
            "http://x/%2e%2e/%2e%2e/etc/passwd",
            "http://x/a\0b",
            "../../../../etc/passwd",
            "..",
            ".",
            "",
            "/",
            "http://x/\\..\\..\\windows",
            "https://a.example/..%2f..%2f",
            &format!("http://x/{}", "a/".repeat(5000)),
            "http://ünïcödé.example/päth",
        ];
        for url in hostile {
            let name = file_name(url);
            let comps: Vec<_> = Path::new(&name).components().collect();
            assert_eq!(comps.len(), 1, "{url:?} -> {name:?}");
            assert!(
                matches!(comps[0], Component::Normal(_)),
                "{url:?} -> {name:?}"
            );
            assert!(!name.starts_with('.'), "{url:?} -> {name:?}");
            assert!(!name.contains('\0') && !name.contains('/'), "{url:?}");
            assert!(
                name.len() <= 80 + 1 + 16 + 5,
                "{url:?} -> {} chars",
                name.len()
            );
            let joined = Path::new("/out").join(&name);
            assert_eq!(joined.parent(), Some(Path::new("/out")), "{url:?}");
        }
    }

    #[test]
    fn distinct_urls_get_distinct_files() {
        // Same sanitized stem, different URLs.
        assert_ne!(file_name("http://x/a?b"), file_name("http://x/a&b"));
        assert_eq!(file_name("http://x/a"), file_name("http://x/a"));
        assert!(file_name("http://127.0.0.1:9/page/3").starts_with("127.0.0.1_9_page_3-"));
    }

    #[test]
    fn credentials_never_reach_a_file_name() {
        for url in [
            "http://alice:secret@x/p",
            "http://alice@x/p",
            "http://alice:se@cret@x/p",
            "https://alice:secret@x/p",
        ] {
            let name = file_name(url);
            assert!(
                !name.contains("alice") && !name.contains("secret"),
                "{name}"
            );
            let scheme = url.split_once(':').unwrap().0;
            assert_eq!(name, file_name(&format!("{scheme}://x/p")), "{url}");
        }
        // An @ in the path is not a credential.
        assert!(file_name("http://x/a@b").starts_with("x_a_b-"));
    }

    #[test]
    fn statuses_and_io_errors_have_kinds() {
        assert!(check_status(200).is_ok());
        assert_eq!(check_status(503).unwrap_err().kind(), "http_5xx");
        assert_eq!(check_status(404).unwrap_err().kind(), "http_4xx");
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(io_kind(&refused), IoKind::Connect);
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(io_kind(&reset), IoKind::Reset);
    }
}
