//! Small classification data sets, a stratified train/test split and the
//! 8-bit feature quantizer that feeds the learner.
//!
//! The four toy data sets bundled with scikit-learn are embedded in the
//! binary (see `data/LICENSE.md` at the repository root for their origin and
//! licence), so nothing is read from disk or the network at run time:
//!
//! | name            | samples | features | classes |
//! |-----------------|--------:|---------:|--------:|
//! | `iris`          |     150 |        4 |       3 |
//! | `wine`          |     178 |       13 |       3 |
//! | `breast-cancer` |     569 |       30 |       2 |
//! | `digits`        |    1797 |       64 |      10 |
//!
//! Everything here returns [`DatasetError`] on bad input; nothing prints and
//! nothing panics.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A labelled classification data set held in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Short name, e.g. `iris`.
    pub name: String,
    /// One row of feature values per sample; every row has the same length.
    pub features: Vec<Vec<f64>>,
    /// Class index of each sample, `< n_classes`; same length as `features`.
    pub labels: Vec<usize>,
    /// Number of classes.
    pub n_classes: usize,
    /// Human-readable name of each class, indexed by label.
    pub class_names: Vec<String>,
}

impl Dataset {
    /// Number of features per sample (0 for an empty data set).
    pub fn n_features(&self) -> usize {
        self.features.first().map_or(0, Vec::len)
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// True when the data set has no samples.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }
}

/// Names accepted by [`builtin`].
pub const BUILTIN: &[&str] = &["iris", "wine", "breast-cancer", "digits"];

const IRIS_CSV: &str = include_str!("../../data/iris.csv");
const WINE_CSV: &str = include_str!("../../data/wine.csv");
const BREAST_CANCER_CSV: &str = include_str!("../../data/breast_cancer.csv");
const DIGITS_CSV: &str = include_str!("../../data/digits.csv");

/// Number of pixels (features) of a digits sample: an 8x8 image.
const DIGITS_FEATURES: usize = 64;
/// Number of classes of the digits data set: the digits 0 to 9.
const DIGITS_CLASSES: usize = 10;

/// Errors from loading or parsing a data set.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// [`builtin`] was given a name that is not in [`BUILTIN`].
    #[error("unknown dataset `{name}`: use one of the built-in names {}", .valid.join(", "))]
    UnknownDataset {
        name: String,
        valid: &'static [&'static str],
    },

    /// The text holds no header line.
    #[error(
        "dataset `{name}` is empty: expected a header line \
         `n_samples,n_features,class_name_0,class_name_1,...` followed by one row per sample"
    )]
    Empty { name: String },

    /// The first line is not a valid `n_samples,n_features,class names...` header.
    #[error(
        "dataset `{name}`, line {line}: bad header: {reason}; \
         the first line must be `n_samples,n_features,class_name_0,class_name_1,...`"
    )]
    BadHeader {
        name: String,
        line: u64,
        reason: String,
    },

    /// A data row does not have `n_features + 1` fields.
    #[error(
        "dataset `{name}`, line {line}: found {found} fields but expected {expected} \
         ({n_features} features, then the label); fix the row or n_features in the header"
    )]
    FieldCount {
        name: String,
        line: u64,
        found: usize,
        expected: usize,
        n_features: usize,
    },

    /// A feature value is not a finite number.
    #[error(
        "dataset `{name}`, line {line}, column {column}: feature value `{value}` is not a \
         finite number; write features as plain decimal numbers such as `5.1`"
    )]
    BadFeature {
        name: String,
        line: u64,
        column: usize,
        value: String,
    },

    /// A label is not an integer class index below `n_classes`.
    #[error(
        "dataset `{name}`, line {line}: label `{value}` is not a class index; the last field \
         must be an integer from 0 to {max_label} (one class per class name in the header)",
        max_label = .n_classes.saturating_sub(1)
    )]
    BadLabel {
        name: String,
        line: u64,
        value: String,
        n_classes: usize,
    },

    /// The number of data rows differs from `n_samples` in the header.
    #[error(
        "dataset `{name}`: the header announces {expected} samples but {found} rows were \
         found; fix n_samples in the header or the rows"
    )]
    RowCount {
        name: String,
        expected: usize,
        found: usize,
    },

    /// The text is not well-formed CSV.
    #[error("dataset `{name}`: malformed CSV: {source}; fix the quoting or encoding of the file")]
    Csv {
        name: String,
        #[source]
        source: csv::Error,
    },
}

