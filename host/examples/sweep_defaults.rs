//! Reproduces the sweep behind `zo train`'s per-dataset defaults (host/src/defaults.rs): the
//! reference model with exactly the schedule of a device run (split, initial weights, sample
//! order and per-epoch noise seed from the seed), over several seeds, reporting the mean and
//! the minimum test accuracy.
//!
//! `cargo run --release -p zo-host --example sweep_defaults -- iris 200 32,64 6,7 20`
//! (dataset, epochs, sigmas, eta shifts, number of seeds 1..=N; optional: batch).

use zo_hdl::config::{Estimator, LossKind, Shape, TrainParams};
use zo_sim::data::dataset::builtin;
use zo_sim::data::schedule::{accuracy, start_model, train_epoch, PreparedData};

fn list<T: std::str::FromStr>(s: &str) -> Vec<T> {
    s.split(',').filter_map(|v| v.trim().parse().ok()).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 5 {
        eprintln!("usage: sweep_defaults DATASET EPOCHS SIGMAS SHIFTS SEEDS [BATCH]");
        std::process::exit(2);
    }
    let Ok(ds) = builtin(&args[0]) else {
        eprintln!("unknown dataset {}", args[0]);
        std::process::exit(2);
    };
    let epochs: u32 = args[1].parse().unwrap_or(60);
    let seeds: u32 = args[4].parse().unwrap_or(5);
    let batch: u16 = args.get(5).and_then(|b| b.parse().ok()).unwrap_or(1);
    let shape = Shape::new(64, 32, 10);
    for sigma in list::<u16>(&args[2]) {
        for eta_shift in list::<u8>(&args[3]) {
            let mut accs = Vec::new();
            for seed in 1..=seeds {
                let data = PreparedData::new(&ds, shape.n_in, 0.3, seed as u64);
                let mut m = start_model(shape, seed);
                m.params = TrainParams {
                    estimator: Estimator::NodePerturbation,
                    loss: LossKind::CrossEntropy,
                    sigma,
                    eta_mant: 1,
                    eta_shift,
                    batch,
                    out_shift: zo_hdl::config::DEFAULT_OUT_SHIFT,
                    momentum: 0,
                };
                for e in 0..epochs {
                    train_epoch(&mut m, (&data.train_x, &data.train_y), seed, e);
                }
                accs.push(accuracy(&mut m, &data.test_x, &data.test_y));
            }
            let mean = accs.iter().sum::<f64>() / accs.len() as f64;
            let min = accs.iter().cloned().fold(1.0, f64::min);
            println!(
                "{} 64-32-10 sigma {sigma} eta_shift {eta_shift} batch {batch} epochs {epochs}, \
                 seeds 1..={seeds}: test accuracy mean {mean:.3} min {min:.3}",
                args[0]
            );
        }
    }
}
