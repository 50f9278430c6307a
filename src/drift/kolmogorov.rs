//! The finite-n distribution of the two-sided one-sample Kolmogorov–Smirnov statistic
//! `D_n = sup |F_n − F|` (SciPy's `kstwo`), and the one-sided Smirnov distribution of `D_n⁺` it
//! borrows from.
//!
//! [`kolmogorov_sf`] reproduces `scipy.stats.kstwo.sf(d, n)`, which is what
//! `scipy.stats.ks_2samp` uses for its asymptotic p-value. SciPy picks one of several
//! computations by the region of `(n, d)`, following Simard & L'Ecuyer (2011), "Computing the
//! Two-Sided Kolmogorov–Smirnov Distribution", J. Stat. Softw. 39(11). Some of them are exact and
//! some are approximations (Pelz–Good, and `2·P(D_n⁺ ≥ d)` in place of `P(D_n ≥ d)`), so to agree
//! with SciPy we use the same regions and the same approximations:
//!
//! | region (t = n·d)                        | computation                                          |
//! |-----------------------------------------|------------------------------------------------------|
//! | d ≥ 1, d ≤ 0, t ≤ ½                     | 0 or 1                                               |
//! | ½ < t ≤ 1                               | Ruben–Gambino: `P(D_n ≤ d) = n!/nⁿ·(2t−1)ⁿ` (exact)  |
//! | t ≥ n − 1                               | Ruben–Gambino: `P(D_n ≥ d) = 2(1−d)ⁿ` (exact)        |
//! | d ≥ ½                                   | `2·P(D_n⁺ ≥ d)` (exact there)                        |
//! | n ≤ 140, n·d² ≤ 4                       | exact (Durbin's matrix; SciPy uses Pomeranz's recursion above n·d² = 0.754693 — both exact) |
//! | n ≤ 140, n·d² > 4                       | `2·P(D_n⁺ ≥ d)` (Miller's approximation)             |
//! | n > 140, n·d² ≥ 370                     | 0 (underflow)                                        |
//! | n > 140, 2.2 ≤ n·d² < 370               | `2·P(D_n⁺ ≥ d)`                                      |
//! | n > 140, n ≤ 100000 and n·d^1.5 ≤ 1.4   | exact (Durbin's matrix, Marsaglia–Tsang–Wang)         |
//! | otherwise                               | Pelz–Good asymptotic series                           |
//!
//! The one-sided `P(D_n⁺ ≥ d)` is the Birnbaum–Tingey sum, whose terms we evaluate as binomial
//! probabilities with Loader's saddle-point method (accurate to a few ulps per term, and every
//! term is positive); instead of adding up to a million of them, the sum is refined from every
//! 2^k-th term down until it stops changing (see [`birnbaum_tingey_sum`]'s trapezoidal argument;
//! tested against the sum of every term). For n > 10⁶ SciPy switches to `exp(−(6nd+1)²/(18n))`,
//! and so do we.

use std::f64::consts::{LN_2, PI};

/// `exp` of anything below this is 0 in `f64` (Cephes' `MINLOG`).
const MIN_LOG: f64 = -708.396_418_532_264_1;
/// Above this sample size SciPy's `smirnov` switches to an asymptotic formula.
const SMIRNOV_MAX_EXACT_N: u64 = 1_000_000;
/// Rescaling step for the long products in the Durbin matrix method.
const SCALE_EXPONENT: i64 = 128;

/// How [`kolmogorov_sf`] evaluates a point; one variant per row of the module's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KolmogorovMethod {
    Trivial,
    RubenGambinoLower,
    RubenGambinoUpper,
    /// `2·P(D_n⁺ ≥ d)`.
    DoubleSmirnov,
    /// Exact, by Durbin's matrix method.
    DurbinMatrix,
    PelzGood,
    Underflow,
}

