//! Data files: options, the table a reader gives and how it becomes a [`Dataset`], the file
//! checks and the format guess. The readers are `csv.rs`, `libsvm.rs` and `idx.rs`.

use super::idx::{idx_header, parse_idx};
use super::{parse_csv, parse_libsvm, Dataset, DatasetError};
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
pub(super) fn text_of<'a>(name: &str, bytes: &'a [u8]) -> Result<&'a str, DatasetError> {
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

pub(super) fn finite(
    name: &str,
    line: u64,
    column: usize,
    field: &str,
) -> Result<f64, DatasetError> {
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
