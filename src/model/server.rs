//! The server a download run fetched from, as the run record tells it: where it was, whether
//! it spoke TLS, and what serving cost it ([`ServerSide`]), from the server's own account of
//! itself on its `/stats` path ([`ServerStats`]).

use serde::{Deserialize, Serialize};

use super::run::{ContextSwitches, CpuUsage};

/// What an embedded server's `GET /stats` answers: its own process's totals since it started.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ServerStats {
    /// The server's process id.
    pub pid: u32,
    /// Whether it serves https.
    pub tls: bool,
    /// User CPU time of the server process (`getrusage(RUSAGE_SELF)`), seconds.
    pub user_s: f64,
    /// System CPU time of the server process, seconds.
    pub sys_s: f64,
    /// Voluntary context switches of the server process.
    pub voluntary: u64,
    /// Involuntary context switches of the server process.
    pub involuntary: u64,
    /// The server process's peak resident set size (`VmHWM`), bytes.
    pub peak_rss_bytes: u64,
    /// Connections accepted that carried at least one page request.
    pub connections: u64,
    /// Page requests received.
    pub requests: u64,
    /// TLS handshakes completed on connections that carried a page request (0 without TLS).
    pub tls_handshakes: u64,
    /// The CPUs the server may run on (its affinity).
    pub cpus: Vec<usize>,
}

/// The server a download run fetched from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ServerSide {
    /// `embedded` (started for this run), `shared` (started by a comparison for all its
    /// cells) or `remote` (`--server URL`, an `asyncstudy serve` started by someone else,
    /// possibly on another host).
    pub kind: String,
    /// Its base URL.
    pub url: String,
    /// Whether the pages came over https.
    pub tls: bool,
    /// What serving the measured repeats cost the server process, from its `/stats` read just
    /// before the first measured repeat and just after the last; `None` if it could not be
    /// read (the notes say why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<ServerCost>,
}

/// The server process's own cost over the measured repeats, per repeat as the client's figures
/// are. Its CPU time and switches include answering the second `/stats` request (well under a
/// millisecond of CPU); its counts do not.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ServerCost {
    /// The server process's CPU time per repeat (`getrusage(RUSAGE_SELF)` of that process);
    /// `cores_used` is over the client's measured wall time.
    pub cpu: CpuUsage,
    /// The server process's context switches per repeat.
    pub context_switches: ContextSwitches,
    /// The server process's peak RSS since it started (a shared server's covers every cell so
    /// far), bytes.
    pub peak_rss_bytes: u64,
    /// Connections per repeat that carried at least one page request: with `--connections
    /// new` one per request, with `reuse` about one per worker or runtime.
    pub connections: u64,
    /// Page requests per repeat.
    pub requests: u64,
    /// TLS handshakes per repeat (of connections that carried a page request).
    pub tls_handshakes: u64,
    /// The CPUs the server may run on.
    pub cpus: Vec<usize>,
}

impl ServerCost {
    /// The cost between two readings of one server over `repeats` repeats of `wall_s` seconds
    /// in all; `None` if they are not of one server (its pid changed or a counter went back).
    pub fn between(
        before: &ServerStats,
        after: &ServerStats,
        repeats: usize,
        wall_s: f64,
    ) -> Option<ServerCost> {
        let went_back = after.requests < before.requests
            || after.connections < before.connections
            || after.voluntary < before.voluntary
            || after.user_s < before.user_s;
        if before.pid != after.pid || went_back || repeats == 0 {
            return None;
        }
        let n = repeats as u64;
        let (user, sys) = (after.user_s - before.user_s, after.sys_s - before.sys_s);
        Some(ServerCost {
            cpu: CpuUsage {
                user_s: user / repeats as f64,
                sys_s: sys.max(0.0) / repeats as f64,
                cores_used: if wall_s > 0.0 {
                    (user + sys.max(0.0)) / wall_s
                } else {
                    0.0
                },
            },
            context_switches: ContextSwitches {
                voluntary: (after.voluntary - before.voluntary) / n,
                involuntary: after.involuntary.saturating_sub(before.involuntary) / n,
            },
            peak_rss_bytes: after.peak_rss_bytes,
            connections: (after.connections - before.connections) / n,
            requests: (after.requests - before.requests) / n,
            tls_handshakes: after.tls_handshakes.saturating_sub(before.tls_handshakes) / n,
            cpus: after.cpus.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cost_is_per_repeat_between_two_readings_of_one_server() {
        let before = ServerStats {
            pid: 7,
            user_s: 1.0,
            sys_s: 0.5,
            voluntary: 100,
            involuntary: 10,
            connections: 4,
            requests: 40,
            tls_handshakes: 4,
            ..ServerStats::default()
        };
        let after = ServerStats {
            user_s: 1.4,
            sys_s: 0.7,
            voluntary: 160,
            involuntary: 12,
            peak_rss_bytes: 9 << 20,
            connections: 8,
            requests: 60,
            tls_handshakes: 8,
            cpus: vec![1],
            ..before.clone()
        };
        let cost = ServerCost::between(&before, &after, 2, 3.0).unwrap();
        assert!((cost.cpu.user_s - 0.2).abs() < 1e-9, "{cost:?}");
        assert!((cost.cpu.sys_s - 0.1).abs() < 1e-9, "{cost:?}");
        assert!((cost.cpu.cores_used - 0.2).abs() < 1e-9, "{cost:?}");
        assert_eq!(cost.context_switches.voluntary, 30);
        assert_eq!((cost.connections, cost.requests), (2, 10));
        assert_eq!((cost.tls_handshakes, cost.peak_rss_bytes), (2, 9 << 20));
        // Another server's reading, or none measured, is no cost.
        let restarted = ServerStats {
            pid: 8,
            ..after.clone()
        };
        assert!(ServerCost::between(&before, &restarted, 2, 3.0).is_none());
        assert!(ServerCost::between(&after, &before, 2, 3.0).is_none());
        assert!(ServerCost::between(&before, &after, 0, 3.0).is_none());
    }
}
