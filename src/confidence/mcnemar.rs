//! Exact McNemar test for the difference of two paired accuracies, and the interval that inverts it.
//!
//! Only the discordant rows carry information about the difference: `wins` where the candidate is
//! right and the baseline wrong, `losses` the other way round, `d = wins + losses`. Under "no
//! difference" `wins ~ Binomial(d, 1/2)`; the exact two-sided p-value is
//! `min(1, 2 · P(X ≤ min(wins, losses)))`, statsmodels' `mcnemar(table, exact=True)`.
//!
//! The accuracy difference is `(wins − losses) / n = (d / n) · (2θ − 1)` with `θ = wins / d`. The
//! interval takes the exact Clopper–Pearson interval of `θ` (statsmodels'
//! `proportion_confint(wins, d, method="beta")`) and maps its ends through that line, conditional
//! on the observed number of discordant rows. It agrees with the test: at threshold 0 the lower
//! bound is above zero exactly when the one-sided exact test rejects at `(1 − level) / 2`.
//! Clopper–Pearson is conservative, which offsets treating `d / n` as known.

use super::special::{beta_quantile, binomial_half_cdf};
use super::{ConfidenceError, Interval, Level, Method};

/// The four cells of the paired table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PairedCounts {
    /// Rows both models get right.
    pub both_right: u64,
    /// Candidate right, baseline wrong.
    pub wins: u64,
    /// Candidate wrong, baseline right.
    pub losses: u64,
    /// Rows both get wrong.
    pub both_wrong: u64,
}

impl PairedCounts {
    /// Counts from per-row correctness of each model; the slices must be equally long.
    pub fn from_correctness(candidate: &[bool], baseline: &[bool]) -> Result<Self, ConfidenceError> {
        if candidate.len() != baseline.len() {
            return Err(ConfidenceError::Pairing(super::PairingError::LengthMismatch {
                candidate: candidate.len(),
                baseline: baseline.len(),
            }));
        }
        let mut counts = Self::default();
        for (&c, &b) in candidate.iter().zip(baseline) {
            match (c, b) {
                (true, true) => counts.both_right += 1,
                (true, false) => counts.wins += 1,
                (false, true) => counts.losses += 1,
                (false, false) => counts.both_wrong += 1,
            }
        }
        Ok(counts)
    }

    pub fn rows(&self) -> u64 {
        self.both_right + self.wins + self.losses + self.both_wrong
    }

    pub fn discordant(&self) -> u64 {
        self.wins + self.losses
    }

    /// The exact two-sided McNemar p-value (1 when no row is discordant).
    pub fn p_value(&self) -> f64 {
        let d = self.discordant();
        (2.0 * binomial_half_cdf(self.wins.min(self.losses), d)).min(1.0)
    }

    /// Clopper–Pearson interval of `wins / discordant` (`None` without discordant rows).
    pub fn win_share_interval(&self, level: Level) -> Option<(f64, f64)> {
        let (wins, d) = (self.wins, self.discordant());
        if d == 0 {
            return None;
        }
        let tail = level.tail();
        let lower = if wins == 0 { 0.0 } else { beta_quantile(tail, wins as f64, (d - wins + 1) as f64) };
        let upper = if wins == d { 1.0 } else { beta_quantile(1.0 - tail, (wins + 1) as f64, (d - wins) as f64) };
        Some((lower, upper))
    }

    /// The interval of the accuracy difference (candidate − baseline).
    pub fn interval(&self, level: Level) -> Result<Interval, ConfidenceError> {
        let n = self.rows();
        if n == 0 {
            return Err(ConfidenceError::TooSmall { rows: 0, min: super::MIN_ROWS });
        }
        let nf = n as f64;
        let share = self.discordant() as f64 / nf;
        let estimate = (self.wins as f64 - self.losses as f64) / nf;
        // Without discordant rows the two models agree on every row: the difference is exactly 0
        // on this set, and the conditional interval is the point.
        let (lower, upper) = match self.win_share_interval(level) {
            Some((lo, hi)) => (share * (2.0 * lo - 1.0), share * (2.0 * hi - 1.0)),
            None => (0.0, 0.0),
        };
        Ok(Interval {
            method: Method::McnemarExact,
            level: level.get(),
            rows: n,
            estimate,
            lower,
            upper,
            p_value: Some(self.p_value()),
        })
    }
}

/// The interval of `accuracy(candidate) − accuracy(baseline)` from per-row correctness.
pub fn interval(
    candidate_correct: &[bool],
    baseline_correct: &[bool],
    level: Level,
) -> Result<Interval, ConfidenceError> {
    PairedCounts::from_correctness(candidate_correct, baseline_correct)?.interval(level)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(both_right: u64, wins: u64, losses: u64, both_wrong: u64) -> PairedCounts {
        PairedCounts { both_right, wins, losses, both_wrong }
    }

    #[test]
    fn counts_come_from_correctness_row_by_row() {
        let c = PairedCounts::from_correctness(&[true, true, false, false, true], &[true, false, true, false, false])
            .unwrap();
        assert_eq!(c, counts(1, 2, 1, 1));
        assert!(PairedCounts::from_correctness(&[true], &[true, false]).is_err());
    }

    #[test]
    fn identical_models_have_a_point_interval_at_zero_and_p_one() {
        let i = counts(80, 0, 0, 20).interval(Level::default()).unwrap();
        assert_eq!((i.estimate, i.lower, i.upper, i.p_value), (0.0, 0.0, 0.0, Some(1.0)));
    }

    #[test]
    fn the_interval_holds_the_estimate_and_widens_with_the_level() {
        let c = counts(400, 40, 20, 40);
        let i95 = c.interval(Level::new(0.95).unwrap()).unwrap();
        let i99 = c.interval(Level::new(0.99).unwrap()).unwrap();
        assert!((i95.estimate - 20.0 / 500.0).abs() < 1e-15);
        assert!(i95.lower < i95.estimate && i95.estimate < i95.upper, "{i95:?}");
        assert!(i99.lower < i95.lower && i99.upper > i95.upper);
    }

    #[test]
    fn lower_bound_above_zero_agrees_with_the_one_sided_exact_test() {
        // For every split of 40 discordant rows: the 95 % interval excludes 0 from below exactly
        // when P(X >= wins) under Binomial(40, 1/2) is at most 2.5 %.
        for wins in 0..=40u64 {
            let c = counts(100, wins, 40 - wins, 10);
            let i = c.interval(Level::default()).unwrap();
            let upper_tail = 1.0 - binomial_half_cdf(wins.saturating_sub(1), 40) * f64::from(u8::from(wins > 0));
            assert_eq!(i.lower > 0.0, upper_tail <= 0.025, "wins {wins}: lower {} tail {upper_tail}", i.lower);
        }
    }
}
