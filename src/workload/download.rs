//! Seed 001's IO workload: GET a page, then rewrite it to a file `writes` times.
//!
//! Each runtime family fetches with its native client, so no measurement hides another
//! runtime: [`Download::run_blocking`] uses ureq and `std::fs` (threads, rayon, serial,
//! processes), [`Download::run_tokio`] uses reqwest and `tokio::fs`, and
//! [`Download::run_futures`] drives hyper 1 over the runtime's own `TcpStream` (smol,
//! async-std) with its own file API ([`hyper_client`]). Every client follows one request policy
//! with one error classification ([`policy`]) and trusts the same certificates ([`tls`]), so
//! they do the same work and report it alike.
//!
//! [`Connections`] says whether a client opens a new connection per request, as the seed's
//! `urllib.request.urlopen` does (`new`, the default), or keeps connections alive and reuses
//! them, as real clients do (`reuse`): one reqwest `Client` per tokio run, one pool of hyper
//! connections per smol or async-std run, and one ureq `Agent` per process for the runtimes
//! whose tasks block a thread, shared by its threads as ureq intends (a thread pool's workers
//! each hold one of its connections at a time; each worker process has its own). Kept
//! connections live for one repeat: [`Download::forget_connections`] closes them between
//! repeats, so every repeat starts cold whatever the runtime.
//!
//! The file a task writes is named after its URL, sanitized so that no URL can name a path
//! outside the out-dir ([`file_name`]). Every runtime opens it the same way, with its own file
//! API: [`PAGE_OPEN_FLAGS`] so that a symlink in its place is never followed (and a FIFO never
//! blocks the open), then [`check_page_file`] on the opened file, so anything but a regular
//! file is refused. A page name is predictable, so without this a symlink planted under one
//! would make a run overwrite whatever it points at.
//!
//! Why one file over 500 lines: it is the one download task as each client family runs it
//! (blocking, tokio, futures over either runtime's socket) beside the page file they all
//! write, so the three stay the same work; the policy and the clients' plumbing are in
//! `download/`.

pub mod hyper_client;
pub mod policy;
pub mod tls;

use std::future::Future;
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures_lite::{AsyncRead, AsyncWrite};
use hyper::http::header;
use serde::{Deserialize, Serialize};

use super::{IoKind, Outcome, TaskError, TaskResult};
use policy::{
    Body, Deadline, Phase, check_status, classify, io_error, next_hop, request_headers, target,
    with_causes,
};
use tls::Trust;

/// Whether a client opens a new connection per request or keeps them alive for reuse.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Connections {
    /// A new connection per request, closed after it (the seed's `urlopen`).
    #[default]
    New,
    /// Connections kept alive and reused: one client per runtime or per process.
    Reuse,
}

impl Connections {
    /// Both, by command-line name.
    pub const ALL: [Connections; 2] = [Connections::New, Connections::Reuse];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Connections::New => "new",
            Connections::Reuse => "reuse",
        }
    }

    /// Looks one up by name.
    pub fn from_name(name: &str) -> Option<Connections> {
        Connections::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// The clients a process builds for a download, once, and the connections they keep.
#[derive(Default, Debug)]
struct Clients {
    /// The blocking client, shared by the process's threads.
    agent: Mutex<Option<ureq::Agent>>,
    /// The rustls settings of the hyper and reqwest clients.
    tls: OnceLock<Arc<rustls::ClientConfig>>,
    /// The hyper clients' kept connections (`--connections reuse`).
    pool: hyper_client::Pool,
}

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
    /// Limit on connecting, asking and reading the whole body, redirects included.
    pub timeout: Duration,
    /// What the https clients trust.
    #[serde(default)]
    pub trust: Trust,
    /// A new connection per request, or kept ones.
    #[serde(default)]
    pub connections: Connections,
    /// The clients, built once per process; not part of what the work is.
    #[serde(skip)]
    clients: Arc<Clients>,
}

