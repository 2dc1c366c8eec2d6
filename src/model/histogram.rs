//! HDR latency histograms and their summaries.
//!
//! Values are recorded in nanoseconds in histograms built with explicit bounds, so every run
//! and every repeat has the same layout and can be merged exactly.

use std::ops::AddAssign;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use serde::{Deserialize, Serialize};

/// Largest value a histogram holds exactly: one hour in nanoseconds. Longer values saturate.
const HIGHEST_NS: u64 = 3_600 * 1_000_000_000;
/// Three significant digits: 0.1% resolution at every magnitude.
const SIGFIG: u8 = 3;

/// A histogram of durations in nanoseconds.
#[derive(Clone, Debug)]
pub struct DurationHistogram(Histogram<u64>);

impl Default for DurationHistogram {
    fn default() -> Self {
        // The bounds are constants that hdrhistogram accepts; failure here is a programming error.
        DurationHistogram(
            Histogram::new_with_bounds(1, HIGHEST_NS, SIGFIG).expect("constant bounds are valid"),
        )
    }
}

impl DurationHistogram {
    /// Records one duration, saturating at one hour.
    pub fn record(&mut self, ns: u64) {
        self.0.saturating_record(ns);
    }

    /// How many durations were recorded.
    pub fn len(&self) -> u64 {
        self.0.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Count, mean, percentiles and max in milliseconds.
    pub fn summary(&self) -> Summary {
        if self.0.is_empty() {
            return Summary::default();
        }
        let ms = |ns: u64| ns as f64 / 1e6;
        Summary {
            count: self.0.len(),
            mean: self.0.mean() / 1e6,
            p50: ms(self.0.value_at_quantile(0.50)),
            p90: ms(self.0.value_at_quantile(0.90)),
            p99: ms(self.0.value_at_quantile(0.99)),
            p999: ms(self.0.value_at_quantile(0.999)),
            max: ms(self.0.max()),
        }
    }
}

impl DurationHistogram {
    /// The histogram in HdrHistogram's compressed V2 encoding, base64: what interval logs carry.
    pub fn encode(&self) -> anyhow::Result<String> {
        let mut bytes = Vec::new();
        V2DeflateSerializer::new()
            .serialize(&self.0, &mut bytes)
            .map_err(|e| anyhow::anyhow!("could not encode a histogram: {e:?}"))?;
        Ok(BASE64.encode(bytes))
    }

    /// Reads back what [`DurationHistogram::encode`] wrote, into this crate's bounds.
    pub fn decode(text: &str) -> anyhow::Result<DurationHistogram> {
        let bytes = BASE64
            .decode(text.trim())
            .context("a histogram is not valid base64")?;
        let read: Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| anyhow::anyhow!("a histogram does not decode: {e:?}"))?;
        let mut h = DurationHistogram::default();
        h.0.add(&read)
            .map_err(|e| anyhow::anyhow!("a histogram is out of range: {e:?}"))?;
        Ok(h)
    }

    /// Latency in ms at quantiles 0, 0.9, 0.99, ... spaced evenly in log10(1/(1-q)), up to the
    /// largest quantile the count resolves: the points of a percentile spectrum.
    pub fn spectrum(&self) -> Vec<(f64, f64)> {
        if self.0.is_empty() {
            return Vec::new();
        }
        // Past 1 - 1/count every quantile is the maximum; stop there, plus the max itself.
        let top = 1.0 - 1.0 / self.0.len() as f64;
        let mut points: Vec<(f64, f64)> = (0..=60)
            .map(|k| 1.0 - 10f64.powf(-(k as f64) / 10.0))
            .take_while(|&q| q <= top)
            .map(|q| (q, self.0.value_at_quantile(q) as f64 / 1e6))
            .collect();
        points.push((top.max(0.0), self.0.max() as f64 / 1e6));
        points
    }

    /// The underlying histogram, for interval-log writers.
    pub fn raw(&self) -> &Histogram<u64> {
        &self.0
    }
}

impl AddAssign<&DurationHistogram> for DurationHistogram {
    fn add_assign(&mut self, other: &DurationHistogram) {
        // Both sides were built with the same bounds, so adding cannot go out of range.
        self.0.add(&other.0).expect("histograms share bounds");
    }
}

/// A histogram summary in milliseconds, as the run record carries it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Summary {
    /// Number of recorded values.
    pub count: u64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest value.
    pub max: f64,
}

/// The three histograms of a run: latency = end - submit, queue = start - submit,
/// service = end - start.
#[derive(Clone, Debug, Default)]
pub struct TaskHistograms {
    /// Submit to end.
    pub latency: DurationHistogram,
    /// Submit to start: time spent waiting for a worker.
    pub queue: DurationHistogram,
    /// Start to end: time spent running.
    pub service: DurationHistogram,
}

