//! The tokio client path with nothing of the harness around it: the reference the README's
//! client-path figure is measured against.
//!
//! `cargo run --release --example bare_client -- URL REQUESTS CONNECTIONS DIR` does what
//! `asyncstudy io --runtime tokio-mt --server URL --tasks REQUESTS --concurrency CONNECTIONS
//! --writes 1 --out-dir DIR` does for each task — a reqwest GET on a new connection with
//! `Connection: close`, the body read whole, then written to a file with `tokio::fs::write` —
//! on the same multi-thread runtime (a worker per core), but as CONNECTIONS loops with no task
//! records, no arrival clock, no sampler, no request policy and no tokio-metrics. It prints
//! requests per second and the process's CPU time per request. Beside a load generator such as
//! wrk on the same `asyncstudy serve`, it separates what the client stack costs from what the
//! measuring costs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, requests, connections, dir] = args.as_slice() else {
        eprintln!("usage: bare_client URL REQUESTS CONNECTIONS DIR");
        std::process::exit(2);
    };
    let (Ok(requests), Ok(connections)) = (requests.parse::<usize>(), connections.parse()) else {
        eprintln!("error: REQUESTS and CONNECTIONS are whole numbers");
        std::process::exit(2);
    };
    // reqwest's rustls backend wants a crypto provider even for plain http.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .no_proxy()
        .http1_only()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a reqwest client");
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let failed: usize = rt.block_on(async {
        let loops: Vec<_> = (0..connections)
            .map(|_| {
                let (client, next, url, dir) =
                    (client.clone(), next.clone(), url.clone(), dir.clone());
                tokio::spawn(async move {
                    let mut failed = 0;
                    while next.fetch_add(1, Ordering::Relaxed) < requests {
                        let page = async {
                            let resp = client.get(&url).header("connection", "close");
                            resp.send().await?.error_for_status()?.bytes().await
                        };
                        let written = match page.await {
                            // One file per page size, rewritten by every request, as the tool rewrites a page's file.
                            Ok(body) => tokio::fs::write(format!("{dir}/{}", body.len()), body)
                                .await
                                .is_ok(),
                            Err(_) => false,
                        };
                        failed += usize::from(!written);
                    }
                    failed
                })
            })
            .collect();
        let mut failed = 0;
        for l in loops {
            failed += l.await.unwrap_or(0);
        }
        failed
    });
    let wall = start.elapsed().as_secs_f64();
    // SAFETY: getrusage writes into the struct it is given.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cpu = secs(usage.ru_utime) + secs(usage.ru_stime);
    println!(
        "{:.0} requests/s, {:.0} µs of CPU per request, {failed} failed",
        requests as f64 / wall,
        cpu / requests as f64 * 1e6
    );
}
