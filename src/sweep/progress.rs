//! The progress bar of a sweep: on stderr, only on a terminal, never with `--quiet` or a
//! machine format on stdout.

/// A bar over child runs on stderr, or nothing.
pub struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    /// A bar over `len` runs, shown only when `show` and stderr is a terminal.
    pub fn new(len: u64, show: bool) -> Progress {
        use std::io::IsTerminal;
        if !show || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = indicatif::ProgressBar::new(len);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} runs, eta {eta}  {msg}")
                .expect("the template is valid"),
        );
        Progress(Some(bar))
    }

    /// Names the cell now running.
    pub fn start(&self, cell: &str) {
        if let Some(b) = &self.0 {
            b.set_message(cell.to_string());
        }
    }

    /// Counts one run done.
    pub fn done(&self) {
        if let Some(b) = &self.0 {
            b.inc(1);
        }
    }

    /// Adds `n` runs to the bar's length: a round more of some cells.
    pub fn add(&self, n: u64) {
        if let Some(b) = &self.0 {
            b.inc_length(n);
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}
