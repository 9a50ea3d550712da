//! `zo train`: a new run, or `--resume` of an existing one.

use super::train_loop::train_loop;
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};
use zo_hdl::config::{Estimator, LossKind};
use zo_host::autotune;
use zo_host::cli::{TrainArgs, TuneArg};
use zo_host::connect::{Connection, DeviceKind, DEFAULT_SHAPE};
use zo_host::data::{self, Prepared};
use zo_host::defaults;
use zo_host::rundir::{self, DeviceInfo, RunConfig, RunDir};
use zo_host::util::{timestamp, unix_now};
use zo_sim::data::dataset::Dataset;
use zo_sim::data::schedule::init_weights;

pub fn device_info(conn: &Connection) -> DeviceInfo {
    let id = &conn.identity;
    DeviceInfo {
        board: conn.kind().name().into(),
        backend: id.name.clone(),
        port: conn.path().into(),
        shape: conn.shape().to_string(),
        n_weights: id.n_weights as usize,
        sample_capacity: id.sample_capacity as usize,
        clock_hz: id.clock_hz,
        baud: id.baud,
        build_id: id.build_id,
        cycles_per_sample: id.cycles_per_sample,
    }
}

/// The default run directory: runs/<dataset>-<timestamp>, made unique with -2, -3, ...
fn default_out(name: &str) -> PathBuf {
    let base = PathBuf::from("runs").join(format!("{name}-{}", timestamp(unix_now())));
    let mut p = base.clone();
    let mut k = 2;
    while RunDir::check_new(&p).is_err() || zo_host::lock::lock_path(&p).exists() {
        p = PathBuf::from(format!("{}-{k}", base.display()));
        k += 1;
    }
    p
}

/// The training and test rows, quantised for `n_in` inputs.
pub fn prepare(
    ds: &Dataset,
    test: Option<&Dataset>,
    n_in: usize,
    test_fraction: Option<f64>,
    seed: u32,
) -> Result<Prepared> {
    match (test, test_fraction) {
        (Some(t), _) => Ok(data::prepare_with_test(ds, t, n_in)),
        (None, Some(f)) => data::prepare_split(ds, n_in, f, seed),
        (None, None) => bail!("internal: neither a test fraction nor test data"),
    }
}

/// The settings the defaults filled in, by their config names.
fn defaulted(a: &TrainArgs) -> Vec<String> {
    [
        ("estimator", a.estimator.is_some()),
        ("sigma", a.sigma.is_some()),
        ("eta_mant", a.eta_mant.is_some()),
        ("eta_shift", a.eta_shift.is_some()),
        ("out_shift", a.out_shift.is_some()),
        ("momentum", a.momentum.is_some()),
        ("weight_decay", a.weight_decay.is_some()),
        ("batch", a.batch.is_some()),
        ("epochs", a.epochs.is_some()),
        ("eta_decay", a.eta_decay.is_some()),
        ("seed", a.seed.is_some()),
    ]
    .iter()
    .filter(|(_, given)| !given)
    .map(|(name, _)| name.to_string())
    .collect()
}

