//! `clean`: removes the temporary out-dirs of `io` runs that were killed before they could
//! remove their own (SIGKILL, a power cut), and only those it can prove are its own and dead.
//!
//! A run's temporary out-dir (`$TMPDIR/asyncstudy-io-*`) holds a marker, [`OWNER_FILE`], with
//! the owning process's pid and its start time in clock ticks since boot (field 22 of
//! `/proc/<pid>/stat`). A directory is stale when its marker names a pid that is gone, or one
//! that has been reused by a process started at another time. A directory without a readable
//! marker is not provably ours and is left alone.

use std::path::{Path, PathBuf};

/// The marker file in a temporary out-dir.
pub const OWNER_FILE: &str = ".asyncstudy-owner";

/// The prefix of a temporary out-dir's name.
pub const TEMP_PREFIX: &str = "asyncstudy-io-";

/// Writes the marker that lets [`stale`] tell whether `dir`'s owner (this process) is alive.
pub fn mark(dir: &Path) -> std::io::Result<()> {
    let me = std::process::id();
    let started = crate::procfs::start_time(me).unwrap_or(0);
    std::fs::write(dir.join(OWNER_FILE), format!("{me} {started}\n"))
}

/// Why `dir` is stale (its owner is dead), or `None` when it is alive or not provably ours.
pub fn stale(dir: &Path) -> Option<String> {
    let marker = std::fs::read_to_string(dir.join(OWNER_FILE)).ok()?;
    let mut fields = marker.split_whitespace();
    let pid: u32 = fields.next()?.parse().ok()?;
    let started: u64 = fields.next()?.parse().ok()?;
    match crate::procfs::start_time(pid) {
        None => Some(format!("pid {pid} is gone")),
        Some(t) if t != started => Some(format!("pid {pid} is now another process")),
        Some(_) => None,
    }
}

/// What [`clean`] did with one directory.
#[derive(Debug, PartialEq, Eq)]
pub enum Swept {
    /// Removed (or, on a dry run, would be), and why it was stale.
    Removed(PathBuf, String),
    /// Left: its owner is alive, or it is not provably ours.
    Kept(PathBuf, &'static str),
}

/// Removes the stale temporary out-dirs in `tmp` (or only lists them, with `dry_run`).
pub fn clean(tmp: &Path, dry_run: bool) -> anyhow::Result<Vec<Swept>> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return Ok(out);
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        // Only real directories by our name: a symlink by that name is never followed.
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if !is_dir || !name.to_string_lossy().starts_with(TEMP_PREFIX) {
            continue;
        }
        let dir = entry.path();
        let has_marker = dir.join(OWNER_FILE).is_file();
        match stale(&dir) {
            Some(why) => {
                if !dry_run {
                    std::fs::remove_dir_all(&dir)
                        .map_err(|e| anyhow::anyhow!("could not remove {}: {e}", dir.display()))?;
                }
                out.push(Swept::Removed(dir, why));
            }
            None if has_marker => out.push(Swept::Kept(dir, "its run is still going")),
            None => out.push(Swept::Kept(
                dir,
                "it has no owner marker, so it may not be ours",
            )),
        }
    }
    out.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_directories_of_dead_owners_are_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let mk = |name: &str, marker: Option<String>| {
            let d = tmp.path().join(name);
            std::fs::create_dir(&d).unwrap();
            std::fs::write(d.join("page.html"), "x").unwrap();
            if let Some(m) = marker {
                std::fs::write(d.join(OWNER_FILE), m).unwrap();
            }
            d
        };
        let alive = mk("asyncstudy-io-alive", None);
        mark(&alive).unwrap();
        // A pid that cannot exist (above the kernel's pid_max limit of 2^22).
        let dead = mk("asyncstudy-io-dead", Some("4999999 12\n".into()));
        // This process's pid with another start time: the pid was reused.
        let reused = mk(
            "asyncstudy-io-reused",
            Some(format!("{} 1\n", std::process::id())),
        );
        let unmarked = mk("asyncstudy-io-unmarked", None);
        let other = mk("someone-else", Some("4999999 12\n".into()));

        let dry = clean(tmp.path(), true).unwrap();
        assert!(dry.contains(&Swept::Removed(dead.clone(), "pid 4999999 is gone".into())));
        assert!(dead.exists(), "a dry run removes nothing");

        let swept = clean(tmp.path(), false).unwrap();
        assert_eq!(swept.len(), 4, "{swept:?}");
        assert!(!dead.exists() && !reused.exists());
        assert!(alive.exists() && unmarked.exists() && other.exists());
        assert!(swept.contains(&Swept::Kept(alive, "its run is still going")));
        assert!(swept.contains(&Swept::Removed(
            reused,
            format!("pid {} is now another process", std::process::id())
        )));
    }
}