/// Loads one of the embedded data sets by name (see [`BUILTIN`]).
///
/// `breast-cancer` labels are 0 = malignant, 1 = benign; `digits` has 64
/// features (8x8 pixels, 0..=16) and class names `"0"` to `"9"`.
pub fn builtin(name: &str) -> Result<Dataset, DatasetError> {
    match name {
        "iris" => parse_sklearn_csv(name, IRIS_CSV),
        "wine" => parse_sklearn_csv(name, WINE_CSV),
        "breast-cancer" => parse_sklearn_csv(name, BREAST_CANCER_CSV),
        "digits" => {
            let class_names = (0..DIGITS_CLASSES).map(|d| d.to_string()).collect();
            parse_headerless_csv(name, DIGITS_CSV, DIGITS_FEATURES, class_names)
        }
        _ => Err(DatasetError::UnknownDataset {
            name: name.to_owned(),
            valid: BUILTIN,
        }),
    }
}

/// Parses scikit-learn's bundled CSV format: a header line
/// `n_samples,n_features,class_name_0,class_name_1,...`, then one line per
/// sample holding `n_features` numbers followed by the integer class label.
///
/// `name` becomes [`Dataset::name`] and is quoted in error messages. Blank
/// lines are ignored and fields are trimmed of surrounding whitespace.
pub fn parse_sklearn_csv(name: &str, text: &str) -> Result<Dataset, DatasetError> {
    let mut records = csv_reader(text).into_records();
    let header = match records.next() {
        None => {
            return Err(DatasetError::Empty {
                name: name.to_owned(),
            })
        }
        Some(record) => record.map_err(|source| csv_error(name, source))?,
    };
    let line = line_of(&header);
    let bad_header = |reason: String| DatasetError::BadHeader {
        name: name.to_owned(),
        line,
        reason,
    };
    if header.len() < 3 {
        return Err(bad_header(format!(
            "found {} fields, need at least 3 (n_samples, n_features and one class name)",
            header.len()
        )));
    }
    let n_samples: usize = header[0].parse().map_err(|_| {
        bad_header(format!(
            "n_samples `{}` is not a non-negative integer",
            &header[0]
        ))
    })?;
    let n_features: usize = header[1].parse().map_err(|_| {
        bad_header(format!(
            "n_features `{}` is not a non-negative integer",
            &header[1]
        ))
    })?;
    if n_features == 0 {
        return Err(bad_header("n_features is 0, need at least 1".to_owned()));
    }
    let class_names: Vec<String> = header.iter().skip(2).map(str::to_owned).collect();
    if let Some(i) = class_names.iter().position(String::is_empty) {
        return Err(bad_header(format!("class name {i} is empty")));
    }

    let dataset = parse_rows(name, records, n_features, class_names)?;
    if dataset.len() != n_samples {
        return Err(DatasetError::RowCount {
            name: name.to_owned(),
            expected: n_samples,
            found: dataset.len(),
        });
    }
    Ok(dataset)
}

/// Parses a CSV without header (as scikit-learn's `digits.csv`): each line
/// holds `n_features` numbers followed by the integer class label.
fn parse_headerless_csv(
    name: &str,
    text: &str,
    n_features: usize,
    class_names: Vec<String>,
) -> Result<Dataset, DatasetError> {
    parse_rows(
        name,
        csv_reader(text).into_records(),
        n_features,
        class_names,
    )
}

fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes())
}

fn csv_error(name: &str, source: csv::Error) -> DatasetError {
    DatasetError::Csv {
        name: name.to_owned(),
        source,
    }
}

fn line_of(record: &csv::StringRecord) -> u64 {
    record.position().map_or(0, csv::Position::line)
}

/// Parses data rows of `n_features` features and one label each.
fn parse_rows(
    name: &str,
    records: impl Iterator<Item = csv::Result<csv::StringRecord>>,
    n_features: usize,
    class_names: Vec<String>,
) -> Result<Dataset, DatasetError> {
    let n_classes = class_names.len();
    let expected = n_features.saturating_add(1);
    let mut features = Vec::new();
    let mut labels = Vec::new();
    for record in records {
        let record = record.map_err(|source| csv_error(name, source))?;
        let line = line_of(&record);
        if record.len() != expected {
            return Err(DatasetError::FieldCount {
                name: name.to_owned(),
                line,
                found: record.len(),
                expected,
                n_features,
            });
        }
        let row = record
            .iter()
            .take(n_features)
            .enumerate()
            .map(|(i, field)| match field.parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(x),
                _ => Err(DatasetError::BadFeature {
                    name: name.to_owned(),
                    line,
                    column: i + 1,
                    value: field.to_owned(),
                }),
            })
            .collect::<Result<Vec<f64>, _>>()?;
        let field = &record[n_features];
        let label = match field.parse::<usize>() {
            Ok(label) if label < n_classes => label,
            _ => {
                return Err(DatasetError::BadLabel {
                    name: name.to_owned(),
                    line,
                    value: field.to_owned(),
                    n_classes,
                })
            }
        };
        features.push(row);
        labels.push(label);
    }
    Ok(Dataset {
        name: name.to_owned(),
        features,
        labels,
        n_classes,
        class_names,
    })
}

