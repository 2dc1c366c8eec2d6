//! Process resource usage: CPU time, peak memory, context switches, thread and process counts.
//!
//! CPU and context switches come from `getrusage` for this process and for its reaped children.
//! Peak memory comes from `VmHWM` in `/proc/self/status`, the high-water mark of this process
//! image: `ru_maxrss` survives `fork` and `execve`, so under `cargo run` it reported cargo's
//! 77 MiB and, for children, a rustc's 650 MiB. The parent reads each worker's `VmHWM` before it retires it.
//! Thread and process counts have no kernel-kept peak, so a sampler thread reads `/proc` while
//! the run goes on and keeps the largest value it saw. It reads its own usage (`RUSAGE_THREAD`)
//! after its last look, so a run can leave the sampler's CPU time and wake-ups out of its own.

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
        let ru = getrusage(who);
        Usage {
            max_rss_bytes: if children {
                // Polluted by whatever the ancestors reaped (see the module doc); the
                // executors that have children report their peaks themselves.
                0
            } else {
                // Linux reports ru_maxrss in kilobytes.
                crate::procfs::peak_rss_bytes().unwrap_or(ru.ru_maxrss as u64 * 1024)
            },
            ..Usage::from(ru)
        }
    }

    /// Reads the usage of the calling thread alone (`RUSAGE_THREAD`); peak RSS belongs to the
    /// process, so it is 0 here.
    pub fn read_thread() -> Usage {
        let mut usage = Usage {
            max_rss_bytes: 0,
            ..Usage::from(getrusage(libc::RUSAGE_THREAD))
        };
        // getrusage leaves out the time the thread has been on a CPU since the kernel last
        // brought its runtime up to date (a tick or a switch), which for a thread that has just
        // woken is all of its latest work; the thread's CPU clock counts it. That work is
        // procfs reads here, so the missing part goes to system time.
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid out-pointer and the clock id is one Linux always has.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            let clock_ns = ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64;
            usage.sys_ns += clock_ns.saturating_sub(usage.user_ns + usage.sys_ns);
        }
        usage
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

    /// `self` without `part`, a share of it that was not the run's (the sampler's own usage),
    /// never below zero. The kernel splits a thread's and a process's CPU time into user and
    /// system time each from its own tick samples, so the two splits need not agree: the total
    /// is subtracted, and the user time that remains is capped by it.
    pub fn without(&self, part: &Usage) -> Usage {
        let total = (self.user_ns + self.sys_ns).saturating_sub(part.user_ns + part.sys_ns);
        let user_ns = self.user_ns.saturating_sub(part.user_ns).min(total);
        Usage {
            user_ns,
            sys_ns: total - user_ns,
            max_rss_bytes: self.max_rss_bytes,
            voluntary: self.voluntary.saturating_sub(part.voluntary),
            involuntary: self.involuntary.saturating_sub(part.involuntary),
        }
    }
}

impl From<libc::rusage> for Usage {
    fn from(ru: libc::rusage) -> Usage {
        let ns = |tv: libc::timeval| tv.tv_sec as u64 * 1_000_000_000 + tv.tv_usec as u64 * 1_000;
        Usage {
            user_ns: ns(ru.ru_utime),
            sys_ns: ns(ru.ru_stime),
            max_rss_bytes: ru.ru_maxrss as u64 * 1024,
            voluntary: ru.ru_nvcsw as u64,
            involuntary: ru.ru_nivcsw as u64,
        }
    }
}

/// One `getrusage` call for `who`.
fn getrusage(who: libc::c_int) -> libc::rusage {
    // SAFETY: an all-zero rusage is a valid value, and getrusage only writes into it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid out-pointer; with a valid `who` getrusage cannot fail.
    unsafe { libc::getrusage(who, &mut ru) };
    ru
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

/// Peak thread count and thread names seen by a [`Sampler`]. (The run's processes are
/// counted where they start, [`crate::child::RunChildren`], not sampled.)
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Peaks {
    /// Most threads alive at once in this process, the sampler's own thread not counted.
    pub threads: u64,
    /// Names of the threads seen, trailing digits dropped (`asyncstudy-pool-`), so a record
    /// shows which runtimes' threads existed: a smol run must show no tokio thread.
    pub thread_names: BTreeSet<String>,
}

/// What a [`Sampler`] saw, and what looking cost.
#[derive(Clone, Debug, Default)]
pub struct Sampled {
    /// The peak counts.
    pub peaks: Peaks,
    /// The sampler thread's own usage over its whole life (`RUSAGE_THREAD`, read after its
    /// last look): CPU time and the context switches of its wake-ups, which are the harness's,
    /// not the run's.
    pub cost: Usage,
}

/// Samples the thread count and thread names from `/proc` until stopped.
///
/// Stop it with [`Sampler::stop`]; dropped unstopped (a run that failed), it stops on its own.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<Sampled>>,
}

