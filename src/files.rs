//! The files the tool reads and writes, handled as a hostile user's files: every input read
//! with a bound, every output path checked for what it is before any work and again when it is
//! written, and an advisory lock so two runs never silently write one output.
//!
//! The rules, stated once:
//! - A regular file or a new path is written to a temporary file beside it and renamed into
//!   place, so it is either its old self or complete.
//! - A character device or a FIFO (`/dev/null`, a pipe) is written in place: renaming over it
//!   would replace the device with a plain file.
//! - A symlink, a directory, a socket or a block device is refused: nothing is written through
//!   a link the tool did not create, and nothing replaces what is not a plain file.
//! - An input is read up to its limit and one byte more; a longer one is refused, whatever it
//!   is (a regular file, `/dev/zero`, a FIFO).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Largest urls file read: tens of thousands of URLs.
pub const URLS_LIMIT: u64 = 4 << 20;

/// Largest record (`report FILE`, `--baseline FILE`) read: a comparison of hundreds of runs
/// with capped timelines is tens of MiB.
pub const RECORD_LIMIT: u64 = 512 << 20;

/// What an output path is now, and so how it may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Nothing there yet: created by rename.
    New,
    /// A regular file: replaced by rename.
    Regular,
    /// A character device or a FIFO: written in place, never replaced.
    InPlace,
}

/// What `path` is, or why it may not be written (for messages after the flag and path).
pub fn target(path: &Path) -> Result<Target, String> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Target::New),
        Err(e) => return Err(format!("cannot be looked at: {e}")),
    };
    let kind = meta.file_type();
    if kind.is_symlink() {
        Err("is a symlink; give the path it points to".into())
    } else if kind.is_file() {
        Ok(Target::Regular)
    } else if kind.is_char_device() || kind.is_fifo() {
        Ok(Target::InPlace)
    } else if kind.is_dir() {
        Err("is a directory".into())
    } else if kind.is_block_device() {
        Err(
            "is a block device; asyncstudy writes files, devices such as /dev/null and pipes"
                .into(),
        )
    } else {
        Err("is a socket; asyncstudy writes files, devices such as /dev/null and pipes".into())
    }
}

/// Checks, before any work, that `path` can be written as the rules say: what is there, and
/// that its directory takes a new file (a read-only file system is found here, not after the
/// run). The message names nothing but the reason.
pub fn check_writable(path: &Path) -> Result<Target, String> {
    let t = target(path)?;
    match t {
        Target::New | Target::Regular => {
            let dir = dir_of(path);
            tempfile::Builder::new()
                .prefix(".asyncstudy-check-")
                .tempfile_in(dir)
                .map_err(|e| format!("cannot write in {}: {}", dir.display(), os_reason(e)))?;
        }
        Target::InPlace => {
            // O_NONBLOCK: a FIFO with no reader yet must not hang the check.
            let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
                .map_err(|_| "has a NUL byte in it".to_string())?;
            // SAFETY: `c` is a valid NUL-terminated path; access only reads it.
            if unsafe { libc::access(c.as_ptr(), libc::W_OK) } != 0 {
                return Err(format!(
                    "cannot be written: {}",
                    std::io::Error::last_os_error()
                ));
            }
        }
    }
    Ok(t)
}

/// The operating system's reason alone, without the temporary path a wrapper may add.
pub fn os_reason(e: std::io::Error) -> std::io::Error {
    e.raw_os_error()
        .map_or(e, std::io::Error::from_raw_os_error)
}

