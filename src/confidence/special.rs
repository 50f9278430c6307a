//! The few distribution functions the intervals need, on top of `statrs`' special functions.

use statrs::distribution::{ContinuousCDF, Normal};
use statrs::function::beta::beta_reg;

/// `P(X ≤ k)` for `X ~ Binomial(n, 1/2)`: the regularised incomplete beta `I_{1/2}(n − k, k + 1)`.
pub(crate) fn binomial_half_cdf(k: u64, n: u64) -> f64 {
    if k >= n {
        return 1.0;
    }
    beta_reg((n - k) as f64, (k + 1) as f64, 0.5)
}

/// The `p`-quantile of `Beta(a, b)` (`a, b > 0`, `0 < p < 1`).
///
/// Bisection on `statrs`' regularised incomplete beta until the bracket stops shrinking in
/// floating point: slower than Newton steps but it cannot diverge, and some hundred evaluations per
/// interval are nothing next to reading the predictions.
pub(crate) fn beta_quantile(p: f64, a: f64, b: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..200 {
        let mid = lo + (hi - lo) / 2.0;
        if mid <= lo || mid >= hi {
            break;
        }
        if beta_reg(a, b, mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo + (hi - lo) / 2.0
}

fn standard_normal() -> Normal {
    Normal::standard()
}

/// The standard normal's `p`-quantile.
pub(crate) fn normal_quantile(p: f64) -> f64 {
    standard_normal().inverse_cdf(p)
}

/// The standard normal's survival function `P(Z > z)`, accurate in the far tail.
pub(crate) fn normal_sf(z: f64) -> f64 {
    standard_normal().sf(z)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binomial_half_cdf_matches_the_exact_sum() {
        // C(10, k) / 2^10 summed by hand.
        let pmf = [1.0, 10.0, 45.0, 120.0, 210.0, 252.0, 210.0, 120.0, 45.0, 10.0, 1.0];
        let mut cumulative = 0.0;
        for (k, count) in pmf.iter().enumerate() {
            cumulative += count / 1024.0;
            let got = binomial_half_cdf(k as u64, 10);
            assert!((got - cumulative).abs() < 1e-14, "k={k}: {got} vs {cumulative}");
        }
    }

    #[test]
    fn beta_quantile_inverts_the_cdf() {
        for (p, a, b) in [(0.025, 3.0, 8.0), (0.975, 120.0, 40.0), (0.5, 1.0, 1.0), (0.001, 5000.0, 5200.0)] {
            let x = beta_quantile(p, a, b);
            assert!((beta_reg(a, b, x) - p).abs() < 1e-12, "Beta({a}, {b}) at {p}: {x}");
        }
        // Beta(1, 1) is uniform.
        assert!((beta_quantile(0.3, 1.0, 1.0) - 0.3).abs() < 1e-15);
    }
}
