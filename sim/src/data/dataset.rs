//! Small classification data sets, file readers and a stratified train/test split (the
//! feature scaling that feeds the learner is [`crate::scaling`]).
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
//! Files are read by [`load_file`]: CSV (optional header, label column by
//! name or index, string labels), LIBSVM/SVMlight and IDX image + label pairs
//! (MNIST, Fashion-MNIST) with optional 2x2 average pooling. They give a
//! [`Table`] whose string labels become classes in sorted order
//! ([`Table::into_dataset`]) or are mapped onto another data set's classes
//! ([`Table::into_dataset_with_classes`]).
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

    /// A file cannot be read.
    #[error("cannot read `{path}`: {source}; check the path and its permissions")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },

    /// A FIFO, device or socket was given where a file is needed.
    #[error(
        "`{path}` is a {kind}, not a regular file; save the data to a file and pass that file"
    )]
    NotRegular { path: String, kind: &'static str },

    /// A file larger than [`MAX_FILE_BYTES`].
    #[error(
        "`{path}` is larger than {limit_mib} MiB, the most zo reads from a data file; pass a \
         smaller file (a subset of its rows, or IDX images pooled beforehand)"
    )]
    TooLarge { path: String, limit_mib: u64 },

    /// A gzip-compressed file.
    #[error(
        "`{name}` is gzip-compressed; decompress it first (`gunzip {name}`) and pass the result"
    )]
    Gzip { name: String },

    /// Text that is not UTF-8.
    #[error(
        "`{name}` is not a text file in UTF-8 (byte 0x{byte:02x} at offset {offset} is not \
         UTF-8); save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)"
    )]
    NotUtf8 {
        name: String,
        offset: usize,
        byte: u8,
    },

    /// Two header columns with one name.
    #[error(
        "`{name}`: the header names column `{column}` twice (columns {first} and {second}); \
         give every column a distinct name"
    )]
    DuplicateColumn {
        name: String,
        column: String,
        first: usize,
        second: usize,
    },

    /// A directory was given where a file is needed.
    #[error("`{path}` is a directory; pass a data file (CSV, LIBSVM or IDX)")]
    IsDirectory { path: String },

    /// A file holds nothing but whitespace.
    #[error("`{name}` is empty; pass a file with one sample per line")]
    EmptyFile { name: String },

    /// A file that should be text holds a NUL byte or invalid UTF-8.
    #[error(
        "`{name}` is not a text file (binary data at byte {offset}); pass a CSV or LIBSVM text \
         file, or an IDX image file with its label file"
    )]
    Binary { name: String, offset: usize },

    /// A feature field is empty.
    #[error(
        "`{name}`, line {line}, column {column}: missing value; fill in every feature or drop \
         the row"
    )]
    MissingValue {
        name: String,
        line: u64,
        column: usize,
    },

    /// A row's label field is empty.
    #[error("`{name}`, line {line}: the label is missing; give every row a label")]
    MissingLabel { name: String, line: u64 },

    /// The label column index is past the last column.
    #[error(
        "`{name}`: label column {index} does not exist, the rows have {width} columns \
         (0 to {last}); pass --label-column with a smaller index or a header name",
        last = .width.saturating_sub(1)
    )]
    LabelIndex {
        name: String,
        index: usize,
        width: usize,
    },

    /// A label column given by name but no header.
    #[error(
        "`{name}`: label column `{column}` is a name but the file is read without a header; \
         drop --header no or give the column's index"
    )]
    NameWithoutHeader { name: String, column: String },

    /// No header column has the label column's name.
    #[error(
        "`{name}` has no column named `{column}`; the columns are: {columns}; pass \
         --label-column with one of them or a 0-based index"
    )]
    UnknownColumn {
        name: String,
        column: String,
        columns: String,
    },

    /// Only a label column.
    #[error("`{name}` has no feature columns; a sample needs at least one feature")]
    NoFeatures { name: String },

    /// A header but no data.
    #[error("`{name}` has no data rows; add at least one sample")]
    NoRows { name: String },

    /// A row with another number of fields than the first row.
    #[error(
        "`{name}`, line {line}: found {found} fields but the first row has {expected}; every \
         row needs the same columns"
    )]
    Ragged {
        name: String,
        line: u64,
        found: usize,
        expected: usize,
    },

    /// A malformed LIBSVM line.
    #[error("`{name}`, line {line}: not LIBSVM: {reason}; write `label index:value ...` per line")]
    Libsvm {
        name: String,
        line: u64,
        reason: String,
    },

    /// A malformed IDX file.
    #[error("`{name}`: bad IDX {what}: {reason}; pass MNIST-style IDX files (ubyte, not gzipped)")]
    Idx {
        name: String,
        what: String,
        reason: String,
    },

    /// An IDX image file whose label file is not found.
    #[error(
        "IDX image file `{path}` needs its labels{}; pass --labels FILE",
        .tried.as_ref().map(|t| format!(" (no `{t}`)")).unwrap_or_default()
    )]
    IdxNoLabels { path: String, tried: Option<String> },

    /// Labels are needed but the table has none.
    #[error("`{name}` has no labels; give a label column (--label-column)")]
    Unlabelled { name: String },

    /// Every row has the same label.
    #[error(
        "`{name}` has a single class (`{class}`); training needs at least two: check the \
         label column (--label-column)"
    )]
    SingleClass { name: String, class: String },

    /// A label that the training data does not have.
    #[error(
        "`{name}`, row {row}: label `{label}` is not one of the training classes ({classes}); \
         use test data with the same classes"
    )]
    UnknownLabel {
        name: String,
        row: usize,
        label: String,
        classes: String,
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

/// The feature scaling lives in [`crate::scaling`]; re-exported here for its callers.
pub use crate::scaling::Quantizer;

// ---------------------------------------------------------------------------
// Files: CSV, LIBSVM and IDX.
// ---------------------------------------------------------------------------

use std::path::{Path, PathBuf};

/// Where a CSV file keeps its label.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LabelColumn {
    /// The last column (the default).
    #[default]
    Last,
    /// A 0-based column index.
    Index(usize),
    /// A column named in the header line.
    Name(String),
    /// No label column: every column is a feature (samples to classify).
    None,
}

