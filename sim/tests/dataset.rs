//! Tests of `zo_sim::data::dataset`: the embedded data sets, the stratified split
//! and the quantizer.

use zo_sim::data::dataset::{
    builtin, parse_sklearn_csv, stratified_split, Dataset, DatasetError, BUILTIN,
};

fn counts(labels: &[usize], idx: &[usize], n_classes: usize) -> Vec<usize> {
    let mut c = vec![0; n_classes];
    for &i in idx {
        c[labels[i]] += 1;
    }
    c
}

fn check_shape(ds: &Dataset, name: &str, n: usize, d: usize, k: usize) {
    assert_eq!(ds.name, name);
    assert_eq!(ds.len(), n, "{name}: samples");
    assert!(!ds.is_empty());
    assert_eq!(ds.n_features(), d, "{name}: features");
    assert!(ds.features.iter().all(|row| row.len() == d));
    assert!(ds.features.iter().flatten().all(|x| x.is_finite()));
    assert_eq!(ds.labels.len(), n);
    assert_eq!(ds.n_classes, k, "{name}: classes");
    assert_eq!(ds.class_names.len(), k);
    // Every class occurs.
    assert!(counts(&ds.labels, &(0..n).collect::<Vec<_>>(), k)
        .iter()
        .all(|&c| c > 0));
}

#[test]
fn builtin_shapes() {
    check_shape(&builtin("iris").unwrap(), "iris", 150, 4, 3);
    check_shape(&builtin("wine").unwrap(), "wine", 178, 13, 3);
    check_shape(
        &builtin("breast-cancer").unwrap(),
        "breast-cancer",
        569,
        30,
        2,
    );
    check_shape(&builtin("digits").unwrap(), "digits", 1797, 64, 10);
}

#[test]
fn builtin_list_matches_loader() {
    assert_eq!(BUILTIN, ["iris", "wine", "breast-cancer", "digits"]);
    for name in BUILTIN {
        assert!(builtin(name).is_ok(), "{name}");
    }
}

#[test]
fn builtin_contents() {
    let iris = builtin("iris").unwrap();
    assert_eq!(iris.class_names, ["setosa", "versicolor", "virginica"]);
    assert_eq!(iris.features[0], [5.1, 3.5, 1.4, 0.2]);
    assert_eq!(
        counts(&iris.labels, &(0..150).collect::<Vec<_>>(), 3),
        [50; 3]
    );

    let wine = builtin("wine").unwrap();
    assert_eq!(wine.class_names, ["class_0", "class_1", "class_2"]);
    assert_eq!(
        counts(&wine.labels, &(0..178).collect::<Vec<_>>(), 3),
        [59, 71, 48]
    );

    let bc = builtin("breast-cancer").unwrap();
    assert_eq!(bc.class_names, ["malignant", "benign"]);
    assert_eq!(
        counts(&bc.labels, &(0..569).collect::<Vec<_>>(), 2),
        [212, 357]
    );
    assert_eq!(bc.labels[0], 0, "first sample is malignant");

    let digits = builtin("digits").unwrap();
    let names: Vec<String> = (0..10).map(|d| d.to_string()).collect();
    assert_eq!(digits.class_names, names);
    assert!(digits
        .features
        .iter()
        .flatten()
        .all(|&x| (0.0..=16.0).contains(&x) && x.fract() == 0.0));
    assert_eq!(digits.labels[..3], [0, 1, 2]);
}

#[test]
fn unknown_name_lists_valid_names() {
    let err = builtin("mnist").unwrap_err();
    assert!(matches!(err, DatasetError::UnknownDataset { .. }));
    let msg = err.to_string();
    assert!(msg.contains("mnist"), "{msg}");
    for name in BUILTIN {
        assert!(msg.contains(name), "{msg} should list {name}");
    }
}

#[test]
fn split_is_stratified_disjoint_and_complete() {
    for name in BUILTIN {
        let ds = builtin(name).unwrap();
        let n = ds.len();
        let (train, test) = stratified_split(&ds.labels, ds.n_classes, 0.2, 7);
        assert_eq!(train.len() + test.len(), n, "{name}");
        let mut all: Vec<usize> = train.iter().chain(&test).copied().collect();
        all.sort_unstable();
        assert_eq!(
            all,
            (0..n).collect::<Vec<_>>(),
            "{name}: disjoint, covers all"
        );

        let total = counts(&ds.labels, &all, ds.n_classes);
        let in_test = counts(&ds.labels, &test, ds.n_classes);
        let in_train = counts(&ds.labels, &train, ds.n_classes);
        for c in 0..ds.n_classes {
            let want = (0.2 * total[c] as f64).round() as usize;
            assert_eq!(in_test[c], want, "{name} class {c}");
            assert_eq!(in_train[c], total[c] - want, "{name} class {c}");
        }
    }
    // Iris: 50 per class, 10 of each in test.
    let iris = builtin("iris").unwrap();
    let (_, test) = stratified_split(&iris.labels, 3, 0.2, 1);
    assert_eq!(counts(&iris.labels, &test, 3), [10, 10, 10]);
}

