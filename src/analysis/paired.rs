//! The statistics that decide a verdict: two cells of one group compared by the ratio of their
//! figures within each round (paired, as tango-bench compares a baseline and a candidate), the
//! median ratio with a 95% bootstrap interval, and the call it supports against a minimum
//! effect. Also which runs are outliers. Pure functions of numbers; the bootstrap draws from a
//! generator with a fixed seed, so a file is judged the same every time it is rendered.
//!
//! Why paired: rounds are interleaved (every cell once, then again), so a slow minute on a
//! shared machine slows every cell of a round alike. The ratio within a round cancels it;
//! comparing each cell's runs as two unpaired samples would count it as noise twice.
//!
//! The rule, for the ratio `other / leader` (above 1 favours the leader) and a minimum effect
//! `e`:
//! - **win** when the whole interval is above `1 + e`, over at least [`MIN_WIN_ROUNDS`] rounds;
//! - **tie** when it lies within `[1 / (1 + e), 1 + e]`, over at least [`MIN_TIE_ROUNDS`];
//! - **undecided** otherwise: more rounds could tell.
//!
//! Why a win needs five rounds: the bootstrap interval of a median of n values never reaches
//! past the smallest and largest of them, and that range holds the true median only with
//! probability 1 − 2^(1−n): 75% for three rounds, 88% for four, 94% for five. Below five the
//! "95%" interval is narrower than the data can support, and a sweep that stops at the first
//! decided round would call false wins often (the simulation test measures both).

use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, SeedableRng};

use crate::model::compare::Outcome;

/// Resamples the bootstrap draws.
pub const RESAMPLES: usize = 2_000;

/// The generator's seed: fixed, so an interval is the same on every rendering.
pub const SEED: u64 = 0x6173_796e_6373_7475;

/// The interval's confidence.
pub const CONFIDENCE: f64 = 0.95;

/// Fewest paired rounds a tie is called on.
pub const MIN_TIE_ROUNDS: usize = 3;

/// Fewest paired rounds a win is called on (see the module doc).
pub const MIN_WIN_ROUNDS: usize = 5;

/// A run is an outlier when its figure lies more than this many interquartile ranges from
/// its cell's median.
pub const OUTLIER_IQRS: f64 = 3.0;

/// Fewest runs a cell needs before any is called an outlier: quartiles of three are not.
pub const MIN_OUTLIER_RUNS: usize = 4;

/// A median ratio with its interval, over the rounds both cells ran.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Paired {
    /// Median of the per-round ratios.
    pub ratio: f64,
    /// Lower end of the 95% bootstrap interval of the median.
    pub low: f64,
    /// Upper end.
    pub high: f64,
    /// Rounds both cells ran.
    pub rounds: usize,
}

impl Paired {
    /// The call the interval supports against the minimum effect `e` (see the module doc).
    pub fn outcome(&self, e: f64) -> Outcome {
        if self.beyond(e) && self.rounds >= MIN_WIN_ROUNDS {
            Outcome::Win
        } else if self.within(e) && self.rounds >= MIN_TIE_ROUNDS {
            Outcome::Tie
        } else {
            Outcome::Undecided
        }
    }

    /// Whether the whole interval favours the leader by more than `e`.
    pub fn beyond(&self, e: f64) -> bool {
        self.low > 1.0 + e
    }

    /// Whether the whole interval lies within `e` either way.
    pub fn within(&self, e: f64) -> bool {
        self.low >= 1.0 / (1.0 + e) && self.high <= 1.0 + e
    }
}

/// `other / leader` for every round both have a usable (finite, positive) figure in, in round
/// order. Each slice holds (round, figure).
pub fn ratios(leader: &[(usize, f64)], other: &[(usize, f64)]) -> Vec<f64> {
    let usable = |x: f64| x.is_finite() && x > 0.0;
    let mut out: Vec<(usize, f64)> = Vec::new();
    for &(round, l) in leader.iter().filter(|(_, l)| usable(*l)) {
        if let Some(&(_, o)) = other.iter().find(|(r, o)| *r == round && usable(*o)) {
            out.push((round, o / l));
        }
    }
    out.sort_by_key(|(round, _)| *round);
    out.into_iter().map(|(_, r)| r).collect()
}

/// The median of `ratios` with its 95% percentile-bootstrap interval; `None` when empty.
pub fn median_interval(ratios: &[f64]) -> Option<Paired> {
    let n = ratios.len();
    if n == 0 {
        return None;
    }
    let mut sorted = ratios.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(SEED);
    // A resample is how often each value was drawn: its median is found by walking the counts
    // along the sorted values, with no sort per resample.
    let mut counts = vec![0usize; n];
    let mut medians = Vec::with_capacity(RESAMPLES);
    for _ in 0..RESAMPLES {
        counts.fill(0);
        for _ in 0..n {
            // Multiply-shift maps 64 random bits onto 0..n; its bias, n / 2^64, is nil here.
            counts[((u128::from(rng.next_u64()) * n as u128) >> 64) as usize] += 1;
        }
        medians.push(median_of(&sorted, |k| ranked(&sorted, &counts, k)));
    }
    medians.sort_by(f64::total_cmp);
    let tail = (1.0 - CONFIDENCE) / 2.0;
    let at = |q: f64| medians[((q * RESAMPLES as f64) as usize).min(RESAMPLES - 1)];
    Some(Paired {
        ratio: median_of(&sorted, |k| sorted[k]),
        low: at(tail),
        high: at(1.0 - tail),
        rounds: n,
    })
}

