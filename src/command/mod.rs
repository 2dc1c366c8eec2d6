//! One file per command that does more than call one function (as mini-redis keeps one file
//! per command): a run, a comparison, `clean`, and what a run prepares. `lib.rs` dispatches to
//! them.

pub mod clean;
pub mod compare;
mod prepare;
pub mod run;

pub use prepare::raise_fd_limit;

use crate::Error;
use crate::files::OutputLock;
use crate::plan::Plan;

/// Locks the file `plan` writes, if it writes one, for as long as the lock is held: a second
/// run writing the same file is refused before any work (see [`OutputLock`]). The study's
/// directory is created first, so its STUDY.md can be locked.
pub fn lock_output(plan: &Plan) -> Result<Option<OutputLock>, Error> {
    match plan {
        Plan::Run(run) => lock("--output", run.output.path.as_deref()),
        Plan::Compare(c) => lock("--output", c.output.path.as_deref()),
        Plan::Report(r) => lock("--output", r.output.path.as_deref()),
        Plan::Study(s) => {
            std::fs::create_dir_all(&s.out).map_err(|e| {
                Error::BadInput(format!("--out {}: cannot be created: {e}", s.out.display()))
            })?;
            lock("--out", Some(&s.out.join("STUDY.md")))
        }
        _ => Ok(None),
    }
}

/// Locks the file `output` goes to, if it is a file, for as long as the lock is held: a second
/// run writing the same file is refused before any work (see [`OutputLock`]).
fn lock(flag: &str, path: Option<&std::path::Path>) -> Result<Option<OutputLock>, Error> {
    match path {
        Some(path) => OutputLock::acquire(path)
            .map_err(|why| Error::BadInput(format!("{flag} {}: {why}", path.display()))),
        None => Ok(None),
    }
}