impl TaskHistograms {
    /// Records one task from its three timestamps.
    pub fn record(&mut self, submit_ns: u64, start_ns: u64, end_ns: u64) {
        self.latency.record(end_ns.saturating_sub(submit_ns));
        self.queue.record(start_ns.saturating_sub(submit_ns));
        self.service.record(end_ns.saturating_sub(start_ns));
    }
}

/// The three histograms encoded for the JSON record (nanoseconds, see
/// [`DurationHistogram::encode`]), so a saved run can be re-analysed or exported as an
/// HdrHistogram interval log.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EncodedHistograms {
    /// Submit to end.
    pub latency: String,
    /// Submit to start.
    pub queue: String,
    /// Start to end.
    pub service: String,
}

impl TaskHistograms {
    /// Encodes all three for the record.
    pub fn encode(&self) -> anyhow::Result<EncodedHistograms> {
        Ok(EncodedHistograms {
            latency: self.latency.encode()?,
            queue: self.queue.encode()?,
            service: self.service.encode()?,
        })
    }

    /// Decodes what [`TaskHistograms::encode`] wrote.
    pub fn decode(e: &EncodedHistograms) -> anyhow::Result<TaskHistograms> {
        Ok(TaskHistograms {
            latency: DurationHistogram::decode(&e.latency)?,
            queue: DurationHistogram::decode(&e.queue)?,
            service: DurationHistogram::decode(&e.service)?,
        })
    }
}

impl AddAssign<&TaskHistograms> for TaskHistograms {
    fn add_assign(&mut self, other: &TaskHistograms) {
        self.latency += &other.latency;
        self.queue += &other.queue;
        self.service += &other.service;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(values_ms: impl IntoIterator<Item = u64>) -> DurationHistogram {
        let mut h = DurationHistogram::default();
        for v in values_ms {
            h.record(v * 1_000_000);
        }
        h
    }

    #[test]
    fn encoding_round_trips_and_rejects_garbage() {
        let h = hist([1, 2, 3, 50, 700]);
        let back = DurationHistogram::decode(&h.encode().unwrap()).unwrap();
        assert_eq!(back.summary(), h.summary());
        assert!(DurationHistogram::decode("not base64!").is_err());
        assert!(DurationHistogram::decode("AAAA").is_err());
    }

    #[test]
    fn spectrum_rises_to_the_max() {
        let points = hist(1..=1000).spectrum();
        assert!(
            points
                .windows(2)
                .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1)
        );
        assert!((points[0].1 - 1.0).abs() < 0.01);
        // A thousand values resolve quantiles up to 0.999, then the max.
        assert!((points.last().unwrap().1 - 1000.0).abs() < 1.0);
        assert!(points.iter().any(|p| (p.0 - 0.99).abs() < 1e-9));
        assert!(DurationHistogram::default().spectrum().is_empty());
    }

    #[test]
    fn percentiles_of_one_to_a_thousand() {
        let s = hist(1..=1000).summary();
        assert_eq!(s.count, 1000);
        // Three significant digits: each percentile within 0.1% of the exact value.
        for (got, want) in [
            (s.p50, 500.0),
            (s.p90, 900.0),
            (s.p99, 990.0),
            (s.p999, 999.0),
        ] {
            assert!((got - want).abs() <= want * 0.001, "got {got}, want {want}");
        }
        assert!((s.mean - 500.5).abs() <= 0.5, "mean {}", s.mean);
        assert!((s.max - 1000.0).abs() <= 1.0, "max {}", s.max);
    }

    #[test]
    fn merge_equals_recording_everything_in_one() {
        let mut merged = hist(1..=300);
        merged += &hist(301..=1000);
        let whole = hist(1..=1000);
        assert_eq!(merged.summary(), whole.summary());
        assert_eq!(merged.len(), 1000);
    }

    #[test]
    fn task_histograms_split_queue_and_service() {
        let mut a = TaskHistograms::default();
        a.record(0, 2_000_000, 5_000_000);
        let mut b = TaskHistograms::default();
        b.record(10, 10, 1_000_010);
        a += &b;
        assert_eq!(a.latency.len(), 2);
        let q = a.queue.summary();
        assert_eq!(q.count, 2);
        assert!((q.max - 2.0).abs() < 0.01, "queue max {}", q.max);
        let s = a.service.summary();
        assert!(
            (s.p50 - 1.0).abs() < 0.01 && (s.max - 3.0).abs() < 0.01,
            "{s:?}"
        );
    }

    #[test]
    fn empty_summary_is_zero_and_huge_values_saturate() {
        assert_eq!(DurationHistogram::default().summary(), Summary::default());
        let mut h = DurationHistogram::default();
        h.record(u64::MAX);
        assert_eq!(h.len(), 1);
        assert!(h.summary().max >= 3_600_000.0 * 0.999);
    }
}
