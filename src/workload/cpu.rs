//! The CPU-bound loops of the seed notebooks, in Rust.
//!
//! Each loop is guarded with `std::hint::black_box` so the optimiser can neither delete it nor
//! fold it to a constant, and each returns a value the caller checks: a loop whose result is
//! never looked at is a loop the compiler is allowed to remove.

use std::f64::consts::PI;
use std::hint::black_box;

use serde::{Deserialize, Serialize};

use super::{Outcome, TaskError, TaskResult};

/// Which CPU loop a task runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CpuKind {
    /// Seed 000: an empty counting loop.
    Spin,
    /// Seed 002 `long_comp`: alternating square and square root.
    Comp,
    /// Seed 001 `compute_intensive`: `foo += foo * cos(i * pi)`.
    Cos,
    /// No work at all: measures the harness and the runtime.
    Noop,
}

impl CpuKind {
    /// Every CPU workload, in the order help and listings show them.
    pub const ALL: [CpuKind; 4] = [CpuKind::Spin, CpuKind::Comp, CpuKind::Cos, CpuKind::Noop];

    /// The name used on the command line and in records.
    pub fn name(self) -> &'static str {
        match self {
            CpuKind::Spin => "spin",
            CpuKind::Comp => "comp",
            CpuKind::Cos => "cos",
            CpuKind::Noop => "noop",
        }
    }

    /// Looks a workload up by its command-line name.
    pub fn from_name(name: &str) -> Option<CpuKind> {
        CpuKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Loop steps per task when `--iters` is not given: the seeds' counts, so a task takes tens
    /// of milliseconds.
    pub fn default_iters(self) -> u64 {
        match self {
            // Seed 000's worker: 20 items of 1,000,000 empty iterations each.
            CpuKind::Spin => 20_000_000,
            CpuKind::Comp => 5_000_000,
            // The seed runs 10^7 steps, about 200 ms a task on a 3 GHz core; a fifth keeps a
            // task at tens of milliseconds like the others. `--iters 10000000` is the seed's.
            CpuKind::Cos => 2_000_000,
            CpuKind::Noop => 0,
        }
    }

    /// One line on what the loop is, for help and listings.
    pub fn describe(self) -> &'static str {
        match self {
            CpuKind::Spin => "seed 000: an empty counting loop (20 items x 1,000,000 per task)",
            CpuKind::Comp => "seed 002 long_comp: x = (x-y)^2 or sqrt(x+y), 5,000,000 steps",
            CpuKind::Cos => {
                "seed 001 compute_intensive: foo += foo*cos(i*pi), 2,000,000 steps (seed: 10^7)"
            }
            CpuKind::Noop => "nothing: the cost of the harness and the runtime per task",
        }
    }
}

/// A CPU workload with its step count: what every task of a `cpu` run executes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuWork {
    /// Which loop.
    pub kind: CpuKind,
    /// Loop steps per task (ignored by `noop`).
    pub iters: u64,
}

impl CpuWork {
    /// Runs task `task` to completion and checks its result.
    pub fn run(&self, task: usize) -> TaskResult {
        match self.kind {
            CpuKind::Spin => {
                let n = spin(self.iters);
                if n == self.iters {
                    Ok(Outcome::NONE)
                } else {
                    Err(TaskError::Check(format!(
                        "spin counted {n}, expected {}",
                        self.iters
                    )))
                }
            }
            CpuKind::Comp => {
                let x = long_comp(task as u64, self.iters);
                // Every step is a square or a square root, so the result is finite and >= 0.
                if x.is_finite() && x >= 0.0 {
                    Ok(Outcome::NONE)
                } else {
                    Err(TaskError::Check(format!("long_comp gave {x}")))
                }
            }
            CpuKind::Cos => {
                let sum = compute_intensive(self.iters);
                // The seed's foo starts at 0 and each step adds foo * cos(..): Python's loop ends at 0.
                if sum == 0.0 {
                    Ok(Outcome::NONE)
                } else {
                    Err(TaskError::Check(format!(
                        "compute_intensive gave {sum}, expected 0"
                    )))
                }
            }
            CpuKind::Noop => {
                black_box(task);
                Ok(Outcome::NONE)
            }
        }
    }
}