/// Which computation SciPy's `kstwo.sf` uses at `(n, d)`.
pub(crate) fn kolmogorov_method(n: u64, d: f64) -> KolmogorovMethod {
    use KolmogorovMethod::*;
    if d >= 1.0 || d <= 0.0 || d.is_nan() {
        return Trivial;
    }
    let nf = n as f64;
    let t = nf * d;
    if t <= 1.0 {
        return if t <= 0.5 { Trivial } else { RubenGambinoLower };
    }
    if t >= nf - 1.0 {
        return RubenGambinoUpper;
    }
    if d >= 0.5 {
        return DoubleSmirnov;
    }
    let nd2 = t * d;
    if n <= 140 {
        return if nd2 <= 4.0 { DurbinMatrix } else { DoubleSmirnov };
    }
    if nd2 >= 370.0 {
        Underflow
    } else if nd2 >= 2.2 {
        DoubleSmirnov
    } else if n <= 100_000 && nf * d.powf(1.5) <= 1.4 {
        DurbinMatrix
    } else {
        PelzGood
    }
}

/// `P(D_n ≥ d)` for the two-sided one-sample Kolmogorov–Smirnov statistic of a sample of size
/// `n` — `scipy.stats.kstwo.sf(d, n)`, including SciPy's approximations (see the module
/// documentation). Returns NaN for `n = 0` or NaN `d`; the result is clamped to `[0, 1]`.
pub fn kolmogorov_sf(n: u64, d: f64) -> f64 {
    if n == 0 || d.is_nan() {
        return f64::NAN;
    }
    let nf = n as f64;
    let sf = match kolmogorov_method(n, d) {
        KolmogorovMethod::Trivial => {
            if d >= 1.0 {
                0.0
            } else {
                1.0
            }
        }
        KolmogorovMethod::RubenGambinoLower => 1.0 - ruben_gambino_cdf(n, nf * d),
        KolmogorovMethod::RubenGambinoUpper => 2.0 * (1.0 - d).powf(nf),
        KolmogorovMethod::DoubleSmirnov => 2.0 * smirnov_sf(n, d),
        KolmogorovMethod::DurbinMatrix => 1.0 - durbin_cdf(n, d),
        KolmogorovMethod::PelzGood => 1.0 - pelz_good_cdf(n, d),
        KolmogorovMethod::Underflow => 0.0,
    };
    sf.clamp(0.0, 1.0)
}

/// `P(D_n ≤ d) = n!/nⁿ · (2t − 1)ⁿ` for `½ < t = n·d ≤ 1` (Ruben & Gambino 1982).
fn ruben_gambino_cdf(n: u64, t: f64) -> f64 {
    let base = 2.0 * t - 1.0;
    if n <= 140 {
        let nf = n as f64;
        (1..=n).fold(1.0, |acc, i| acc * (i as f64 / nf * base))
    } else {
        // n!/nⁿ < e⁻¹³⁸ here, so the value only needs to be of the right (negligible) size.
        let nf = n as f64;
        (statrs::function::gamma::ln_gamma(nf + 1.0) - nf * nf.ln() + nf * base.ln()).exp()
    }
}

/// `x · 2^exponent`, without overflowing in the intermediate power of two.
fn scale_by_power_of_two(mut x: f64, mut exponent: i64) -> f64 {
    const STEP: i64 = 1000;
    while exponent > STEP {
        x *= 2f64.powi(STEP as i32);
        exponent -= STEP;
    }
    while exponent < -STEP {
        x *= 2f64.powi(-STEP as i32);
        exponent += STEP;
    }
    x * 2f64.powi(exponent as i32)
}

/// A square matrix in row-major order, with a binary exponent kept apart so that the powers
/// `Hⁿ` (whose entries grow like eⁿ) stay representable: the value is `entries · 2^exponent`.
#[derive(Clone)]
struct ScaledMatrix {
    size: usize,
    entries: Vec<f64>,
    exponent: i64,
}

impl ScaledMatrix {
    fn identity(size: usize) -> Self {
        let mut entries = vec![0.0; size * size];
        for i in 0..size {
            entries[i * size + i] = 1.0;
        }
        Self { size, entries, exponent: 0 }
    }