/// Writes `bytes` to `path` by the rules of the module doc.
pub fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let shown = path.display();
    match target(path).map_err(|why| anyhow::anyhow!("{shown}: {why}"))? {
        Target::InPlace => {
            // No O_CREAT: if the device went away, this fails instead of making a file; no
            // O_TRUNC, which a device ignores and a FIFO cannot do.
            let mut f = OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NOFOLLOW)
                .open(path)
                .with_context(|| format!("could not open {shown}"))?;
            match f.write_all(bytes) {
                // A reader that stopped reading (`| head`) has what it wanted.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.with_context(|| format!("could not write {shown}")),
            }
        }
        Target::New | Target::Regular => {
            let dir = dir_of(path);
            let mut tmp = tempfile::Builder::new()
                .prefix(".asyncstudy-")
                .tempfile_in(dir)
                .with_context(|| {
                    format!("could not create a temporary file in {}", dir.display())
                })?;
            tmp.write_all(bytes)
                .and_then(|()| tmp.as_file().sync_all())
                .with_context(|| format!("could not write {shown}"))?;
            // rename(2) replaces whatever is at `path` without following it, so a symlink
            // planted since the check above is replaced, never written through.
            tmp.persist(path)
                .with_context(|| format!("could not write {shown}"))?;
            Ok(())
        }
    }
}

/// Reads `path` whole, refusing more than `limit` bytes; the message is the reason alone.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let mut input = Bounded::open(path, limit)?;
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    input.check()?;
    Ok(bytes)
}

/// An input opened for reading at most its limit: a regular file over the limit is refused at
/// once, anything else (a device, a FIFO) as soon as it gives one byte more. A parser can read
/// it as a stream, so `/dev/zero` fails at its first byte instead of filling memory first.
pub struct Bounded {
    inner: std::io::Take<File>,
    limit: u64,
}

impl Bounded {
    /// Opens `path`; the error is the reason alone.
    pub fn open(path: &Path, limit: u64) -> Result<Bounded, String> {
        let file = File::open(path).map_err(|e| e.to_string())?;
        let meta = file.metadata().map_err(|e| e.to_string())?;
        if meta.is_dir() {
            return Err("is a directory".into());
        }
        if meta.is_file() && meta.len() > limit {
            return Err(format!(
                "{} bytes, over the limit of {}",
                meta.len(),
                human_bytes(limit)
            ));
        }
        Ok(Bounded {
            inner: file.take(limit + 1),
            limit,
        })
    }

    /// Whether more than the limit was read; call it after reading, and before trusting what
    /// a parser made of a cut input.
    pub fn check(&self) -> Result<(), String> {
        if self.inner.limit() == 0 {
            Err(format!(
                "longer than the limit of {} (a device or a pipe that does not end?)",
                human_bytes(self.limit)
            ))
        } else {
            Ok(())
        }
    }
}

impl Read for Bounded {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
}