/// Seed 000: `for _ in range(n): pass`, returning how many iterations ran.
pub fn spin(n: u64) -> u64 {
    let mut count = 0u64;
    for _ in 0..black_box(n) {
        // black_box on the counter keeps each iteration: without it the loop is `count = n`.
        count = black_box(count + 1);
    }
    count
}

/// Seed 002 `long_comp(i)` with `steps` steps, as Python computes it.
///
/// Python starts with an int and switches to float at the first square root; the int phase
/// only lasts a few steps and stays far below 2^53, so f64 reproduces it exactly.
pub fn long_comp(i: u64, steps: u64) -> f64 {
    let mut x = black_box(i as f64);
    for y in 0..black_box(steps) {
        let y = y as f64;
        // Python's `x % 2 == 0`. `%` on f64 is a call to libm's fmod, which would make this loop
        // measure fmod; halving is exact and `fract` is one instruction, with the same answer
        // for every finite x and `false` for inf and NaN, as fmod gives.
        let even = (x * 0.5).fract() == 0.0;
        x = if even {
            (x - y) * (x - y)
        } else {
            (x + y).sqrt()
        };
    }
    x
}

/// Seed 001 `compute_intensive`: `foo += foo * math.cos(i * math.pi)` for `steps` steps.
pub fn compute_intensive(steps: u64) -> f64 {
    let mut sum = black_box(0.0f64);
    for i in 0..black_box(steps) {
        // The seed's `foo` is always 0, so without black_box the optimiser may drop the cos.
        sum = black_box(sum + sum * (i as f64 * PI).cos());
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values were produced by the seed's Python loops on CPython 3.11:
    //   def long_comp(i, n):
    //       x = i
    //       for y in range(n):
    //           x = (x-y)**2 if x % 2 == 0 else (x+y)**0.5
    //       return x
    #[test]
    fn long_comp_matches_python() {
        let py10 = [
            3.512826321994255,
            3.5128268765338353,
            3.5128333076135108,
            3.5128271774331576,
        ];
        for (i, want) in py10.into_iter().enumerate() {
            assert_eq!(long_comp(i as u64, 10), want, "i={i}, 10 steps");
        }
        for i in 0..4 {
            assert_eq!(long_comp(i, 1000), 32.11066558092454, "i={i}, 1000 steps");
            assert_eq!(
                long_comp(i, 100_000),
                316.72657766046683,
                "i={i}, 100000 steps"
            );
        }
    }

    #[test]
    fn long_comp_full_count_matches_the_notebook_output() {
        // Seed 002 printed 2236.5678097446853 for long_comp(i) with 5,000,000 steps.
        assert_eq!(long_comp(3, 5_000_000), 2236.5678097446853);
    }

    #[test]
    fn compute_intensive_matches_python() {
        // Python: foo = 0; for i in range(1000): foo += foo*math.cos(i*math.pi) -> 0.0
        assert_eq!(compute_intensive(1000), 0.0);
    }

    #[test]
    fn spin_counts_every_iteration() {
        assert_eq!(spin(0), 0);
        assert_eq!(spin(1_000_000), 1_000_000);
    }

    #[test]
    fn every_workload_passes_its_own_check() {
        for kind in CpuKind::ALL {
            let work = CpuWork { kind, iters: 1000 };
            assert_eq!(work.run(2), Ok(Outcome::NONE), "{}", kind.name());
        }
    }

    #[test]
    fn names_round_trip() {
        for kind in CpuKind::ALL {
            assert_eq!(CpuKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(CpuKind::from_name("fib"), None);
    }
}
