//! Monotonic nanoseconds shared across processes.
//!
//! Every timestamp in a run record comes from `CLOCK_MONOTONIC`. Unlike `Instant`, its raw
//! value is the same clock in every process on the machine, so a worker process can report
//! its own start and end times and they land on the parent's timeline unchanged.

/// Nanoseconds on `CLOCK_MONOTONIC`, comparable across processes on this machine.
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC is always supported on Linux,
    // so the call cannot fail and its return value carries no information.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// A duration as a command line takes it, in its shortest exact unit (`20s`, `50ms`, `1500us`),
/// so a rendered command line reads like one a user would type and parses back exactly.
pub fn duration_arg(d: std::time::Duration) -> String {
    match d.as_nanos() {
        ns if ns % 1_000_000_000 == 0 => format!("{}s", ns / 1_000_000_000),
        ns if ns % 1_000_000 == 0 => format!("{}ms", ns / 1_000_000),
        ns if ns % 1_000 == 0 => format!("{}us", ns / 1_000),
        ns => format!("{ns}ns"),
    }
}

/// Milliseconds from `origin_ns` to `ns`, for timelines; 0 if `ns` is before the origin.
pub fn ms_since(origin_ns: u64, ns: u64) -> f64 {
    ns.saturating_sub(origin_ns) as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_nanoseconds_of_the_clock_std_measures_with() {
        // Two readings around std's own: on the same clock, in nanoseconds, they span at
        // least what std saw, however long the machine kept this thread waiting. A CPU-time
        // clock or a coarser unit would span less than the 20 ms sleep.
        let before = now_ns();
        let started = std::time::Instant::now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let seen = started.elapsed().as_nanos() as u64;
        let after = now_ns();
        assert!(seen >= 20_000_000, "{seen}");
        assert!(
            after - before >= seen,
            "{} ns around {seen}",
            after - before
        );
    }

    #[test]
    fn ms_since_is_relative_and_saturating() {
        assert_eq!(ms_since(1_000_000, 3_500_000), 2.5);
        assert_eq!(ms_since(5, 1), 0.0);
    }
}