/// `4 MiB`, `100 GiB`, `1000 bytes`: whole binary units where the size has them.
pub fn human_bytes(n: u64) -> String {
    if n >= 1 << 30 && n % (1 << 30) == 0 {
        format!("{} GiB", n >> 30)
    } else if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

/// The directory a file path lands in: its parent, or `.` for a bare file name.
pub fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Whether two paths name the same existing file (same device and inode).
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// An advisory lock on an output file, held while a run may write it, so a second run that
/// would write the same file is refused instead of silently replacing the first one's results.
///
/// The lock is `flock` on a hidden file beside the output (`.NAME.asyncstudy-lock`) that holds
/// the holder's pid and command line, so the refusal can name it. The holder removes the file
/// when it is done; a taker re-checks after locking that the file it locked is still the one
/// at the path, so a lock released and removed meanwhile is not mistaken for its own.
#[derive(Debug)]
pub struct OutputLock {
    path: PathBuf,
    // Holding the open file holds the lock.
    _file: File,
}

impl OutputLock {
    /// Locks `output` for this process; `Ok(None)` for outputs that are not files (devices,
    /// pipes), which many may write. The error is the reason, naming the holder.
    pub fn acquire(output: &Path) -> Result<Option<OutputLock>, String> {
        if target(output)? == Target::InPlace {
            return Ok(None);
        }
        let name = output
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = dir_of(output).join(format!(".{name}.asyncstudy-lock"));
        loop {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .custom_flags(libc::O_NOFOLLOW)
                .mode(0o644)
                .open(&path)
                .map_err(|e| format!("cannot create its lock {}: {e}", path.display()))?;
            // SAFETY: flock on a file descriptor we own; it has no memory effects.
            if unsafe {
                libc::flock(
                    std::os::fd::AsRawFd::as_raw_fd(&file),
                    libc::LOCK_EX | libc::LOCK_NB,
                )
            } != 0
            {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(if holder.is_empty() {
                    "another asyncstudy is writing it; wait for it to finish or choose another file"
                        .into()
                } else {
                    format!(
                        "another asyncstudy is writing it ({holder}); wait for it to finish or choose another file"
                    )
                });
            }
            // The holder before us may have removed the file between our open and our lock.
            let still_there = match (std::fs::symlink_metadata(&path), file.metadata()) {
                (Ok(now), Ok(ours)) => now.dev() == ours.dev() && now.ino() == ours.ino(),
                _ => false,
            };
            if !still_there {
                continue;
            }
            let me = format!(
                "pid {}: {}",
                std::process::id(),
                std::env::args().collect::<Vec<_>>().join(" ")
            );
            let _ = file.set_len(0);
            let _ = file.write_all(me.as_bytes());
            return Ok(Some(OutputLock { path, _file: file }));
        }
    }
}

impl Drop for OutputLock {
    /// Removes the lock file while still holding the lock, then releases it by closing.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_classified_and_the_unwritable_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f.json");
        assert_eq!(target(&file), Ok(Target::New));
        std::fs::write(&file, "x").unwrap();
        assert_eq!(target(&file), Ok(Target::Regular));
        let link = dir.path().join("l.json");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(
            target(&link),
            Err("is a symlink; give the path it points to".into())
        );
        assert_eq!(target(dir.path()), Err("is a directory".into()));
        assert_eq!(target(Path::new("/dev/null")), Ok(Target::InPlace));
    }

    #[test]
    fn writing_never_follows_a_symlink_nor_replaces_a_device() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let link = dir.path().join("out.json");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let err = write(&link, b"results").unwrap_err().to_string();
        assert!(
            err.ends_with("out.json: is a symlink; give the path it points to"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        // /dev/null stays a device.
        write(Path::new("/dev/null"), b"results").unwrap();
        let meta = std::fs::symlink_metadata("/dev/null").unwrap();
        assert!(meta.file_type().is_char_device());
        // A FIFO is written in place, to its reader.
        let fifo = dir.path().join("pipe");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid path; mkfifo only creates the node.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        write(&fifo, b"through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        assert!(
            std::fs::symlink_metadata(&fifo)
                .unwrap()
                .file_type()
                .is_fifo()
        );
        // Regular files are replaced whole, with no temporary left behind.
        let out = dir.path().join("r.json");
        write(&out, b"first").unwrap();
        write(&out, b"second").unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "second");
        let stray: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".asyncstudy"))
            .collect();
        assert!(stray.is_empty(), "{stray:?}");
    }

    #[test]
    fn reads_stop_at_their_limit_whatever_the_file_is() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'x'; 100]).unwrap();
        assert_eq!(read_bounded(&big, 100).unwrap().len(), 100);
        assert_eq!(
            read_bounded(&big, 99).unwrap_err(),
            "100 bytes, over the limit of 99 bytes"
        );
        // /dev/zero never ends: the bound stops it.
        let err = read_bounded(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert_eq!(
            err,
            "longer than the limit of 1 MiB (a device or a pipe that does not end?)"
        );
        assert_eq!(read_bounded(dir.path(), 10).unwrap_err(), "is a directory");
    }

    #[test]
    fn a_second_writer_of_one_output_is_refused_and_told_who_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("results.json");
        let first = OutputLock::acquire(&out)
            .unwrap()
            .expect("a file output is locked");
        let err = OutputLock::acquire(&out).unwrap_err();
        assert!(
            err.starts_with(&format!(
                "another asyncstudy is writing it (pid {}: ",
                std::process::id()
            )),
            "{err}"
        );
        drop(first);
        // Released and removed: the next writer takes it, and nothing is left behind after.
        let second = OutputLock::acquire(&out).unwrap();
        drop(second);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // Devices take any number of writers.
        assert!(
            OutputLock::acquire(Path::new("/dev/null"))
                .unwrap()
                .is_none()
        );
    }
}
