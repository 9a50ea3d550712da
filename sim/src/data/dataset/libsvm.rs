//! The LIBSVM/SVMlight reader.

use super::file::{finite, text_of};
use super::{DatasetError, Table, MAX_FEATURES};

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
