//! The one request policy and the one error classification of every `download` client, so that
//! comparing runtimes compares runtimes, not HTTP clients.
//!
//! reqwest, ureq and hyper each have defaults of their own (headers, redirects, decompression,
//! proxies, credentials, how a broken answer is reported). Each client here turns those off and
//! does what this module decides instead:
//!
//! - **Request**: `GET` of the URL as the `url` crate normalizes it, with `Host` and
//!   [`request_headers`] and nothing else; no proxy, no cookies; a new connection per request
//!   or kept ones, as `--connections` says, for every client alike.
//! - **Decompression**: none. `Accept-Encoding: identity` asks for none, and a body that comes
//!   compressed anyway is the bytes received, counted and limited (`--max-page-size`) as
//!   received, and written as received.
//! - **Redirects**: 301, 302, 303, 307 and 308 with a `Location` are followed, at most
//!   [`MAX_REDIRECTS`] times, by [`next_hop`], with a new `GET` (to any host, port, scheme or
//!   address family). A redirect that cannot be followed (no or a bad `Location`, another
//!   scheme, credentials, one too many) fails the task as `redirect`, as does an answer in the
//!   3xx range that is not a redirect. `--timeout` covers all hops together ([`Deadline`]).
//! - **Addresses**: host names, IPv4 and IPv6 literals (`http://[::1]:8080/`) alike.
//! - **Credentials**: a URL with `user:password@` is refused (urls files reject it up front,
//!   [`target`] and [`next_hop`] refuse it here), so no client sends or drops them its own way.
//! - **Errors**: [`classify`] maps any client's error to one [`IoKind`] by what happened, and
//!   the message starts with a phrase that is the same for every client (`not an HTTP answer`,
//!   `bad chunked encoding`, `the body ended short of its Content-Length`, `the TLS handshake
//!   failed`, ...) followed by the client's own chain of reasons. A failed handshake is `tls`
//!   whichever client saw it.

use std::error::Error;
use std::io;
use std::time::{Duration, Instant};

use hyper::http::{HeaderMap, HeaderValue, header};
use url::Url;

use super::Connections;
use crate::workload::{IoKind, TaskError};

/// The headers every client sends with every request on a connection of its own
/// (`--connections new`), besides `Host`. `Connection: close` says so to the server, as the
/// seeds' `urlopen` does: the server closes the connection once it has answered, instead of
/// waiting for a next request that never comes until the client hangs up.
pub const REQUEST_HEADERS: [(&str, &str); 4] = [
    (
        "user-agent",
        concat!("asyncstudy/", env!("CARGO_PKG_VERSION")),
    ),
    ("accept", "*/*"),
    // No client decompresses, so none asks for compression.
    ("accept-encoding", "identity"),
    ("connection", "close"),
];

/// The headers every client sends with every request, besides `Host`: [`REQUEST_HEADERS`],
/// without `Connection: close` when connections are kept (`--connections reuse`).
pub fn request_headers(connections: Connections) -> &'static [(&'static str, &'static str)] {
    match connections {
        Connections::New => &REQUEST_HEADERS,
        Connections::Reuse => &REQUEST_HEADERS[..3],
    }
}

/// Redirects a task follows; one more fails it with `redirect`.
pub const MAX_REDIRECTS: usize = 5;

/// The URL a task asks for first: http or https with a host and no credentials, normalized
/// by the `url` crate so every client sends the same request line.
pub fn target(url: &str) -> Result<Url, TaskError> {
    let mut parsed =
        Url::parse(url).map_err(|e| io_error(IoKind::Request, format!("not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(io_error(
            IoKind::Request,
            format!("{parsed}: not an http(s) URL with a host"),
        ));
    }
    if has_credentials(&parsed) {
        return Err(io_error(
            IoKind::Request,
            "a URL with credentials (user:password@) is refused".into(),
        ));
    }
    // A fragment never goes to the server.
    parsed.set_fragment(None);
    Ok(parsed)
}

