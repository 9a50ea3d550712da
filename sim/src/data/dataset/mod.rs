//! Small classification data sets held in memory ([`Dataset`]), where they come from and how
//! they are split. One job per file:
//!
//! - `builtin.rs`: the four toy data sets bundled with scikit-learn, embedded in the binary
//!   (see `data/LICENSE.md` at the repository root for their origin and licence), so nothing
//!   is read from disk or the network at run time:
//!
//! | name            | samples | features | classes |
//! |-----------------|--------:|---------:|--------:|
//! | `iris`          |     150 |        4 |       3 |
//! | `wine`          |     178 |       13 |       3 |
//! | `breast-cancer` |     569 |       30 |       2 |
//! | `digits`        |    1797 |       64 |      10 |
//!
//! - `file.rs`: data files, read by [`load_file`]: the format guess, the size and file-type
//!   checks, and the [`Table`] a reader gives, whose string labels become classes in sorted
//!   order ([`Table::into_dataset`]) or are mapped onto another data set's classes
//!   ([`Table::into_dataset_with_classes`]).
//! - `csv.rs`, `libsvm.rs`, `idx.rs`: the readers: CSV (optional header, label column by
//!   name or index, string labels), LIBSVM/SVMlight, and IDX image + label pairs (MNIST,
//!   Fashion-MNIST) with optional 2x2 average pooling.
//! - `split.rs`: the stratified train/test split.
//! - `error.rs`: [`DatasetError`], every way the above can refuse its input.
//!
//! The feature scaling that feeds the learner is [`crate::data::scaling`]. Everything here
//! returns [`DatasetError`] on bad input; nothing prints and nothing panics.

mod builtin;
mod csv;
mod error;
mod file;
mod idx;
mod libsvm;
mod split;
#[cfg(test)]
mod tests;

pub use builtin::{builtin, parse_sklearn_csv, BUILTIN};
pub use csv::parse_csv;
pub use error::DatasetError;
pub use file::{
    detect_format, file_stem, idx_labels_path, load_bytes, load_file, read_file, FileFormat,
    FileOptions, Header, LabelColumn, Table, MAX_FEATURES, MAX_FILE_BYTES,
};
pub use idx::parse_idx;
pub use libsvm::parse_libsvm;
pub use split::stratified_split;

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
