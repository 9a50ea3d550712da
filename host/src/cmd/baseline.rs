//! `zo baseline`: float backpropagation on the host, for comparison.

use super::train::prepare;
use crate::outln;
use anyhow::Result;
use serde::Serialize;
use std::time::Instant;
use zo_hdl::config::{Estimator, LossKind, Shape};
use zo_host::baseline;
use zo_host::cli::BaselineArgs;
use zo_host::connect::DEFAULT_SHAPE;
use zo_host::rundir::{EpochRecord, Summary};
use zo_host::util::weights_sha256;
use zo_host::{data, defaults};

#[derive(Serialize)]
struct BaselineSummary {
    #[serde(flatten)]
    summary: Summary,
    lr: f64,
}

pub fn cmd_baseline(a: BaselineArgs) -> Result<()> {
    let (ds, info) = data::load_dataset(&a.data, defaults::DATASET)?;
    // The epochs `zo train` would run by default with the estimator the build prefers.
    let builtin = info.builtin_name();
    let d = defaults::settings(
        builtin,
        defaults::estimator(builtin, Estimator::Hybrid as u8),
        LossKind::CrossEntropy,
    );
    let shape: Shape = a.shape.unwrap_or(DEFAULT_SHAPE);
    data::check_fits(&info.name, info.n_features, info.n_classes, shape, true)?;
    let test = match &a.test_data {
        Some(p) => Some(data::load_test(p, &a.data, &info)?.0),
        None => None,
    };
    let test_fraction = match &a.test_data {
        Some(_) => None,
        None => Some(a.test_fraction.unwrap_or(defaults::TEST_FRACTION)),
    };
    let seed = a.seed.unwrap_or(defaults::SEED);
    let epochs = a.epochs.unwrap_or(d.epochs);
    let lr = a.lr.unwrap_or(0.05);
    let prepared = prepare(&ds, test.as_ref(), shape.n_in, test_fraction, seed)?;
    if !a.json {
        outln!(
            "zo baseline: float backprop, {} {shape}, cross-entropy, SGD lr {lr}, {epochs} epochs, seed {seed}: {} train / {} test",
            info.name,
            prepared.data.train_x.len(),
            prepared.data.test_x.len()
        );
    }
    let every = (epochs / 20).max(1);
    let t0 = Instant::now();
    let mut last = Instant::now();
    let (net, stats) = baseline::train(&prepared.data, shape, epochs, seed, lr, |s| {
        let r = EpochRecord {
            epoch: s.epoch,
            train_accuracy: s.train_accuracy,
            test_accuracy: s.test_accuracy,
            loss: s.loss,
            test_loss: s.test_loss,
            samples: prepared.data.train_x.len() as u64,
            updates: prepared.data.train_x.len() as u64,
            saturations: 0,
            zero_updates: 0,
            train_cycles: 0,
            device_cycles: 0,
            wall_seconds: last.elapsed().as_secs_f64(),
            weights_sha256: String::new(),
            backend: "float-bp".into(),
            recoveries: 0,
            dead_units: None,
            link_bytes: 0,
            jobs: 0,
            status_polls: 0,
        };
        last = Instant::now();
        if a.json {
            outln!("{}", serde_json::to_string(&r).unwrap_or_default());
        } else if s.epoch == 1 || s.epoch % every == 0 || s.epoch == epochs {
            outln!(
                "epoch {:>w$}/{epochs}  loss {:.3} bits  train {:.3}  test {:.3}",
                s.epoch,
                s.loss,
                s.train_accuracy,
                s.test_accuracy,
                w = epochs.to_string().len()
            );
        }
    });
    let summary = summary(
        &info.name,
        shape,
        epochs,
        seed,
        &prepared,
        stats.last(),
        weights_sha256(&net.quantized()),
        t0.elapsed().as_secs_f64(),
    );
    if a.json {
        outln!(
            "{}",
            serde_json::to_string(&BaselineSummary { summary, lr })?
        );
    } else {
        outln!(
            "done: test accuracy {:.3}, train accuracy {:.3}, final loss {:.3} bits, {epochs} epochs in {:.1} s",
            summary.test_accuracy, summary.train_accuracy, summary.final_loss, summary.wall_seconds
        );
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn summary(
    name: &str,
    shape: Shape,
    epochs: u32,
    seed: u32,
    prepared: &data::Prepared,
    last_stats: Option<&baseline::EpochStats>,
    sha: String,
    wall: f64,
) -> Summary {
    Summary {
        dataset: name.into(),
        estimator: "backprop".into(),
        loss: "ce".into(),
        epochs,
        seed,
        train_accuracy: last_stats.map_or(0.0, |s| s.train_accuracy),
        test_accuracy: last_stats.map_or(0.0, |s| s.test_accuracy),
        final_loss: last_stats.map_or(0.0, |s| s.loss),
        backend: "float-bp".into(),
        board: "host".into(),
        shape: shape.to_string(),
        sigma: 0,
        eta_mant: 0,
        eta_shift: 0,
        out_shift: 0,
        momentum: 0,
        weight_decay: 0,
        batch: 1,
        eta_decay: 0,
        tune: "off".into(),
        val_accuracy: None,
        n_val: None,
        n_train: prepared.data.train_x.len(),
        n_test: prepared.data.test_x.len(),
        device_cycles: 0,
        cycles_per_sample: 0.0,
        device_seconds: 0.0,
        wall_seconds: wall,
        recoveries: 0,
        weights_sha256: sha,
        run_dir: String::new(),
    }
}
