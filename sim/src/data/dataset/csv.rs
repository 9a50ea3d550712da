//! The CSV reader of data files, and the CSV helpers the built-in data sets share.

use super::file::{finite, text_of};
use super::{DatasetError, FileOptions, Header, LabelColumn, Table};

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

pub(super) fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes())
}

pub(super) fn csv_error(name: &str, source: csv::Error) -> DatasetError {
    DatasetError::Csv {
        name: name.to_owned(),
        source,
    }
}

pub(super) fn line_of(record: &csv::StringRecord) -> u64 {
    record.position().map_or(0, csv::Position::line)
}
