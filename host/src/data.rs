//! Datasets for the commands: a built-in name or a file (CSV, LIBSVM, IDX), the split, the
//! quantisation to the device's input format, and what a run records about them.

use crate::cli::{DataArgs, HeaderArg};
use crate::util::sha256_hex;
use crate::weights::InputScaling;
use anyhow::{anyhow, bail, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use zo_sim::data::dataset::{
    builtin, load_bytes, read_file, stratified_split, Dataset, FileFormat, FileOptions, Header,
    LabelColumn, Table, BUILTIN,
};
use zo_sim::data::schedule::PreparedData;

/// Where a dataset comes from and how it was read: enough to load it again (`--resume`,
/// `zo infer` on a run).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DatasetInfo {
    pub name: String,
    /// `builtin` or `file`.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_column: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idx_labels: Option<String>,
    #[serde(default)]
    pub pool: bool,
    pub n_samples: usize,
    pub n_features: usize,
    pub n_classes: usize,
    pub class_names: Vec<String>,
}

impl DatasetInfo {
    /// The `DataArgs` that load this dataset again.
    pub fn to_args(&self) -> DataArgs {
        DataArgs {
            dataset: Some(self.path.clone().unwrap_or_else(|| self.name.clone())),
            label_column: self.label_column.clone(),
            header: self.header.as_deref().map(|h| match h {
                "yes" => HeaderArg::Yes,
                "no" => HeaderArg::No,
                _ => HeaderArg::Auto,
            }),
            labels: self.idx_labels.as_ref().map(PathBuf::from),
            pool: self.pool,
        }
    }

    /// The built-in name, for a built-in dataset.
    pub fn builtin_name(&self) -> Option<&str> {
        (self.source == "builtin").then_some(self.name.as_str())
    }
}

/// A dataset argument resolved: a built-in name or an existing file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Builtin(String),
    File(PathBuf),
}

/// Resolves `--dataset`: a built-in name, else a file that must exist.
pub fn resolve(name: &str) -> Result<Source> {
    if BUILTIN.contains(&name) {
        return Ok(Source::Builtin(name.to_string()));
    }
    let path = Path::new(name);
    if path.exists() {
        return Ok(Source::File(path.to_path_buf()));
    }
    let looks_like_path = name.contains('/') || name.contains('\\') || path.extension().is_some();
    if looks_like_path {
        bail!("dataset file `{name}` does not exist; check the path");
    }
    bail!(
        "unknown dataset `{name}`: use one of the built-in datasets {} or the path of a CSV, \
         LIBSVM or IDX file",
        BUILTIN.join(", ")
    )
}

fn file_options(args: &DataArgs) -> FileOptions {
    FileOptions {
        label: args
            .label_column
            .as_deref()
            .map(LabelColumn::parse)
            .unwrap_or_default(),
        header: match args.header {
            Some(HeaderArg::Yes) => Header::Present,
            Some(HeaderArg::No) => Header::Absent,
            _ => Header::Auto,
        },
        idx_labels: args.labels.clone(),
        pool: args.pool,
    }
}

fn refuse_file_options_for_builtin(args: &DataArgs, name: &str) -> Result<()> {
    let flag = if args.label_column.is_some() {
        Some("--label-column")
    } else if args.header.is_some() {
        Some("--header")
    } else if args.labels.is_some() {
        Some("--labels")
    } else if args.pool {
        Some("--pool")
    } else {
        None
    };
    match flag {
        Some(f) => bail!(
            "{f} applies to dataset files; the built-in dataset `{name}` needs none, so drop {f}"
        ),
        None => Ok(()),
    }
}

/// Refuses flags that do not apply to the file's format.
fn refuse_options_for_format(args: &DataArgs, path: &Path, format: FileFormat) -> Result<()> {
    let csv = "CSV files";
    let idx = "IDX image files";
    let flags = [
        (
            "--label-column",
            args.label_column.is_some(),
            FileFormat::Csv,
            csv,
        ),
        ("--header", args.header.is_some(), FileFormat::Csv, csv),
        ("--labels", args.labels.is_some(), FileFormat::Idx, idx),
        ("--pool", args.pool, FileFormat::Idx, idx),
    ];
    for (flag, given, applies_to, what) in flags {
        if given && format != applies_to {
            bail!(
                "{flag} applies to {what}, but `{}` is {}; drop {flag}",
                path.display(),
                match format {
                    FileFormat::Csv => "a CSV file",
                    FileFormat::Libsvm => "a LIBSVM file",
                    FileFormat::Idx => "an IDX file",
                }
            );
        }
    }
    Ok(())
}

