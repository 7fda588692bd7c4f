//! Binning of numbers (mbql.md §2.6.3): from a column's bounds and a strategy to the bin width
//! and the nicer bounds the compiled `floor((x - min) / w) * w + min` uses.
use serde_json::{json, Value};

/// A strategy with the settings already applied (`default` resolved).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Strategy {
    NumBins(u32),
    BinWidth(f64),
}

/// The resolved bins of a column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bins {
    pub strategy: Strategy,
    pub width: f64,
    pub min: f64,
    pub max: f64,
}

const NICE: [f64; 8] = [1.0, 1.25, 2.0, 2.5, 3.0, 5.0, 7.5, 10.0];

fn round5(x: f64) -> f64 {
    (x * 1e5).round() / 1e5
}

/// Step 3: the first of 1, 1.25, 2, 2.5, 3, 5, 7.5, 10 times a power of ten that is ≥ `w0`.
fn nicer_width(w0: f64) -> f64 {
    let s = 10f64.powf(w0.log10().floor());
    NICE.iter()
        .map(|m| m * s)
        .find(|w| *w >= w0 - w0 * 1e-12)
        .unwrap_or(10.0 * s)
}

/// Step 4.
fn nicer_bounds(min: f64, max: f64, w: f64) -> (f64, f64) {
    ((min / w).floor() * w, (max / w).ceil() * w)
}

/// The bins for a column whose values lie in `[min, max]` (finite, `min ≤ max`).
pub fn bins(strategy: Strategy, min: f64, max: f64) -> Bins {
    match strategy {
        Strategy::BinWidth(w) => {
            let (lo, hi) = nicer_bounds(min, max, w);
            Bins {
                strategy,
                width: w,
                min: lo,
                max: hi,
            }
        }
        Strategy::NumBins(n) => {
            let (mut lo, mut hi) = (min, max);
            let mut width = 1.0;
            for _ in 0..10 {
                let mut w0 = round5((hi - lo) / f64::from(n.max(1)));
                if w0 <= 0.0 || !w0.is_finite() {
                    w0 = 1.0;
                }
                let w = nicer_width(w0);
                let (l2, h2) = nicer_bounds(lo, hi, w);
                let same = w == width && l2 == lo && h2 == hi;
                (width, lo, hi) = (w, l2, h2);
                if same {
                    break;
                }
            }
            Bins {
                strategy,
                width,
                min: lo,
                max: hi,
            }
        }
    }
}

impl Bins {
    /// The column's `binning_info` (§2.6.3 step 5).
    pub fn info(&self) -> Value {
        let (name, n) = match self.strategy {
            Strategy::NumBins(n) => ("num-bins", f64::from(n)),
            Strategy::BinWidth(_) => (
                "bin-width",
                ((self.max - self.min) / self.width).ceil().max(1.0),
            ),
        };
        json!({
            "binning_strategy": name,
            "bin_width": self.width,
            "num_bins": n as i64,
            "min_value": self.min,
            "max_value": self.max,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_example() {
        let b = bins(Strategy::NumBins(10), 10.03, 99.87);
        assert_eq!((b.width, b.min, b.max), (10.0, 10.0, 100.0));
    }

    #[test]
    fn widths_and_bounds() {
        let b = bins(Strategy::BinWidth(25.0), 15.69, 98.82);
        assert_eq!((b.width, b.min, b.max), (25.0, 0.0, 100.0));
        assert_eq!(b.info()["num_bins"], 4);
        assert_eq!(nicer_width(8.984), 10.0);
        assert_eq!(nicer_width(0.12), 0.125);
        assert_eq!(nicer_width(260.0), 300.0);
        let b = bins(Strategy::NumBins(8), 5.0, 5.0);
        assert_eq!(b.width, 1.0);
        assert!(b.min <= 5.0 && b.max >= 5.0);
    }
}
