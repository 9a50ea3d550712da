//! Unit tests of the file readers.

use super::*;
use std::path::{Path, PathBuf};

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
