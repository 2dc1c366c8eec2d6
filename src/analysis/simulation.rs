//! The paired rule tried on simulated comparisons, where the truth is known: how often it
//! calls a true 5% difference a win, and a true 0% difference a win, over 10 rounds. No timing
//! is involved; every draw comes from fixed seeds, so the rates are the same on every machine.
//!
//! The noise model: every run's figure is the truth times a per-round drift shared by both
//! cells of the round (lognormal, σ = 10%: the machine's slow and fast minutes, which
//! interleaved rounds spread over every cell) times the run's own noise (lognormal, σ given).
//! Pairing cancels the drift; the run's own noise is what an interval has to see through.
//! `cargo test simulated -- --nocapture` prints the rates the README quotes.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, Normal};

use super::paired::pair;
use crate::model::compare::Outcome;

/// The shared per-round drift's σ (of its logarithm).
const DRIFT: f64 = 0.10;

/// How often each call came out over `sims` simulated comparisons of `rounds` rounds, for a
/// true ratio `truth` and per-run noise `own` (σ of its logarithm): (win, tie, undecided).
fn rates(truth: f64, own: f64, rounds: usize, sims: usize) -> (f64, f64, f64) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2024);
    let drift = Normal::new(0.0, DRIFT).expect("a valid σ");
    let noise = Normal::new(0.0, own).expect("a valid σ");
    let (mut win, mut tie) = (0, 0);
    for _ in 0..sims {
        let (mut leader, mut other) = (Vec::new(), Vec::new());
        for round in 1..=rounds {
            let d: f64 = drift.sample(&mut rng);
            leader.push((round, (d + noise.sample(&mut rng)).exp()));
            other.push((round, truth * (d + noise.sample(&mut rng)).exp()));
        }
        match pair(&leader, &other).map(|p| p.outcome(0.03)) {
            Some(Outcome::Win) => win += 1,
            Some(Outcome::Tie) => tie += 1,
            _ => {}
        }
    }
    let share = |n: usize| n as f64 / sims as f64;
    (share(win), share(tie), share(sims - win - tie))
}

#[test]
fn simulated_comparisons_call_a_true_5_percent_a_win_and_no_difference_none() {
    // 10% noise from run to run, shared by the round, plus 1% of each run's own.
    let (win, _, _) = rates(1.05, 0.01, 10, 1000);
    let (false_win, tie, _) = rates(1.00, 0.01, 10, 1000);
    eprintln!(
        "1000 comparisons of 10 rounds: a true 5% a win in {win}, no difference a win in {false_win}, a tie in {tie}"
    );
    assert!(win >= 0.90, "a true 5% difference called a win in {win}");
    assert!(
        false_win <= 0.05,
        "no difference called a win in {false_win}"
    );
    assert!(tie >= 0.90, "no difference called a tie in only {tie}");
}

#[test]
fn simulated_noise_of_a_runs_own_never_makes_false_wins() {
    // However much of the noise is a run's own, no difference is rarely called a win, and a
    // true 5% never a tie; what grows is the share left undecided (500 comparisons each).
    for own in [0.005, 0.01, 0.02, 0.05, 0.10] {
        let (w5, t5, u5) = rates(1.05, own, 10, 500);
        let (w0, t0, u0) = rates(1.00, own, 10, 500);
        eprintln!(
            "own noise {:>4.1}% | true 5%: win {:.3} tie {:.3} undecided {:.3} | true 0%: win {:.3} tie {:.3} undecided {:.3}",
            own * 100.0,
            w5,
            t5,
            u5,
            w0,
            t0,
            u0
        );
        assert!(w0 <= 0.05, "own noise {own}: no difference a win in {w0}");
        assert!(t5 <= 0.05, "own noise {own}: a true 5% a tie in {t5}");
    }
}
