//! Input scaling: from a dataset's raw feature values to the learner's signed Q0.7 input bytes.
//!
//! Fitted on the training rows only, one rule per feature:
//! 1. **Tail transform.** A non-negative feature whose sample skewness exceeds [`SKEW_LIMIT`]
//!    (counts, amounts, durations) is replaced by `ln(1 + x / s)` with `s` the median of its
//!    positive values, so that its bulk is not squeezed into a few codes by a long right tail.
//!    A feature of either sign whose excess kurtosis exceeds [`KURTOSIS_LIMIT`] is replaced by
//!    `asinh((x - m) / s)` with `m` its median and `s` its median absolute deviation: linear
//!    near the centre, logarithmic in both tails. Other features are kept as they are.
//! 2. **Standardisation.** `z = (t - mean) / std` of the transformed training values.
//! 3. **Quantisation.** `code = round(z * 32)` clipped to `-128..=127`: the byte is the
//!    two's-complement signed Q0.7 value `z / 4`, so the clip sits at `z = +-4` and one code is
//!    1/32 of a standard deviation.
//!
//! A feature that is constant (or has no finite value) on the training rows maps to 0, the
//! code of the mean, as do NaN and missing values. `+-inf` clip to the ends. Padding features
//! that a dataset lacks are 0 too, so they contribute nothing.
//!
//! Zero-mean inputs of unit spread are what a hidden layer of ReLUs can use: with all-positive
//! inputs every unit must fight its own bias first (measured in ../shared notes: min-max inputs
//! cost a float MLP up to 14 pp on some datasets).

use serde::{Deserialize, Serialize};

/// Skewness above which a non-negative feature is log-transformed (the usual "highly skewed"
/// rule of thumb).
pub const SKEW_LIMIT: f64 = 1.0;
/// Excess kurtosis above which a feature is asinh-transformed around its median (a normal
/// distribution has 0, a Laplace 3, Student's t with 5 degrees of freedom 6).
pub const KURTOSIS_LIMIT: f64 = 10.0;
/// Standard deviations at which a standardised feature is clipped.
pub const CLIP_Z: f64 = 4.0;
/// Codes per standard deviation: 128 codes span `CLIP_Z` deviations.
pub const CODES_PER_STD: f64 = 128.0 / CLIP_Z;
/// The `format` tag written with a saved scaling.
pub const FORMAT: &str = "standardised-q0.7";

/// The tail transform of one feature.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Transform {
    /// The value itself.
    Identity,
    /// `ln(1 + max(x, 0) / scale)`.
    Log1p { scale: f64 },
    /// `asinh((x - center) / scale)`.
    Asinh { center: f64, scale: f64 },
}

impl Transform {
    pub fn apply(&self, x: f64) -> f64 {
        match *self {
            Transform::Identity => x,
            Transform::Log1p { scale } => (x.max(0.0) / scale).ln_1p(),
            Transform::Asinh { center, scale } => ((x - center) / scale).asinh(),
        }
    }
}

/// The scaling of one feature: transform, then standardise.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureScaling {
    pub transform: Transform,
    /// Mean of the transformed training values.
    pub mean: f64,
    /// Standard deviation of the transformed training values; 0 for a constant feature.
    pub std: f64,
}

impl FeatureScaling {
    const CONSTANT: Self = Self {
        transform: Transform::Identity,
        mean: 0.0,
        std: 0.0,
    };

    /// The input byte (two's-complement signed Q0.7) of raw value `x`.
    pub fn code(&self, x: f64) -> u8 {
        if x.is_nan() || self.std <= 0.0 {
            return 0;
        }
        let z = (self.transform.apply(x) - self.mean) / self.std;
        // Infinities clip at the ends; the clamp keeps the cast exact.
        (z * CODES_PER_STD).round().clamp(-128.0, 127.0) as i8 as u8
    }

    fn fit(values: &[f64]) -> Self {
        if values.is_empty() {
            return Self::CONSTANT;
        }
        let transform = choose_transform(values);
        let t: Vec<f64> = values.iter().map(|&x| transform.apply(x)).collect();
        let (mean, std) = mean_std(&t);
        if !(std > 0.0 && std.is_finite() && mean.is_finite()) {
            return Self {
                mean: if mean.is_finite() { mean } else { 0.0 },
                ..Self::CONSTANT
            };
        }
        Self {
            transform,
            mean,
            std,
        }
    }
}

