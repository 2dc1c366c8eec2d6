//! The embedded HTTP server (`asyncstudy serve`): deterministic pages with a chosen latency and
//! chosen faults, so the IO study runs offline and the same way on every machine.
//!
//! It is a hyper HTTP/1.1 server on a tokio current-thread runtime, started by `io` as a child
//! process so that the measured process holds only the client. Like mini-redis's server it is
//! given a bound listener and a shutdown signal: here the end of its stdin, so it never outlives
//! the `asyncstudy` that started it. It prints `listening on http://ADDR` as its first line.
//!
//! `/page/{n}` answers with `page_size` bytes of HTML after a delay drawn from the latency
//! distribution, unless the draw says to fail: a 503 (`error_rate`), a connection closed without
//! an answer (`reset_rate`), or no answer at all until the client gives up (`stall_rate`).
//!
//! With `--tls` it serves https with a self-signed certificate it makes at start ([`tls`]) and
//! prints `certificate PATH` as its second line. `/stats` answers the server process's own CPU
//! time, context switches, peak RSS and connection counts as JSON ([`stats`]), which a run
//! reads before and after its measured repeats. `--cpus` pins the server to CPUs.

mod pages;
pub mod stats;
pub mod tls;

use pages::{Dice, Fate};
pub use pages::{LatencyDist, page_body, page_number};

use std::convert::Infallible;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

/// How the server behaves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServeOptions {
    /// Where to listen; port 0 picks a free one.
    pub bind: SocketAddr,
    /// Bytes per page.
    pub page_size: usize,
    /// Mean delay before answering.
    pub latency: Duration,
    /// How delays vary around the mean.
    pub latency_dist: LatencyDist,
    /// Share of requests answered 503.
    pub error_rate: f64,
    /// Share of requests whose connection is closed without an answer.
    pub reset_rate: f64,
    /// Share of requests never answered.
    pub stall_rate: f64,
    /// Seed of the draws, so a run's faults and delays repeat.
    pub seed: u64,
    /// Serve https with a self-signed certificate made at start.
    pub tls: bool,
    /// Where the certificate (PEM) is written; `None` for a file in the temporary directory,
    /// removed when the server exits.
    pub cert_out: Option<PathBuf>,
    /// Names and addresses the certificate is for besides loopback and the bound address.
    pub cert_names: Vec<String>,
    /// The CPUs the server is pinned to; `None` leaves it where the OS puts it.
    pub cpus: Option<Vec<usize>>,
}

impl ServeOptions {
    /// The defaults: a 16 KiB page (near a real web page's HTML) after 50 ms, no faults.
    pub fn new() -> ServeOptions {
        ServeOptions {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            page_size: 16 * 1024,
            latency: Duration::from_millis(50),
            latency_dist: LatencyDist::Fixed,
            error_rate: 0.0,
            reset_rate: 0.0,
            stall_rate: 0.0,
            seed: 1,
            tls: false,
            cert_out: None,
            cert_names: Vec::new(),
            cpus: None,
        }
    }

    /// The command-line arguments that give a `serve` child these options.
    pub fn to_args(&self) -> Vec<String> {
        let mut args = vec!["--bind".into(), self.bind.to_string()];
        args.extend(self.page_args());
        if let Some(path) = &self.cert_out {
            args.extend(["--cert-out".into(), path.display().to_string()]);
        }
        for name in &self.cert_names {
            args.extend(["--cert-name".into(), name.clone()]);
        }
        if let Some(cpus) = &self.cpus {
            args.extend(["--cpus".into(), crate::cpus::show(cpus)]);
        }
        args
    }

    /// The arguments that say what pages are served and how (all but where it listens, its
    /// certificate file and its CPUs), which `serve`, `io` and `mixed` share.
    pub fn page_args(&self) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "--page-size".into(),
            self.page_size.to_string(),
            "--latency".into(),
            crate::clock::duration_arg(self.latency),
            "--latency-dist".into(),
            self.latency_dist.name().into(),
            "--error-rate".into(),
            self.error_rate.to_string(),
            "--reset-rate".into(),
            self.reset_rate.to_string(),
            "--stall-rate".into(),
            self.stall_rate.to_string(),
            "--seed".into(),
            self.seed.to_string(),
        ];
        if self.tls {
            args.push("--tls".into());
        }
        args
    }
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions::new()
    }
}