impl LabelColumn {
    /// Parses a command-line value: `none`, `last`, a 0-based index or a header name.
    pub fn parse(s: &str) -> Self {
        match s.trim() {
            "none" => LabelColumn::None,
            "last" => LabelColumn::Last,
            t => match t.parse::<usize>() {
                Ok(i) => LabelColumn::Index(i),
                Err(_) => LabelColumn::Name(t.to_owned()),
            },
        }
    }
}

/// Whether the first line of a CSV file is a header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Header {
    /// A header when some feature field of the first line is not a number.
    #[default]
    Auto,
    /// The first line is a header.
    Present,
    /// Every line is data.
    Absent,
}

/// How [`load_file`] reads a file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileOptions {
    /// CSV: the label column.
    pub label: LabelColumn,
    /// CSV: header line or not.
    pub header: Header,
    /// IDX: the label file; by default the image file's name with `images` -> `labels` and
    /// `idx3` -> `idx1`.
    pub idx_labels: Option<PathBuf>,
    /// IDX: average 2x2 pixel blocks (28x28 -> 14x14).
    pub pool: bool,
}

/// A file's rows before the labels become classes.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Short name (the file's stem).
    pub name: String,
    /// The file as the user named it, for messages.
    pub source: String,
    /// Name of each feature column (`x0`, `x1`, ... without a header).
    pub feature_names: Vec<String>,
    /// One row per sample, all of the same length, all finite.
    pub features: Vec<Vec<f64>>,
    /// The label of each row as written in the file; `None` for unlabelled samples.
    pub labels: Option<Vec<String>>,
}

impl Table {
    /// Number of features per row.
    pub fn n_features(&self) -> usize {
        self.feature_names.len()
    }

    /// The distinct labels in class order: numerically sorted when every label is a number,
    /// otherwise sorted as strings.
    pub fn classes(&self) -> Vec<String> {
        let Some(labels) = &self.labels else {
            return Vec::new();
        };
        let mut distinct: Vec<&String> = labels.iter().collect();
        let numeric: Option<Vec<f64>> = labels.iter().map(|l| l.parse::<f64>().ok()).collect();
        if numeric.is_some() {
            let value = |s: &str| s.parse::<f64>().unwrap_or(0.0);
            distinct.sort_by(|a, b| value(a).total_cmp(&value(b)).then_with(|| a.cmp(b)));
            // `1` and `1.0` are one class, named by its first spelling in sorted order.
            distinct.dedup_by(|a, b| value(a) == value(b));
        } else {
            distinct.sort();
        }
        distinct.dedup();
        distinct.into_iter().cloned().collect()
    }