/// A file read as a table, with what the run records about it.
pub struct LoadedTable {
    pub table: Table,
    pub info: DatasetInfo,
}

/// Reads a dataset file (or a built-in set, as a table with its class names as labels).
pub fn load_table(args: &DataArgs, default: &str) -> Result<LoadedTable> {
    let name = args.dataset.as_deref().unwrap_or(default);
    match resolve(name)? {
        Source::Builtin(b) => {
            refuse_file_options_for_builtin(args, &b)?;
            let ds = builtin(&b).map_err(|e| anyhow!("{e}"))?;
            let info = DatasetInfo {
                name: b.clone(),
                source: "builtin".into(),
                path: None,
                sha256: None,
                format: None,
                label_column: None,
                header: None,
                idx_labels: None,
                pool: false,
                n_samples: ds.len(),
                n_features: ds.n_features(),
                n_classes: ds.n_classes,
                class_names: ds.class_names.clone(),
            };
            let table = Table {
                source: b.clone(),
                name: b,
                feature_names: (0..ds.n_features()).map(|i| format!("x{i}")).collect(),
                labels: Some(
                    ds.labels
                        .iter()
                        .map(|&l| ds.class_names[l].clone())
                        .collect(),
                ),
                features: ds.features,
            };
            Ok(LoadedTable { table, info })
        }
        Source::File(path) => {
            let opts = file_options(args);
            let bytes = read_file(&path).map_err(|e| anyhow!("{e}"))?;
            let format = zo_sim::data::dataset::detect_format(&path, &bytes);
            refuse_options_for_format(args, &path, format)?;
            let table = load_bytes(&path, &bytes, &opts).map_err(|e| anyhow!("{e}"))?;
            let abs = std::fs::canonicalize(&path).unwrap_or(path.clone());
            let info = DatasetInfo {
                name: table.name.clone(),
                source: "file".into(),
                path: Some(abs.display().to_string()),
                sha256: Some(sha256_hex(&bytes)),
                format: Some(format.name().into()),
                label_column: args.label_column.clone(),
                header: args.header.map(|h| {
                    match h {
                        HeaderArg::Auto => "auto",
                        HeaderArg::Yes => "yes",
                        HeaderArg::No => "no",
                    }
                    .to_string()
                }),
                idx_labels: args.labels.as_ref().map(|p| {
                    std::fs::canonicalize(p)
                        .unwrap_or(p.clone())
                        .display()
                        .to_string()
                }),
                pool: args.pool,
                n_samples: table.features.len(),
                n_features: table.n_features(),
                n_classes: 0,
                class_names: Vec::new(),
            };
            Ok(LoadedTable { table, info })
        }
    }
}

/// Loads a labelled dataset for training: classes from its labels.
pub fn load_dataset(args: &DataArgs, default: &str) -> Result<(Dataset, DatasetInfo)> {
    let LoadedTable { table, mut info } = load_table(args, default)?;
    let ds = if info.source == "builtin" {
        builtin(&info.name).map_err(|e| anyhow!("{e}"))?
    } else {
        table.into_dataset().map_err(|e| anyhow!("{e}"))?
    };
    info.n_classes = ds.n_classes;
    info.class_names = ds.class_names.clone();
    Ok((ds, info))
}

