//! Every way loading or parsing a data set can fail.

#[cfg(doc)]
use super::BUILTIN;

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