/// Splits sample indices into `(train_idx, test_idx)`, stratified by class.
///
/// For each class in turn (0, 1, ...), that class's indices are shuffled with
/// a `ChaCha8Rng` seeded from `seed` and the first
/// `round(test_fraction * class_count)` go to the test set, the rest to the
/// training set; then the training and the test indices are each shuffled
/// with the same generator. The result depends only on the arguments.
///
/// `test_fraction` is clamped to `0.0..=1.0` (NaN counts as 0). Labels of
/// `n_classes` or more are not an error: each distinct label is treated as a
/// class of its own, so every index lands in exactly one of the two sets.
pub fn stratified_split(
    labels: &[usize],
    n_classes: usize,
    test_fraction: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let test_fraction = if test_fraction.is_nan() {
        0.0
    } else {
        test_fraction.clamp(0.0, 1.0)
    };
    // Dense buckets for labels below `n_classes` (capped by the number of
    // samples so a huge `n_classes` cannot cause a huge allocation); any
    // larger label is grouped by value. Every sparse label is at least the
    // dense table's length, so classes are still visited in ascending order.
    // Empty classes draw nothing from the generator.
    let n_buckets = n_classes.min(labels.len());
    let mut buckets: Vec<Vec<usize>> = vec![Vec::new(); n_buckets];
    let mut sparse: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for (i, &label) in labels.iter().enumerate() {
        match buckets.get_mut(label) {
            Some(bucket) => bucket.push(i),
            None => sparse.entry(label).or_default().push(i),
        }
    }

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut train = Vec::with_capacity(labels.len());
    let mut test = Vec::new();
    for mut class in buckets.into_iter().chain(sparse.into_values()) {
        class.shuffle(&mut rng);
        // Clamped fraction keeps this in 0..=class.len(); `min` guards rounding.
        let n_test = ((test_fraction * class.len() as f64).round() as usize).min(class.len());
        test.extend_from_slice(&class[..n_test]);
        train.extend_from_slice(&class[n_test..]);
    }
    train.shuffle(&mut rng);
    test.shuffle(&mut rng);
    (train, test)
}

/// Per-feature min-max scaling to 8 bits, fitted on training rows only.
///
/// Feature value `min` maps to 0 and `max` to 255, linearly, rounded to
/// the nearest integer; values outside the fitted range are clamped. A
/// feature that is constant on the training rows maps to 0. The learner reads
/// a code `v` as the fraction `v / 256`, in `[0, 1)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantizer {
    min: Vec<f64>,
    max: Vec<f64>,
}

impl Quantizer {
    /// Fits the per-feature range on the samples `rows` of `ds` (indices into
    /// `ds.features`, typically the `train_idx` of [`stratified_split`]).
    ///
    /// Indices past the end of the data set are skipped. A feature with no
    /// finite value among the rows (e.g. `rows` empty) is treated as constant.
    pub fn fit(ds: &Dataset, rows: &[usize]) -> Self {
        let n = ds.n_features();
        let mut min = vec![f64::INFINITY; n];
        let mut max = vec![f64::NEG_INFINITY; n];
        for row in rows.iter().filter_map(|&r| ds.features.get(r)) {
            for ((lo, hi), &x) in min.iter_mut().zip(max.iter_mut()).zip(row) {
                if x.is_finite() {
                    *lo = lo.min(x);
                    *hi = hi.max(x);
                }
            }
        }
        for (lo, hi) in min.iter_mut().zip(max.iter_mut()) {
            if lo > hi {
                // No finite value seen: a constant feature.
                *lo = 0.0;
                *hi = 0.0;
            }
        }
        Self { min, max }
    }

    /// Number of features the quantizer was fitted on (the length of every
    /// [`Quantizer::quantize`] output).
    pub fn n_features(&self) -> usize {
        self.min.len()
    }

    /// Fitted per-feature minimum (maps to code 0).
    pub fn min(&self) -> &[f64] {
        &self.min
    }

    /// Fitted per-feature maximum (maps to code 255).
    pub fn max(&self) -> &[f64] {
        &self.max
    }

    /// Quantizes one sample to one code per fitted feature.
    ///
    /// The output always has [`Quantizer::n_features`] entries: extra values
    /// in `row` are ignored, missing ones and NaN give 0.
    pub fn quantize(&self, row: &[f64]) -> Vec<u8> {
        self.min
            .iter()
            .zip(&self.max)
            .enumerate()
            .map(|(i, (&lo, &hi))| match row.get(i) {
                Some(&x) => quantize_one(x, lo, hi),
                None => 0,
            })
            .collect()
    }
}

fn quantize_one(x: f64, lo: f64, hi: f64) -> u8 {
    let span = hi - lo;
    if x.is_nan() || !span.is_finite() || span <= 0.0 {
        return 0;
    }
    // The clamp keeps the cast exact; +inf/-inf clamp to the ends.
    ((x - lo) / span * 255.0).round().clamp(0.0, 255.0) as u8
}