    fn multiply(&self, other: &Self) -> Self {
        let m = self.size;
        let mut entries = vec![0.0; m * m];
        for (out_row, a_row) in entries.chunks_exact_mut(m).zip(self.entries.chunks_exact(m)) {
            for (&a, b_row) in a_row.iter().zip(other.entries.chunks_exact(m)) {
                if a != 0.0 {
                    for (o, &b) in out_row.iter_mut().zip(b_row) {
                        *o += a * b;
                    }
                }
            }
        }
        let mut product = Self { size: m, entries, exponent: self.exponent + other.exponent };
        product.rescale();
        product
    }

    fn rescale(&mut self) {
        let largest = self.entries.iter().fold(0.0f64, |acc, e| acc.max(e.abs()));
        let (big, small) = (2f64.powi(SCALE_EXPONENT as i32), 2f64.powi(-SCALE_EXPONENT as i32));
        if largest > big {
            self.entries.iter_mut().for_each(|e| *e *= small);
            self.exponent += SCALE_EXPONENT;
        } else if largest > 0.0 && largest < small {
            self.entries.iter_mut().for_each(|e| *e *= big);
            self.exponent -= SCALE_EXPONENT;
        }
    }
}

/// Exact `P(D_n ≤ d)` by Durbin's matrix method in the form of Marsaglia, Tsang & Wang (2003),
/// "Evaluating Kolmogorov's Distribution", J. Stat. Softw. 8(18): with `n·d = k − h`
/// (`k` an integer, `0 ≤ h < 1`) and the `(2k−1)×(2k−1)` matrix `H`,
/// `P(D_n ≤ d) = n!/nⁿ · (Hⁿ)_{k,k}`.
fn durbin_cdf(n: u64, d: f64) -> f64 {
    if d >= 1.0 {
        return 1.0;
    }
    let nd = n as f64 * d;
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;

    // 1/j! for j = 0..=m.
    let mut inverse_factorial = vec![1.0; m + 1];
    for j in 1..=m {
        inverse_factorial[j] = inverse_factorial[j - 1] / j as f64;
    }
    let mut matrix = ScaledMatrix { size: m, entries: vec![0.0; m * m], exponent: 0 };
    for i in 0..m {
        for j in 0..m {
            // H[i][j] = 1/(i−j+1)! on and below the first superdiagonal.
            if i + 1 >= j {
                matrix.entries[i * m + j] = inverse_factorial[i + 1 - j];
            }
        }
    }
    for i in 0..m {
        // First column and last row lose h^r/r!.
        matrix.entries[i * m] -= h.powi((i + 1) as i32) * inverse_factorial[i + 1];
        matrix.entries[(m - 1) * m + i] -= h.powi((m - i) as i32) * inverse_factorial[m - i];
    }
    // The corner was reduced twice; add back (2h−1)^m/m! where 2h − 1 > 0.
    matrix.entries[(m - 1) * m] += (2.0 * h - 1.0).max(0.0).powi(m as i32) * inverse_factorial[m];

    // Hⁿ by repeated squaring.
    let mut power = ScaledMatrix::identity(m);
    let mut square = matrix;
    let mut remaining = n;
    while remaining > 0 {
        if remaining & 1 == 1 {
            power = power.multiply(&square);
        }
        remaining >>= 1;
        if remaining > 0 {
            square = square.multiply(&square);
        }
    }

    // Multiply (Hⁿ)_{k,k} by n!/nⁿ = Π (i/n), rescaling as the product shrinks.
    let mut value = power.entries[(k - 1) * m + (k - 1)];
    let mut exponent = power.exponent;
    let nf = n as f64;
    let small = 2f64.powi(-SCALE_EXPONENT as i32);
    let big = 2f64.powi(SCALE_EXPONENT as i32);
    for i in 1..=n {
        value = value * i as f64 / nf;
        if value.abs() < small && value != 0.0 {
            value *= big;
            exponent -= SCALE_EXPONENT;
        }
    }
    scale_by_power_of_two(value, exponent)
}