    /// A data set whose classes are this table's distinct labels ([`Table::classes`]).
    /// Refuses an unlabelled table, no rows and a single class.
    pub fn into_dataset(self) -> Result<Dataset, DatasetError> {
        if self.labels.is_none() {
            return Err(DatasetError::Unlabelled { name: self.source });
        }
        let classes = self.classes();
        if classes.len() < 2 {
            return Err(DatasetError::SingleClass {
                name: self.source,
                class: classes.into_iter().next().unwrap_or_default(),
            });
        }
        self.into_dataset_with_classes(&classes)
    }

    /// A data set labelled with `classes` (another set's classes, for a separate test file).
    /// A label outside `classes` is an error.
    pub fn into_dataset_with_classes(self, classes: &[String]) -> Result<Dataset, DatasetError> {
        let Some(raw) = self.labels else {
            return Err(DatasetError::Unlabelled { name: self.source });
        };
        if self.features.is_empty() {
            return Err(DatasetError::NoRows { name: self.source });
        }
        let index: std::collections::HashMap<&str, usize> = classes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i))
            .collect();
        let numeric: Option<Vec<f64>> = classes.iter().map(|c| c.parse::<f64>().ok()).collect();
        let mut labels = Vec::with_capacity(raw.len());
        for (row, label) in raw.iter().enumerate() {
            let class = index.get(label.as_str()).copied().or_else(|| {
                // `1` and `1.0` name the same numeric class.
                let v = label.parse::<f64>().ok()?;
                numeric.as_ref()?.iter().position(|&c| c == v)
            });
            match class {
                Some(c) => labels.push(c),
                None => {
                    return Err(DatasetError::UnknownLabel {
                        name: self.source,
                        row: row + 1,
                        label: label.clone(),
                        classes: classes.join(", "),
                    })
                }
            }
        }
        Ok(Dataset {
            name: self.name,
            features: self.features,
            labels,
            n_classes: classes.len(),
            class_names: classes.to_vec(),
        })
    }
}

/// The short name of a file: its stem (`data/train.csv` -> `train`).
pub fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| path.display().to_string())
}

/// The largest data file zo reads (512 MiB).
pub const MAX_FILE_BYTES: u64 = 512 << 20;

/// The largest feature index of a LIBSVM file: the most inputs a zo device takes.
pub const MAX_FEATURES: usize = zo_hdl::formats::MAX_FAN_IN;

/// Reads a data file once. Refuses, before opening it, what is not a regular file (a FIFO
/// would block, `/dev/zero` never ends) and files over [`MAX_FILE_BYTES`]; the read itself is
/// bounded too, for a file that grows meanwhile.
pub fn read_file(path: &Path) -> Result<Vec<u8>, DatasetError> {
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;
    let shown = || path.display().to_string();
    let io = |source| DatasetError::Io {
        path: shown(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    let ft = meta.file_type();
    if ft.is_dir() {
        return Err(DatasetError::IsDirectory { path: shown() });
    }
    if !ft.is_file() {
        let kind = if ft.is_fifo() {
            "FIFO (named pipe)"
        } else if ft.is_char_device() {
            "character device"
        } else if ft.is_block_device() {
            "block device"
        } else if ft.is_socket() {
            "socket"
        } else {
            "special file"
        };
        return Err(DatasetError::NotRegular {
            path: shown(),
            kind,
        });
    }
    let too_large = || DatasetError::TooLarge {
        path: shown(),
        limit_mib: MAX_FILE_BYTES >> 20,
    };
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)
        .map_err(io)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Which format a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Libsvm,
    Idx,
}

impl FileFormat {
    pub fn name(&self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Libsvm => "libsvm",
            FileFormat::Idx => "idx",
        }
    }
}

