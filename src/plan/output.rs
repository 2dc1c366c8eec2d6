//! Where results go: the format, the file, and the checks on output paths made before any work.

use std::path::{Path, PathBuf};

use crate::Error;

/// Checks that `dir` is a directory or can be made one, before any work.
pub fn check_dir_target(flag: &str, dir: &Path) -> Result<(), Error> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::BadInput(format!(
            "{flag} {}: exists and is not a directory",
            dir.display()
        )));
    }
    let mut up = dir;
    while !up.exists() {
        match up.parent() {
            Some(p) if !p.as_os_str().is_empty() => up = p,
            _ => return Ok(()),
        }
    }
    if !up.is_dir() {
        return Err(Error::BadInput(format!(
            "{flag} {}: {} is not a directory",
            dir.display(),
            up.display()
        )));
    }
    // A read-only file system is found now, not after the work.
    tempfile::tempfile_in(up).map_err(|e| {
        Error::BadInput(format!(
            "{flag} {}: cannot write in {}: {}",
            dir.display(),
            up.display(),
            crate::files::os_reason(e)
        ))
    })?;
    Ok(())
}

/// Creates `dir` if needed and checks a file can be written in it.
pub fn check_out_dir(dir: &Path) -> Result<(), Error> {
    let bad = |why: String| Error::BadInput(format!("--out-dir {}: {why}", dir.display()));
    std::fs::create_dir_all(dir).map_err(|e| bad(format!("cannot be created: {e}")))?;
    tempfile::tempfile_in(dir).map_err(|e| bad(format!("cannot be written: {e}")))?;
    Ok(())
}

/// How results are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A readable terminal table.
    Table,
    /// Markdown tables, ready for docs.
    Markdown,
    /// CSV with a header row.
    Csv,
    /// The JSON run record.
    Json,
}

impl Format {
    /// Every format, in the order help shows them.
    pub const ALL: [Format; 4] = [Format::Table, Format::Markdown, Format::Csv, Format::Json];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Markdown => "markdown",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }

    /// Looks a format up by name.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The format a file name implies: `.json`, `.csv`, `.md`; anything else is a table.
    pub fn for_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => Format::Json,
            Some("csv") => Format::Csv,
            Some("md" | "markdown") => Format::Markdown,
            _ => Format::Table,
        }
    }
}

/// Where results go and in which format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// The format.
    pub format: Format,
    /// A file to write atomically, or `None` for stdout.
    pub path: Option<PathBuf>,
    /// `--wide`: every column of a table on a terminal, instead of the compact set that fits
    /// its width more easily (a pipe or a file always gets every column).
    pub wide: bool,
}

impl Output {
    /// A table on stdout.
    pub fn stdout() -> Output {
        Output {
            format: Format::Table,
            path: None,
            wide: false,
        }
    }

    /// Whether a progress bar may show: not when a machine format goes to stdout, where a
    /// script is reading.
    pub fn shows_progress(&self) -> bool {
        self.path.is_some() || self.format == Format::Table
    }

    /// Checks `--output` and picks the format: the one given, else the file's extension, else
    /// a table.
    pub fn new(format: Option<Format>, path: Option<PathBuf>) -> Result<Output, Error> {
        if let Some(path) = &path {
            let dir = dir_of(path);
            if !dir.is_dir() {
                let why = if dir.exists() {
                    format!("{} is not a directory", dir.display())
                } else {
                    format!("directory {} does not exist", dir.display())
                };
                return Err(Error::BadInput(format!(
                    "--output {}: {why}",
                    path.display()
                )));
            }
            crate::files::check_writable(path)
                .map_err(|why| Error::BadInput(format!("--output {}: {why}", path.display())))?;
        }
        let format = format
            .or(path.as_deref().map(Format::for_path))
            .unwrap_or(Format::Table);
        Ok(Output {
            format,
            path,
            wide: false,
        })
    }
}

pub use crate::files::dir_of;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_follows_flag_then_extension() {
        let out = Output::new(None, Some("x.json".into())).unwrap();
        assert_eq!(out.format, Format::Json);
        let out = Output::new(Some(Format::Csv), Some("x.json".into())).unwrap();
        assert_eq!(out.format, Format::Csv);
        assert_eq!(Output::new(None, None).unwrap().format, Format::Table);
        assert_eq!(Format::for_path(Path::new("a/b.md")), Format::Markdown);
    }

    #[test]
    fn output_in_a_missing_directory_is_bad_input() {
        let err = Output::new(None, Some("/no/such/dir/x.json".into())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--output /no/such/dir/x.json: directory /no/such/dir does not exist"
        );
    }
}