/// How often the sampler looks. A look reads one procfs file (and a file per thread for the
/// names, every [`NAMES_EVERY`] looks), about 10 to 30 µs of CPU, so every 5 ms it is under 1%
/// of one core: on a 2-core machine a 2 ms period, and a read per thread at every look, cost
/// the runtimes a measurable share of the machine. The record leaves that cost and the
/// wake-ups out: the sampler measures itself ([`Sampled::cost`]) and the run subtracts it.
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
                let mut unnamed = false;
                for look in 0u64.. {
                    let threads = thread_count().saturating_sub(1);
                    peaks.threads = peaks.threads.max(threads);
                    // Names cost a procfs read per thread: with hundreds of threads, reading
                    // them every 5 ms took most of a core in system time. So the more threads,
                    // the less often; also when the count changed, and again while a new
                    // thread has not named itself yet.
                    let stopping = flag.load(Ordering::Acquire);
                    let every = (threads / PER_THREAD_LOOK).max(1);
                    let few = threads <= PER_THREAD_LOOK;
                    let changed = threads != named_at && few;
                    if changed || unnamed || look % (NAMES_EVERY * every) == 0 || stopping {
                        unnamed = thread_names(&mut peaks.thread_names) && few;
                        named_at = threads;
                    }
                    if stopping {
                        break;
                    }
                    // Parked rather than asleep so that stop() wakes it at once: the caller
                    // then waits for one last look, not for the rest of a period.
                    std::thread::park_timeout(SAMPLE_EVERY);
                }
                // Last, after every procfs read, so the cost covers all of them.
                Sampled {
                    peaks,
                    cost: Usage::read_thread(),
                }
            })
            .ok();
        Sampler { stop, handle }
    }

    /// Stops sampling and returns the peaks and the sampler's own usage.
    ///
    /// The sampler takes its last look itself after this is called, so the calling thread
    /// reads no `/proc` file on the way (what it does read is billed to the run); only if the
    /// sampler could not start or died does the caller look, and the cost is then zero.
    pub fn stop(mut self) -> Sampled {
        let Some(handle) = self.handle.take() else {
            return Sampled {
                peaks: sample(),
                cost: Usage::default(),
            };
        };
        self.stop.store(true, Ordering::Release);
        handle.thread().unpark();
        handle.join().unwrap_or_else(|_| Sampled {
            peaks: sample(),
            cost: Usage::default(),
        })
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        // Not stopped: the run failed. Without this the thread would sample until exit.
        if let Some(handle) = self.handle.take() {
            self.stop.store(true, Ordering::Release);
            handle.thread().unpark();
        }
    }
}

/// Threads whose names one look may read before looks at them get rarer.
const PER_THREAD_LOOK: u64 = 32;

/// Looks at thread names every this many samples.
const NAMES_EVERY: u64 = 10;

/// Most threads whose names one look reads: a pool of thousands has few distinct names.
const NAMES_READ: usize = 256;

/// Adds the names of (up to [`NAMES_READ`]) live threads to `names`, trailing digits dropped.
///
/// Returns whether a thread other than the main one still bore the main thread's name. A new
/// thread inherits it and takes its own (`tokio-mt-0`) only once it first runs, which on a
/// loaded machine can be well after the look that counted it: such a name says nothing yet.
/// Threads that are never named (thread-per-task's) keep it true while they live.
fn thread_names(names: &mut BTreeSet<String>) -> bool {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return false;
    };
    let main = std::process::id().to_string();
    let main_name = std::fs::read_to_string(format!("/proc/self/task/{main}/comm")).ok();
    let mut inherited = false;
    for t in tasks.flatten().take(NAMES_READ) {
        if let Ok(comm) = std::fs::read_to_string(t.path().join("comm")) {
            if t.file_name() != main.as_str() && main_name.as_ref() == Some(&comm) {
                inherited = true;
            }
            let name = comm
                .trim_end()
                .trim_end_matches(|c: char| c.is_ascii_digit());
            // The kernel keeps 15 bytes of a name: the sampler is "asyncstudy-samp".
            if !name.starts_with("asyncstudy-samp") {
                names.insert(name.to_string());
            }
        }
    }
    inherited
}