/// Guesses the format: the IDX magic number, a `.svm`/`.libsvm`/`.svmlight` extension or
/// `index:value` tokens after the first field of the first data line, else CSV.
pub fn detect_format(path: &Path, bytes: &[u8]) -> FileFormat {
    // The IDX magic 00 00 with any of its element types (only 0x08 is read; idx_header
    // names the others).
    if bytes.len() >= 4
        && bytes[0] == 0
        && bytes[1] == 0
        && matches!(bytes[2], 0x08 | 0x09 | 0x0b | 0x0c | 0x0d | 0x0e)
    {
        return FileFormat::Idx;
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if matches!(ext.as_str(), "svm" | "libsvm" | "svmlight") {
        return FileFormat::Libsvm;
    }
    if matches!(ext.as_str(), "csv" | "tsv") {
        return FileFormat::Csv;
    }
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    if let Some(line) = first {
        let mut tokens = line.split_whitespace();
        let _label = tokens.next();
        let rest: Vec<&str> = tokens.collect();
        if !rest.is_empty() && rest.iter().all(|t| t.contains(':') && !t.contains(',')) {
            return FileFormat::Libsvm;
        }
    }
    FileFormat::Csv
}

/// Loads a CSV, LIBSVM or IDX file ([`detect_format`]).
pub fn load_file(path: &Path, opts: &FileOptions) -> Result<Table, DatasetError> {
    let bytes = read_file(path)?;
    load_bytes(path, &bytes, opts)
}

/// Parses the contents of `path`, already read with [`read_file`] (a file is read once).
pub fn load_bytes(path: &Path, bytes: &[u8], opts: &FileOptions) -> Result<Table, DatasetError> {
    let name = path.display().to_string();
    let mut table = match detect_format(path, bytes) {
        FileFormat::Idx => {
            idx_header(&name, "image file", bytes, 3)?;
            let labels_path = match &opts.idx_labels {
                Some(p) => p.clone(),
                None => idx_labels_path(path).ok_or_else(|| DatasetError::IdxNoLabels {
                    path: path.display().to_string(),
                    tried: None,
                })?,
            };
            if opts.idx_labels.is_none() && !labels_path.exists() {
                return Err(DatasetError::IdxNoLabels {
                    path: path.display().to_string(),
                    tried: Some(labels_path.display().to_string()),
                });
            }
            let labels = read_file(&labels_path)?;
            // Errors in the label file name the label file.
            let labels_name = labels_path.display().to_string();
            let ldims = idx_header(&labels_name, "label file", &labels, 1)?;
            let dims = idx_header(&name, "image file", bytes, 3)?;
            if ldims[0] != dims[0] {
                return Err(DatasetError::Idx {
                    name: labels_name,
                    what: "label file".into(),
                    reason: format!(
                        "it holds {} labels for the {} images of {name}",
                        ldims[0], dims[0]
                    ),
                });
            }
            parse_idx(&name, bytes, &labels, opts.pool)?
        }
        FileFormat::Libsvm => parse_libsvm(&name, bytes)?,
        FileFormat::Csv => parse_csv(&name, bytes, opts)?,
    };
    table.name = file_stem(path);
    Ok(table)
}

/// The label file that goes with an IDX image file, by the MNIST naming convention.
pub fn idx_labels_path(images: &Path) -> Option<PathBuf> {
    let file = images.file_name()?.to_string_lossy().into_owned();
    let labels = file.replace("images", "labels").replace("idx3", "idx1");
    (labels != file).then(|| images.with_file_name(labels))
}

/// Text of a file that must be text: refuses empty and binary content.
fn text_of<'a>(name: &str, bytes: &'a [u8]) -> Result<&'a str, DatasetError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(DatasetError::EmptyFile {
            name: name.to_owned(),
        });
    }
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(DatasetError::Gzip {
            name: name.to_owned(),
        });
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(DatasetError::Binary {
            name: name.to_owned(),
            offset,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| DatasetError::NotUtf8 {
        name: name.to_owned(),
        offset: e.valid_up_to(),
        byte: bytes[e.valid_up_to()],
    })?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

fn finite(name: &str, line: u64, column: usize, field: &str) -> Result<f64, DatasetError> {
    if field.is_empty() {
        return Err(DatasetError::MissingValue {
            name: name.to_owned(),
            line,
            column,
        });
    }
    match field.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(DatasetError::BadFeature {
            name: name.to_owned(),
            line,
            column,
            value: field.to_owned(),
        }),
    }
}