impl PartialEq for Download {
    fn eq(&self, other: &Download) -> bool {
        // The clients are a cache, not part of what the work is.
        (
            &self.urls,
            self.writes,
            &self.out_dir,
            self.max_page_size,
            self.timeout,
            &self.trust,
            self.connections,
        ) == (
            &other.urls,
            other.writes,
            &other.out_dir,
            other.max_page_size,
            other.timeout,
            &other.trust,
            other.connections,
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
            trust: Trust::public_roots(),
            connections: Connections::New,
            clients: Arc::default(),
        }
    }

    /// This download with `trust` for https and `connections`.
    pub fn with_clients(self, trust: Trust, connections: Connections) -> Download {
        Download {
            trust,
            connections,
            ..self
        }
    }

    /// Closes the connections kept from earlier requests, so the next repeat starts cold.
    pub fn forget_connections(&self) {
        *self.lock_agent() = None;
        self.clients.pool.clear();
    }

    fn lock_agent(&self) -> std::sync::MutexGuard<'_, Option<ureq::Agent>> {
        self.clients
            .agent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The rustls settings of the hyper and reqwest clients, built once per process.
    pub fn tls_config(&self) -> Arc<rustls::ClientConfig> {
        self.clients
            .tls
            .get_or_init(|| self.trust.rustls_config())
            .clone()
    }

    /// The blocking client: a new connection per request, or idle ones kept for reuse.
    fn agent(&self) -> ureq::Agent {
        let mut agent = self.lock_agent();
        let kept = match self.connections {
            Connections::New => 0,
            // As many as a run can have in flight; ureq keeps 3 per host by default.
            Connections::Reuse => 100_000,
        };
        agent
            .get_or_insert_with(|| {
                ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    // The policy's redirects are followed below, as for every client.
                    .max_redirects(0)
                    // No proxy from the environment: no other client takes one.
                    .proxy(None)
                    .tls_config(self.trust.ureq_config())
                    .max_idle_connections(kept)
                    .max_idle_connections_per_host(kept)
                    .build()
                    .into()
            })
            .clone()
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
        let agent = self.agent();
        let deadline = Deadline::start(self.timeout);
        let mut url = target(self.url(task))?;
        let mut hops = 0;
        let mut resp = loop {
            let mut req = agent
                .get(url.as_str())
                .config()
                .timeout_global(Some(deadline.left()?))
                .build();
            for &(name, value) in request_headers(self.connections) {
                req = req.header(name, value);
            }
            let resp = req.call().map_err(|e| classify(&e, Phase::Answer))?;
            let status = resp.status().as_u16();
            match next_hop(&url, status, resp.headers().get(header::LOCATION), hops)? {
                Some(next) => (url, hops) = (next, hops + 1),
                None => break resp,
            }
        };
        let status = resp.status().as_u16();
        check_status(status)?;
        let mut body = Body::new(self.max_page_size, status, resp.headers());
        // The policy's limit is applied to the bytes as they come, as for every client.
        let mut reader = resp.body_mut().with_config().limit(u64::MAX).reader();
        let mut buf = vec![0; 64 * 1024];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => body.push(&buf[..n])?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(classify(&e, body.phase())),
            }
        }
        let page = body.finish()?;
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
        let deadline = Deadline::start(self.timeout);
        let mut url = target(self.url(task))?;
        let mut hops = 0;
        let mut resp = loop {
            let mut req = client.get(url.clone()).timeout(deadline.left()?);
            for &(name, value) in request_headers(self.connections) {
                req = req.header(name, value);
            }
            let resp = req.send().await.map_err(|e| classify(&e, Phase::Answer))?;
            let status = resp.status().as_u16();
            match next_hop(&url, status, resp.headers().get(header::LOCATION), hops)? {
                Some(next) => (url, hops) = (next, hops + 1),
                None => break resp,
            }
        };
        let status = resp.status().as_u16();
        check_status(status)?;
        let mut body = Body::new(self.max_page_size, status, resp.headers());
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => body.push(&chunk)?,
                Ok(None) => break,
                Err(e) => return Err(classify(&e, body.phase())),
            }
        }
        let page = body.finish()?;
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
            // Shared, not copied, by each write's trip to the blocking pool.
            let page = bytes::Bytes::from(page);
            for _ in 0..self.writes {
                write_page_tokio(&path, page.clone())
                    .await
                    .map_err(|e| write_error(&path, e))?;
            }
        }
        Ok(Outcome { bytes })
    }

    /// hyper 1 over the runtime `R`'s own sockets, timer and files.
    pub async fn run_futures<R: FuturesRuntime>(&self, task: usize) -> TaskResult {
        let tls = self.tls_config();
        let pool = (self.connections == Connections::Reuse).then_some(&self.clients.pool);
        let fetch = hyper_client::fetch::<R>(self.url(task), self.max_page_size, &tls, pool);
        let page = hyper_client::with_timeout::<R>(fetch, self.timeout).await?;
        let path = self.path(task);
        let bytes = page.len() as u64;
        // Shared, not copied, by each write's trip to the blocking pool, as on tokio.
        let page = bytes::Bytes::from(page);
        for _ in 0..self.writes {
            R::write_file(&path, page.clone())
                .await
                .map_err(|e| write_error(&path, e))?;
        }
        Ok(Outcome { bytes })
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
    /// Makes `bytes` the whole content of the page file `path`: [`write_page`] on the
    /// runtime's own blocking pool, in one hop, as the runtime's `fs::write` does (async-fs's
    /// `write` is `unblock(std::fs::write)`). Opening, checking and writing through the
    /// runtime's async file handle instead would cost a hop per step, which `fs::write` does
    /// not, and the comparison would measure the file API rather than the runtime. The page
    /// is shared with the blocking pool, not copied for each write.
    fn write_file(path: &Path, bytes: bytes::Bytes) -> impl Future<Output = io::Result<()>> + Send;
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
        "of another kind"
    };
    Err(io::Error::other(format!(
        "not a regular file ({what}); a page is only written to a regular file"
    )))
}

