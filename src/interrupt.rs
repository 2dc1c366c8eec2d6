//! Ctrl-C and SIGTERM as a flag that runs and sweeps poll.
//!
//! Until [`watch`] is called a signal kills the tool at once. Every measured run and every
//! comparison calls it first; from then on SIGINT and SIGTERM only set a flag, so the run can
//! stop starting tasks (queued ones are recorded as cut short), kill and reap its worker
//! processes and the embedded server, remove its temporary out-dir, and still print what
//! finished. A second signal while the first is being handled exits at once with 128 + the
//! signal number, for a user who does not want to wait.

use std::io;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use signal_hook::consts::{SIGINT, SIGTERM};

/// The signal that asked the run to stop, 0 for none.
static SIGNAL: AtomicUsize = AtomicUsize::new(0);
/// Set with `SIGNAL`; the second signal sees it and exits.
static SEEN: AtomicBool = AtomicBool::new(false);

/// Turns SIGINT and SIGTERM into a flag for the rest of the process's life. Idempotent.
pub fn watch() -> io::Result<()> {
    static INSTALLED: OnceLock<io::Result<()>> = OnceLock::new();
    let installed = INSTALLED.get_or_init(|| {
        for sig in [SIGINT, SIGTERM] {
            // Registered before the flag setter, so it sees the flag as the previous signal
            // left it: the first signal sets the flag, the second exits.
            signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, &SEEN)?;
            signal_hook::flag::register_usize(sig, &SIGNAL, sig as usize)?;
            signal_hook::flag::register(sig, &SEEN)?;
        }
        Ok(())
    });
    match installed {
        Ok(()) => Ok(()),
        Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
    }
}

/// The signal that asked the run to stop, if one has arrived since [`watch`].
pub fn requested() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        sig => Some(sig as i32),
    }
}

/// The conventional name of a signal number, e.g. `SIGKILL`.
pub fn signal_name(sig: i32) -> String {
    signal_hook::low_level::signal_name(sig)
        .map(str::to_string)
        .unwrap_or_else(|| format!("signal {sig}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Raising a signal here would set the flag for every other test in this binary; the
    // integration tests signal a real run instead.

    #[test]
    fn signals_have_names() {
        assert_eq!(signal_name(9), "SIGKILL");
        assert_eq!(signal_name(2), "SIGINT");
    }
}
