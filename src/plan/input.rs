//! What the tool reads besides its arguments: saved records (`report`, `--baseline`) and urls
//! files, each read with a bound and refused whole if it is not what it claims to be.

use std::path::Path;

use crate::Error;
use crate::model::run::{RUN_SCHEMA, RunRecord};

/// A saved record, whichever kind it is.
#[derive(Debug)]
pub enum SavedRecord {
    /// One run (`asyncstudy.run/1`).
    Run(Box<RunRecord>),
    /// A comparison (`asyncstudy.compare/1`).
    Compare(Box<crate::model::compare::CompareRecord>),
}

impl SavedRecord {
    /// Reads a record from `path`; anything that is not one of ours is bad input.
    pub fn read(path: &Path) -> Result<SavedRecord, Error> {
        let shown = path.display();
        let cannot = |e: String| Error::BadInput(format!("{shown}: cannot read: {e}"));
        let mut input =
            crate::files::Bounded::open(path, crate::files::RECORD_LIMIT).map_err(cannot)?;
        let parsed = serde_json::from_reader(std::io::BufReader::new(&mut input));
        input.check().map_err(cannot)?;
        let value: serde_json::Value =
            parsed.map_err(|e| Error::BadInput(format!("{shown}: not valid JSON: {e}")))?;
        let schema = value
            .get("schema")
            .and_then(|s| s.as_str())
            .unwrap_or("")
            .to_string();
        let shape = |e: serde_json::Error| {
            Error::BadInput(format!("{shown}: not a complete {schema} record: {e}"))
        };
        let contradicts =
            |why: String| Error::BadInput(format!("{shown}: contradicts itself: {why}"));
        match schema.as_str() {
            RUN_SCHEMA => {
                let r: RunRecord = serde_json::from_value(value).map_err(shape)?;
                match r.contradiction() {
                    Some(why) => Err(contradicts(why)),
                    None => Ok(SavedRecord::Run(Box::new(r))),
                }
            }
            crate::model::compare::COMPARE_SCHEMA => {
                let c: crate::model::compare::CompareRecord =
                    serde_json::from_value(value).map_err(shape)?;
                for (i, r) in c.runs.iter().enumerate() {
                    if let Some(why) = r.contradiction() {
                        return Err(contradicts(format!("run {}: {why}", i + 1)));
                    }
                }
                Ok(SavedRecord::Compare(Box::new(c)))
            }
            "" => Err(Error::BadInput(format!(
                "{shown}: not an asyncstudy record (no \"schema\" field)"
            ))),
            other => Err(Error::BadInput(format!(
                "{shown}: not an asyncstudy record (schema {other:?}; expected {RUN_SCHEMA} or {})",
                crate::model::compare::COMPARE_SCHEMA
            ))),
        }
    }
}

/// Reads a urls file: one http(s) URL per line, blank lines and `#` comments skipped.
pub fn read_urls(path: &Path) -> Result<Vec<String>, Error> {
    let shown = path.display();
    let bytes = crate::files::read_bounded(path, crate::files::URLS_LIMIT)
        .map_err(|e| Error::BadInput(format!("--urls {shown}: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| Error::BadInput(format!("--urls {shown}: not UTF-8 text ({e})")))?;
    parse_urls(&shown.to_string(), &text)
}

/// Parses the text of a urls file named `name` (for messages).
pub fn parse_urls(name: &str, text: &str) -> Result<Vec<String>, Error> {
    let mut urls = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || Error::BadInput(format!("{name}:{}: not a URL: {line:?}", i + 1));
        // The url crate drops control characters around and inside a URL (NUL, tab, newline)
        // before parsing, so such a line would parse as one URL and be kept as another.
        if line.chars().any(char::is_control) {
            return Err(bad());
        }
        let url = url::Url::parse(line).map_err(|_| bad())?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(bad());
        }
        // Clients disagree on credentials in a URL (sent as Basic auth or dropped), so no
        // client is given any; the line is named without them.
        if !url.username().is_empty() || url.password().is_some() {
            let mut shown = url.clone();
            let _ = shown.set_password(None);
            let _ = shown.set_username("***");
            return Err(Error::BadInput(format!(
                "{name}:{}: a URL with credentials (user:password@) is refused: \"{shown}\"",
                i + 1
            )));
        }
        urls.push(line.to_string());
    }
    if urls.is_empty() {
        return Err(Error::BadInput(format!("--urls {name}: no URLs in it")));
    }
    Ok(urls)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The shipped list is parsed, never fetched: tests stay offline.
    #[test]
    fn shipped_urls_file_is_the_seed_list() {
        let urls = parse_urls("urls.txt", include_str!("../../urls.txt")).unwrap();
        assert_eq!(urls.len(), 16);
        assert_eq!(urls[0], "http://www.poatek.com");
        assert!(urls.iter().all(|u| u.starts_with("http")));
    }

    // Found by the urls_file fuzz target: url::Url::parse drops these before parsing.
    #[test]
    fn a_line_with_control_characters_is_not_a_url() {
        for line in [
            "\0\0https://www.example.com\0",
            "http://a\tb/",
            "http://x/\u{7f}",
        ] {
            let text = format!("# list\nhttp://ok.example/\n{line}\n");
            let err = parse_urls("urls.txt", &text).unwrap_err().to_string();
            assert!(err.starts_with("urls.txt:3: not a URL: "), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn a_url_with_credentials_is_refused_without_showing_them() {
        for line in [
            "http://alice:secret@example.com/private",
            "https://secret@example.com/",
            "http://alice:secret@[::1]:8080/",
        ] {
            let text = format!("http://ok.example/\n{line}\n");
            let err = parse_urls("urls.txt", &text).unwrap_err().to_string();
            assert!(
                err.starts_with("urls.txt:2: a URL with credentials (user:password@) is refused: "),
                "{err}"
            );
            assert!(err.contains("***@"), "{err}");
            assert!(!err.contains("secret") && !err.contains("alice"), "{err}");
        }
    }
}