/// Where an answer with `status` and `location` to a request for `from` sends the client
/// next, after `hops` redirects: `None` when it is the final answer.
pub fn next_hop(
    from: &Url,
    status: u16,
    location: Option<&HeaderValue>,
    hops: usize,
) -> Result<Option<Url>, TaskError> {
    if !matches!(status, 301 | 302 | 303 | 307 | 308) {
        return Ok(None);
    }
    let refuse = |why: String| io_error(IoKind::Redirect, format!("HTTP {status}: {why}"));
    let location = location.ok_or_else(|| refuse("a redirect without a Location".into()))?;
    let location = location
        .to_str()
        .map_err(|_| refuse("a Location that is not ASCII text".into()))?;
    let mut next = from
        .join(location)
        .map_err(|e| refuse(format!("Location {location:?} is not a URL: {e}")))?;
    next.set_fragment(None);
    if !matches!(next.scheme(), "http" | "https") || next.host().is_none() {
        return Err(refuse(format!(
            "Location {location:?} is not an http(s) URL with a host"
        )));
    }
    if has_credentials(&next) {
        return Err(refuse(
            "a Location with credentials (user:password@) is refused".into(),
        ));
    }
    if hops >= MAX_REDIRECTS {
        return Err(refuse(format!(
            "more than {MAX_REDIRECTS} redirects (the next to {next})"
        )));
    }
    Ok(Some(next))
}

fn has_credentials(url: &Url) -> bool {
    !url.username().is_empty() || url.password().is_some()
}

/// The outcome of a final answer's status: 2xx is a page, anything else fails the task.
pub fn check_status(status: u16) -> Result<(), TaskError> {
    match status {
        200..=299 => Ok(()),
        300..=399 => Err(io_error(
            IoKind::Redirect,
            format!("HTTP {status}, which is not a redirect that can be followed"),
        )),
        400..=499 => Err(io_error(IoKind::Http4xx, format!("HTTP {status}"))),
        500..=599 => Err(io_error(IoKind::Http5xx, format!("HTTP {status}"))),
        _ => Err(io_error(IoKind::Request, format!("HTTP {status}"))),
    }
}

/// When a task's `--timeout` runs out: it covers connecting, asking and reading the body of
/// every hop together, whichever client asks.
pub struct Deadline {
    end: Instant,
    timeout: Duration,
}

impl Deadline {
    /// A deadline `timeout` from now.
    pub fn start(timeout: Duration) -> Deadline {
        Deadline {
            end: Instant::now() + timeout,
            timeout,
        }
    }

    /// The time left for the next request, or the task's `timeout` failure if none is.
    pub fn left(&self) -> Result<Duration, TaskError> {
        let left = self.end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(timed_out(self.timeout))
        } else {
            Ok(left)
        }
    }
}

/// The failure of a task whose answer did not complete within `timeout`.
pub fn timed_out(timeout: Duration) -> TaskError {
    io_error(
        IoKind::Timeout,
        format!("{TIMED_OUT} ({})", humantime::format_duration(timeout)),
    )
}

const TIMED_OUT: &str = "no complete answer within --timeout";

/// A body as it arrives: the page so far, limited by `--max-page-size` on the bytes received,
/// and what the headers announced, which says what a body that breaks off means.
pub struct Body {
    bytes: Vec<u8>,
    max: u64,
    length: Option<u64>,
    chunked: bool,
}

impl Body {
    /// The body of an answer with `status` and `headers`, at most `max` bytes.
    pub fn new(max: u64, status: u16, headers: &HeaderMap) -> Body {
        let chunked = headers
            .get_all(header::TRANSFER_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .is_some_and(|c| c.trim().eq_ignore_ascii_case("chunked"));
        let length = match status {
            // These never have a body, whatever their headers say.
            204 | 304 => Some(0),
            _ if chunked => None,
            _ => headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok()),
        };
        Body {
            bytes: Vec::new(),
            max,
            length,
            chunked,
        }
    }

