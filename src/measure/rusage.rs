//! Process resource usage: CPU time, peak memory, context switches, thread and process counts.
//!
//! CPU and context switches come from `getrusage` for this process and for its reaped children.
//! Peak memory comes from `VmHWM` in `/proc/self/status`, the high-water mark of this process
//! image: `ru_maxrss` survives `fork` and `execve`, so under `cargo run` it reported cargo's
//! 77 MiB and, for children, a rustc's 650 MiB. The parent reads each worker's `VmHWM` before it retires it.
//! Thread and process counts have no kernel-kept peak, so a sampler thread reads `/proc` while
//! the run goes on and keeps the largest value it saw.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// One `getrusage` reading.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// User CPU time in nanoseconds.
    pub user_ns: u64,
    /// System CPU time in nanoseconds.
    pub sys_ns: u64,
    /// Peak resident set size in bytes (the kernel keeps only the maximum, never a current value).
    pub max_rss_bytes: u64,
    /// Voluntary context switches.
    pub voluntary: u64,
    /// Involuntary context switches.
    pub involuntary: u64,
}

impl Usage {
    /// Reads the usage of this process (`RUSAGE_SELF`) or of its reaped children.
    pub fn read(children: bool) -> Usage {
        let who = if children {
            libc::RUSAGE_CHILDREN
        } else {
            libc::RUSAGE_SELF
        };
        // SAFETY: an all-zero rusage is a valid value, and getrusage only writes into it.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `ru` is a valid out-pointer; with a valid `who` getrusage cannot fail.
        unsafe { libc::getrusage(who, &mut ru) };
        let ns = |tv: libc::timeval| tv.tv_sec as u64 * 1_000_000_000 + tv.tv_usec as u64 * 1_000;
        Usage {
            user_ns: ns(ru.ru_utime),
            sys_ns: ns(ru.ru_stime),
            max_rss_bytes: if children {
                // Polluted by whatever the ancestors reaped (see the module doc); the
                // executors that have children report their peaks themselves.
                0
            } else {
                // Linux reports ru_maxrss in kilobytes.
                peak_rss_bytes().unwrap_or(ru.ru_maxrss as u64 * 1024)
            },
            voluntary: ru.ru_nvcsw as u64,
            involuntary: ru.ru_nivcsw as u64,
        }
    }

    /// What was used between `earlier` and `self`; peak RSS is the later peak, not a difference.
    pub fn since(&self, earlier: &Usage) -> Usage {
        Usage {
            user_ns: self.user_ns.saturating_sub(earlier.user_ns),
            sys_ns: self.sys_ns.saturating_sub(earlier.sys_ns),
            max_rss_bytes: self.max_rss_bytes,
            voluntary: self.voluntary.saturating_sub(earlier.voluntary),
            involuntary: self.involuntary.saturating_sub(earlier.involuntary),
        }
    }
}

/// This process image's peak resident set size (`VmHWM`), if `/proc` says.
pub fn peak_rss_bytes() -> Option<u64> {
    vm_hwm("/proc/self/status")
}

/// A live process's peak resident set size (`VmHWM`), if `/proc` says.
pub fn peak_rss_of(pid: u32) -> Option<u64> {
    vm_hwm(&format!("/proc/{pid}/status"))
}

fn vm_hwm(path: &str) -> Option<u64> {
    let status = std::fs::read_to_string(path).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Usage of this process and of its children at one instant.
#[derive(Clone, Copy, Debug, Default)]
pub struct UsagePair {
    /// `RUSAGE_SELF`.
    pub own: Usage,
    /// `RUSAGE_CHILDREN`.
    pub children: Usage,
}

impl UsagePair {
    /// Reads both now.
    pub fn now() -> UsagePair {
        UsagePair {
            own: Usage::read(false),
            children: Usage::read(true),
        }
    }

    /// Both differences since `earlier`.
    pub fn since(&self, earlier: &UsagePair) -> UsagePair {
        UsagePair {
            own: self.own.since(&earlier.own),
            children: self.children.since(&earlier.children),
        }
    }
}

/// Peak thread and process counts seen by a [`Sampler`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Peaks {
    /// Most threads alive at once in this process, the sampler's own thread not counted.
    pub threads: u64,
    /// Most processes alive at once: this one plus its live children.
    pub processes: u64,
    /// Names of the threads seen, trailing digits dropped (`asyncstudy-pool-`), so a record
    /// shows which runtimes' threads existed: a smol run must show no tokio thread.
    pub thread_names: BTreeSet<String>,
}

/// Samples thread and child-process counts from `/proc` until stopped.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<Peaks>>,
}