/// The value of rank `k` (0-based) of a resample that drew `sorted[i]` `counts[i]` times.
fn ranked(sorted: &[f64], counts: &[usize], k: usize) -> f64 {
    let mut seen = 0;
    for (value, count) in sorted.iter().zip(counts) {
        seen += count;
        if seen > k {
            return *value;
        }
    }
    sorted[sorted.len() - 1]
}

/// The median of `values` sorted, given the value at each rank (the mean of the middle two
/// for an even count); 0 when empty.
fn median_of(values: &[f64], at: impl Fn(usize) -> f64) -> f64 {
    let n = values.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => at(n / 2),
        _ => (at(n / 2 - 1) + at(n / 2)) / 2.0,
    }
}

/// [`ratios`] then [`median_interval`].
pub fn pair(leader: &[(usize, f64)], other: &[(usize, f64)]) -> Option<Paired> {
    median_interval(&ratios(leader, other))
}

/// Which of `values` lie more than [`OUTLIER_IQRS`] interquartile ranges from their median
/// (none below [`MIN_OUTLIER_RUNS`] values). Quartiles interpolate linearly between ranks.
pub fn outliers(values: &[f64]) -> Vec<bool> {
    if values.len() < MIN_OUTLIER_RUNS {
        return vec![false; values.len()];
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let at = p * (sorted.len() - 1) as f64;
        let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
        sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo as f64)
    };
    let (median, iqr) = (q(0.5), q(0.75) - q(0.25));
    values
        .iter()
        .map(|v| (v - median).abs() > OUTLIER_IQRS * iqr && iqr > 0.0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_pair_by_round_and_skip_what_one_side_lacks() {
        let leader = [(1, 2.0), (2, 2.0), (3, 0.0), (4, 2.0)];
        let other = [(4, 3.0), (1, 4.0), (3, 1.0), (5, 9.0)];
        assert_eq!(ratios(&leader, &other), [2.0, 1.5]);
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        let m = |v: &[f64]| median_interval(v).map(|p| p.ratio);
        assert_eq!(m(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(m(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(m(&[]), None);
        // A resample that drew the smallest twice and the largest once has the smallest as
        // its median.
        assert_eq!(ranked(&[1.0, 2.0, 3.0], &[2, 0, 1], 1), 1.0);
        assert_eq!(ranked(&[1.0, 2.0, 3.0], &[0, 1, 2], 1), 3.0);
    }

    #[test]
    fn the_interval_holds_the_median_and_repeats_exactly() {
        let r = [1.10, 1.30, 1.20, 1.25, 1.15, 1.40, 1.05];
        let p = median_interval(&r).unwrap();
        assert_eq!(p.ratio, 1.20);
        assert!(p.low <= p.ratio && p.ratio <= p.high, "{p:?}");
        assert!(p.low >= 1.05 && p.high <= 1.40, "{p:?}");
        assert_eq!(median_interval(&r), Some(p), "a fixed seed");
        // Three rounds: the interval is their range, as the module doc says.
        let three = median_interval(&[1.1, 1.2, 1.3]).unwrap();
        assert_eq!((three.low, three.high), (1.1, 1.3));
    }

    #[test]
    fn the_call_follows_the_interval_the_effect_and_the_rounds() {
        let p = |low, high, rounds| Paired {
            ratio: (low + high) / 2.0,
            low,
            high,
            rounds,
        };
        assert_eq!(p(1.05, 1.20, 5).outcome(0.03), Outcome::Win);
        assert_eq!(p(1.05, 1.20, 4).outcome(0.03), Outcome::Undecided);
        assert_eq!(p(0.98, 1.02, 3).outcome(0.03), Outcome::Tie);
        assert_eq!(p(0.98, 1.02, 2).outcome(0.03), Outcome::Undecided);
        assert_eq!(p(1.01, 1.05, 20).outcome(0.03), Outcome::Undecided);
        // The other runtime better beyond the effect: not a tie, and not the leader's win.
        assert_eq!(p(0.80, 0.90, 20).outcome(0.03), Outcome::Undecided);
    }

    #[test]
    fn outliers_are_far_from_the_median_in_quartile_ranges() {
        let walls = [0.25, 0.26, 0.255, 0.252, 0.258, 0.61];
        assert_eq!(outliers(&walls), [false, false, false, false, false, true]);
        assert_eq!(outliers(&[0.25, 0.26, 0.9]), [false; 3], "too few to tell");
        assert_eq!(outliers(&[1.0; 6]), [false; 6], "no spread, no outlier");
    }
}