/// Parses a CSV file (comma separated; a `.tsv`-style tab or `;` separator is detected from
/// the first line). See [`FileOptions`] for the header and the label column.
pub fn parse_csv(name: &str, bytes: &[u8], opts: &FileOptions) -> Result<Table, DatasetError> {
    let text = text_of(name, bytes)?;
    let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delimiter = [b',', b'\t', b';']
        .into_iter()
        .max_by_key(|&d| first_line.bytes().filter(|&b| b == d).count())
        .filter(|&d| first_line.as_bytes().contains(&d))
        .unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut records = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|source| csv_error(name, source))?;
        if record.iter().all(str::is_empty) {
            continue; // blank line
        }
        records.push(record);
    }
    let Some(first) = records.first() else {
        return Err(DatasetError::EmptyFile {
            name: name.to_owned(),
        });
    };
    let width = first.len();
    // Which column is the label (before knowing about the header, for the auto rule).
    let label_by_position = |width: usize| -> Result<Option<usize>, DatasetError> {
        match &opts.label {
            LabelColumn::Last => Ok(Some(width - 1)),
            LabelColumn::None => Ok(None),
            LabelColumn::Index(i) if *i < width => Ok(Some(*i)),
            LabelColumn::Index(i) => Err(DatasetError::LabelIndex {
                name: name.to_owned(),
                index: *i,
                width,
            }),
            LabelColumn::Name(_) => Ok(None),
        }
    };
    let has_header = match (opts.header, &opts.label) {
        (Header::Present, _) => true,
        (Header::Absent, LabelColumn::Name(column)) => {
            return Err(DatasetError::NameWithoutHeader {
                name: name.to_owned(),
                column: column.clone(),
            })
        }
        (Header::Absent, _) => false,
        (Header::Auto, LabelColumn::Name(_)) => true,
        (Header::Auto, _) => {
            let label = label_by_position(width)?;
            first
                .iter()
                .enumerate()
                .any(|(i, f)| Some(i) != label && f.parse::<f64>().is_err())
        }
    };
    let (header, rows) = if has_header {
        let names: Vec<String> = first.iter().map(str::to_owned).collect();
        for (j, n) in names.iter().enumerate() {
            if let Some(i) = names[..j].iter().position(|m| m == n) {
                return Err(DatasetError::DuplicateColumn {
                    name: name.to_owned(),
                    column: n.clone(),
                    first: i,
                    second: j,
                });
            }
        }
        (Some(names), &records[1..])
    } else {
        (None, &records[..])
    };
    let label = match (&opts.label, &header) {
        (LabelColumn::Name(column), Some(names)) => match names.iter().position(|n| n == column) {
            Some(i) => Some(i),
            None => {
                return Err(DatasetError::UnknownColumn {
                    name: name.to_owned(),
                    column: column.clone(),
                    columns: names.join(", "),
                })
            }
        },
        _ => label_by_position(width)?,
    };
    let n_features = width - usize::from(label.is_some());
    if n_features == 0 {
        return Err(DatasetError::NoFeatures {
            name: name.to_owned(),
        });
    }
    if rows.is_empty() {
        return Err(DatasetError::NoRows {
            name: name.to_owned(),
        });
    }
    let feature_names: Vec<String> = match &header {
        Some(names) => names
            .iter()
            .enumerate()
            .filter(|&(i, _)| Some(i) != label)
            .map(|(_, n)| n.clone())
            .collect(),
        None => (0..n_features).map(|i| format!("x{i}")).collect(),
    };
    let mut features = Vec::with_capacity(rows.len());
    let mut labels = Vec::with_capacity(rows.len());
    for record in rows {
        let line = line_of(record);
        if record.len() != width {
            return Err(DatasetError::Ragged {
                name: name.to_owned(),
                line,
                found: record.len(),
                expected: width,
            });
        }
        let mut row = Vec::with_capacity(n_features);
        for (i, field) in record.iter().enumerate() {
            if Some(i) == label {
                if field.is_empty() {
                    return Err(DatasetError::MissingLabel {
                        name: name.to_owned(),
                        line,
                    });
                }
                labels.push(field.to_owned());
            } else {
                row.push(finite(name, line, i + 1, field)?);
            }
        }
        features.push(row);
    }
    Ok(Table {
        name: name.to_owned(),
        source: name.to_owned(),
        feature_names,
        features,
        labels: label.map(|_| labels),
    })
}