/// Per-feature scaling fitted on training rows (see the module doc). Serialised into a run's
/// config and a weights sidecar so that inference applies exactly the training transform.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Quantizer {
    /// Always [`FORMAT`]; anything else was written by another version.
    pub format: String,
    pub features: Vec<FeatureScaling>,
}

impl Quantizer {
    /// Fits every feature of `rows` of `features` (row-major; indices past the end skipped).
    pub fn fit_rows(features: &[Vec<f64>], n_features: usize, rows: &[usize]) -> Self {
        let mut col = Vec::with_capacity(rows.len());
        let features = (0..n_features)
            .map(|f| {
                col.clear();
                col.extend(
                    rows.iter()
                        .filter_map(|&r| features.get(r))
                        .filter_map(|row| row.get(f).copied())
                        .filter(|x| x.is_finite()),
                );
                FeatureScaling::fit(&col)
            })
            .collect();
        Self {
            format: FORMAT.into(),
            features,
        }
    }

    /// Fits the scaling of `ds` on its rows `rows`.
    pub fn fit(ds: &crate::data::dataset::Dataset, rows: &[usize]) -> Self {
        Self::fit_rows(&ds.features, ds.n_features(), rows)
    }

    /// Whether this scaling was written in the format this version applies.
    pub fn is_current(&self) -> bool {
        self.format == FORMAT
    }

    /// Number of features the quantizer was fitted on (the length of every
    /// [`Quantizer::quantize`] output).
    pub fn n_features(&self) -> usize {
        self.features.len()
    }

    /// Quantises one sample to one byte per fitted feature: extra values in `row` are
    /// ignored, missing ones give 0.
    pub fn quantize(&self, row: &[f64]) -> Vec<u8> {
        self.features
            .iter()
            .enumerate()
            .map(|(i, f)| row.get(i).map_or(0, |&x| f.code(x)))
            .collect()
    }
}

/// Real value of an input byte (signed Q0.7) in standard deviations of its feature.
pub fn code_to_z(code: u8) -> f64 {
    code as i8 as f64 / CODES_PER_STD
}

fn choose_transform(values: &[f64]) -> Transform {
    let (mean, std) = mean_std(values);
    if !(std > 0.0 && std.is_finite()) {
        return Transform::Identity;
    }
    let (m3, m4) = values.iter().fold((0.0, 0.0), |(m3, m4), &x| {
        let d = (x - mean) / std;
        (m3 + d * d * d, m4 + d * d * d * d)
    });
    let n = values.len() as f64;
    let (skew, kurt) = (m3 / n, m4 / n - 3.0);
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    if min >= 0.0 && skew > SKEW_LIMIT {
        let mut pos: Vec<f64> = values.iter().copied().filter(|&x| x > 0.0).collect();
        let scale = median(&mut pos);
        if scale > 0.0 && scale.is_finite() {
            return Transform::Log1p { scale };
        }
    }
    if kurt > KURTOSIS_LIMIT {
        let mut v = values.to_vec();
        let center = median(&mut v);
        let mut dev: Vec<f64> = values.iter().map(|x| (x - center).abs()).collect();
        let scale = median(&mut dev);
        if scale > 0.0 && scale.is_finite() {
            return Transform::Asinh { center, scale };
        }
    }
    Transform::Identity
}

/// Mean and population standard deviation, computed on values divided by their largest
/// magnitude so that values near f64::MAX neither overflow nor lose the spread.
fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let big = values.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if n == 0.0 || big == 0.0 || !big.is_finite() {
        return (0.0, 0.0);
    }
    let mean = values.iter().map(|x| x / big).sum::<f64>() / n;
    let var = values.iter().map(|x| (x / big - mean).powi(2)).sum::<f64>() / n;
    (mean * big, var.sqrt() * big)
}

/// Median (sorts `v`); 0 for an empty slice.
fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}