/// How often the sampler looks. A look costs about 30 µs of CPU here (procfs renders the stat
/// and children files on each read), so every 5 ms it is 0.6% of one core: on a 2-core machine
/// a 2 ms period cost the parallel runtimes a measurable share of their efficiency.
const SAMPLE_EVERY: Duration = Duration::from_millis(5);

impl Sampler {
    /// Starts sampling on a thread of its own.
    pub fn start() -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name("asyncstudy-sampler".into())
            .spawn(move || {
                let mut peaks = Peaks::default();
                let mut named_at = 0;
                for look in 0u64.. {
                    let threads = thread_count().saturating_sub(1);
                    peaks.threads = peaks.threads.max(threads);
                    // Children and names cost a procfs read per thread: with hundreds of
                    // threads, reading them every 5 ms took most of a core in system time. So
                    // the more threads, the less often; names also when the count changed.
                    let stopping = flag.load(Ordering::Relaxed);
                    let every = (threads / PER_THREAD_LOOK).max(1);
                    if look % every == 0 || stopping {
                        peaks.processes = peaks.processes.max(1 + child_count());
                    }
                    let changed = threads != named_at && threads <= PER_THREAD_LOOK;
                    if changed || look % (NAMES_EVERY * every) == 0 || stopping {
                        thread_names(&mut peaks.thread_names);
                        named_at = threads;
                    }
                    if stopping {
                        break;
                    }
                    std::thread::sleep(SAMPLE_EVERY);
                }
                peaks
            })
            .ok();
        Sampler { stop, handle }
    }

    /// Stops sampling and returns the peaks; zero counts if the sampler could not start.
    pub fn stop(mut self) -> Peaks {
        self.stop.store(true, Ordering::Relaxed);
        let last = sample();
        let seen = self
            .handle
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        Peaks {
            threads: seen.threads.max(last.threads),
            processes: seen.processes.max(last.processes),
            thread_names: seen.thread_names,
        }
    }
}

/// Threads whose procfs files one look may read before looks at them get rarer.
const PER_THREAD_LOOK: u64 = 32;

/// Looks at thread names every this many samples.
const NAMES_EVERY: u64 = 10;

/// Most threads whose names one look reads: a pool of thousands has few distinct names.
const NAMES_READ: usize = 256;

/// Adds the names of (up to [`NAMES_READ`]) live threads to `names`, trailing digits dropped.
fn thread_names(names: &mut BTreeSet<String>) {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return;
    };
    for t in tasks.flatten().take(NAMES_READ) {
        if let Ok(comm) = std::fs::read_to_string(t.path().join("comm")) {
            let name = comm
                .trim_end()
                .trim_end_matches(|c: char| c.is_ascii_digit());
            // The kernel keeps 15 bytes of a name: the sampler is "asyncstudy-samp".
            if !name.starts_with("asyncstudy-samp") {
                names.insert(name.to_string());
            }
        }
    }
}

/// Current thread and process counts, the sampler thread excluded.
fn sample() -> Peaks {
    Peaks {
        threads: thread_count().saturating_sub(1),
        processes: 1 + child_count(),
        thread_names: BTreeSet::new(),
    }
}

/// Threads in this process, from field 20 of `/proc/self/stat`.
pub fn thread_count() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0;
    };
    // The command name (field 2) may contain spaces and parentheses; fields after the last ')'
    // are plain. num_threads is field 20, the 18th after the name.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(17))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Live children of every thread of this process, from `/proc/self/task/*/children`.
fn child_count() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .map(|c| c.split_whitespace().count() as u64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_grows_with_work() {
        let before = Usage::read(false);
        let mut x = 0u64;
        for i in 0..50_000_000u64 {
            x = std::hint::black_box(x.wrapping_add(i));
        }
        let used = Usage::read(false).since(&before);
        assert!(used.user_ns + used.sys_ns > 0, "{used:?}, {x}");
        assert!(used.max_rss_bytes > 0);
    }

    #[test]
    fn sampler_sees_extra_threads() {
        let sampler = Sampler::start();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let base = thread_count();
        let extra: Vec<_> = (0..3)
            .map(|_| {
                let rx_done = tx.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(30));
                    drop(rx_done);
                })
            })
            .collect();
        drop(tx);
        assert!(rx.recv().is_err());
        for t in extra {
            t.join().unwrap();
        }
        let peaks = sampler.stop();
        // The test harness runs other tests beside this one, so only a lower bound is certain.
        assert!(
            peaks.threads >= 4,
            "main thread plus 3: peak {peaks:?}, base {base}"
        );
        assert!(peaks.processes >= 1);
    }

    #[test]
    fn sampler_counts_children() {
        let sampler = Sampler::start();
        let mut child = std::process::Command::new("sleep")
            .arg("0.1")
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let peaks = sampler.stop();
        child.wait().unwrap();
        assert!(peaks.processes >= 2, "{peaks:?}");
    }
}