/// Loads a separate test file with the training set's options and classes.
pub fn load_test(
    path: &Path,
    train_args: &DataArgs,
    train: &DatasetInfo,
) -> Result<(Dataset, DatasetInfo)> {
    let args = DataArgs {
        dataset: Some(path.display().to_string()),
        labels: None,
        ..train_args.clone()
    };
    let LoadedTable { table, mut info } = load_table(&args, "")?;
    if table.n_features() != train.n_features {
        bail!(
            "test data `{}` has {} features but the training data `{}` has {}; use test data \
             with the same columns",
            path.display(),
            table.n_features(),
            train.name,
            train.n_features
        );
    }
    let ds = table
        .into_dataset_with_classes(&train.class_names)
        .map_err(|e| anyhow!("{e}"))?;
    info.n_classes = ds.n_classes;
    info.class_names = ds.class_names.clone();
    Ok((ds, info))
}

/// A dataset quantised for a device with `n_in` inputs.
pub struct Prepared {
    pub data: PreparedData,
    pub scaling: InputScaling,
}

/// The rows of `ds` a run with `test_fraction` and `seed` trains and tests on: the stratified
/// split every command (and bench/builtins.py's export) uses.
pub fn split_rows(ds: &Dataset, test_fraction: f64, seed: u32) -> (Vec<usize>, Vec<usize>) {
    stratified_split(&ds.labels, ds.n_classes, test_fraction, seed as u64)
}

/// Stratified split ([`split_rows`]), scaling fitted on the training rows; refuses a split that
/// leaves either set empty.
pub fn prepare_split(ds: &Dataset, n_in: usize, test_fraction: f64, seed: u32) -> Result<Prepared> {
    let (train, test) = split_rows(ds, test_fraction, seed);
    if train.is_empty() || test.is_empty() {
        bail!(
            "a test fraction of {test_fraction} leaves {} training and {} test samples of the {} \
             in `{}`; choose a --test-fraction that leaves both non-empty",
            train.len(),
            test.len(),
            ds.len(),
            ds.name
        );
    }
    let (data, scaling) = PreparedData::quantise((ds, &train), (ds, &test), n_in);
    Ok(Prepared { data, scaling })
}

/// Separate training and test sets, scaling fitted on all training rows.
pub fn prepare_with_test(train: &Dataset, test: &Dataset, n_in: usize) -> Prepared {
    let all: Vec<usize> = (0..train.len()).collect();
    let test_rows: Vec<usize> = (0..test.len()).collect();
    let (data, scaling) = PreparedData::quantise((train, &all), (test, &test_rows), n_in);
    Prepared { data, scaling }
}

/// A shape with `n_in` inputs and `n_out` outputs that a virtual board accepts: `n_hid`
/// hidden units, or fewer when the weights would not fit.
pub fn fitting_shape(n_in: usize, n_hid: usize, n_out: usize) -> Option<zo_hdl::config::Shape> {
    (1..=n_hid.max(1))
        .rev()
        .map(|h| zo_hdl::config::Shape::new(n_in, h, n_out))
        .find(|s| s.check(crate::connect::VIRTUAL_AW).is_ok())
}

/// Refuses data that does not fit the device.
pub fn check_fits(
    name: &str,
    n_features: usize,
    n_classes: usize,
    shape: zo_hdl::config::Shape,
    virtual_board: bool,
) -> Result<()> {
    let hint = |n_in: usize, n_out: usize| {
        if !virtual_board {
            return "use a board built with a larger network".to_string();
        }
        match fitting_shape(n_in, shape.n_hid, n_out) {
            Some(s) => format!("pass --shape {s} for a virtual board that fits"),
            None => format!(
                "no zo network takes {n_in} inputs and {n_out} outputs (at most {} units per \
                 layer and {} weights); use fewer features (IDX images: --pool) or classes",
                zo_hdl::formats::MAX_FAN_IN,
                1usize << crate::connect::VIRTUAL_AW
            ),
        }
    };
    if n_features > shape.n_in {
        bail!(
            "dataset `{name}` has {n_features} features but the device ({shape}) takes at most {}; {}",
            shape.n_in,
            hint(n_features, shape.n_out.max(n_classes))
        );
    }
    if n_classes > shape.n_out {
        bail!(
            "dataset `{name}` has {n_classes} classes but the device ({shape}) has {} outputs; {}",
            shape.n_out,
            hint(shape.n_in.max(n_features), n_classes)
        );
    }
    Ok(())
}
