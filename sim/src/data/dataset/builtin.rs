//! The data sets bundled with scikit-learn, embedded in the binary, and the parser of their
//! CSV format.

use super::csv::{csv_error, csv_reader, line_of};
use super::{Dataset, DatasetError};

/// Names accepted by [`builtin`].
pub const BUILTIN: &[&str] = &["iris", "wine", "breast-cancer", "digits"];

const IRIS_CSV: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/iris.csv"));
const WINE_CSV: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/wine.csv"));
const BREAST_CANCER_CSV: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/breast_cancer.csv"
));
const DIGITS_CSV: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/digits.csv"));

/// Number of pixels (features) of a digits sample: an 8x8 image.
const DIGITS_FEATURES: usize = 64;
/// Number of classes of the digits data set: the digits 0 to 9.
const DIGITS_CLASSES: usize = 10;

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
