//! The IDX reader (MNIST, Fashion-MNIST): image and label files, optional 2x2 pooling.

use super::{DatasetError, Table};

pub(super) fn idx_header(
    name: &str,
    what: &str,
    bytes: &[u8],
    dims: u8,
) -> Result<Vec<usize>, DatasetError> {
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