/// A `serve` child process started for a run, stopped when dropped.
pub struct EmbeddedServer {
    child: crate::child::Child,
    /// Its base URL, `http://127.0.0.1:PORT` (`https://` with TLS).
    pub url: String,
    /// The certificate it serves (PEM), with TLS.
    pub cert: Option<PathBuf>,
    /// The temporary directory the certificate is in, removed after the server stops.
    cert_dir: Option<tempfile::TempDir>,
}

impl EmbeddedServer {
    /// Starts `program serve` with `opts` and reads the address from its first line (and with
    /// TLS, the certificate's path from its second).
    pub fn start(program: &std::path::Path, opts: &ServeOptions) -> anyhow::Result<EmbeddedServer> {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
        let mut opts = opts.clone();
        let mut cert_dir = None;
        if opts.tls && opts.cert_out.is_none() {
            let dir = tempfile::Builder::new()
                .prefix("asyncstudy-cert-")
                .tempdir()
                .context("could not create a directory for the server's certificate")?;
            opts.cert_out = Some(dir.path().join("cert.pem"));
            cert_dir = Some(dir);
        }
        let mut child = crate::child::Child::spawn(
            Command::new(program)
                .arg("serve")
                .args(opts.to_args())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit()),
        )
        .context("could not start the embedded server")?;
        let stdout = child.take_stdout().expect("stdout was piped");
        let mut lines = io::BufReader::new(stdout);
        let mut line = String::new();
        let read = lines.read_line(&mut line);
        let url = match (read, line.trim().strip_prefix("listening on ")) {
            (Ok(_), Some(url)) => url.to_string(),
            // Dropping the child kills and reaps it.
            _ => anyhow::bail!("the embedded server did not start (it printed {line:?})"),
        };
        let cert = if opts.tls {
            let mut line = String::new();
            let read = lines.read_line(&mut line);
            match (read, line.trim().strip_prefix("certificate ")) {
                (Ok(_), Some(path)) => Some(PathBuf::from(path)),
                _ => {
                    anyhow::bail!("the embedded server named no certificate (it printed {line:?})")
                }
            }
        } else {
            None
        };
        Ok(EmbeddedServer {
            child,
            url,
            cert,
            cert_dir,
        })
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for EmbeddedServer {
    /// Closing its stdin tells the server to exit; it is killed if it has not within 2 s. The
    /// certificate's directory goes after it.
    fn drop(&mut self) {
        self.child
            .stop(crate::child::Ask::CloseStdin, Duration::from_secs(2));
        drop(self.cert_dir.take());
    }
}

/// Why a request got no answer: hyper closes the connection when a service fails.
#[derive(Debug, thiserror::Error)]
#[error("injected reset")]
struct InjectedReset;

/// Connections a burst may queue before the server accepts them. tokio's default (1024) is
/// below what `--concurrency 1000` plus keep-alive reconnects opens at once; an overflowing
/// accept queue drops the SYN and the client retries after one second, which showed up as
/// 1 s latencies. The kernel caps it at `net.core.somaxconn`.
const BACKLOG: u32 = 4096;

fn listen(addr: SocketAddr) -> io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// What every connection of the server shares.
struct Shared {
    dice: Mutex<Dice>,
    page_size: usize,
    counters: stats::Counters,
    tls: bool,
}

/// Pins the server, makes its certificate if it serves TLS, binds, prints the address (and the
/// certificate's path), and serves until stdin closes.
pub fn serve(opts: &ServeOptions) -> anyhow::Result<()> {
    if let Some(cpus) = &opts.cpus {
        // Before the runtime and the stdin thread exist, so they inherit it.
        crate::cpus::pin_process(cpus).context("--cpus: could not pin the server")?;
    }
    let identity = opts
        .tls
        .then(|| tls::identity(opts.bind, &opts.cert_names))
        .transpose()?;
    let acceptor = match &identity {
        Some(id) => Some(tokio_rustls::TlsAcceptor::from(id.server_config()?)),
        None => None,
    };
    // Without --cert-out, a file of this process's own, removed when it exits.
    let cert_path = identity.as_ref().map(|_| {
        opts.cert_out.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("asyncstudy-serve-{}.pem", std::process::id()))
        })
    });
    if let (Some(id), Some(path)) = (&identity, &cert_path) {
        id.write_cert(path)
            .with_context(|| format!("--cert-out {}", path.display()))?;
    }
    let served = serve_until_stdin_closes(opts, acceptor, cert_path.as_deref());
    if let (None, Some(path)) = (&opts.cert_out, &cert_path) {
        let _ = std::fs::remove_file(path);
    }
    served
}