pub fn cmd_train(a: TrainArgs) -> Result<()> {
    if let Some(dir) = a.resume.clone() {
        return train_resume(&dir, a);
    }
    let (ds, info) = data::load_dataset(&a.data, defaults::DATASET)?;
    let test = match &a.test_data {
        Some(p) => Some(data::load_test(p, &a.data, &info)?),
        None => None,
    };
    let test_fraction = match &a.test_data {
        Some(_) => None,
        None => Some(a.test_fraction.unwrap_or(defaults::TEST_FRACTION)),
    };
    let seed = a.seed.unwrap_or(defaults::SEED);
    let target = match &a.out {
        Some(p) => {
            RunDir::check_new(p)?;
            p.clone()
        }
        None => default_out(&info.name),
    };
    let conn = Connection::open(&a.connect, DEFAULT_SHAPE)?;
    let shape = conn.shape();
    let virtual_board = conn.kind() != DeviceKind::Serial;
    data::check_fits(
        &info.name,
        info.n_features,
        info.n_classes,
        shape,
        virtual_board,
    )?;
    let test_set = test.as_ref().map(|t| &t.0);
    let mut prepared = prepare(&ds, test_set, shape.n_in, test_fraction, seed)?;
    // A build without the exact output layer (the iCE40 boards) runs node perturbation.
    let estimator = a.estimator.unwrap_or(defaults::estimator(
        info.builtin_name(),
        conn.identity.max_estimator(),
    ));
    let loss = a.loss.unwrap_or(LossKind::CrossEntropy);
    let d = defaults::settings(info.builtin_name(), estimator, loss);
    let (eta_mant, eta_shift) = (
        a.eta_mant.unwrap_or(d.eta_mant),
        a.eta_shift.unwrap_or(d.eta_shift),
    );
    let batch = a.batch.unwrap_or(d.batch);
    let momentum = a.momentum.unwrap_or(0);
    let weight_decay = a.weight_decay.unwrap_or(0);
    check_limits(&conn, estimator, batch, momentum)?;
    // Settings measured for this dataset, estimator and loss are used as they are; any other
    // run is tuned on the model.
    let tuning = a.tune.unwrap_or(if d.measured {
        TuneArg::Off
    } else {
        TuneArg::Auto
    }) == TuneArg::Auto;
    let mut choice = autotune::Choice {
        sigma: a.sigma.unwrap_or(d.sigma),
        eta_shift,
        out_shift: a.out_shift.unwrap_or(d.out_shift),
        epochs: a.epochs.unwrap_or(d.epochs),
        eta_decay: a.eta_decay.unwrap_or(d.eta_decay),
    };
    let mut report = None;
    if tuning {
        let (fit, val_x, val_y) = autotune::holdout(&prepared.data, info.n_classes, seed);
        let fixed = autotune::Fixed {
            sigma: a.sigma,
            eta_shift: a.eta_shift,
            out_shift: a.out_shift,
            epochs: a.epochs,
            eta_decay: a.eta_decay,
        };
        let (max_epochs, decay_every) = autotune::horizon_and_decay(&fixed, fit.train_x.len());
        let spec = zo_sim::data::tune::TuneSpec {
            shape,
            estimator,
            loss,
            batch,
            eta_mant,
            seed,
            max_epochs,
            decay_every,
            momentum,
            weight_decay,
        };
        let (c, r) = autotune::choose(&spec, fixed, &fit, (&val_x, &val_y));
        if !a.json {
            eprintln!("{}", r.summary());
        }
        choice = c;
        report = Some(r);
        prepared.data = fit;
    }
    let cfg = RunConfig {
        zo_version: env!("CARGO_PKG_VERSION").into(),
        run_name: target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        created_unix: unix_now(),
        dataset: info,
        test_data: test.map(|t| t.1),
        test_fraction,
        n_train: prepared.data.train_x.len(),
        n_test: prepared.data.test_x.len(),
        estimator,
        loss,
        sigma: choice.sigma,
        eta_mant,
        eta_shift: choice.eta_shift,
        eta: eta_mant as f64 * 2f64.powi(4 - choice.eta_shift as i32),
        out_shift: choice.out_shift,
        momentum,
        weight_decay,
        batch,
        epochs: choice.epochs,
        eta_decay: choice.eta_decay,
        tune: report,
        seed,
        seed_schedule: zo_sim::data::schedule::SEED_SCHEDULE.into(),
        defaulted: if tuning {
            // What the tuner chose; the rest came from the file defaults.
            defaulted(&a)
                .into_iter()
                .filter(|n| {
                    ["sigma", "eta_shift", "out_shift", "epochs", "eta_decay"].contains(&n.as_str())
                })
                .collect()
        } else {
            defaulted(&a)
        },
        device: device_info(&conn),
        input: prepared.scaling.clone(),
    };
    let dir = RunDir::create(&target)?;
    let init = init_weights(shape, seed as u64);
    train_loop(conn, cfg, prepared, dir, init, Vec::new(), &a)
}

/// Refuses flags that would change the settings of a run that `--resume` continues.
fn refuse_changes(dir: &Path, a: &TrainArgs) -> Result<()> {
    let fixed = [
        ("--dataset", a.data.dataset.is_some()),
        ("--label-column", a.data.label_column.is_some()),
        ("--header", a.data.header.is_some()),
        ("--labels", a.data.labels.is_some()),
        ("--pool", a.data.pool),
        ("--test-fraction", a.test_fraction.is_some()),
        ("--test-data", a.test_data.is_some()),
        ("--estimator", a.estimator.is_some()),
        ("--loss", a.loss.is_some()),
        ("--sigma", a.sigma.is_some()),
        ("--eta-mant", a.eta_mant.is_some()),
        ("--eta-shift", a.eta_shift.is_some()),
        ("--out-shift", a.out_shift.is_some()),
        ("--momentum", a.momentum.is_some()),
        ("--weight-decay", a.weight_decay.is_some()),
        ("--batch", a.batch.is_some()),
        ("--seed", a.seed.is_some()),
        ("--tune", a.tune.is_some()),
        ("--eta-decay", a.eta_decay.is_some()),
        ("--out", a.out.is_some()),
    ];
    if let Some((flag, _)) = fixed.iter().find(|f| f.1) {
        bail!(
            "{flag} cannot change a run that --resume continues; drop {flag} (the run's settings \
             are in {}/config.json; --epochs sets the new total)",
            dir.display()
        );
    }
    Ok(())
}

