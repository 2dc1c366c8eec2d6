//! One request policy for every HTTP client: a raw TCP server on loopback answers the cases on
//! which clients used to disagree (a redirect to another port and to IPv6, a relative one, a
//! redirect loop, a gzip body sent to a client that asked for none, a bad chunked encoding, a
//! body short of its Content-Length, an answer that is not HTTP, an IPv6 literal), and every
//! runtime must come out of them identically: the same tasks succeed with the same bytes, the
//! same tasks fail with the same kind and the same leading reason, and every client sends the
//! same request headers. URLs with credentials are refused before any work, alike. With kept
//! connections, one the server closed while it was idle is reconnected, never a failed task.

use crate::{common, python};

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::Duration;

use asyncstudy::workload::download::file_name;
use common::{RUNTIMES, asyncstudy};
use serde_json::Value;

/// 1,120 bytes of text, gzip-compressed to these 84 bytes.
const GZIP_BODY: [u8; 84] = [
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x4b, 0x54, 0x48, 0xaf, 0xca, 0x2c,
    0xd0, 0x4d, 0xcd, 0x4b, 0xce, 0x4f, 0x49, 0x4d, 0x51, 0x28, 0x48, 0x4c, 0x4f, 0xd5, 0x51, 0x28,
    0x4e, 0xcd, 0x2b, 0x51, 0x28, 0xcf, 0x48, 0x2c, 0x49, 0x2d, 0x4b, 0x2d, 0x52, 0x28, 0xc9, 0x48,
    0x55, 0x48, 0xce, 0xc9, 0x04, 0x89, 0x25, 0x16, 0x67, 0x03, 0x15, 0xa5, 0xe5, 0x17, 0x71, 0x25,
    0x8e, 0xea, 0x1b, 0xd5, 0x37, 0xaa, 0x6f, 0x54, 0x1f, 0x01, 0x7d, 0x00, 0x44, 0xc2, 0xb0, 0x2a,
    0x60, 0x04, 0x00, 0x00,
];

/// The body of `/ok`.
const OK_BODY: &[u8] = b"a plain page\n";
/// The body of `/moved`, where redirects lead.
const MOVED_BODY: &[u8] = b"the page a redirect leads to\n";

/// Where the test's redirects lead: a second IPv4 port, and IPv6 if available.
struct Bases {
    other: String,
    v6: Option<String>,
}

/// Starts a listener on `addr` answering every connection in a thread of its own, with
/// redirects pointing at `bases`; returns its base URL, or `None` if it cannot bind.
fn listen(addr: &str, bases: std::sync::Arc<std::sync::OnceLock<Bases>>) -> Option<String> {
    let listener = TcpListener::bind(addr).ok()?;
    let local = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let bases = bases.clone();
            std::thread::spawn(move || answer(stream, bases.get().unwrap()));
        }
    });
    Some(format!("http://{local}"))
}

/// Reads a request head, up to its blank line; `None` if the connection ends or fails first.
fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// Reads a request head, answers it as its path asks, and closes the connection.
fn answer(mut stream: TcpStream, bases: &Bases) {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let Some(head) = read_head(&mut stream) else {
        return;
    };
    let mut buf = [0; 4096];
    let path = head.split(' ').nth(1).unwrap_or("/").to_string();
    let page = |body: &[u8], extra: &str| {
        let mut out = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body);
        out
    };
    let redirect = |status: &str, to: &str| {
        format!(
            "HTTP/1.1 {status}\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .into_bytes()
    };
    let reply: Vec<u8> = match path.as_str() {
        "/ok" => page(OK_BODY, ""),
        "/moved" => page(MOVED_BODY, ""),
        "/redirect" => redirect("302 Found", &format!("{}/moved", bases.other)),
        "/redirect-v6" => redirect(
            "307 Temporary Redirect",
            &format!("{}/moved", bases.v6.as_deref().unwrap_or("http://[::1]:9")),
        ),
        "/relative" => redirect("301 Moved Permanently", "/moved"),
        "/loop" => redirect("302 Found", "/loop"),
        "/to-credentials" => redirect(
            "302 Found",
            &format!("{}/moved", bases.other.replace("://", "://alice:secret@")),
        ),
        "/to-ftp" => redirect("301 Moved Permanently", "ftp://127.0.0.1/moved"),
        "/no-location" => {
            b"HTTP/1.1 303 See Other\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
        }
        "/gzip" => page(&GZIP_BODY, "Content-Encoding: gzip\r\n"),
        "/headers" => {
            // The request's header lines, sorted, names lower-cased: the page itself shows
            // what the client sent.
            let mut lines: Vec<String> = head
                .lines()
                .skip(1)
                .filter(|l| !l.is_empty())
                .map(|l| {
                    let (name, value) = l.split_once(':').unwrap_or((l, ""));
                    format!("{}: {}", name.to_ascii_lowercase(), value.trim())
                })
                .collect();
            lines.sort();
            page(format!("{}\n", lines.join("\n")).as_bytes(), "")
        }
        "/bad-chunk" => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nhello\r\n0\r\n\r\n".to_vec(),
        "/short" => b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\nonly ten b".to_vec(),
        "/not-http" => b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec(),
        _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
    };
    let _ = stream.write_all(&reply);
    // Close with a FIN after the client has had everything, never a reset: read until it
    // closes its side (or gives up).
    let _ = stream.shutdown(Shutdown::Write);
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}

