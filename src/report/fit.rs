//! Fitting what goes to a terminal into its width: lines wrapped at words with a hanging
//! indent, and a table's column widths chosen so that every line of it stays within the width.
//!
//! Only a table on a terminal is fitted ([`Fit::for_output`]): a pipe, a file, Markdown, CSV
//! and JSON get complete, unwrapped lines. Widths count characters: what the tool prints is
//! one terminal column per character (box drawing, –, ≤, µ, ×); only a machine's name or a
//! path could bring a wider one.

use std::io::IsTerminal;

use crate::plan::{Format, Output};

/// How terminal output is laid out: the width it must fit, and which columns its tables show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fit {
    /// The width every line must fit, or `None` for complete lines.
    pub width: Option<usize>,
    /// Every column of a table, rather than the compact set a fitted table shows.
    pub wide: bool,
}

/// Narrower terminals are laid out as this wide: below it no table can be made readable.
const MIN_WIDTH: usize = 40;

impl Fit {
    /// Complete lines and every column: what a pipe, a file and the docs get.
    pub const COMPLETE: Fit = Fit {
        width: None,
        wide: true,
    };

    /// A table `width` characters wide, the compact set of columns unless `wide`.
    pub fn width(width: usize, wide: bool) -> Fit {
        Fit {
            width: Some(width.max(MIN_WIDTH)),
            wide,
        }
    }

    /// How output to `output` is laid out: a table on stdout fits the terminal when stdout is
    /// one, anything else is complete.
    pub fn for_output(output: &Output) -> Fit {
        match (&output.path, output.format, terminal_width()) {
            (None, Format::Table, Some(width)) => Fit::width(width, output.wide),
            _ => Fit::COMPLETE,
        }
    }

    /// Whether tables show their compact set of columns.
    pub fn compact(&self) -> bool {
        self.width.is_some() && !self.wide
    }

    /// `line` as it is, or wrapped to the width with its lines after the first indented by
    /// `indent` spaces (see [`hanging`]).
    pub fn line(&self, line: &str, indent: usize) -> String {
        match self.width {
            Some(width) => hanging(line, width, indent),
            None => line.to_string(),
        }
    }
}

/// The width of stdout's terminal: `COLUMNS` when it is set to a number, else what the
/// terminal says; `None` when stdout is not a terminal.
pub fn terminal_width() -> Option<usize> {
    let stdout = std::io::stdout();
    if !stdout.is_terminal() {
        return None;
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&w| w > 0)
        .or_else(|| terminal_size::terminal_size_of(&stdout).map(|(w, _)| usize::from(w.0)))
}

/// The width of `s` as this module counts it: its characters.
pub fn width(s: &str) -> usize {
    s.chars().count()
}

/// `text` in lines of at most `width` characters (see [`wrap_lines`]).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    wrap_lines(text, width, width)
}

/// `line` wrapped to `width`: its first line keeps the line's own indentation, the lines after
/// it are indented by `indent` spaces, so a list item or a `note:` reads as one block.
pub fn hanging(line: &str, width: usize, indent: usize) -> String {
    let text = line.trim_start_matches(' ');
    let lead = line.len() - text.len();
    // Room for at least a few characters a line, whatever the indentation.
    let first = width.saturating_sub(lead).max(8);
    let rest = width.saturating_sub(indent).max(8);
    let mut out = " ".repeat(lead);
    for (i, l) in wrap_lines(text, first, rest).iter().enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(l);
    }
    out
}

/// `text` in lines, the first at most `first` characters and the others at most `rest`. Lines
/// break at spaces; a word longer than a whole line breaks after a hyphen, dash, slash or comma
/// inside it that keeps the piece within the line, else at the width. A newline always breaks.
pub fn wrap_lines(text: &str, first: usize, rest: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let room = |lines: &Vec<String>| if lines.is_empty() { first } else { rest }.max(1);
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let mut word = word;
            loop {
                let limit = room(&lines);
                let used = width(&line);
                let gap = usize::from(used > 0);
                if used + gap + width(word) <= limit {
                    if gap == 1 {
                        line.push(' ');
                    }
                    line.push_str(word);
                    break;
                }
                if used > 0 {
                    lines.push(std::mem::take(&mut line));
                    continue;
                }
                // A word longer than a whole line.
                let (head, tail) = split_word(word, limit);
                lines.push(head.to_string());
                word = tail;
            }
        }
        lines.push(line);
    }
    lines
}

/// `word`, longer than `limit`, cut into a piece that fits and the rest: after the last
/// hyphen, dash, slash or comma that fits, else at the limit.
fn split_word(word: &str, limit: usize) -> (&str, &str) {
    let ends: Vec<usize> = word
        .char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .take(limit)
        .collect();
    let at_limit = ends.last().copied().unwrap_or(word.len());
    let at_mark = word
        .char_indices()
        .take(limit)
        .filter(|&(_, c)| matches!(c, '-' | '–' | '/' | ','))
        .map(|(i, c)| i + c.len_utf8())
        .filter(|&end| end < word.len())
        .last();
    word.split_at(at_mark.unwrap_or(at_limit))
}