/// The Pelz–Good (1976) asymptotic series for `P(D_n ≤ d)`: the Li-Chien/Korolyuk expansion
/// `K₀(z) + K₁(z)/√n + K₂(z)/n + K₃(z)/n^{3/2}` with `z = d·√n`, each `Kᵢ` rewritten through the
/// Jacobi theta functional equation so that it converges fast for small `z`. The number of
/// terms, `⌈16z/π⌉`, is SciPy's.
fn pelz_good_cdf(n: u64, d: f64) -> f64 {
    if d <= 0.0 {
        return 0.0;
    }
    if d >= 1.0 {
        return 1.0;
    }
    let nf = n as f64;
    let z = nf.sqrt() * d;
    let z2 = z * z;
    let z4 = z2 * z2;
    let z6 = z4 * z2;
    let log_q = -PI * PI / 8.0 / z2;
    if log_q < -708.0 {
        return 0.0;
    }
    let q = log_q.exp();
    let pi2 = PI * PI;
    let pi4 = pi2 * pi2;
    let pi6 = pi4 * pi2;
    let sqrt_2pi = (2.0 * PI).sqrt();

    // Coefficients of the polynomials in m² (m odd) multiplying q^{m²} in K₁, K₂, K₃.
    let k1 = [-z2, pi2 / 4.0];
    let k2 = [6.0 * z6 + 2.0 * z4, (2.0 * z4 - 5.0 * z2) * pi2 / 4.0, pi4 * (1.0 - 2.0 * z2) / 16.0];
    let k3 = [
        -30.0 * z6 - 90.0 * z4 * z4,
        pi2 * (135.0 * z4 - 96.0 * z6) / 4.0,
        pi4 * (-60.0 * z2 + 212.0 * z4) / 16.0,
        pi6 * (5.0 - 30.0 * z2) / 64.0,
    ];
    let terms = (16.0 * z / PI).ceil() as u64;

    // Σ_{k=1..terms} c_k q^{(2k−1)²}, by Horner in q^{8k} from the last term down.
    let mut sums = [0.0f64; 4];
    for k in (1..=terms).rev() {
        let m = (2 * k - 1) as f64;
        let m2 = m * m;
        let ratio = q.powf(8.0 * k as f64);
        let coefficients = [
            1.0,
            k1[0] + k1[1] * m2,
            k2[0] + k2[1] * m2 + k2[2] * m2 * m2,
            k3[0] + k3[1] * m2 + k3[2] * m2 * m2 + k3[3] * m2 * m2 * m2,
        ];
        for (sum, c) in sums.iter_mut().zip(coefficients) {
            *sum = *sum * ratio + c;
        }
    }
    let divisors = [z, 6.0 * z4, 72.0 * z6 * z, 6480.0 * z4 * z6];
    let mut parts = [0.0f64; 4];
    for i in 0..4 {
        parts[i] = sums[i] * q * sqrt_2pi / divisors[i];
    }

    // The terms over all integers k in K₂ and K₃.
    let q_all = (-pi2 / 2.0 / z2).exp();
    let mut k2_extra = 0.0;
    let mut k3_extra = 0.0;
    for k in (1..=terms).rev() {
        let kf = k as f64;
        let k2f = kf * kf;
        let weight = k2f * q_all.powf(k2f);
        k2_extra += weight;
        let sqrt3z = 3f64.sqrt() * z;
        k3_extra += (sqrt3z + PI * kf) * (sqrt3z - PI * kf) * weight;
    }
    parts[2] += k2_extra * pi2 * sqrt_2pi / (-36.0 * z2 * z);
    parts[3] += k3_extra * pi2 * sqrt_2pi / (216.0 * z6);

    parts[0] + parts[1] / nf.sqrt() + parts[2] / nf + parts[3] / nf.powf(1.5)
}

