//! One way to run a child process, for every child the tool starts: the embedded server, a
//! comparison's child runs and the worker processes.
//!
//! The children that run a measured run's tasks (worker processes, the Python interpreter)
//! are started with [`Child::spawn_for_run`] and counted from their start until they are
//! reaped; [`RunChildren`] gives the most alive at once, which is the record's process count.
//! Counting them here is exact and costs nothing while the run goes, where reading `/proc`
//! for children would cost a read per thread at every look and would count the embedded
//! server, which is not the runtime's.
//!
//! A [`Child`] is started in a process group of its own, so a terminal's Ctrl-C reaches only
//! this process, which then stops its children itself; it is stopped by asking first (closing
//! its stdin, or SIGTERM) and killing after a grace period; and it is always reaped: dropping
//! one that still runs kills and reaps it, so no path out of the tool leaves a child behind.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{ChildStderr, ChildStdin, ChildStdout, Command, ExitStatus};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How a child is asked to stop before it is killed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ask {
    /// Close its stdin: the server and the workers exit when their input ends.
    CloseStdin,
    /// Send it SIGTERM: a child run then stops its own children and writes what it has.
    Terminate,
}

/// A started child process, reaped whatever happens.
#[derive(Debug)]
pub struct Child {
    inner: std::process::Child,
    reaped: bool,
    /// Started for the measured run, and counted in [`RunChildren`] until reaped.
    counted: bool,
}

/// Children started with [`Child::spawn_for_run`] and not reaped yet.
static RUN_LIVE: AtomicU64 = AtomicU64::new(0);
/// The most of them alive at once since [`RunChildren::start`].
static RUN_PEAK: AtomicU64 = AtomicU64::new(0);

/// The count of the measured run's children: the most alive (started and not yet reaped) at
/// once between [`RunChildren::start`] and [`RunChildren::peak`].
pub struct RunChildren;

impl RunChildren {
    /// Starts counting the peak from the children alive now.
    pub fn start() -> RunChildren {
        RUN_PEAK.store(RUN_LIVE.load(Ordering::SeqCst), Ordering::SeqCst);
        RunChildren
    }

    /// The most children of the run alive at once since the start.
    pub fn peak(&self) -> u64 {
        RUN_PEAK.load(Ordering::SeqCst)
    }
}

impl Child {
    /// Starts `cmd` in a process group of its own.
    pub fn spawn(cmd: &mut Command) -> io::Result<Child> {
        // No pre_exec, which would force a full fork instead of posix_spawn.
        let inner = cmd.process_group(0).spawn()?;
        Ok(Child {
            inner,
            reaped: false,
            counted: false,
        })
    }

    /// Starts `cmd` as [`Child::spawn`] does, as one of the processes that run the measured
    /// run's tasks: it counts in [`RunChildren`] until it is reaped.
    pub fn spawn_for_run(cmd: &mut Command) -> io::Result<Child> {
        let mut child = Child::spawn(cmd)?;
        child.counted = true;
        let live = RUN_LIVE.fetch_add(1, Ordering::SeqCst) + 1;
        RUN_PEAK.fetch_max(live, Ordering::SeqCst);
        Ok(child)
    }

    /// Marks it reaped; a counted child leaves the run's count.
    fn set_reaped(&mut self) {
        if !self.reaped && self.counted {
            RUN_LIVE.fetch_sub(1, Ordering::SeqCst);
        }
        self.reaped = true;
    }

    /// Its process id.
    pub fn id(&self) -> u32 {
        self.inner.id()
    }

