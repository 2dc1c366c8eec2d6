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
                match long_comp(task as u64, self.iters) {
                    // Every step is a square or a square root, so the result is finite and >= 0.
                    Some(x) if x.is_finite() && x >= 0.0 => Ok(Outcome::NONE),
                    Some(x) => Err(TaskError::Check(format!("long_comp gave {x}"))),
                    None => Err(TaskError::Check(format!(
                        "long_comp: task index {task} needs integers wider than 128 bits"
                    ))),
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
/// Python's `x` starts as the int `i` and stays an exact int while it is even and squared;
/// the first odd value takes a square root and turns it into a float for good. The int steps
/// here are exact too, in `u128`: with x = i even, x becomes i² and then (i² − 1)², which is
/// odd, so the int phase is at most two squarings and needs 4 × the bits of `i`. Every task
/// index below 2³² fits; `None` for one that does not (no run can have that many tasks). In f64
/// instead, (i² − 1)² loses its last bits above 2⁵³ (from i ≈ 9,742), reads as even, and is
/// squared on into infinity.
///
/// The float steps use `sqrt` and `*`, both correctly rounded, where CPython calls libm's
/// `pow`, which may round the last bit the other way: results can differ from Python's in the
/// last bits, never in kind.
pub fn long_comp(i: u64, steps: u64) -> Option<f64> {
    let steps = black_box(steps);
    let mut int = u128::from(black_box(i));
    let mut y = 0u64;
    let mut x = loop {
        if y == steps {
            // Still an int: Python returns it as one; as a float it is the nearest double.
            return Some(int as f64);
        }
        if int % 2 == 0 {
            let d = int.abs_diff(u128::from(y));
            int = d.checked_mul(d)?;
            y += 1;
        } else {
            // Python adds exactly, then converts to the nearest double (ties to even, as `as`
            // does) before the square root.
            let x = (int.checked_add(u128::from(y))? as f64).sqrt();
            y += 1;
            break x;
        }
    };
    for y in y..steps {
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
    Some(x)
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
            assert_eq!(long_comp(i as u64, 10), Some(want), "i={i}, 10 steps");
        }
        for i in 0..4 {
            assert_eq!(
                long_comp(i, 1000),
                Some(32.11066558092454),
                "i={i}, 1000 steps"
            );
            assert_eq!(
                long_comp(i, 100_000),
                Some(316.72657766046683),
                "i={i}, 100000 steps"
            );
        }
    }

    #[test]
    fn long_comp_full_count_matches_the_notebook_output() {
        // Seed 002 printed 2236.5678097446853 for long_comp(i) with 5,000,000 steps.
        assert_eq!(long_comp(3, 5_000_000), Some(2236.5678097446853));
    }

    // The digest is FNV-1a over the little-endian bits of long_comp(i, 100) for every i in
    // 0..=100_000, as CPython 3.11 computes it:
    //   import struct
    //   h = 0xcbf29ce484222325
    //   for i in range(100_001):
    //       for b in struct.pack("<d", float(long_comp(i, 100))):
    //           h = ((h ^ b) * 0x100000001b3) % 2**64
    // Python's ints are exact, so this is the exact reference for the int steps; f64 steps
    // made tasks 9742 and 9744 infinite, which no digest of finite values can match.
    #[test]
    fn long_comp_matches_python_for_every_task_index_up_to_100_000() {
        let mut h: u64 = 0xcbf29ce484222325;
        for i in 0..=100_000u64 {
            let x = long_comp(i, 100).expect("indices below 2^32 fit");
            assert!(x.is_finite(), "task {i} gave {x}");
            for b in x.to_le_bytes() {
                h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
            }
        }
        assert_eq!(h, 0xf19509d730175c61);
        // The first indices f64 got wrong, as Python prints them.
        assert_eq!(long_comp(9742, 100), Some(10.45990253808427));
        assert_eq!(long_comp(9744, 100), Some(10.45990253808427));
    }

    #[test]
    fn long_comp_keeps_exact_ints_until_they_turn_fractional() {
        // Python: long_comp(6, 2) == (36 - 1)**2 == 1225, an int; one step later a float.
        assert_eq!(long_comp(6, 1), Some(36.0));
        assert_eq!(long_comp(6, 2), Some(1225.0));
        assert_eq!(long_comp(6, 3), Some(1227f64.sqrt()));
        // The largest index whose int phase fits: (i^2 - 1)^2 < 2^128.
        let top = u64::from(u32::MAX);
        assert!(long_comp(top, 3).is_some_and(f64::is_finite));
        // Past it the task says so instead of computing something else.
        assert_eq!(long_comp(u64::MAX - 1, 3), None);
        let work = CpuWork {
            kind: CpuKind::Comp,
            iters: 3,
        };
        assert_eq!(
            work.run(usize::MAX - 1),
            Err(TaskError::Check(format!(
                "long_comp: task index {} needs integers wider than 128 bits",
                usize::MAX - 1
            )))
        );
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
