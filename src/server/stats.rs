//! The server's account of itself: what it counts while serving ([`Counters`]), its own
//! process's resources on `GET /stats` ([`own_stats`]), and the client side that reads them
//! around a run's measured repeats ([`Probe`]), so the record shows the server's cost beside
//! the client's and a reader can see when the server, not the runtime, was the bottleneck.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;

use crate::model::server::{ServerCost, ServerSide, ServerStats};
use crate::workload::download::tls::Trust;

/// What the server counts while it serves, shared by its connections.
#[derive(Default)]
pub struct Counters {
    /// Connections that carried at least one page request.
    pub connections: AtomicU64,
    /// Page requests.
    pub requests: AtomicU64,
    /// TLS handshakes completed on connections that carried a page request.
    pub tls_handshakes: AtomicU64,
}

impl Counters {
    /// Counts one more of `counter`.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The server process's totals now: `getrusage(RUSAGE_SELF)` (every thread of the server),
/// `VmHWM`, its counters and its CPUs.
pub fn own_stats(counters: &Counters, tls: bool) -> ServerStats {
    // SAFETY: an all-zero rusage is valid, and getrusage only writes into it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid rusage to write into; RUSAGE_SELF cannot fail.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    ServerStats {
        pid: std::process::id(),
        tls,
        user_s: secs(ru.ru_utime),
        sys_s: secs(ru.ru_stime),
        voluntary: ru.ru_nvcsw as u64,
        involuntary: ru.ru_nivcsw as u64,
        peak_rss_bytes: crate::procfs::peak_rss_bytes().unwrap_or(0),
        connections: counters.connections.load(Ordering::Relaxed),
        requests: counters.requests.load(Ordering::Relaxed),
        tls_handshakes: counters.tls_handshakes.load(Ordering::Relaxed),
        cpus: crate::cpus::allowed(),
    }
}

/// Reads a server's `/stats` around a run's measured repeats, on a connection of its own.
#[derive(Clone, Debug)]
pub struct Probe {
    /// `embedded`, `shared` or `remote`, as the record says.
    pub kind: &'static str,
    /// The server's base URL.
    pub url: String,
    /// What the run's clients trust, which the probe trusts too.
    pub trust: Trust,
}

impl Probe {
    /// The server's totals now.
    pub fn read(&self) -> anyhow::Result<ServerStats> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .proxy(None)
            .tls_config(self.trust.ureq_config())
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        let url = format!("{}/stats", self.url);
        let text = agent
            .get(&url)
            .call()
            .with_context(|| format!("could not read {url}"))?
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .with_context(|| format!("could not read {url}"))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{url} is not an asyncstudy server's /stats"))
    }

    /// The record's account of the server, from readings before and after `repeats` measured
    /// repeats of `wall_s` seconds in all; a reading that failed leaves the cost out and says
    /// why in the returned note.
    pub fn side(
        &self,
        before: &anyhow::Result<ServerStats>,
        after: &anyhow::Result<ServerStats>,
        repeats: usize,
        wall_s: f64,
    ) -> (ServerSide, Option<String>) {
        let (cost, note) = match (before, after) {
            (Ok(b), Ok(a)) => match ServerCost::between(b, a, repeats, wall_s) {
                Some(cost) => (Some(cost), None),
                None => (
                    None,
                    Some("the server's /stats readings are not of one server run".into()),
                ),
            },
            (Err(e), _) | (_, Err(e)) => {
                (None, Some(format!("the server's cost is unknown: {e:#}")))
            }
        };
        let tls = self.url.starts_with("https://");
        let side = ServerSide {
            kind: self.kind.into(),
            url: self.url.clone(),
            tls,
            cost,
        };
        (side, note)
    }
}
