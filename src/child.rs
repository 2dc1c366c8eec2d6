//! One way to run a child process, for every child the tool starts: the embedded server, a
//! comparison's child runs and the worker processes.
//!
//! A [`Child`] is started in a process group of its own, so a terminal's Ctrl-C reaches only
//! this process, which then stops its children itself; it is stopped by asking first (closing
//! its stdin, or SIGTERM) and killing after a grace period; and it is always reaped: dropping
//! one that still runs kills and reaps it, so no path out of the tool leaves a child behind.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{ChildStderr, ChildStdin, ChildStdout, Command, ExitStatus};
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
}

impl Child {
    /// Starts `cmd` in a process group of its own.
    pub fn spawn(cmd: &mut Command) -> io::Result<Child> {
        // No pre_exec, which would force a full fork instead of posix_spawn.
        let inner = cmd.process_group(0).spawn()?;
        Ok(Child {
            inner,
            reaped: false,
        })
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
        self.reaped |= status.is_some();
        Ok(status)
    }

    /// Waits for it to exit and reaps it.
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.inner.stdin.take());
        let status = self.inner.wait()?;
        self.reaped = true;
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
            self.reaped = true;
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
    fn a_child_has_a_process_group_of_its_own() {
        let child = Child::spawn(Command::new("sleep").arg("60")).unwrap();
        // SAFETY: getpgid only reads the process table.
        let group = unsafe { libc::getpgid(child.id() as libc::pid_t) };
        assert_eq!(group, child.id() as libc::pid_t);
    }
}
