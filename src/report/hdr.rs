//! HdrHistogram interval logs (`.hlog`): the histograms of a run or of every comparison cell,
//! so they open in the HdrHistogram tools users already know (HistogramLogAnalyzer,
//! hdr-plot). Values are nanoseconds; the log's max-value divisor shows them in milliseconds.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};

use crate::model::histogram::TaskHistograms;
use crate::model::run::RunRecord;

/// Writes one log for a group of runs of the same cell: each run is one interval, laid end to
/// end, with the three histograms tagged `latency`, `queue` and `service`. Returns the path.
pub fn write_cell(dir: &Path, name: &str, runs: &[&RunRecord]) -> anyhow::Result<PathBuf> {
    let mut bytes = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    {
        let mut builder = IntervalLogWriterBuilder::new();
        builder
            .add_comment(&format!("asyncstudy {name}: values in ns, shown in ms"))
            .with_max_value_divisor(1e6);
        let mut log = builder
            .begin_log_with(&mut bytes, &mut serializer)
            .context("could not start an interval log")?;
        let mut at = Duration::ZERO;
        for r in runs {
            let Some(encoded) = &r.histograms else {
                anyhow::bail!(
                    "{name}: the record has no histograms (written by an older asyncstudy)"
                );
            };
            let h = TaskHistograms::decode(encoded)?;
            let wall = Duration::from_secs_f64(r.wall_s.max(0.0));
            for (tag, hist) in [
                ("latency", &h.latency),
                ("queue", &h.queue),
                ("service", &h.service),
            ] {
                log.write_histogram(hist.raw(), at, wall, Tag::new(tag))
                    .map_err(|e| anyhow::anyhow!("could not write an interval: {e}"))?;
            }
            at += wall;
        }
    }
    let path = dir.join(format!("{name}.hlog"));
    super::write_atomically(&path, &bytes)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

    #[test]
    fn a_log_reads_back_with_three_tagged_intervals_per_run() {
        let r = crate::report::tests::sample_record();
        let dir = tempfile::tempdir().unwrap();
        let path = write_cell(dir.path(), "cell", &[&r, &r]).unwrap();
        let text = std::fs::read(&path).unwrap();
        let tags: Vec<String> = IntervalLogIterator::new(&text)
            .filter_map(|e| match e.unwrap() {
                LogEntry::Interval(h) => h.tag().map(|t| t.as_str().to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(
            tags,
            ["latency", "queue", "service", "latency", "queue", "service"]
        );
        let mut old = r.clone();
        old.histograms = None;
        assert!(write_cell(dir.path(), "old", &[&old]).is_err());
    }
}