    /// Appends the next bytes received.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), TaskError> {
        if (self.bytes.len() + chunk.len()) as u64 > self.max {
            return Err(io_error(
                IoKind::TooLarge,
                format!("the body is over --max-page-size ({} bytes)", self.max),
            ));
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// Where reading this body stands, for [`classify`].
    pub fn phase(&self) -> Phase {
        Phase::Body {
            chunked: self.chunked,
            length: self.length,
            received: self.bytes.len() as u64,
        }
    }

    /// The page, once the client says the body is over; a body short of its announced length
    /// fails even if a client let it pass.
    pub fn finish(self) -> Result<Vec<u8>, TaskError> {
        match self.length {
            Some(n) if (self.bytes.len() as u64) < n => {
                Err(io_error(IoKind::Reset, self.phase().broke()))
            }
            _ => Ok(self.bytes),
        }
    }
}

/// How far an exchange had got when its client failed, which decides what the failure means.
#[derive(Clone, Copy, Debug)]
pub enum Phase {
    /// Resolving, connecting, TLS.
    Connect,
    /// Sending the request and reading the status line and headers.
    Answer,
    /// Reading the body of an answer whose headers arrived.
    Body {
        /// `Transfer-Encoding: chunked`.
        chunked: bool,
        /// The `Content-Length`, if one framed the body.
        length: Option<u64>,
        /// Bytes received before the failure.
        received: u64,
    },
}

impl Phase {
    /// What a connection that ended or broke at this point means.
    fn broke(self) -> String {
        match self {
            Phase::Connect => "could not connect".into(),
            Phase::Answer => "the connection closed without an answer".into(),
            Phase::Body {
                length: Some(n),
                received,
                ..
            } => format!(
                "the body ended short of its Content-Length ({received} of {n} bytes received)"
            ),
            Phase::Body { chunked: true, .. } => "the body ended before its last chunk".into(),
            Phase::Body { .. } => "the connection broke during the body".into(),
        }
    }