/// Parses LIBSVM/SVMlight text: `label index:value ...` per line, 1-based indices, missing
/// indices are 0, `#` starts a comment. The number of features is the largest index.
pub fn parse_libsvm(name: &str, bytes: &[u8]) -> Result<Table, DatasetError> {
    let text = text_of(name, bytes)?;
    let mut sparse: Vec<Vec<(usize, f64)>> = Vec::new();
    let mut labels = Vec::new();
    let mut n_features = 0;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i as u64 + 1;
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut tokens = line.split_whitespace();
        let label = tokens.next().unwrap_or_default();
        if label.contains(':') {
            return Err(DatasetError::Libsvm {
                name: name.to_owned(),
                line: line_no,
                reason: format!("the line starts with `{label}` instead of a label"),
            });
        }
        let mut row = Vec::new();
        let mut last = 0usize;
        for token in tokens {
            let bad = |reason: String| DatasetError::Libsvm {
                name: name.to_owned(),
                line: line_no,
                reason,
            };
            let Some((index, value)) = token.split_once(':') else {
                return Err(bad(format!("`{token}` is not `index:value`")));
            };
            let index: usize = match index.parse() {
                Ok(i) if (1..=MAX_FEATURES).contains(&i) => i,
                Ok(i) if i > MAX_FEATURES => {
                    return Err(bad(format!(
                        "index {i} is larger than {MAX_FEATURES}, the most inputs a zo device \
                         takes; renumber the features or drop the ones above {MAX_FEATURES}"
                    )))
                }
                _ => return Err(bad(format!("index `{index}` is not an integer >= 1"))),
            };
            if index <= last {
                return Err(bad(format!(
                    "index {index} follows index {last}; indices must increase along a line"
                )));
            }
            last = index;
            let value = finite(name, line_no, index, value)?;
            n_features = n_features.max(index);
            row.push((index - 1, value));
        }
        sparse.push(row);
        labels.push(label.to_owned());
    }
    if sparse.is_empty() {
        return Err(DatasetError::NoRows {
            name: name.to_owned(),
        });
    }
    if n_features == 0 {
        return Err(DatasetError::NoFeatures {
            name: name.to_owned(),
        });
    }
    let features = sparse
        .into_iter()
        .map(|row| {
            let mut dense = vec![0.0; n_features];
            for (i, v) in row {
                dense[i] = v;
            }
            dense
        })
        .collect();
    Ok(Table {
        name: name.to_owned(),
        source: name.to_owned(),
        feature_names: (1..=n_features).map(|i| format!("x{i}")).collect(),
        features,
        labels: Some(labels),
    })
}

fn idx_header(name: &str, what: &str, bytes: &[u8], dims: u8) -> Result<Vec<usize>, DatasetError> {
    let bad = |reason: String| DatasetError::Idx {
        name: name.to_owned(),
        what: what.to_owned(),
        reason,
    };
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(bad(
            "it does not start with the IDX magic number 00 00".into()
        ));
    }
    if bytes[2] != 0x08 {
        return Err(bad(format!(
            "element type 0x{:02x} is not unsigned bytes (0x08)",
            bytes[2]
        )));
    }
    if bytes[3] != dims {
        return Err(bad(format!(
            "it has {} dimensions, expected {dims}",
            bytes[3]
        )));
    }
    let header = 4 + 4 * dims as usize;
    if bytes.len() < header {
        return Err(bad("the header is cut short".into()));
    }
    let sizes: Vec<usize> = (0..dims as usize)
        .map(|d| {
            u32::from_be_bytes(bytes[4 + 4 * d..8 + 4 * d].try_into().unwrap_or([0; 4])) as usize
        })
        .collect();
    let body = sizes.iter().try_fold(1usize, |acc, &s| acc.checked_mul(s));
    let Some(body) = body.filter(|b| b.checked_add(header).is_some()) else {
        return Err(bad("the sizes in the header overflow".into()));
    };
    if bytes.len() != header + body {
        return Err(bad(format!(
            "the header announces {body} bytes of data but the file holds {}",
            bytes.len().saturating_sub(header)
        )));
    }
    Ok(sizes)
}