/// `P(D_n⁺ ≥ d)` for the one-sided statistic `D_n⁺ = sup (F_n − F)` (`scipy.special.smirnov`).
///
/// Exact (Birnbaum & Tingey 1951):
/// `P(D_n⁺ ≥ d) = Σ_{j=0}^{⌊n(1−d)⌋} d/(d + j/n) · Binom(j; n, d + j/n)`, where
/// `Binom(j; n, p) = C(n,j) p^j (1−p)^{n−j}`. For n > 10⁶ SciPy uses
/// `exp(−(6nd+1)²/(18n))` instead; so do we.
pub(crate) fn smirnov_sf(n: u64, d: f64) -> f64 {
    if n == 0 || !(0.0..=1.0).contains(&d) {
        return f64::NAN;
    }
    if n == 1 {
        return 1.0 - d;
    }
    if d == 0.0 {
        return 1.0;
    }
    if d == 1.0 {
        return 0.0;
    }
    let nf = n as f64;
    // n·d split exactly into a rounded product and its rounding error.
    let nd = nf * d;
    let nd_error = nf.mul_add(d, -nd);
    let nd_floor = {
        let f = nd.floor();
        // The exact product may sit just below an integer that the rounded one reached.
        if f == nd && nd_error < 0.0 { f - 1.0 } else { f }
    };
    if nd_floor == 0.0 || (nd_floor == 1.0 && nd == 1.0 && nd_error == 0.0) {
        // d ≤ 1/n: P(D⁺ < d) = d(1+d)^{n−1}.
        return 1.0 - d * (1.0 + d).powf(nf - 1.0);
    }
    if -2.0 * nf * d * d < MIN_LOG {
        return 0.0;
    }
    if nd_floor >= nf - 1.0 {
        return (1.0 - d).powf(nf);
    }
    if n > SMIRNOV_MAX_EXACT_N {
        let log_p = -(6.0 * nd + 1.0).powi(2) / 18.0 / nf;
        return if log_p < -LN_2 { log_p.exp() } else { 1.0 + log_p.exp_m1() };
    }

    birnbaum_tingey_sum(n, d, nd, nd_error, n - nd_floor as u64 - 1)
}

/// `Σ_{j=0}^{last} d/(d + j/n) · Binom(j; n, d + j/n)` (the Birnbaum–Tingey sum, `last` the largest
/// `j` with `n − j − n·d > 0`), where `nd + nd_error` is `n·d` to double precision.
///
/// The terms, as a function of `j`, are one smooth bump: their logarithm is concave where this
/// sum is used (`n·d² ≥ 2.2` or `n ≤ 140`; in the normal approximation it is
/// `−n·d²/(2pq) − ½·ln(pq)` with `p = d + j/n`, concave for `n·d² > ½`), peaking near `p = ½`
/// and falling to nothing at both ends. For such a function the sum of every `h`-th term times
/// `h` is the trapezoidal rule with step `h`, which converges faster than any power of `h`;
/// the sum over all the terms is that rule at `h = 1`. So the sum starts with every 2^k-th term
/// (about 256 of them across the range) and halves the step — each pass adds the terms halfway
/// between — until two passes in a row change the sum by at most 1e-14 of it, or the step is 1 (every
/// term). Each pass walks outwards from the peak and stops in each direction once the terms
/// fall and all the terms left, each at most the current one, cannot reach a quarter of an ulp
/// of the sum (SciPy's own stopping rule). A drifted column of a million rows takes a few
/// thousand terms instead of hundreds of thousands; short sums (small `n`) take every term.
fn birnbaum_tingey_sum(n: u64, d: f64, nd: f64, nd_error: f64, last: u64) -> f64 {
    let terms = BirnbaumTingey { n, d, nd, nd_error, stirling_n: stirling_error(n) };
    let term = |j| terms.term(j);
    if last < REFINED_SUM_MIN_TERMS {
        return (0..=last).map(term).sum();
    }
    let peak = terms.peak(last);
    // Every `step`-th term, times `step`; then the terms halfway between, and so on.
    let mut step = ((last + 1) / TRAPEZOID_FIRST_SAMPLES).next_power_of_two().div_ceil(2);
    // Every term taken so far, once: a lower bound of the whole sum (the terms are positive).
    let mut taken = 0.0;
    let mut sum = step as f64 * grid_sum(&term, peak, 0, step, last, &mut taken);
    let mut agreed = 0;
    while step > 1 && agreed < 2 {
        let half = step / 2;
        let refined = sum / 2.0 + half as f64 * grid_sum(&term, peak, half, step, last, &mut taken);
        agreed = if (refined - sum).abs() <= TRAPEZOID_AGREEMENT * refined { agreed + 1 } else { 0 };
        (sum, step) = (refined, half);
    }
    sum
}