#[test]
fn split_is_deterministic_per_seed() {
    let ds = builtin("wine").unwrap();
    let a = stratified_split(&ds.labels, ds.n_classes, 0.25, 42);
    let b = stratified_split(&ds.labels, ds.n_classes, 0.25, 42);
    assert_eq!(a, b);
    let c = stratified_split(&ds.labels, ds.n_classes, 0.25, 43);
    assert_ne!(a.0, c.0);
    assert_ne!(a.1, c.1);
    // The sets themselves differ, not only their order.
    let sorted = |v: &[usize]| {
        let mut v = v.to_vec();
        v.sort_unstable();
        v
    };
    assert_ne!(sorted(&a.1), sorted(&c.1));
}

#[test]
fn split_is_shuffled() {
    let ds = builtin("iris").unwrap();
    let (train, test) = stratified_split(&ds.labels, ds.n_classes, 0.2, 3);
    // Not grouped by class: labels of consecutive training samples change.
    assert!(train.windows(2).any(|w| ds.labels[w[0]] != ds.labels[w[1]]));
    assert!(test.windows(2).any(|w| ds.labels[w[0]] != ds.labels[w[1]]));
    assert!(!train.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn split_edge_cases_do_not_panic() {
    let labels = [0, 1, 0, 1, 5, 5];
    for frac in [0.0, 1.0, -3.0, 7.0, f64::NAN, f64::INFINITY] {
        let (train, test) = stratified_split(&labels, 2, frac, 0);
        assert_eq!(train.len() + test.len(), labels.len(), "{frac}");
    }
    let (train, test) = stratified_split(&labels, 2, 0.0, 0);
    assert_eq!((train.len(), test.len()), (6, 0));
    let (train, test) = stratified_split(&labels, 2, 1.0, 0);
    assert_eq!((train.len(), test.len()), (0, 6));
    let (train, test) = stratified_split(&[], 3, 0.5, 0);
    assert!(train.is_empty() && test.is_empty());
    let (train, test) = stratified_split(&[usize::MAX, 0], 1, 0.5, 0);
    assert_eq!(train.len() + test.len(), 2);
    let (train, test) = stratified_split(&[], usize::MAX, 0.5, 0);
    assert!(train.is_empty() && test.is_empty());
    let (train, test) = stratified_split(&[3, 3, 0], usize::MAX, 0.5, 0);
    assert_eq!(train.len() + test.len(), 3);
    // Labels past `n_classes` are classes of their own, split like the others.
    let (_, test) = stratified_split(&[0, 0, 9, 9, 9, 9], 1, 0.5, 0);
    assert_eq!(test.iter().filter(|&&i| i >= 2).count(), 2);
}

#[test]
fn parser_accepts_sklearn_format() {
    let ds = parse_sklearn_csv("t", "2,2,no,yes\n1.5,-2,1\n\n3,4e1,0\n").unwrap();
    assert_eq!(ds.features, [vec![1.5, -2.0], vec![3.0, 40.0]]);
    assert_eq!(ds.labels, [1, 0]);
    assert_eq!(ds.class_names, ["no", "yes"]);
    assert_eq!(ds.n_classes, 2);
}

#[test]
fn parser_rejects_bad_input_with_clear_errors() {
    let err = |text: &str| parse_sklearn_csv("t", text).unwrap_err();
    assert!(matches!(err(""), DatasetError::Empty { .. }));
    assert!(matches!(err("2,2\n"), DatasetError::BadHeader { .. }));
    assert!(matches!(err("x,2,a\n"), DatasetError::BadHeader { .. }));
    assert!(matches!(err("1,0,a\n1\n"), DatasetError::BadHeader { .. }));
    assert!(matches!(
        err("1,2,a,\n1,2,0\n"),
        DatasetError::BadHeader { .. }
    ));
    let e = err("1,18446744073709551615,a\n1,0\n");
    assert!(matches!(e, DatasetError::FieldCount { .. }), "{e}");
    let e = err("2,2,a,b\n1,2,0\n1,2\n");
    assert!(
        matches!(
            e,
            DatasetError::FieldCount {
                line: 3,
                found: 2,
                expected: 3,
                ..
            }
        ),
        "{e}"
    );
    let e = err("1,2,a,b\n1,abc,0\n");
    assert!(
        matches!(
            e,
            DatasetError::BadFeature {
                line: 2,
                column: 2,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("abc"));
    assert!(matches!(
        err("1,1,a\nNaN,0\n"),
        DatasetError::BadFeature { .. }
    ));
    assert!(matches!(
        err("1,1,a\ninf,0\n"),
        DatasetError::BadFeature { .. }
    ));
    let e = err("1,1,a,b\n1,2\n");
    assert!(
        matches!(e, DatasetError::BadLabel { n_classes: 2, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("0 to 1"), "{e}");
    assert!(matches!(
        err("1,1,a\n1,-1\n"),
        DatasetError::BadLabel { .. }
    ));
    assert!(matches!(
        err("1,1,a\n1,0.0\n"),
        DatasetError::BadLabel { .. }
    ));
    let e = err("3,1,a\n1,0\n");
    assert!(
        matches!(
            e,
            DatasetError::RowCount {
                expected: 3,
                found: 1,
                ..
            }
        ),
        "{e}"
    );
    assert!(matches!(
        err("1,1,a\n\"1,0\n"),
        DatasetError::FieldCount { .. } | DatasetError::Csv { .. }
    ));
}