/// Parses an IDX image file (`n x rows x cols` unsigned bytes) and its label file (`n`
/// unsigned bytes). With `pool`, each 2x2 block is averaged (rows and columns must be even).
pub fn parse_idx(
    name: &str,
    images: &[u8],
    labels: &[u8],
    pool: bool,
) -> Result<Table, DatasetError> {
    let dims = idx_header(name, "image file", images, 3)?;
    let (n, rows, cols) = (dims[0], dims[1], dims[2]);
    let ldims = idx_header(name, "label file", labels, 1)?;
    if ldims[0] != n {
        return Err(DatasetError::Idx {
            name: name.to_owned(),
            what: "label file".into(),
            reason: format!("it holds {} labels for {n} images", ldims[0]),
        });
    }
    if n == 0 || rows == 0 || cols == 0 {
        return Err(DatasetError::NoRows {
            name: name.to_owned(),
        });
    }
    if pool && (rows % 2 != 0 || cols % 2 != 0) {
        return Err(DatasetError::Idx {
            name: name.to_owned(),
            what: "image file".into(),
            reason: format!("{rows}x{cols} images cannot be pooled 2x2; drop --pool"),
        });
    }
    let pixels = &images[16..];
    let (out_rows, out_cols) = if pool {
        (rows / 2, cols / 2)
    } else {
        (rows, cols)
    };
    let mut features = Vec::with_capacity(n);
    for k in 0..n {
        let img = &pixels[k * rows * cols..(k + 1) * rows * cols];
        let row: Vec<f64> = if pool {
            (0..out_rows)
                .flat_map(|r| (0..out_cols).map(move |c| (r, c)))
                .map(|(r, c)| {
                    let at = |dr: usize, dc: usize| img[(2 * r + dr) * cols + 2 * c + dc] as f64;
                    (at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4.0
                })
                .collect()
        } else {
            img.iter().map(|&p| p as f64).collect()
        };
        features.push(row);
    }
    Ok(Table {
        name: name.to_owned(),
        source: name.to_owned(),
        feature_names: (0..out_rows * out_cols)
            .map(|i| format!("px{}_{}", i / out_cols, i % out_cols))
            .collect(),
        features,
        labels: Some(labels[8..].iter().map(|l| l.to_string()).collect()),
    })
}

#[cfg(test)]
mod file_tests {
    use super::*;

    fn opts(label: LabelColumn, header: Header) -> FileOptions {
        FileOptions {
            label,
            header,
            ..FileOptions::default()
        }
    }

    #[test]
    fn csv_header_auto_string_labels_and_column_choice() {
        let text = b"b,x,y\ncat,1,2\ndog,3,4.5\ncat,5,6\n";
        let t = parse_csv(
            "t",
            text,
            &opts(LabelColumn::Name("b".into()), Header::Auto),
        )
        .unwrap();
        assert_eq!(t.feature_names, vec!["x", "y"]);
        assert_eq!(
            t.features,
            vec![vec![1.0, 2.0], vec![3.0, 4.5], vec![5.0, 6.0]]
        );
        let ds = t.into_dataset().unwrap();
        assert_eq!(ds.class_names, vec!["cat", "dog"]);
        assert_eq!(ds.labels, vec![0, 1, 0]);
        // By index, and a headerless file: the first line is data when its features are numbers.
        let t = parse_csv("t", b"1,2,a\n3,4,b\n", &FileOptions::default()).unwrap();
        assert_eq!(t.features.len(), 2);
        assert_eq!(t.feature_names, vec!["x0", "x1"]);
        let t = parse_csv("t", text, &opts(LabelColumn::Index(0), Header::Present)).unwrap();
        assert_eq!(t.labels.unwrap(), vec!["cat", "dog", "cat"]);
    }

    #[test]
    fn csv_delimiters_blank_lines_and_bom() {
        let t = parse_csv(
            "t",
            "\u{feff}1\t2\t0\n\n3\t4\t1\n".as_bytes(),
            &FileOptions::default(),
        )
        .unwrap();
        assert_eq!(t.features, vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
        let t = parse_csv("t", b"1;2;0\n3;4;1\n", &FileOptions::default()).unwrap();
        assert_eq!(t.n_features(), 2);
    }

    #[test]
    fn numeric_labels_sort_numerically_and_map_across_spellings() {
        let t = parse_csv("t", b"1,10\n2,9\n3,10\n4,1\n", &FileOptions::default()).unwrap();
        let ds = t.into_dataset().unwrap();
        assert_eq!(ds.class_names, vec!["1", "9", "10"]);
        assert_eq!(ds.labels, vec![2, 1, 2, 0]);
        let test = parse_csv("u", b"5,10.0\n6,9\n", &FileOptions::default()).unwrap();
        let ds2 = test.into_dataset_with_classes(&ds.class_names).unwrap();
        assert_eq!(ds2.labels, vec![2, 1]);
        // `1` and `1.0` in one file are one class.
        let mixed = parse_csv("m", b"1,1\n2,1.0\n3,2\n4,1.00\n", &FileOptions::default());
        let ds3 = mixed.unwrap().into_dataset().unwrap();
        assert_eq!(ds3.class_names, vec!["1", "2"]);
        assert_eq!(ds3.labels, vec![0, 0, 1, 0]);
    }

    #[test]
    fn csv_errors() {
        let e = |text: &[u8]| parse_csv("t", text, &FileOptions::default()).unwrap_err();
        assert!(matches!(e(b""), DatasetError::EmptyFile { .. }));
        assert!(matches!(
            e(b"1,2,a\n\x00"),
            DatasetError::Binary { offset: 6, .. }
        ));
        assert!(matches!(
            e(b"1,2,a\n1,a\n"),
            DatasetError::Ragged { line: 2, .. }
        ));
        assert!(matches!(
            e(b"1,2,a\n1,NaN,b\n"),
            DatasetError::BadFeature { .. }
        ));
        assert!(matches!(
            e(b"1,2,a\n1,,b\n"),
            DatasetError::MissingValue { column: 2, .. }
        ));
        let single = parse_csv("t", b"1,a\n2,a\n", &FileOptions::default()).unwrap();
        assert!(matches!(
            single.into_dataset(),
            Err(DatasetError::SingleClass { .. })
        ));
        let e = parse_csv(
            "t",
            b"x,y\n1,2\n",
            &opts(LabelColumn::Name("z".into()), Header::Auto),
        )
        .unwrap_err();
        assert!(e.to_string().contains("columns are: x, y"), "{e}");
    }

    #[test]
    fn libsvm_sparse_rows() {
        let t = parse_libsvm("s", b"# comment\n+1 1:0.5 3:2\n-1 2:1 # trailing\n").unwrap();
        assert_eq!(t.features, vec![vec![0.5, 0.0, 2.0], vec![0.0, 1.0, 0.0]]);
        let ds = t.into_dataset().unwrap();
        assert_eq!(ds.class_names, vec!["-1", "+1"]);
        assert_eq!(ds.labels, vec![1, 0]);
        assert!(parse_libsvm("s", b"1 2:1 2:3\n").is_err());
        assert!(parse_libsvm("s", b"1 a:1\n").is_err());
        assert_eq!(
            detect_format(Path::new("x.txt"), b"1 1:0.5 2:3\n"),
            FileFormat::Libsvm
        );
        assert_eq!(
            detect_format(Path::new("x.txt"), b"1,2,3\n"),
            FileFormat::Csv
        );
    }

    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            v.extend(d.to_be_bytes());
        }
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn idx_images_and_pooling() {
        let pixels: Vec<u8> = (0..32).collect(); // two 4x4 images
        let images = idx(&[2, 4, 4], &pixels);
        let labels = idx(&[2], &[3, 7]);
        let t = parse_idx("m", &images, &labels, false).unwrap();
        assert_eq!(t.n_features(), 16);
        assert_eq!(t.features[1][0], 16.0);
        let p = parse_idx("m", &images, &labels, true).unwrap();
        assert_eq!(p.n_features(), 4);
        // Top-left 2x2 block of image 0: 0, 1, 4, 5.
        assert_eq!(p.features[0], vec![2.5, 4.5, 10.5, 12.5]);
        assert_eq!(p.labels.unwrap(), vec!["3", "7"]);
        assert!(parse_idx("m", &images[..20], &labels, false).is_err());
        assert!(parse_idx("m", &images, &idx(&[3], &[1, 2, 3]), false).is_err());
        assert_eq!(
            idx_labels_path(Path::new("/d/train-images-idx3-ubyte")),
            Some(PathBuf::from("/d/train-labels-idx1-ubyte"))
        );
    }
}
