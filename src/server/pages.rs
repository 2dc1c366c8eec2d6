//! What the embedded server answers on `/page/{n}`: each page's body, and the seeded draws of
//! its delay and fate (a page, a 503, a reset or a stall).

use std::time::Duration;

use rand::RngExt;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Exp, LogNormal};
use serde::{Deserialize, Serialize};

use super::ServeOptions;

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
pub(super) enum Fate {
    Page,
    Error,
    Reset,
    Stall,
}

/// The draws of one server: delays and fates, from one seeded generator.
pub(super) struct Dice {
    pub(super) rng: StdRng,
    pub(super) opts: ServeOptions,
}

impl Dice {
    pub(super) fn roll(&mut self) -> (Duration, Fate) {
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

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

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