    /// What an answer the client could not parse means at this point.
    fn malformed(self) -> String {
        match self {
            Phase::Connect | Phase::Answer => "not an HTTP answer".into(),
            Phase::Body { chunked: true, .. } => "bad chunked encoding".into(),
            Phase::Body { .. } => "a malformed body".into(),
        }
    }
}

/// The one classification of every client's errors (reqwest, ureq, hyper and the IO errors
/// under them): the first link of `e`'s chain that says what happened decides the kind and a
/// phrase the same for every client; the message is that phrase and then the whole chain.
pub fn classify(e: &(dyn Error + 'static), phase: Phase) -> TaskError {
    // A failed handshake is `tls` whichever client saw it and wherever in its chain it sits:
    // reqwest calls it a connect error first, the others wrap rustls's error in an IO error.
    if let Some(tls) = tls_failure(e) {
        return io_error(
            IoKind::Tls,
            format!("{TLS_FAILED} ({tls}): {}", with_causes(e)),
        );
    }
    let (mut kind, mut what) = diagnose(e, phase).unwrap_or_else(|| match phase {
        Phase::Connect => (IoKind::Connect, phase.broke()),
        // Nothing names the cause: the connection went away in some way the clients do not
        // tell apart.
        _ => (IoKind::Reset, phase.broke()),
    });
    // Whatever stops a connection from being made is a connect failure, unless time ran out.
    if matches!(phase, Phase::Connect) && !matches!(kind, IoKind::Timeout | IoKind::Tls) {
        (kind, what) = (IoKind::Connect, phase.broke());
    }
    io_error(kind, format!("{what}: {}", with_causes(e)))
}

const TLS_FAILED: &str = "the TLS handshake failed";

/// rustls's error anywhere in `e`'s chain, inside IO errors too, or ureq's own TLS error.
fn tls_failure(e: &(dyn Error + 'static)) -> Option<String> {
    let mut link = Some(e);
    while let Some(l) = link {
        if let Some(t) = l.downcast_ref::<rustls::Error>() {
            return Some(t.to_string());
        }
        // ureq's errors have no sources: its IO error is looked into here.
        let io = match l.downcast_ref::<ureq::Error>() {
            Some(ureq::Error::Rustls(t)) => return Some(t.to_string()),
            Some(ureq::Error::Tls(t)) => return Some(t.to_string()),
            Some(ureq::Error::Io(io)) => Some(io),
            _ => l.downcast_ref::<io::Error>(),
        };
        if let Some(found) = io.and_then(io::Error::get_ref).and_then(|e| tls_failure(e)) {
            return Some(found);
        }
        link = l.source();
    }
    None
}

/// The kind and phrase the first telling link of `e`'s chain gives.
fn diagnose(e: &(dyn Error + 'static), phase: Phase) -> Option<(IoKind, String)> {
    let mut link = Some(e);
    while let Some(l) = link {
        if let Some(found) = diagnose_link(l, phase) {
            return Some(found);
        }
        link = l.source();
    }
    None
}

fn diagnose_link(l: &(dyn Error + 'static), phase: Phase) -> Option<(IoKind, String)> {
    let timeout = || (IoKind::Timeout, TIMED_OUT.to_string());
    if let Some(e) = l.downcast_ref::<reqwest::Error>() {
        if e.is_timeout() {
            return Some(timeout());
        }
        if e.is_connect() {
            return Some((IoKind::Connect, Phase::Connect.broke()));
        }
        // Its sources (hyper's error, an IO error) say more.
        return None;
    }
    if let Some(e) = l.downcast_ref::<ureq::Error>() {
        // ureq's errors have no sources: each variant is all there is.
        return Some(match e {
            ureq::Error::Timeout(_) => timeout(),
            ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => {
                (IoKind::Connect, Phase::Connect.broke())
            }
            ureq::Error::Io(io) => {
                diagnose_io(io, phase).unwrap_or_else(|| (IoKind::Reset, phase.broke()))
            }
            ureq::Error::Protocol(_) => (IoKind::Protocol, phase.malformed()),
            ureq::Error::Tls(_) | ureq::Error::Rustls(_) => (IoKind::Tls, TLS_FAILED.into()),
            ureq::Error::BodyExceedsLimit(_) => (IoKind::TooLarge, "the body is too large".into()),
            _ => (IoKind::Request, "the request failed".into()),
        });
    }
    if let Some(e) = l.downcast_ref::<hyper::Error>() {
        if e.is_timeout() {
            return Some(timeout());
        }
        if e.is_parse() {
            return Some((IoKind::Protocol, phase.malformed()));
        }
        if e.is_incomplete_message() {
            return Some((IoKind::Reset, phase.broke()));
        }
        // A body error says what went wrong in its source.
        return None;
    }
    if let Some(e) = l.downcast_ref::<io::Error>() {
        // An IO error may wrap a client's error (ureq's body reader does), whose cause comes
        // first; `source` skips what an IO error wraps.
        if let Some(found) = e.get_ref().and_then(|inner| diagnose_link(inner, phase)) {
            return Some(found);
        }
        return diagnose_io(e, phase);
    }
    None
}

fn diagnose_io(e: &io::Error, phase: Phase) -> Option<(IoKind, String)> {
    use io::ErrorKind::*;
    match e.kind() {
        TimedOut | WouldBlock => Some((IoKind::Timeout, TIMED_OUT.to_string())),
        ConnectionRefused | AddrNotAvailable | HostUnreachable | NetworkUnreachable | NotFound => {
            Some((IoKind::Connect, Phase::Connect.broke()))
        }
        UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe => {
            Some((IoKind::Reset, phase.broke()))
        }
        // While a body is read, invalid data is its framing (hyper's chunk decoder says so
        // with these kinds).
        InvalidData | InvalidInput if matches!(phase, Phase::Body { .. }) => {
            Some((IoKind::Protocol, phase.malformed()))
        }
        _ => None,
    }
}

/// An error with the errors it wraps: async-std's file errors say only "could not write to
/// file" and keep the operating system's reason (No space left on device) as their source;
/// reqwest's top-level message is generic and its sources say what happened.
pub fn with_causes(e: &(dyn Error + 'static)) -> String {
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

/// A download failure of `kind`.
pub fn io_error(kind: IoKind, message: String) -> TaskError {
    TaskError::Io { kind, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn kind(r: Result<impl std::fmt::Debug, TaskError>) -> &'static str {
        r.unwrap_err().kind()
    }

    #[test]
    fn redirects_are_followed_to_the_limit_and_refused_beyond_it() {
        let from = url("http://127.0.0.1:8080/a/b");
        let loc = |s: &'static str| HeaderValue::from_static(s);
        for status in [301, 302, 303, 307, 308] {
            let next = next_hop(&from, status, Some(&loc("/c#frag")), 0).unwrap();
            assert_eq!(next.unwrap().as_str(), "http://127.0.0.1:8080/c");
        }
        let v6 = next_hop(&from, 302, Some(&loc("http://[::1]:9/x")), 4).unwrap();
        assert_eq!(v6.unwrap().host_str(), Some("[::1]"));
        assert!(next_hop(&from, 200, None, 0).unwrap().is_none());
        assert!(next_hop(&from, 304, Some(&loc("/c")), 0).unwrap().is_none());
        for (status, location, hops) in [
            (302, Some(loc("/c")), MAX_REDIRECTS),
            (302, None, 0),
            (301, Some(loc("ftp://x/")), 0),
            (301, Some(loc("http://alice:secret@x/")), 0),
            (301, Some(loc("http://[::1")), 0),
        ] {
            let err = next_hop(&from, status, location.as_ref(), hops).unwrap_err();
            assert_eq!(err.kind(), "redirect", "{err}");
            assert!(!err.to_string().contains("secret"), "{err}");
        }
        assert_eq!(kind(check_status(304)), "redirect");
    }

    #[test]
    fn targets_are_http_without_credentials() {
        assert_eq!(
            target("http://[::1]:8080/p?q#f").unwrap().as_str(),
            "http://[::1]:8080/p?q"
        );
        assert_eq!(kind(target("http://alice:secret@x/")), "request");
        assert_eq!(kind(target("ftp://x/")), "request");
    }

    #[test]
    fn statuses_have_kinds() {
        assert!(check_status(200).is_ok());
        assert_eq!(kind(check_status(503)), "http_5xx");
        assert_eq!(kind(check_status(404)), "http_4xx");
        assert_eq!(kind(check_status(199)), "request");
    }

    #[test]
    fn io_errors_are_classified_by_what_happened_and_where() {
        let body = Phase::Body {
            chunked: false,
            length: Some(100),
            received: 10,
        };
        let chunked = Phase::Body {
            chunked: true,
            length: None,
            received: 0,
        };
        let cases = [
            (
                io::ErrorKind::ConnectionRefused,
                Phase::Connect,
                "connect",
                "could not connect",
            ),
            (
                io::ErrorKind::PermissionDenied,
                Phase::Connect,
                "connect",
                "could not connect",
            ),
            (
                io::ErrorKind::TimedOut,
                Phase::Connect,
                "timeout",
                "no complete answer",
            ),
            (
                io::ErrorKind::ConnectionReset,
                Phase::Answer,
                "reset",
                "without an answer",
            ),
            (
                io::ErrorKind::UnexpectedEof,
                body,
                "reset",
                "10 of 100 bytes",
            ),
            (
                io::ErrorKind::InvalidData,
                chunked,
                "protocol",
                "bad chunked encoding",
            ),
            (
                io::ErrorKind::Other,
                Phase::Answer,
                "reset",
                "without an answer",
            ),
        ];
        for (io_kind, phase, want, phrase) in cases {
            let e = io::Error::new(io_kind, "the reason");
            let got = classify(&e, phase);
            assert_eq!(got.kind(), want, "{io_kind:?} {phase:?}: {got}");
            let msg = got.to_string();
            assert!(msg.starts_with(phrase) || msg.contains(phrase), "{msg}");
            assert!(msg.ends_with("the reason"), "the cause is kept: {msg}");
        }
        // A refused certificate is `tls` however a client wraps it, even while connecting.
        let refused = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let got = classify(&refused, Phase::Connect);
        assert_eq!(got.kind(), "tls", "{got}");
        assert!(
            got.to_string().starts_with("the TLS handshake failed"),
            "{got}"
        );
        let via_ureq = ureq::Error::Io(refused);
        assert_eq!(classify(&via_ureq, Phase::Answer).kind(), "tls");
        // A client's error wrapped in an IO error is found (ureq's body reader does this).
        let wrapped = io::Error::other(ureq::Error::Timeout(ureq::Timeout::Global));
        assert_eq!(classify(&wrapped, body).kind(), "timeout");
    }

    #[test]
    fn a_body_short_of_its_length_fails_even_if_the_client_let_it_pass() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("5"));
        let mut b = Body::new(100, 200, &headers);
        b.push(b"abc").unwrap();
        assert_eq!(b.finish().unwrap_err().kind(), "reset");
        let mut b = Body::new(4, 200, &headers);
        assert_eq!(b.push(b"abcde").unwrap_err().kind(), "too_large");
        headers.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("gzip, chunked"),
        );
        let b = Body::new(100, 200, &headers);
        assert!(matches!(
            b.phase(),
            Phase::Body {
                chunked: true,
                length: None,
                ..
            }
        ));
    }
}