/// Two passes agree when they differ by at most this, relatively: the terms themselves carry a
/// few ulps of rounding and a sum of hundreds of them a few dozen, so the passes cannot be asked
/// to agree more closely than that; SciPy's result is matched to 1e-9.
const TRAPEZOID_AGREEMENT: f64 = 1e-14;

/// Samples in the first, coarsest pass of [`birnbaum_tingey_sum`] (at most this many terms apart).
const TRAPEZOID_FIRST_SAMPLES: u64 = 256;

/// `Σ term(j)` over `j = peak + offset + k·step` (`k` any integer) in `[0, last]`, walking up from
/// `peak + offset` and down from `peak + offset − step` until, in each direction, the terms fall
/// and the terms left beyond (`left` of them, each at most the current one) cannot reach a
/// quarter ulp of `taken`: every term evaluated so far (this walk's added to it), which is at
/// most the whole sum, so no walk stops early whatever the trapezoidal estimates say.
fn grid_sum(term: &impl Fn(u64) -> f64, peak: u64, offset: u64, step: u64, last: u64, taken: &mut f64) -> f64 {
    let mut sum = 0.0;
    for up in [true, false] {
        let start = peak + offset;
        let mut next = if up { Some(start) } else { start.checked_sub(step) };
        let mut previous = f64::INFINITY;
        while let Some(j) = next.filter(|&j| j <= last) {
            let t = term(j);
            sum += t;
            *taken += t;
            let left = if up { last - j } else { j };
            let falling = t < previous || t == 0.0;
            if falling && 4.0 * left as f64 * t < f64::EPSILON * *taken {
                break;
            }
            previous = t;
            next = if up { j.checked_add(step) } else { j.checked_sub(step) };
        }
    }
    sum
}

/// The terms of the Birnbaum–Tingey sum.
struct BirnbaumTingey {
    n: u64,
    d: f64,
    nd: f64,
    nd_error: f64,
    stirling_n: f64,
}

impl BirnbaumTingey {
    /// `d/(d + j/n) · Binom(j; n, d + j/n)`, 0 where it underflows.
    fn term(&self, j: u64) -> f64 {
        match self.log_binomial(j) {
            None => (self.n as f64 * (-self.d).ln_1p()).exp(),
            Some((_, log_binomial)) if log_binomial < -745.0 => 0.0,
            Some((np, log_binomial)) => self.nd / np * log_binomial.exp(),
        }
    }

    /// The logarithm of [`term`](Self::term), without underflow (−∞ past the last term).
    fn log_term(&self, j: u64) -> f64 {
        match self.log_binomial(j) {
            None => self.n as f64 * (-self.d).ln_1p(),
            Some((np, log_binomial)) => (self.nd / np).ln() + log_binomial,
        }
    }

    /// `(n·p, ln Binom(j; n, p))` with `p = d + j/n` for `j ≥ 1` (`ln 0` where `n·q ≤ 0`); `None`
    /// for `j = 0`, whose term is `(1 − d)ⁿ`.
    fn log_binomial(&self, j: u64) -> Option<(f64, f64)> {
        let Self { n, nd, nd_error, stirling_n, .. } = *self;
        if j == 0 {
            return None;
        }
        let (nf, jf, rest) = (n as f64, j as f64, n - j);
        // n·p = n·d + j and n·q = n − j − n·d, with n·d carried to double precision.
        let np = (jf + nd) + nd_error;
        let nq = (rest as f64 - nd) - nd_error;
        if nq <= 0.0 {
            return Some((np, f64::NEG_INFINITY));
        }
        let log_binomial = stirling_n
            - stirling_error(j)
            - stirling_error(rest)
            - deviance(jf, np)
            - deviance(rest as f64, nq)
            - 0.5 * ((2.0 * PI).ln() + jf.ln() + (-jf / nf).ln_1p());
        Some((np, log_binomial))
    }