    /// Its stdin, if piped and not taken yet.
    pub fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.inner.stdin.take()
    }

    /// Its stdout, if piped and not taken yet.
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.inner.stdout.take()
    }

    /// Its stderr, if piped and not taken yet.
    pub fn take_stderr(&mut self) -> Option<ChildStderr> {
        self.inner.stderr.take()
    }

    /// Its exit status if it has exited (and is now reaped), without waiting.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        let status = self.inner.try_wait()?;
        if status.is_some() {
            self.set_reaped();
        }
        Ok(status)
    }

    /// Waits for it to exit and reaps it.
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.inner.stdin.take());
        let status = self.inner.wait()?;
        self.set_reaped();
        Ok(status)
    }

    /// Waits up to `limit` for it to exit, reaping it if it does: a child that died takes a
    /// moment to become reapable after its pipes close.
    pub fn reap_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        let mut pause = Duration::from_micros(50);
        loop {
            match self.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(10));
                }
                _ => return None,
            }
        }
    }

    /// Asks it to stop, waits up to `grace`, then kills it; it is reaped either way. The exit
    /// status, if it stopped when asked.
    pub fn stop(&mut self, ask: Ask, grace: Duration) -> Option<ExitStatus> {
        if self.reaped {
            return None;
        }
        match ask {
            Ask::CloseStdin => drop(self.inner.stdin.take()),
            // SAFETY: kill has no memory effects; the pid is our unreaped child, so it cannot
            // have been reused by another process.
            Ask::Terminate => unsafe {
                libc::kill(self.id() as libc::pid_t, libc::SIGTERM);
            },
        }
        if let Some(status) = self.reap_within(grace) {
            return Some(status);
        }
        self.kill();
        None
    }

    /// Kills its whole process group (SIGKILL), itself and every descendant that stayed in
    /// its group (a Python interpreter's pool workers), and reaps it. Descendants are reaped
    /// by their own parent or, once it is gone, by init.
    pub fn kill_group(&mut self) {
        if !self.reaped {
            // SAFETY: kill has no memory effects. The group's id is our unreaped child's pid,
            // which stays reserved while the child is unreaped, so the signal cannot reach a
            // group that took over a recycled id.
            unsafe { libc::kill(-(self.id() as libc::pid_t), libc::SIGKILL) };
        }
        self.kill();
    }

    /// Kills it (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if !self.reaped {
            drop(self.inner.stdin.take());
            let _ = self.inner.kill();
            let _ = self.inner.wait();
            self.set_reaped();
        }
    }
}

impl Drop for Child {
    /// No path out of the tool leaves a child running or unreaped.
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Stdio;

    #[test]
    fn a_child_stops_when_asked_or_is_killed_and_is_always_reaped() {
        // `cat` ends when its stdin closes: asked, it stops.
        let mut cat = Child::spawn(Command::new("cat").stdin(Stdio::piped())).unwrap();
        let status = cat.stop(Ask::CloseStdin, Duration::from_secs(10));
        assert!(status.is_some_and(|s| s.success()), "{status:?}");
        // `sleep` ignores its stdin: it is killed after the grace period.
        let mut sleeper =
            Child::spawn(Command::new("sleep").arg("60").stdin(Stdio::piped())).unwrap();
        let pid = sleeper.id();
        assert_eq!(
            sleeper.stop(Ask::CloseStdin, Duration::from_millis(50)),
            None
        );
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
        // SIGTERM ends it at once; dropping one still running reaps it too.
        let mut term = Child::spawn(Command::new("sleep").arg("60")).unwrap();
        assert!(term.stop(Ask::Terminate, Duration::from_secs(10)).is_some());
        let dropped = Child::spawn(Command::new("sleep").arg("60")).unwrap();
        let pid = dropped.id();
        drop(dropped);
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    }

    #[test]
    fn the_runs_children_count_from_their_start_until_they_are_reaped() {
        // Other tests may start counted children meanwhile, so the counts are lower bounds
        // here; the integration tests check exact counts in a process of their own.
        let count = RunChildren::start();
        let mut first = Child::spawn_for_run(Command::new("sleep").arg("60")).unwrap();
        let second = Child::spawn_for_run(Command::new("sleep").arg("60")).unwrap();
        assert!(count.peak() >= 2, "{}", count.peak());
        let live = RUN_LIVE.load(Ordering::SeqCst);
        assert!(live >= 2, "{live}");
        first.kill();
        drop(second);
        assert!(first.reaped);
        // Reaped, then asked again (the status is kept), leaves the count once: a second
        // decrement would wrap the unsigned count far beyond anything other tests start.
        assert!(first.try_wait().unwrap().is_some());
        assert!(first.wait().is_ok());
        drop(first);
        let live = RUN_LIVE.load(Ordering::SeqCst);
        assert!(live < 1_000, "{live}");
        let uncounted = Child::spawn(Command::new("sleep").arg("60")).unwrap();
        assert!(!uncounted.counted);
        assert!(count.peak() >= 2);
    }

    #[test]
    fn a_child_has_a_process_group_of_its_own() {
        let child = Child::spawn(Command::new("sleep").arg("60")).unwrap();
        // SAFETY: getpgid only reads the process table.
        let group = unsafe { libc::getpgid(child.id() as libc::pid_t) };
        assert_eq!(group, child.id() as libc::pid_t);
    }
}
