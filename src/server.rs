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

use std::convert::Infallible;
use std::io::{self, Write};
use std::net::SocketAddr;
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
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Exp, LogNormal};
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
        }
    }

    /// The command-line arguments that give a `serve` child these options.
    pub fn to_args(&self) -> Vec<String> {
        let mut args = vec!["--bind".into(), self.bind.to_string()];
        args.extend(self.page_args());
        args
    }

    /// The arguments that say what pages are served (all but `--bind`), which `serve`, `io`
    /// and `mixed` share.
    pub fn page_args(&self) -> Vec<String> {
        vec![
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
        ]
    }
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions::new()
    }
}

/// The distribution of answer delays, each with the configured latency as its mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LatencyDist {
    /// Always the latency.
    Fixed,
    /// Uniform between 0 and twice the latency.
    Uniform,
    /// Exponential: many short waits, a long tail.
    Exp,
    /// Log-normal with σ = 1: a heavier tail, like real servers.
    Lognormal,
}

impl LatencyDist {
    /// Every distribution, by command-line name.
    pub const ALL: [LatencyDist; 4] = [
        LatencyDist::Fixed,
        LatencyDist::Uniform,
        LatencyDist::Exp,
        LatencyDist::Lognormal,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            LatencyDist::Fixed => "fixed",
            LatencyDist::Uniform => "uniform",
            LatencyDist::Exp => "exp",
            LatencyDist::Lognormal => "lognormal",
        }
    }

    /// Looks a distribution up by name.
    pub fn from_name(name: &str) -> Option<LatencyDist> {
        LatencyDist::ALL.into_iter().find(|d| d.name() == name)
    }
}

/// What the server does with one request.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fate {
    Page,
    Error,
    Reset,
    Stall,
}

/// The draws of one server: delays and fates, from one seeded generator.
struct Dice {
    rng: StdRng,
    opts: ServeOptions,
}

impl Dice {
    fn roll(&mut self) -> (Duration, Fate) {
        let mean = self.opts.latency.as_secs_f64();
        let delay = match self.opts.latency_dist {
            LatencyDist::Fixed => mean,
            LatencyDist::Uniform => self.rng.random_range(0.0..=2.0 * mean),
            LatencyDist::Exp => match Exp::new(1.0 / mean) {
                Ok(d) => d.sample(&mut self.rng),
                Err(_) => 0.0,
            },
            LatencyDist::Lognormal => {
                // Mean of a log-normal is exp(mu + sigma²/2); pick mu so it is `mean`.
                let sigma = 1.0;
                match LogNormal::new(
                    mean.max(f64::MIN_POSITIVE).ln() - sigma * sigma / 2.0,
                    sigma,
                ) {
                    Ok(d) => d.sample(&mut self.rng),
                    Err(_) => 0.0,
                }
            }
        };
        let r: f64 = self.rng.random();
        let o = &self.opts;
        let fate = if r < o.error_rate {
            Fate::Error
        } else if r < o.error_rate + o.reset_rate {
            Fate::Reset
        } else if r < o.error_rate + o.reset_rate + o.stall_rate {
            Fate::Stall
        } else {
            Fate::Page
        };
        (Duration::from_secs_f64(delay.clamp(0.0, 3600.0)), fate)
    }
}

/// The body of page `n` at `size` bytes: HTML that names the page, the same on every run.
pub fn page_body(n: u64, size: usize) -> Vec<u8> {
    let head =
        format!("<!doctype html>\n<html><head><title>asyncstudy page {n}</title></head><body>\n");
    let tail = "</body></html>\n";
    let mut body = Vec::with_capacity(size);
    body.extend_from_slice(head.as_bytes());
    let mut line = 0u64;
    while body.len() < size.saturating_sub(tail.len()) {
        body.extend_from_slice(
            format!("<p>page {n} line {line}: the quick brown fox jumps over the lazy dog</p>\n")
                .as_bytes(),
        );
        line += 1;
    }
    body.truncate(size.saturating_sub(tail.len()));
    body.extend_from_slice(tail.as_bytes());
    body.truncate(size);
    body
}

/// The page number a `/page/{rest}` path names: the number itself, or for anything else a
/// hash of it, so every path under `/page/` has a page (tests send hostile ones).
pub fn page_number(rest: &str) -> u64 {
    rest.parse().unwrap_or_else(|_| {
        // FNV-1a: stable across runs and builds, unlike std's hasher.
        rest.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
        })
    })
}

/// A `serve` child process started for a run, stopped when dropped.
pub struct EmbeddedServer {
    child: crate::child::Child,
    /// Its base URL, `http://127.0.0.1:PORT`.
    pub url: String,
}