/// Reloads the run's dataset and test data, refusing files that changed since.
fn reload_data(cfg: &RunConfig) -> Result<(Dataset, Option<Dataset>)> {
    let (ds, info) = data::load_dataset(&cfg.dataset.to_args(), "")?;
    if info.sha256 != cfg.dataset.sha256 {
        bail!(
            "dataset file {} changed since the run started (its sha256 differs); restore it to \
             continue the run",
            info.path.unwrap_or_default()
        );
    }
    let test = match &cfg.test_data {
        Some(t) => {
            let path = PathBuf::from(t.path.clone().unwrap_or_default());
            let loaded = data::load_test(&path, &cfg.dataset.to_args(), &cfg.dataset)?;
            if loaded.1.sha256 != t.sha256 {
                bail!(
                    "test data {} changed since the run started; restore it to continue the run",
                    path.display()
                );
            }
            Some(loaded.0)
        }
        None => None,
    };
    Ok((ds, test))
}

fn train_resume(dir: &Path, a: TrainArgs) -> Result<()> {
    refuse_changes(dir, &a)?;
    let lock = rundir::lock_for_resume(dir)?;
    let r = rundir::read_run(dir)?;
    let mut cfg = r.config;
    let done = r.records.len() as u32;
    let epochs = a.epochs.unwrap_or(cfg.epochs);
    // A partial run that reached its last epoch was killed before its final rename: finish it.
    if epochs < done || (epochs == done && !rundir::is_partial(dir)) {
        bail!(
            "{} already has {done} epochs; pass --epochs N with N > {done} to train further",
            dir.display()
        );
    }
    let (ds, test) = reload_data(&cfg)?;
    let run_shape = cfg.shape()?;
    let conn = Connection::open(&a.connect, run_shape)?;
    if conn.shape() != run_shape {
        bail!(
            "the run trained a {run_shape} network but the device is {}; continue it on a \
             device of the same shape (--shape {run_shape} for a virtual board)",
            conn.shape()
        );
    }
    let mut prepared = prepare(
        &ds,
        test.as_ref(),
        run_shape.n_in,
        cfg.test_fraction,
        cfg.seed,
    )?;
    if prepared.scaling != cfg.input {
        bail!("the input scaling differs from the run's; the dataset is not the one the run used");
    }
    if cfg.tune.is_some() {
        // A tuned run trains without its validation slice: the same rows again.
        let (fit, _, _) = autotune::holdout(&prepared.data, cfg.dataset.n_classes, cfg.seed);
        prepared.data = fit;
    }
    if prepared.data.train_x.len() != cfg.n_train {
        bail!(
            "the run trained on {} rows but the data now gives {}; the dataset is not the one \
             the run used",
            cfg.n_train,
            prepared.data.train_x.len()
        );
    }
    check_limits(&conn, cfg.estimator, cfg.batch, cfg.momentum)?;
    cfg.epochs = epochs;
    cfg.device = device_info(&conn);
    let rd = RunDir::reopen(dir, lock)?;
    rd.rewrite_epochs(&r.records)?;
    rd.save_weights(&cfg, done, &r.weights)?;
    train_loop(conn, cfg, prepared, rd, r.weights, r.records, &a)
}

/// Refuses a mini-batch the device cannot accumulate (builds without accumulators) or hold
/// in its sample buffer, before anything is written.
/// The device's limits on the mini-batch and momentum, checked before anything is tuned or
/// written.
fn check_limits(conn: &Connection, estimator: Estimator, batch: u16, momentum: u8) -> Result<()> {
    if estimator as u8 > conn.identity.max_estimator() {
        bail!(
            "--estimator {estimator}: the {} build has no exact output layer (IDENTIFY \
             limits); use --estimator np, or a board built with it (ulx3s, a virtual board, \
             or `cargo xtask synth --hybrid true`)",
            conn.identity.name
        );
    }
    if momentum > conn.identity.max_momentum() {
        bail!(
            "--momentum {momentum}: the {} build has no mini-batch accumulators (IDENTIFY \
             limits), where momentum keeps its velocity; use --momentum 0, or a board built \
             with them (ulx3s, a virtual board, or `cargo xtask synth --accumulators true`)",
            conn.identity.name
        );
    }
    let max = conn.identity.max_batch();
    if batch > max {
        bail!(
            "--batch {batch}: the {} build has no mini-batch accumulators (IDENTIFY limits) and \
             takes batch 1 only; use --batch 1, or a board built with them (ulx3s, or \
             `cargo xtask synth --accumulators true`)",
            conn.identity.name
        );
    }
    let capacity = conn.identity.sample_capacity;
    if batch > capacity {
        bail!(
            "--batch {batch} is larger than the device's sample buffer ({capacity} samples), so \
             a mini-batch would not fit; use --batch {capacity} or less{}",
            if conn.kind() == DeviceKind::Serial {
                String::new()
            } else {
                format!(" (or --capacity {batch} for a virtual board)")
            }
        );
    }
    Ok(())
}