fn serve_until_stdin_closes(
    opts: &ServeOptions,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    cert: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    // One thread: the server shares the machine with the runtime being measured, and a
    // multi-thread server measured no faster at 1,000 connections on 2 cores.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not build the server's runtime")?;
    rt.block_on(async {
        let listener =
            listen(opts.bind).with_context(|| format!("--bind {}: could not listen", opts.bind))?;
        let addr = listener.local_addr().context("no local address")?;
        // Started before the address is printed: a parent that reads it may take every thread
        // the OS still allows, and a server that cannot watch its stdin must not have said it
        // was up.
        let (closed, stdin_closed) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("asyncstudy-serve-stdin".into())
            .spawn(move || {
                let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
                let _ = closed.send(());
            })
            .context("could not watch stdin")?;
        let scheme = if acceptor.is_some() { "https" } else { "http" };
        let mut out = io::stdout().lock();
        writeln!(out, "listening on {scheme}://{addr}")
            .and_then(|()| match cert {
                Some(path) => writeln!(out, "certificate {}", path.display()),
                None => Ok(()),
            })
            .and_then(|()| out.flush())
            .context("could not print the address")?;
        drop(out);
        let shared = Arc::new(Shared {
            dice: Mutex::new(Dice {
                rng: StdRng::seed_from_u64(opts.seed),
                opts: opts.clone(),
            }),
            page_size: opts.page_size,
            counters: stats::Counters::default(),
            tls: acceptor.is_some(),
        });
        let accept = async {
            loop {
                let stream = match listener.accept().await {
                    Ok((stream, _)) => stream,
                    // Out of file descriptors or similar: the client will see its connect fail.
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                tokio::spawn(connection(stream, acceptor.clone(), Arc::clone(&shared)));
            }
        };
        futures_lite::future::or(accept, async {
            let _ = stdin_closed.await;
        })
        .await;
        Ok(())
    })
}

/// Serves one accepted connection, over TLS if there is an acceptor, with keep-alive.
async fn connection(
    stream: tokio::net::TcpStream,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
) {
    let carried_a_page = Arc::new(AtomicBool::new(false));
    let service = {
        let shared = Arc::clone(&shared);
        service_fn(move |req| answer(req, Arc::clone(&shared), Arc::clone(&carried_a_page)))
    };
    let http = http1::Builder::new()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .clone();
    match acceptor {
        None => {
            let _ = http.serve_connection(TokioIo::new(stream), service).await;
        }
        Some(acceptor) => {
            // A client that refuses the certificate ends here, with nothing served.
            let Ok(tls) = acceptor.accept(stream).await else {
                return;
            };
            let _ = http.serve_connection(TokioIo::new(tls), service).await;
        }
    }
}

async fn answer(
    req: Request<Incoming>,
    shared: Arc<Shared>,
    carried_a_page: Arc<AtomicBool>,
) -> Result<Response<Full<Bytes>>, InjectedReset> {
    if req.uri().path() == "/stats" {
        let stats = stats::own_stats(&shared.counters, shared.tls);
        let json = serde_json::to_vec(&stats).expect("stats are plain numbers");
        return Ok(Response::builder()
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(json)))
            .expect("a static header is valid"));
    }
    let Some(rest) = req.uri().path().strip_prefix("/page/") else {
        return Ok(plain(StatusCode::NOT_FOUND, "pages are at /page/{n}\n"));
    };
    let counters = &shared.counters;
    stats::Counters::bump(&counters.requests);
    if !carried_a_page.swap(true, std::sync::atomic::Ordering::Relaxed) {
        stats::Counters::bump(&counters.connections);
        if shared.tls {
            // Counted with the connection's first page, so the server's own /stats readings
            // are never in it.
            stats::Counters::bump(&counters.tls_handshakes);
        }
    }
    let n = page_number(rest);
    let (delay, fate) = shared
        .dice
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .roll();
    tokio::time::sleep(delay).await;
    match fate {
        Fate::Page => Ok(Response::builder()
            .header("content-type", "text/html; charset=utf-8")
            .body(Full::new(Bytes::from(page_body(n, shared.page_size))))
            .expect("a static header is valid")),
        Fate::Error => Ok(plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "injected error (--error-rate)\n",
        )),
        Fate::Reset => Err(InjectedReset),
        Fate::Stall => {
            // No answer: the client's timeout ends the request, stdin's end ends the server.
            std::future::pending::<Infallible>().await;
            unreachable!("a pending future never completes")
        }
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = status;
    r
}
