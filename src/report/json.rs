//! JSON: the records exactly as `docs/records.md` and `docs/schema/` describe them, pretty-printed.

use serde::Serialize;

/// Pretty JSON with a trailing newline.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<String> {
    let mut s = serde_json::to_string_pretty(value)?;
    s.push('\n');
    Ok(s)
}