/// One URL of the test and what every runtime must make of it: `Ok(bytes)` or
/// `Err((kind, leading reason))`.
struct Case {
    url: String,
    want: Result<usize, (&'static str, &'static str)>,
}

/// The request every client must send to `base`: with `Connection: close` when each request
/// has a connection of its own (`--connections new`), without when connections are kept.
fn expected_headers(base: &str, connections: &str) -> String {
    let host = base.strip_prefix("http://").unwrap();
    let close = match connections {
        "new" => "connection: close\n",
        _ => "",
    };
    format!(
        "accept-encoding: identity\naccept: */*\n{close}host: {host}\nuser-agent: asyncstudy/{}\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// Every runtime, and so every client: the Rust runtimes' (reqwest, hyper, ureq) and the
/// Python ones' (urllib, and aiohttp when the tests' interpreter has it).
fn every_client() -> Vec<&'static str> {
    let python = python::PYTHON
        .into_iter()
        .filter(|&rt| rt != "py-asyncio" || python::aiohttp());
    RUNTIMES.into_iter().chain(python).collect()
}

#[test]
fn every_runtime_meets_the_same_answers_with_the_same_outcome() {
    let bases = std::sync::Arc::new(std::sync::OnceLock::new());
    let v4 = listen("127.0.0.1:0", bases.clone()).expect("127.0.0.1 binds");
    let other = listen("127.0.0.1:0", bases.clone()).expect("127.0.0.1 binds");
    let v6 = listen("[::1]:0", bases.clone());
    if v6.is_none() {
        eprintln!("SKIPPED the IPv6 cases: [::1] cannot be bound here");
    }
    let _ = bases.set(Bases {
        other,
        v6: v6.clone(),
    });
    let headers = expected_headers(&v4, "new");
    let mut cases = vec![
        Case {
            url: format!("{v4}/ok"),
            want: Ok(OK_BODY.len()),
        },
        Case {
            url: format!("{v4}/redirect"),
            want: Ok(MOVED_BODY.len()),
        },
        Case {
            url: format!("{v4}/relative"),
            want: Ok(MOVED_BODY.len()),
        },
        Case {
            url: format!("{v4}/loop"),
            want: Err(("redirect", "HTTP 302: more than 5 redirects")),
        },
        Case {
            url: format!("{v4}/to-credentials"),
            want: Err((
                "redirect",
                "HTTP 302: a Location with credentials (user:password@) is refused",
            )),
        },
        Case {
            url: format!("{v4}/to-ftp"),
            want: Err((
                "redirect",
                "HTTP 301: Location \"ftp://127.0.0.1/moved\" is not an http(s) URL",
            )),
        },
        Case {
            url: format!("{v4}/no-location"),
            want: Err(("redirect", "HTTP 303: a redirect without a Location")),
        },
        // Not decompressed by any client: the page is the 84 bytes received.
        Case {
            url: format!("{v4}/gzip"),
            want: Ok(GZIP_BODY.len()),
        },
        Case {
            url: format!("{v4}/headers"),
            want: Ok(headers.len()),
        },
        Case {
            url: format!("{v4}/bad-chunk"),
            want: Err(("protocol", "bad chunked encoding: ")),
        },
        Case {
            url: format!("{v4}/short"),
            want: Err(("reset", "the body ended short of its Content-Length")),
        },
        Case {
            url: format!("{v4}/not-http"),
            want: Err(("protocol", "not an HTTP answer: ")),
        },
    ];
    if let Some(v6) = &v6 {
        cases.push(Case {
            url: format!("{v6}/ok"),
            want: Ok(OK_BODY.len()),
        });
        cases.push(Case {
            url: format!("{v4}/redirect-v6"),
            want: Ok(MOVED_BODY.len()),
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("urls.txt");
    let urls: Vec<&str> = cases.iter().map(|c| c.url.as_str()).collect();
    std::fs::write(&list, urls.join("\n")).unwrap();
    let tasks = cases.len().to_string();
    let want_ok = cases.iter().filter(|c| c.want.is_ok()).count();
    let want_bytes: usize = cases.iter().filter_map(|c| c.want.as_ref().ok()).sum();
    let mut want_errors: BTreeMap<String, u64> = BTreeMap::new();
    for c in &cases {
        if let Err((kind, _)) = c.want {
            *want_errors.entry(kind.to_string()).or_default() += 1;
        }
    }

    let py = python::python();
    for rt in every_client() {
        let out = dir.path().join(format!("out-{rt}"));
        let mut run = asyncstudy();
        run.args(["io", "--runtime", rt, "--workers", "2", "--tasks", &tasks]);
        if python::PYTHON.contains(&rt) {
            run.args(["--python", &py]);
        }
        let run = run
            .args(["--urls", list.to_str().unwrap()])
            .args([
                "--out-dir",
                out.to_str().unwrap(),
                "--keep",
                "--writes",
                "1",
            ])
            // Under the 1,120 bytes the gzip page would decode to: a client that decoded it
            // would fail it as too large.
            .args([
                "--max-page-size",
                "1000",
                "--timeout",
                "30s",
                "--format",
                "json",
            ])
            .timeout(Duration::from_secs(180))
            .output()
            .unwrap();
        assert_eq!(
            run.status.code(),
            Some(0),
            "{rt}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let r: Value = serde_json::from_slice(&run.stdout).unwrap();
        let t = &r["tasks"];
        assert_eq!(t["ok"], want_ok, "{rt}: {t}");
        let errors: BTreeMap<String, u64> = t["errors"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
            .collect();
        assert_eq!(errors, want_errors, "{rt}: {t}");
        assert_eq!(r["bytes_per_run"], want_bytes, "{rt}");
        let failures: BTreeMap<u64, (&str, &str)> = t["failures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["task"].as_u64().unwrap(),
                    (f["kind"].as_str().unwrap(), f["message"].as_str().unwrap()),
                )
            })
            .collect();
        for (i, case) in cases.iter().enumerate() {
            let path = out.join(file_name(&case.url));
            match case.want {
                Ok(bytes) => {
                    assert!(!failures.contains_key(&(i as u64)), "{rt}: {}", case.url);
                    let page = std::fs::read(&path).unwrap();
                    assert_eq!(page.len(), bytes, "{rt}: {}", case.url);
                }
                Err((kind, reason)) => {
                    let (got, message) = failures[&(i as u64)];
                    assert_eq!(got, kind, "{rt}: {}: {message}", case.url);
                    assert!(
                        message.starts_with(reason),
                        "{rt}: {}: {message:?} does not start with {reason:?}",
                        case.url
                    );
                }
            }
        }
        assert_eq!(
            std::fs::read_to_string(out.join(file_name(&format!("{v4}/headers")))).unwrap(),
            headers,
            "{rt} sent other request headers"
        );
        assert_eq!(
            std::fs::read(out.join(file_name(&format!("{v4}/gzip")))).unwrap(),
            GZIP_BODY,
            "{rt} did not write the bytes received"
        );
    }
}

/// A download run of `rt` with kept connections, one task in flight on one worker, over the
/// URLs in `list`, written to `out`, with `extra` arguments; its record.
fn reuse_run(rt: &str, list: &std::path::Path, out: &std::path::Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "io",
        "--runtime",
        rt,
        "--workers",
        "1",
        "--concurrency",
        "1",
    ];
    args.extend([
        "--writes",
        "1",
        "--connections",
        "reuse",
        "--format",
        "json",
    ]);
    args.extend([
        "--urls",
        list.to_str().unwrap(),
        "--out-dir",
        out.to_str().unwrap(),
    ]);
    args.extend(extra);
    common::run_json(&args)
}

#[test]
fn with_kept_connections_no_client_asks_the_server_to_close() {
    let bases = std::sync::Arc::new(std::sync::OnceLock::new());
    let v4 = listen("127.0.0.1:0", bases.clone()).expect("127.0.0.1 binds");
    let _ = bases.set(Bases {
        other: v4.clone(),
        v6: None,
    });
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("urls.txt");
    let url = format!("{v4}/headers");
    std::fs::write(&list, &url).unwrap();
    for rt in RUNTIMES {
        let out = dir.path().join(format!("out-{rt}"));
        let r = reuse_run(rt, &list, &out, &["--tasks", "1", "--keep"]);
        assert_eq!(r["tasks"]["ok"], 1, "{rt}: {}", r["tasks"]);
        assert_eq!(
            std::fs::read_to_string(out.join(file_name(&url))).unwrap(),
            expected_headers(&v4, "reuse"),
            "{rt} sent other request headers on a kept connection"
        );
    }
}

/// Answers one request per connection as if it would keep the connection (no
/// `Connection: close`), then closes it a moment later, as a server does with an idle kept
/// connection; returns the base URL and the count of connections accepted.
fn listen_closing_kept() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let accepted = std::sync::Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                if read_head(&mut stream).is_none() {
                    return;
                }
                let mut buf = [0; 4096];
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
                    OK_BODY.len()
                );
                let _ = stream.write_all(reply.as_bytes());
                let _ = stream.write_all(OK_BODY);
                // The close comes after the client has read the answer and put the connection
                // aside as idle (a close that comes with the answer is seen before the
                // connection is kept, which is the easy case).
                std::thread::sleep(Duration::from_millis(20));
                let _ = stream.shutdown(Shutdown::Write);
                while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
    (base, accepted)
}

#[test]
fn a_kept_connection_the_server_closed_is_not_a_failed_task() {
    // Tasks 500 ms apart (time enough for the server's close, 20 ms after its answer, to
    // arrive even on a loaded machine), one at a time: each finds the connection the task
    // before kept, which the server has closed since; every client must notice and connect
    // again, not fail and not wait for its timeout.
    let (base, accepted) = listen_closing_kept();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("urls.txt");
    std::fs::write(&list, format!("{base}/ok")).unwrap();
    let mut seen = 0;
    for rt in RUNTIMES {
        let out = dir.path().join(format!("out-{rt}"));
        let r = reuse_run(
            rt,
            &list,
            &out,
            &["--tasks", "3", "--rate", "2", "--timeout", "5s"],
        );
        assert_eq!(r["tasks"]["ok"], 3, "{rt}: {}", r["tasks"]);
        let now = accepted.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(now - seen, 3, "{rt}: a connection per task");
        seen = now;
    }
}

#[test]
fn a_url_with_credentials_is_refused_before_any_work_on_every_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("urls.txt");
    std::fs::write(
        &list,
        "http://127.0.0.1:9/ok\nhttp://alice:secret@127.0.0.1:9/private\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let py = python::python();
    for rt in every_client() {
        let mut run = asyncstudy();
        run.args(["io", "--runtime", rt, "--urls", list.to_str().unwrap()])
            .args(["--out-dir", out.to_str().unwrap()]);
        if python::PYTHON.contains(&rt) {
            run.args(["--python", &py]);
        }
        let run = run.output().unwrap();
        let err = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{rt}: {err}");
        assert_eq!(err.lines().count(), 1, "{rt}: {err}");
        assert!(
            err.contains(":2: a URL with credentials (user:password@) is refused"),
            "{rt}: {err}"
        );
        assert!(
            !err.contains("secret") && !err.contains("alice"),
            "{rt}: {err}"
        );
        assert!(run.stdout.is_empty(), "{rt}");
        assert!(!out.exists(), "{rt}: created the out-dir");
    }
}