/// The current thread count, read on the calling thread when no sampler thread is alive to
/// be left out of it.
fn sample() -> Peaks {
    Peaks {
        threads: thread_count(),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// This thread's CPU clock, in nanoseconds.
    fn thread_cpu_ns() -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid out-pointer and the clock id is one Linux always has.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
    }

    #[test]
    fn usage_counts_work_sleeps_and_memory_in_their_units() {
        let (process0, thread0, clock0) =
            (Usage::read(false), Usage::read_thread(), thread_cpu_ns());
        // 30 ms of this thread's CPU, however long a loaded machine takes to give it, then
        // five sleeps: each blocks the thread once.
        let mut x = 0u64;
        while thread_cpu_ns() - clock0 < 30_000_000 {
            for i in 0..10_000u64 {
                x = std::hint::black_box(x.wrapping_add(i));
            }
        }
        for _ in 0..5 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let thread = Usage::read_thread().since(&thread0);
        let process = Usage::read(false).since(&process0);
        let cpu = |u: &Usage| u.user_ns + u.sys_ns;
        // Nanoseconds: at least the 30 ms, and nowhere near ten times that. The process's
        // usage holds the thread's (to getrusage's 1 µs rounding) and other tests' besides.
        assert!(
            (30_000_000..300_000_000).contains(&cpu(&thread)),
            "{thread:?}, {x}"
        );
        assert!(
            cpu(&process) + 1_000 >= cpu(&thread),
            "{process:?} {thread:?}"
        );
        assert!((5..=10).contains(&thread.voluntary), "{thread:?}");
        assert!(
            process.voluntary >= thread.voluntary,
            "{process:?} {thread:?}"
        );
        // Peak memory in bytes, after touching 64 MiB.
        let big = vec![1u8; 64 << 20];
        assert_eq!(std::hint::black_box(&big)[12_345], 1);
        let peak = Usage::read(false).max_rss_bytes;
        assert!(peak >= 64 << 20, "{peak}");
    }

    #[test]
    fn the_sampler_sees_threads_alive_when_it_stops() {
        let sampler = Sampler::start();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        // A thread takes its name only once it first runs; on a loaded machine that can be
        // after the sampler's last look, so each probe says it runs before the sampler stops.
        let running = Arc::new(std::sync::Barrier::new(4));
        let extra: Vec<_> = (0..3)
            .map(|i| {
                let (rx, running) = (Arc::clone(&rx), Arc::clone(&running));
                std::thread::Builder::new()
                    .name(format!("probe-{i}"))
                    .spawn(move || {
                        running.wait();
                        let _ = rx.lock().map(|rx| rx.recv());
                    })
                    .unwrap()
            })
            .collect();
        running.wait();
        // Stopped while the threads are alive, so its last look sees them whatever the
        // scheduler did before: no wake-up has to land in a window.
        let sampled = sampler.stop();
        drop(tx);
        for t in extra {
            t.join().unwrap();
        }
        let peaks = sampled.peaks;
        // Other tests run beside this one, so only lower bounds are certain.
        assert!(peaks.threads >= 4, "this thread plus 3: {peaks:?}");
        assert!(
            peaks.thread_names.contains("probe-"),
            "names without their digits: {peaks:?}"
        );
        assert!(
            !peaks.thread_names.iter().any(|n| n.contains("sampl")),
            "the sampler leaves itself out: {peaks:?}"
        );
    }

    #[test]
    fn the_sampler_measures_only_itself() {
        let before = Usage::read(false);
        let sampler = Sampler::start();
        std::thread::sleep(Duration::from_millis(50));
        let sampled = sampler.stop();
        let process = Usage::read(false).since(&before);
        let cost = sampled.cost;
        let cpu = |u: &Usage| u.user_ns + u.sys_ns;
        // Its last look reads procfs before it reads its usage, so the cost is never zero...
        assert!(cpu(&cost) > 0, "{cost:?}");
        // ...and its whole life lies inside this window, so the process (this thread and any
        // other test's included) used at least as much: a reading of the whole process, or
        // of more than the thread's life, would not fit. 1 µs is getrusage's rounding.
        assert!(
            cpu(&cost) <= cpu(&process) + 1_000,
            "{cost:?} within {process:?}"
        );
        assert!(
            cost.voluntary <= process.voluntary,
            "{cost:?} within {process:?}"
        );
        assert!(
            cost.involuntary <= process.involuntary,
            "{cost:?} within {process:?}"
        );
        assert_eq!(cost.max_rss_bytes, 0);
        assert_eq!(
            process.without(&cost).voluntary,
            process.voluntary - cost.voluntary
        );
    }

    #[test]
    fn without_keeps_the_cpu_total_when_the_splits_disagree() {
        let us = |user_ms: u64, sys_ms: u64, voluntary: u64| Usage {
            user_ns: user_ms * 1_000_000,
            sys_ns: sys_ms * 1_000_000,
            max_rss_bytes: 7,
            voluntary,
            involuntary: 1,
        };
        // The process split 10 + 30 ms, the sampler 12 + 20: 8 ms remain, none of it user time.
        let left = us(10, 30, 211).without(&us(12, 20, 200));
        assert_eq!((left.user_ns, left.sys_ns), (0, 8_000_000));
        assert_eq!((left.voluntary, left.involuntary), (11, 0));
        assert_eq!(left.max_rss_bytes, 7, "the peak is the process's");
        // Splits that agree subtract field by field.
        let left = us(10, 30, 5).without(&us(4, 20, 2));
        assert_eq!(
            (left.user_ns, left.sys_ns, left.voluntary),
            (6_000_000, 10_000_000, 3)
        );
        // A part larger than the whole (rounding) leaves zero, not a wrap-around.
        let left = us(1, 1, 1).without(&us(2, 2, 3));
        assert_eq!((left.user_ns, left.sys_ns, left.voluntary), (0, 0, 0));
    }
}
