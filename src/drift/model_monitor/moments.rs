//! Sum, mean and population standard deviation of weighted values, the sum correctly rounded
//! (as Python's `math.fsum`), so the statistics do not depend on the order values arrive in.

/// The correctly rounded sum of finite values (Shewchuk's exact partials, rounded half to even
/// once at the end). If the exact sum overflows, the plain running sum (an infinity) is returned.
pub(crate) fn exact_sum(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut partials: Vec<f64> = Vec::new();
    let mut naive = 0.0;
    for value in values {
        naive += value;
        let mut x = value;
        let mut kept = 0;
        for j in 0..partials.len() {
            let mut y = partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                partials[kept] = lo;
                kept += 1;
            }
            x = hi;
        }
        partials.truncate(kept);
        partials.push(x);
    }
    if partials.iter().any(|p| !p.is_finite()) {
        return naive;
    }
    round_partials(&partials)
}

/// The sum of non-overlapping partials (ascending magnitude), rounded once.
fn round_partials(partials: &[f64]) -> f64 {
    let Some((&top, rest)) = partials.split_last() else { return 0.0 };
    let mut hi = top;
    let mut lo = 0.0;
    let mut remaining = rest;
    while let Some((&y, below)) = remaining.split_last() {
        let x = hi;
        hi = x + y;
        lo = y - (hi - x);
        remaining = below;
        if lo != 0.0 {
            break;
        }
    }
    // Half-way case: the next partial below has the sign of `lo`, so the true sum is past the
    // midpoint that round-to-even chose against.
    if let Some(&next) = remaining.last()
        && ((lo < 0.0 && next < 0.0) || (lo > 0.0 && next > 0.0))
    {
        let y = lo * 2.0;
        let x = hi + y;
        if y == x - hi {
            hi = x;
        }
    }
    hi
}

/// Count, sum, mean and population standard deviation of ascending weighted values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Moments {
    pub count: u64,
    pub sum: f64,
    pub mean: f64,
    pub std_dev: f64,
}

impl Moments {
    /// `sum` = Σ w·x correctly rounded (each product rounded first when w > 1); `mean` = sum / n;
    /// `std_dev` = √(Σ w·(x − mean)² / n), the squares summed correctly rounded. `None` without values.
    pub fn of(values: impl Iterator<Item = (f64, u64)> + Clone) -> Option<Self> {
        let count: u64 = values.clone().map(|(_, w)| w).sum();
        if count == 0 {
            return None;
        }
        let weighted = |x: f64, w: u64| if w == 1 { x } else { x * w as f64 };
        let sum = exact_sum(values.clone().map(|(x, w)| weighted(x, w)));
        let n = count as f64;
        let mean = sum / n;
        let squares = exact_sum(values.map(|(x, w)| {
            let d = x - mean;
            weighted(d * d, w)
        }));
        Some(Self { count, sum, mean, std_dev: (squares / n).sqrt() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exact_sum_is_correctly_rounded_whatever_the_order() {
        // Python: math.fsum([0.1] * 10) == 1.0, sum(...) == 0.9999999999999999.
        assert_eq!(exact_sum([0.1; 10]), 1.0);
        assert_eq!(exact_sum([1e100, 1.0, -1e100, 1e-100]), 1.0);
        assert_eq!(exact_sum([1e308, 1e308]), f64::INFINITY);
        // Half-way: 2^53 + 1 + tiny rounds up, not to even.
        let big = 9007199254740992.0;
        assert_eq!(exact_sum([big, 1.0, 1e-10]), big + 2.0);
        assert_eq!(exact_sum([1e-10, 1.0, big]), big + 2.0);
        assert_eq!(exact_sum(std::iter::empty()), 0.0);
    }

    #[test]
    fn moments_of_weighted_values_equal_those_of_the_repeated_values() {
        let repeated = [1.0, 2.0, 2.0, 2.0, 7.5];
        let a = Moments::of(repeated.iter().map(|&x| (x, 1))).unwrap();
        let b = Moments::of([(1.0, 1), (2.0, 3), (7.5, 1)].into_iter()).unwrap();
        assert_eq!(a, b);
        assert_eq!((a.count, a.sum, a.mean), (5, 14.5, 2.9));
        assert!(Moments::of(std::iter::empty()).is_none());
    }
}
