//! Train the reference model on a built-in dataset and report accuracy per epoch.
//!
//! `cargo run --release -p zo-sim --example train_model -- [DATASET] [EPOCHS] [np|wp] [ce|mse]`
//! (defaults: digits 60 np ce). The `zo` CLI will run the same job on a (virtual) board.
use std::process::ExitCode;
use zo_hdl::config::{Estimator, LossKind, Shape, TrainParams};
use zo_sim::data::dataset::{builtin, BUILTIN};
use zo_sim::data::schedule::{accuracy, start_model, train_epoch, PreparedData};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map(String::as_str).unwrap_or("digits");
    let ds = match builtin(name) {
        Ok(ds) => ds,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let epochs = match args.get(1).map(|s| s.parse::<u32>()) {
        None => 60,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("error: EPOCHS must be a positive whole number, e.g. 60");
            return ExitCode::from(2);
        }
    };
    let estimator = match args.get(2).map(String::as_str) {
        None | Some("np") => Estimator::NodePerturbation,
        Some("wp") => Estimator::WeightPerturbation,
        Some(other) => {
            eprintln!("error: unknown estimator '{other}': use np or wp");
            return ExitCode::from(2);
        }
    };
    let loss = match args.get(3).map(String::as_str) {
        None | Some("ce") => LossKind::CrossEntropy,
        Some("mse") => LossKind::SquaredError,
        Some(other) => {
            eprintln!("error: unknown loss '{other}': use ce or mse");
            return ExitCode::from(2);
        }
    };
    // Hidden width and step sizes that train each built-in set (see sim/tests/model_accuracy.rs).
    let (n_hid, sigma, eta_shift) = if name == "digits" {
        (32, 64, 9)
    } else {
        (16, 128, 6)
    };
    let shape = Shape::new(ds.n_features(), n_hid, ds.n_classes);
    // The run's seed: split, initial weights, epoch seeds and order, as `zo train --seed 1`.
    let seed = 1;
    let data = PreparedData::new(&ds, shape.n_in, 0.3, seed as u64);
    let mut model = start_model(shape, seed);
    model.params = TrainParams {
        estimator,
        loss,
        sigma,
        eta_shift,
        ..TrainParams::default()
    };
    println!(
        "{name} (one of {}): network {shape}, {:?}, {:?}",
        BUILTIN.join(", "),
        estimator,
        loss
    );
    for epoch in 0..epochs {
        let before = model.counters;
        train_epoch(&mut model, (&data.train_x, &data.train_y), seed, epoch);
        let c = model.counters;
        let n = c.samples.wrapping_sub(before.samples).max(1);
        let mean_loss = c.loss_sum.wrapping_sub(before.loss_sum) as f64 / n as f64 / 256.0;
        let train = accuracy(&mut model, &data.train_x, &data.train_y);
        let test = accuracy(&mut model, &data.test_x, &data.test_y);
        println!(
            "epoch {:3}  loss {mean_loss:.3}  train {train:.3}  test {test:.3}  saturations {}",
            epoch + 1,
            c.saturations
        );
    }
    ExitCode::SUCCESS
}