impl EmbeddedServer {
    /// Starts `program serve` with `opts` and reads the address from its first line.
    pub fn start(program: &std::path::Path, opts: &ServeOptions) -> anyhow::Result<EmbeddedServer> {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
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
        let mut line = String::new();
        let read = io::BufReader::new(stdout).read_line(&mut line);
        let url = match (read, line.trim().strip_prefix("listening on ")) {
            (Ok(_), Some(url)) => url.to_string(),
            // Dropping the child kills and reaps it.
            _ => anyhow::bail!("the embedded server did not start (it printed {line:?})"),
        };
        Ok(EmbeddedServer { child, url })
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for EmbeddedServer {
    /// Closing its stdin tells the server to exit; it is killed if it has not within 2 s.
    fn drop(&mut self) {
        self.child
            .stop(crate::child::Ask::CloseStdin, Duration::from_secs(2));
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

/// Binds, prints the address, and serves until stdin closes.
pub fn serve(opts: &ServeOptions) -> anyhow::Result<()> {
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
        let mut out = io::stdout().lock();
        writeln!(out, "listening on http://{addr}")
            .and_then(|()| out.flush())
            .context("could not print the address")?;
        drop(out);
        let dice = Arc::new(Mutex::new(Dice {
            rng: StdRng::seed_from_u64(opts.seed),
            opts: opts.clone(),
        }));
        let page_size = opts.page_size;
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
                let dice = Arc::clone(&dice);
                tokio::spawn(async move {
                    let service = service_fn(move |req| answer(req, Arc::clone(&dice), page_size));
                    let _ = http1::Builder::new()
                        .timer(TokioTimer::new())
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        };
        futures_lite::future::or(accept, async {
            let _ = stdin_closed.await;
        })
        .await;
        Ok(())
    })
}

async fn answer(
    req: Request<Incoming>,
    dice: Arc<Mutex<Dice>>,
    page_size: usize,
) -> Result<Response<Full<Bytes>>, InjectedReset> {
    let Some(rest) = req.uri().path().strip_prefix("/page/") else {
        return Ok(plain(StatusCode::NOT_FOUND, "pages are at /page/{n}\n"));
    };
    let n = page_number(rest);
    let (delay, fate) = dice
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .roll();
    tokio::time::sleep(delay).await;
    match fate {
        Fate::Page => Ok(Response::builder()
            .header("content-type", "text/html; charset=utf-8")
            .body(Full::new(Bytes::from(page_body(n, page_size))))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_exactly_the_size_asked_and_the_same_every_time() {
        for size in [0, 10, 100, 16 * 1024, 100_000] {
            let p = page_body(7, size);
            assert_eq!(p.len(), size);
            assert_eq!(p, page_body(7, size));
        }
        let p = String::from_utf8(page_body(3, 4096)).unwrap();
        assert!(p.starts_with("<!doctype html>"));
        assert!(p.ends_with("</body></html>\n"));
        assert!(p.contains("asyncstudy page 3"));
        assert_ne!(page_body(3, 4096), page_body(4, 4096));
    }

    #[test]
    fn every_path_under_page_has_a_number() {
        assert_eq!(page_number("42"), 42);
        assert_eq!(page_number("..%2F..%2Fetc"), page_number("..%2F..%2Fetc"));
        assert_ne!(page_number("a"), page_number("b"));
    }

    #[test]
    fn fates_follow_the_rates_and_delays_the_mean() {
        let mut opts = ServeOptions::new();
        opts.error_rate = 0.1;
        opts.reset_rate = 0.05;
        opts.stall_rate = 0.02;
        opts.latency = Duration::from_millis(100);
        for dist in LatencyDist::ALL {
            opts.latency_dist = dist;
            let mut dice = Dice {
                rng: StdRng::seed_from_u64(7),
                opts: opts.clone(),
            };
            let n = 20_000;
            let mut counts = [0usize; 4];
            let mut total = 0.0;
            for _ in 0..n {
                let (d, fate) = dice.roll();
                total += d.as_secs_f64();
                counts[fate as usize] += 1;
            }
            let share = |k: usize| counts[k] as f64 / n as f64;
            assert!(
                (share(1) - 0.10).abs() < 0.01,
                "{dist:?} errors {}",
                share(1)
            );
            assert!(
                (share(2) - 0.05).abs() < 0.01,
                "{dist:?} resets {}",
                share(2)
            );
            assert!(
                (share(3) - 0.02).abs() < 0.01,
                "{dist:?} stalls {}",
                share(3)
            );
            let mean = total / n as f64;
            assert!((mean - 0.1).abs() < 0.01, "{dist:?} mean delay {mean}");
        }
    }
}