/// Makes `bytes` the whole content of the page file `path`: opened (created or truncated) with
/// [`PAGE_OPEN_FLAGS`], refused by [`check_page_file`] unless it is a regular file, then
/// written. Every runtime writes pages with it, the async ones on their blocking pools.
pub fn write_page(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(PAGE_OPEN_FLAGS)
        .open(path)?;
    check_page_file(&file.metadata()?)?;
    file.write_all(bytes)
}

/// [`write_page`] on tokio's blocking pool in one hop, as `tokio::fs::write` does.
async fn write_page_tokio(path: &Path, bytes: bytes::Bytes) -> io::Result<()> {
    let path = path.to_path_buf();
    match tokio::task::spawn_blocking(move || write_page(&path, &bytes)).await {
        Ok(done) => done,
        Err(e) => Err(io::Error::other(format!("the write was cancelled: {e}"))),
    }
}

/// Makes ring the process's TLS provider, which reqwest (built without one) needs. Idempotent.
pub fn install_tls_provider() {
    // An error means a provider is installed already, which is all that is needed.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Download {
    /// The reqwest client of a tokio run: one per run, so with `reuse` every task of the run
    /// shares its connections.
    pub fn reqwest_client(&self) -> anyhow::Result<reqwest::Client> {
        install_tls_provider();
        let kept = match self.connections {
            Connections::New => 0,
            Connections::Reuse => usize::MAX,
        };
        reqwest::Client::builder()
            .timeout(self.timeout)
            .pool_max_idle_per_host(kept)
            .no_proxy()
            // The same rustls settings as the hyper clients: these roots, HTTP/1.1.
            .tls_backend_preconfigured((*self.tls_config()).clone())
            .http1_only()
            // The policy's redirects are followed by the task, as for every client.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| anyhow::anyhow!("could not build the HTTP client: {e}"))
    }
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
}
