//! The hyper 1 client of the futures runtimes (smol, async-std), under the request policy: a
//! connection over the runtime's own `TcpStream` (and futures-rustls for https), one request on
//! it, redirects followed by the caller, every failure classified by [`policy::classify`].
//!
//! With `--connections new` each request gets a connection of its own, closed after it. With
//! `reuse` a finished connection goes back to the run's [`Pool`] (one per runtime: every task
//! of the run shares it), keyed by scheme, host and port, and the next request to that origin
//! takes it instead of connecting. An idle connection needs no task: nobody polls it until it
//! is taken again, so no executor handle is needed. A request is sent again on a new connection
//! only when a kept connection turned out closed before the request went out (hyper hands the
//! request back), as hyper-util's pooled client does; an answer that breaks after the request
//! went out fails the task as it would on a new connection.

use std::collections::HashMap;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper::http::header;

use super::policy::{
    self, Body, Phase, check_status, classify, io_error, next_hop, request_headers, target,
};
use super::{Connections, FuturesRuntime, IoKind, TaskError};

/// A connection kept for another request: its request half and the future that drives it.
pub struct Kept {
    sender: SendRequest<Empty<Bytes>>,
    conn: Pin<Box<dyn Future<Output = hyper::Result<()>> + Send>>,
}

/// The idle connections of one run's hyper clients, by origin.
#[derive(Default)]
pub struct Pool {
    idle: Mutex<HashMap<String, Vec<Kept>>>,
}

impl Pool {
    fn take(&self, origin: &str) -> Option<Kept> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle.get_mut(origin)?.pop()
    }

    fn put(&self, origin: String, kept: Kept) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle.entry(origin).or_default().push(kept);
    }

    /// Closes every idle connection.
    pub fn clear(&self) {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pool")
    }
}

/// Fetches `url` under the policy, following redirects; `pool` keeps connections for reuse.
pub async fn fetch<R: FuturesRuntime>(
    url: &str,
    max: u64,
    tls: &Arc<rustls::ClientConfig>,
    pool: Option<&Pool>,
) -> Result<Vec<u8>, TaskError> {
    let mut url = target(url)?;
    let mut hops = 0;
    loop {
        match fetch_once::<R>(&url, max, hops, tls, pool).await? {
            Hop::Next(next) => (url, hops) = (next, hops + 1),
            Hop::Page(page) => return Ok(page),
        }
    }
}

/// What one request of a task ends in.
enum Hop {
    /// A redirect to follow.
    Next(url::Url),
    /// The page.
    Page(Vec<u8>),
}

/// How an attempt on a connection went wrong.
enum Attempt {
    /// A kept connection was closed before the request went out: try another.
    Closed,
    /// The request failed.
    Failed(TaskError),
}

async fn fetch_once<R: FuturesRuntime>(
    url: &url::Url,
    max: u64,
    hops: usize,
    tls: &Arc<rustls::ClientConfig>,
    pool: Option<&Pool>,
) -> Result<Hop, TaskError> {
    let connections = match pool {
        Some(_) => Connections::Reuse,
        None => Connections::New,
    };
    let origin = format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(80)
    );
    if let Some(pool) = pool {
        while let Some(kept) = pool.take(&origin) {
            match exchange(kept, url, max, hops, true, connections).await {
                Ok((hop, kept)) => {
                    if let Some(kept) = kept {
                        pool.put(origin, kept);
                    }
                    return Ok(hop);
                }
                Err(Attempt::Closed) => continue,
                Err(Attempt::Failed(e)) => return Err(e),
            }
        }
    }
    let kept = connect::<R>(url, tls).await?;
    match exchange(kept, url, max, hops, false, connections).await {
        Ok((hop, kept)) => {
            if let (Some(pool), Some(kept)) = (pool, kept) {
                pool.put(origin, kept);
            }
            Ok(hop)
        }
        Err(Attempt::Failed(e)) => Err(e),
        Err(Attempt::Closed) => Err(io_error(IoKind::Reset, "the connection closed".into())),
    }
}

/// A new connection to `url`'s origin, over TLS for https, with hyper's handshake done.
async fn connect<R: FuturesRuntime>(
    url: &url::Url,
    tls: &Arc<rustls::ClientConfig>,
) -> Result<Kept, TaskError> {
    // The bare address of an IPv6 literal, which `host_str` gives in brackets.
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.to_string(),
        Some(url::Host::Ipv4(a)) => a.to_string(),
        Some(url::Host::Ipv6(a)) => a.to_string(),
        None => return Err(io_error(IoKind::Request, format!("{url}: no host"))),
    };
    let port = url.port_or_known_default().unwrap_or(80);
    let tcp = R::connect(host.clone(), port)
        .await
        .map_err(|e| classify(&e, Phase::Connect))?;
    match url.scheme() {
        "https" => {
            let name = rustls::pki_types::ServerName::try_from(host.clone())
                .map_err(|e| io_error(IoKind::Request, format!("{host}: {e}")))?;
            let tls = futures_rustls::TlsConnector::from(Arc::clone(tls))
                .connect(name, tcp)
                .await
                .map_err(|e| classify(&e, Phase::Connect))?;
            handshake(smol_hyper::rt::FuturesIo::new(tls)).await
        }
        _ => handshake(smol_hyper::rt::FuturesIo::new(tcp)).await,
    }
}