    /// The `j` of the largest term in `[0, last]`, by ternary search on the (concave) logarithm.
    fn peak(&self, last: u64) -> u64 {
        let (mut lo, mut hi) = (0, last);
        while hi - lo > 2 {
            let (a, b) = (lo + (hi - lo) / 3, hi - (hi - lo) / 3);
            if self.log_term(a) < self.log_term(b) {
                lo = a + 1;
            } else {
                hi = b;
            }
        }
        (lo..=hi).max_by(|&a, &b| self.log_term(a).total_cmp(&self.log_term(b))).unwrap_or(lo)
    }
}

/// Up to this many terms the Birnbaum–Tingey sum takes them all.
const REFINED_SUM_MIN_TERMS: u64 = 1000;

/// Stirling's error `ln n! − [(n + ½)·ln n − n + ln √(2π)]` for integer `n ≥ 1` (Loader 2000).
fn stirling_error(n: u64) -> f64 {
    const S0: f64 = 1.0 / 12.0;
    const S1: f64 = 1.0 / 360.0;
    const S2: f64 = 1.0 / 1260.0;
    const S3: f64 = 1.0 / 1680.0;
    const S4: f64 = 1.0 / 1188.0;
    let nf = n as f64;
    if n <= 15 {
        let ln_factorial: f64 = (2..=n).map(|i| (i as f64).ln()).sum();
        return ln_factorial - (nf + 0.5) * nf.ln() + nf - 0.5 * (2.0 * PI).ln();
    }
    let nn = nf * nf;
    if n > 500 {
        (S0 - S1 / nn) / nf
    } else if n > 80 {
        (S0 - (S1 - S2 / nn) / nn) / nf
    } else if n > 35 {
        (S0 - (S1 - (S2 - S3 / nn) / nn) / nn) / nf
    } else {
        (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / nf
    }
}

/// The deviance term `x·ln(x/μ) + μ − x` of Loader's binomial algorithm, computed without
/// cancellation when `x ≈ μ`.
fn deviance(x: f64, mu: f64) -> f64 {
    if x == 0.0 {
        return mu;
    }
    if (x - mu).abs() < 0.1 * (x + mu) {
        let v = (x - mu) / (x + mu);
        let v2 = v * v;
        let mut sum = (x - mu) * v;
        let mut term = 2.0 * x * v;
        for j in 1..1000 {
            term *= v2;
            let next = sum + term / (2 * j + 1) as f64;
            if next == sum {
                return next;
            }
            sum = next;
        }
        sum
    } else {
        x * (x / mu).ln() + mu - x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binomial_saddle_point_matches_direct_evaluation() {
        // Binom(3; 10, 0.35) = C(10,3)·0.35³·0.65⁷.
        let direct = 120.0 * 0.35f64.powi(3) * 0.65f64.powi(7);
        let (n, j, p) = (10u64, 3u64, 0.35);
        let log_b = stirling_error(n)
            - stirling_error(j)
            - stirling_error(n - j)
            - deviance(3.0, 10.0 * p)
            - deviance(7.0, 10.0 * (1.0 - p))
            - 0.5 * ((2.0 * PI).ln() + 3.0f64.ln() + (-0.3f64).ln_1p());
        assert!((log_b.exp() - direct).abs() < 1e-15, "{} vs {direct}", log_b.exp());
    }

    #[test]
    fn smirnov_small_n_matches_closed_forms() {
        // n = 2: P(D⁺ ≥ d) = 1 − d(1+d) for d ≤ ½ and (1−d)² for d ≥ ½.
        assert!((smirnov_sf(2, 0.3) - (1.0 - 0.3 * 1.3)).abs() < 1e-15);
        assert!((smirnov_sf(2, 0.7) - 0.09).abs() < 1e-15);
        // n = 3, 1/3 < d < 2/3: direct Birnbaum–Tingey sum with two terms.
        let d: f64 = 0.4;
        let expected = (1.0 - d).powi(3) + d * 3.0 * (1.0 - d - 1.0 / 3.0).powi(2);
        assert!((smirnov_sf(3, d) - expected).abs() < 1e-15);
    }

    #[test]
    fn the_refined_smirnov_sum_equals_the_sum_of_every_term() {
        // From barely past SciPy's 2.2 to the edge of underflow, small to SciPy's largest n.
        let sizes = [1_000u64, 1_001, 2_047, 7_919, 65_537, 100_000, 333_333, 500_000, 999_999, 1_000_000];
        let x = [2.2, 2.3, 2.6, 3.0, 3.7, 5.0, 7.5, 10.0, 20.0, 41.0, 80.0, 120.0, 200.0, 300.0, 369.0];
        for (k, n) in sizes.into_iter().enumerate() {
            // Every size at a few points, and every point at a few sizes (the reference sums are long).
            for nd2 in x.into_iter().enumerate().filter(|(i, _)| (i + k) % 3 == 0 || k % 4 == 0).map(|(_, v)| v) {
                let nf = n as f64;
                let d = (nd2 / nf).sqrt();
                let nd = nf * d;
                let nd_error = nf.mul_add(d, -nd);
                let last = n - nd.floor() as u64 - 1;
                let terms = BirnbaumTingey { n, d, nd, nd_error, stirling_n: stirling_error(n) };
                let every: f64 = (0..=last).map(|j| terms.term(j)).sum();
                let refined = birnbaum_tingey_sum(n, d, nd, nd_error, last);
                if every == 0.0 {
                    // Every term underflows (small n near n·d² = 370).
                    assert_eq!(refined, 0.0, "n = {n}, n·d² = {nd2}");
                    continue;
                }
                let relative = (refined - every).abs() / every;
                // Both add up to a million terms in f64, in different orders.
                assert!(relative < 1e-12, "n = {n}, n·d² = {nd2}: {refined:e} vs {every:e} ({relative:e})");
            }
        }
    }

    #[test]
    fn durbin_matches_known_small_cases() {
        // n = 1: D₁ = max(U, 1−U), P(D₁ ≤ d) = 2d − 1 for ½ ≤ d ≤ 1.
        assert!((durbin_cdf(1, 0.8) - 0.6).abs() < 1e-14);
        // n = 2, ½ ≤ d ≤ 1 (Ruben–Gambino upper region): P(D₂ ≤ d) = 1 − 2(1−d)².
        assert!((durbin_cdf(2, 0.6) - (1.0 - 2.0 * 0.16)).abs() < 1e-14);
    }

    #[test]
    fn methods_follow_scipy_regions() {
        use KolmogorovMethod::*;
        assert_eq!(kolmogorov_method(100, 0.004), Trivial);
        assert_eq!(kolmogorov_method(100, 0.008), RubenGambinoLower);
        assert_eq!(kolmogorov_method(100, 0.995), RubenGambinoUpper);
        assert_eq!(kolmogorov_method(100, 0.6), DoubleSmirnov);
        assert_eq!(kolmogorov_method(100, 0.1), DurbinMatrix);
        assert_eq!(kolmogorov_method(100, 0.3), DoubleSmirnov);
        assert_eq!(kolmogorov_method(10_000, 0.01), PelzGood);
        assert_eq!(kolmogorov_method(10_000, 0.02), DoubleSmirnov);
        assert_eq!(kolmogorov_method(10_000, 0.0005), DurbinMatrix);
        assert_eq!(kolmogorov_method(10_000, 0.2), Underflow);
        assert!(kolmogorov_sf(0, 0.5).is_nan());
    }
}
