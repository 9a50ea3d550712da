//! The stratified train/test split.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Splits sample indices into `(train_idx, test_idx)`, stratified by class.
///
/// For each class in turn (0, 1, ...), that class's indices are shuffled with
/// a `ChaCha8Rng` seeded from `seed` and the first
/// `round(test_fraction * class_count)` go to the test set, the rest to the
/// training set; then the training and the test indices are each shuffled
/// with the same generator. The result depends only on the arguments.
///
/// `test_fraction` is clamped to `0.0..=1.0` (NaN counts as 0). Labels of
/// `n_classes` or more are not an error: each distinct label is treated as a
/// class of its own, so every index lands in exactly one of the two sets.
pub fn stratified_split(
    labels: &[usize],
    n_classes: usize,
    test_fraction: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let test_fraction = if test_fraction.is_nan() {
        0.0
    } else {
        test_fraction.clamp(0.0, 1.0)
    };
    // Dense buckets for labels below `n_classes` (capped by the number of
    // samples so a huge `n_classes` cannot cause a huge allocation); any
    // larger label is grouped by value. Every sparse label is at least the
    // dense table's length, so classes are still visited in ascending order.
    // Empty classes draw nothing from the generator.
    let n_buckets = n_classes.min(labels.len());
    let mut buckets: Vec<Vec<usize>> = vec![Vec::new(); n_buckets];
    let mut sparse: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for (i, &label) in labels.iter().enumerate() {
        match buckets.get_mut(label) {
            Some(bucket) => bucket.push(i),
            None => sparse.entry(label).or_default().push(i),
        }
    }

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut train = Vec::with_capacity(labels.len());
    let mut test = Vec::new();
    for mut class in buckets.into_iter().chain(sparse.into_values()) {
        class.shuffle(&mut rng);
        // Clamped fraction keeps this in 0..=class.len(); `min` guards rounding.
        let n_test = ((test_fraction * class.len() as f64).round() as usize).min(class.len());
        test.extend_from_slice(&class[..n_test]);
        train.extend_from_slice(&class[n_test..]);
    }
    train.shuffle(&mut rng);
    test.shuffle(&mut rng);
    (train, test)
}