async fn handshake<IO>(io: IO) -> Result<Kept, TaskError>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(io)
        .await
        .map_err(|e| classify(&e, Phase::Answer))?;
    Ok(Kept {
        sender,
        conn: Box::pin(conn),
    })
}

/// A failure inside a hyper exchange: decided already, or hyper's error and where it struck,
/// to be classified once it is known whether the connection has a better reason.
enum Failed {
    Task(TaskError),
    Hyper(hyper::Error, Phase),
    Closed,
}

impl From<TaskError> for Failed {
    fn from(e: TaskError) -> Failed {
        Failed::Task(e)
    }
}

/// The request for `url`: its path and query, `Host` and the policy's headers for
/// `connections`.
fn request(
    url: &url::Url,
    connections: Connections,
) -> Result<hyper::Request<Empty<Bytes>>, TaskError> {
    let authority = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let mut req = hyper::Request::get(path).header(header::HOST, authority);
    for &(name, value) in request_headers(connections) {
        req = req.header(name, value);
    }
    req.body(Empty::<Bytes>::new())
        .map_err(|e| io_error(IoKind::Request, e.to_string()))
}

/// One request on `kept` (a connection taken from the pool when `reused`), and the connection
/// back if it can carry another.
async fn exchange(
    kept: Kept,
    url: &url::Url,
    max: u64,
    hops: usize,
    reused: bool,
    connections: Connections,
) -> Result<(Hop, Option<Kept>), Attempt> {
    let req = request(url, connections).map_err(Attempt::Failed)?;
    let Kept {
        mut sender,
        mut conn,
    } = kept;
    let (done, conn, broken) = {
        let exchange = async {
            if sender.ready().await.is_err() {
                return Err(Failed::Closed);
            }
            let resp =
                sender
                    .try_send_request(req)
                    .await
                    .map_err(|mut e| match e.take_message() {
                        Some(_) => Failed::Closed,
                        None => Failed::Hyper(e.into_error(), Phase::Answer),
                    })?;
            let status = resp.status().as_u16();
            if let Some(next) = next_hop(url, status, resp.headers().get(header::LOCATION), hops)? {
                // The rest of a redirect's body is read, so the connection can be kept.
                let _ = resp.into_body().collect().await;
                return Ok(Hop::Next(next));
            }
            check_status(status)?;
            let mut body = Body::new(max, status, resp.headers());
            let mut incoming = resp.into_body();
            while let Some(frame) = incoming.frame().await {
                let frame = frame.map_err(|e| Failed::Hyper(e, body.phase()))?;
                if let Ok(data) = frame.into_data() {
                    body.push(&data)?;
                }
            }
            Ok(Hop::Page(body.finish()?))
        };
        // The connection is driven here rather than spawned, so the task needs no executor
        // handle. When it ends first, the exchange still says how it went: hyper hands a parse
        // or read error to the request or body waiting for it and ends the connection cleanly;
        // only an error it had nobody to hand to ends the connection with that error.
        let mut exchange = pin!(exchange);
        let first = futures_lite::future::or(async { Ok(exchange.as_mut().await) }, async {
            Err(conn.as_mut().await)
        })
        .await;
        match first {
            Ok(done) => (done, Some(conn), None),
            Err(ended) => {
                // A kept connection the server closed while it was idle ends at its first
                // poll, before it takes the request queued for it; hyper hands such a request
                // back only when the connection is dropped, so it is dropped before the
                // exchange goes on (kept, it would wait for an answer until the timeout).
                drop(conn);
                (exchange.await, None, ended.err())
            }
        }
    };
    let hop = done.map_err(|failed| match (failed, broken) {
        (Failed::Closed, _) if reused => Attempt::Closed,
        (Failed::Closed, _) => Attempt::Failed(io_error(
            IoKind::Reset,
            "the connection closed before the request was sent".into(),
        )),
        (Failed::Task(e), _) => Attempt::Failed(e),
        (Failed::Hyper(_, phase), Some(reason)) => Attempt::Failed(classify(&reason, phase)),
        (Failed::Hyper(e, phase), None) => Attempt::Failed(classify(&e, phase)),
    })?;
    // A connection that ended cannot carry another request.
    Ok((hop, conn.map(|conn| Kept { sender, conn })))
}

/// The policy's timeout around a fetch, on the runtime's timer.
pub async fn with_timeout<R: FuturesRuntime>(
    fetch: impl Future<Output = Result<Vec<u8>, TaskError>>,
    timeout: std::time::Duration,
) -> Result<Vec<u8>, TaskError> {
    futures_lite::future::or(fetch, async move {
        R::sleep(timeout).await;
        Err(policy::timed_out(timeout))
    })
    .await
}
