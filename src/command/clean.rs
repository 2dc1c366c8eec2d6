//! `asyncstudy clean`: what [`crate::clean`] swept, said a line per directory.

use crate::{Error, Status, clean, plan, report};

/// Removes (or with `dry_run` lists) stale temporary out-dirs of killed runs.
pub fn run(dry_run: bool) -> Result<Status, Error> {
    let tmp = std::env::temp_dir();
    let swept = clean::clean(&tmp, dry_run)?;
    let verb = if dry_run { "would remove" } else { "removed" };
    let mut text = String::new();
    for s in &swept {
        text.push_str(&match s {
            clean::Swept::Removed(dir, why) => {
                format!("{verb} {} ({why})\n", dir.display())
            }
            clean::Swept::Kept(dir, why) => format!("kept {} ({why})\n", dir.display()),
        });
    }
    if swept.is_empty() {
        text = format!("no temporary out-dirs in {}\n", tmp.display());
    }
    report::emit(&plan::Output::stdout(), &text)?;
    Ok(Status::Ok)
}