/// Column `c` of `row`, empty past its end.
fn cell(row: &[String], c: usize) -> &str {
    row.get(c).map(String::as_str).unwrap_or("")
}

/// Lines `cell` takes at `width`.
fn lines_at(cell: &str, width: usize) -> usize {
    wrap(cell, width).len()
}

/// The longest word of `cell`: the narrowest it goes without breaking a word.
fn longest_word(cell: &str) -> usize {
    cell.split([' ', '\n']).map(width).max().unwrap_or(0)
}

/// Column widths for `rows` (the header first) whose sum is at most `room`, the characters a
/// table's cells have once its frame is drawn. Each column starts at its widest line. While the
/// sum is over `room`, a column that can give up a character without any of its cells taking
/// another line gives it (the widest such); else the widest column still wider than its
/// longest word gives one, so long cells wrap before short ones; a column that gave one goes on
/// giving while none of its cells takes another line. Only when every column is at its longest
/// word do words break, the widest column first. When even one character a column
/// does not fit, every column ends at one.
pub fn column_widths(rows: &[Vec<String>], room: usize) -> Vec<usize> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let lines_of = |c: usize, w: usize| -> Vec<usize> {
        rows.iter().map(|r| lines_at(cell(r, c), w)).collect()
    };
    let mut widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .flat_map(|r| cell(r, c).lines().map(width))
                .max()
                .unwrap_or(0)
                .max(1)
        })
        .collect();
    let words: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .map(|r| longest_word(cell(r, c)))
                .max()
                .unwrap_or(0)
                .max(1)
        })
        .collect();
    let mut lines: Vec<Vec<usize>> = (0..columns).map(|c| lines_of(c, widths[c])).collect();
    // The widest of `candidates`, the leftmost on a tie.
    let widest = |widths: &[usize], candidates: &mut dyn Iterator<Item = usize>| {
        candidates.max_by_key(|&c| (widths[c], std::cmp::Reverse(c)))
    };
    while widths.iter().sum::<usize>() > room {
        let above_word = |c: &usize| widths[*c] > words[*c];
        let free = widest(
            &widths,
            &mut (0..columns)
                .filter(above_word)
                .filter(|&c| lines_of(c, widths[c] - 1) == lines[c]),
        );
        let pick = free
            .or_else(|| widest(&widths, &mut (0..columns).filter(above_word)))
            .or_else(|| widest(&widths, &mut (0..columns).filter(|&c| widths[c] > 1)));
        let Some(c) = pick else {
            break;
        };
        widths[c] -= 1;
        lines[c] = lines_of(c, widths[c]);
        // What the column can give up now at no further cost, it gives at once.
        while widths.iter().sum::<usize>() > room
            && widths[c] > words[c]
            && lines_of(c, widths[c] - 1) == lines[c]
        {
            widths[c] -= 1;
        }
    }
    widths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_wrap_at_spaces_and_long_words_after_a_hyphen() {
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("process-per-task", 12), ["process-per-", "task"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(
            wrap("0.056 (0.054–0.073) ~", 15),
            ["0.056", "(0.054–0.073) ~"]
        );
        assert_eq!(wrap("a\nb c", 10), ["a", "b c"]);
        assert_eq!(wrap("", 5), [""]);
    }

    #[test]
    fn a_hanging_indent_keeps_a_block_together() {
        let line = "  cpu comp · 2 workers · 8 tasks · threads wins on wall time with 0.048 s";
        let wrapped = hanging(line, 30, 4);
        assert_eq!(
            wrapped,
            "  cpu comp · 2 workers · 8\n    tasks · threads wins on\n    wall time with 0.048 s"
        );
        for l in wrapped.lines() {
            assert!(width(l) <= 30, "{l:?}");
        }
        assert_eq!(hanging("short", 30, 4), "short");
    }

    #[test]
    fn columns_narrow_where_it_costs_the_fewest_lines() {
        let rows: Vec<Vec<String>> = [
            ["runtime", "wall s (min–max)", "memory"],
            ["process-pool", "0.055 (0.054–0.056)", "≤ 16.9 MiB"],
            ["threads", "0.048 (0.046–0.055)", "6.0 MiB"],
        ]
        .iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect();
        assert_eq!(column_widths(&rows, 100), [12, 19, 10]);
        // The longest cells wrap first; a column then gives up what its wrapped cells leave.
        assert_eq!(column_widths(&rows, 35), [12, 13, 10]);
        assert_eq!(column_widths(&rows, 38), [12, 16, 10]);
        // Below every longest word, words break.
        let tight = column_widths(&rows, 20);
        assert!(tight.iter().sum::<usize>() <= 20, "{tight:?}");
    }
}
