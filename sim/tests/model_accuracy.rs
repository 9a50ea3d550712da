//! The reference model learns real data with node perturbation and on-chip cross-entropy:
//! 64-32-10 on digits and 4-16-3 on iris, 70/30 stratified splits, test accuracy >= 0.93.

use zo_hdl::config::{Estimator, LossKind, Shape, TrainParams};
use zo_sim::data::dataset::builtin;
use zo_sim::data::schedule::{accuracy, start_model, train_epoch, PreparedData};

/// The run's seed: split, initial weights, epoch seeds and order (`zo_sim::data::schedule`).
const SEED: u32 = 1;

fn train(name: &str, n_hid: usize, params: TrainParams, epochs: u32) -> (f64, f64) {
    let ds = builtin(name).expect("built-in dataset");
    let shape = Shape::new(ds.n_features(), n_hid, ds.n_classes);
    let data = PreparedData::new(&ds, shape.n_in, 0.3, SEED as u64);
    let mut model = start_model(shape, SEED);
    model.params = params;
    for epoch in 0..epochs {
        train_epoch(&mut model, (&data.train_x, &data.train_y), SEED, epoch);
    }
    let train = accuracy(&mut model, &data.train_x, &data.train_y);
    let test = accuracy(&mut model, &data.test_x, &data.test_y);
    println!(
        "{name} {shape}: train {train:.3} test {test:.3} counters {:?}",
        model.counters
    );
    (train, test)
}

fn node_perturbation(sigma: u16, eta_shift: u8) -> TrainParams {
    // The step is otherwise the default: eta_mant 1, per sample, without momentum.
    TrainParams {
        estimator: Estimator::NodePerturbation,
        loss: LossKind::CrossEntropy,
        sigma,
        eta_shift,
        ..TrainParams::default()
    }
}

#[test]
fn digits_64_32_10_node_perturbation_reaches_093() {
    let (_, test) = train("digits", 32, node_perturbation(64, 9), 60);
    assert!(test >= 0.93, "digits test accuracy {test:.3} < 0.93");
}

#[test]
fn iris_4_16_3_node_perturbation_reaches_093() {
    let (_, test) = train("iris", 16, node_perturbation(128, 6), 60);
    assert!(test >= 0.93, "iris test accuracy {test:.3} < 0.93");
}
