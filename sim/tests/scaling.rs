//! The input scaling (`zo_sim::data::scaling`): standardisation into signed Q0.7, the tail
//! transforms, clipping, degenerate features and the saved form.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zo_sim::data::dataset::{builtin, stratified_split};
use zo_sim::data::scaling::{code_to_z, FeatureScaling, Quantizer, Transform, FORMAT};

fn column(values: &[f64]) -> Quantizer {
    let rows: Vec<Vec<f64>> = values.iter().map(|&v| vec![v]).collect();
    let all: Vec<usize> = (0..rows.len()).collect();
    Quantizer::fit_rows(&rows, 1, &all)
}

fn codes(q: &Quantizer, values: &[f64]) -> Vec<i8> {
    values.iter().map(|&v| q.quantize(&[v])[0] as i8).collect()
}

#[test]
fn hand_computed_standardisation() {
    // mean 1.5, std sqrt(1.25); 1.5 / 1.118 * 32 = 42.93.
    let q = column(&[0.0, 1.0, 2.0, 3.0]);
    assert_eq!(q.features[0].transform, Transform::Identity);
    assert_eq!(codes(&q, &[0.0, 1.0, 1.5, 2.0, 3.0]), [-43, -14, 0, 14, 43]);
    assert_eq!(q.format, FORMAT);
    assert!(q.is_current());
}

#[test]
fn training_codes_have_zero_mean_and_unit_spread() {
    let ds = builtin("wine").unwrap();
    let (train, _) = stratified_split(&ds.labels, ds.n_classes, 0.3, 5);
    let q = Quantizer::fit(&ds, &train);
    assert_eq!(q.n_features(), 13);
    for f in 0..13 {
        let z: Vec<f64> = train
            .iter()
            .map(|&r| code_to_z(q.quantize(&ds.features[r])[f]))
            .collect();
        let n = z.len() as f64;
        let mean = z.iter().sum::<f64>() / n;
        let sd = (z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
        assert!(mean.abs() < 0.05, "feature {f}: mean {mean}");
        assert!((sd - 1.0).abs() < 0.05, "feature {f}: sd {sd}");
    }
}

#[test]
fn clips_and_degenerate_values() {
    let q = column(&[-1.0, 1.0]); // mean 0, std 1
    assert_eq!(
        codes(&q, &[3.99, 4.0, 100.0, -4.0, -100.0]),
        [127, 127, 127, -128, -128]
    );
    assert_eq!(
        codes(&q, &[f64::INFINITY, f64::NEG_INFINITY, f64::NAN]),
        [127, -128, 0]
    );
    // Missing values give 0 and extra ones are ignored.
    assert_eq!(q.quantize(&[]), [0]);
    assert_eq!(q.quantize(&[1.0, 9.0]), [32]);
    // A constant feature, or one with no finite training value, maps to 0.
    assert_eq!(codes(&column(&[3.0, 3.0, 3.0]), &[3.0, 1e9]), [0, 0]);
    assert_eq!(codes(&column(&[f64::NAN]), &[1.0]), [0]);
    assert_eq!(codes(&column(&[]), &[1.0]), [0]);
}

#[test]
fn huge_values_keep_their_spread() {
    let q = column(&[1e308, -1e308, 5e307, -5e307]);
    let f = q.features[0];
    assert!(f.std.is_finite() && f.std > 0.0, "{f:?}");
    let c = codes(&q, &[1e308, -1e308, 0.0]);
    assert!(c[0] > 30 && c[1] < -30 && c[2] == 0, "{c:?}");
}

#[test]
fn skewed_non_negative_features_are_log_transformed() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    // Log-normal amounts: under plain standardisation most of them would share a few codes.
    let v: Vec<f64> = (0..2000)
        .map(|_| (rng.gen::<f64>() * 6.0 - 1.0).exp() * 100.0)
        .collect();
    let q = column(&v);
    assert!(
        matches!(q.features[0].transform, Transform::Log1p { .. }),
        "{:?}",
        q.features[0]
    );
    let distinct: std::collections::BTreeSet<i8> = codes(&q, &v).into_iter().collect();
    // Uniform in log over 6 e-folds spans +-1.7 sd: about 110 codes, against a handful without.
    assert!(distinct.len() > 100, "{} distinct codes", distinct.len());
    // A uniform feature is left alone.
    let u: Vec<f64> = (0..2000).map(|_| rng.gen::<f64>() * 10.0).collect();
    assert_eq!(column(&u).features[0].transform, Transform::Identity);
    // A value below the training range (negative) clips at the transform's zero.
    let t = q.features[0].transform;
    assert_eq!(t.apply(-5.0), 0.0);
}

#[test]
fn heavy_tailed_signed_features_are_asinh_transformed() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    // Cauchy-like: a ratio of two normals' worth of uniform draws; huge outliers both ways.
    let v: Vec<f64> = (0..2000)
        .map(|_| (std::f64::consts::PI * (rng.gen::<f64>() - 0.5)).tan())
        .collect();
    let q = column(&v);
    assert!(
        matches!(q.features[0].transform, Transform::Asinh { .. }),
        "{:?}",
        q.features[0]
    );
    // The bulk keeps its resolution: fewer than 20 % of the values share the centre code.
    let c = codes(&q, &v);
    let zeros = c.iter().filter(|&&x| x == 0).count();
    assert!(zeros < 400, "{zeros} of 2000 at code 0");
}

#[test]
fn saved_scaling_round_trips() {
    let ds = builtin("breast-cancer").unwrap();
    let all: Vec<usize> = (0..ds.len()).collect();
    let q = Quantizer::fit(&ds, &all);
    let text = serde_json::to_string(&q).unwrap();
    let back: Quantizer = serde_json::from_str(&text).unwrap();
    assert_eq!(back, q);
    for r in 0..ds.len() {
        assert_eq!(back.quantize(&ds.features[r]), q.quantize(&ds.features[r]));
    }
    let f = FeatureScaling {
        transform: Transform::Identity,
        mean: 0.0,
        std: 1.0,
    };
    assert_eq!(f.code(0.5), 16);
}
