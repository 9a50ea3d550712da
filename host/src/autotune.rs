//! `zo train --tune auto`: hold out a validation slice of the training rows, search the
//! settings on the bit-exact model (`zo_sim::data::tune`), and train the device with the winner.
//!
//! The device then trains on the same rows, in the same order, with the same seeds as the
//! winning trial, so its weights after the chosen epochs are the trial's bit for bit: tuning
//! on the model is tuning on the board. The validation rows are never trained on and the test
//! rows are never looked at.

use serde::{Deserialize, Serialize};
use std::time::Instant;
use zo_sim::data::schedule::PreparedData;
use zo_sim::data::tune::{self, TuneSpec};

/// What tuning chose and why, as recorded in config.json.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TuneReport {
    pub sigma_grid: Vec<u16>,
    pub eta_shift_grid: Vec<u8>,
    /// The hybrid estimator's output step shifts tried (one value for the others).
    #[serde(default)]
    pub out_shift_grid: Vec<u8>,
    /// Longest run a trial trained (epochs).
    pub horizon: u32,
    pub sigma: u16,
    pub eta_shift: u8,
    #[serde(default = "crate::util::default_out_shift")]
    pub out_shift: u8,
    /// The best validation epoch of the winning trial: the run's epoch count.
    pub best_epoch: u32,
    /// Its validation accuracy, averaged over [`tune::smooth_epochs`] epochs either side.
    pub val_accuracy: f64,
    /// Trials run (screen and finals; each finalist counts once).
    pub trials: usize,
    /// Training rows the run trains on, and the validation rows held out of them.
    pub n_fit: usize,
    pub n_val: usize,
    pub seconds: f64,
}

impl TuneReport {
    /// One line for the human output.
    pub fn summary(&self) -> String {
        format!(
            "tuned on the model in {:.1} s ({} trials, {} training rows, {} validation rows): \
             sigma {}, eta_shift {}{}, best validation accuracy {:.3} ({}-epoch mean) at epoch {} \
             of {}",
            self.seconds,
            self.trials,
            self.n_fit,
            self.n_val,
            self.sigma,
            self.eta_shift,
            if self.out_shift_grid.len() > 1 {
                format!(", out_shift {}", self.out_shift)
            } else {
                String::new()
            },
            self.val_accuracy,
            2 * tune::smooth_epochs(self.horizon) + 1,
            self.best_epoch,
            self.horizon
        )
    }
}

/// Settings the user fixed; tuning searches the others.
#[derive(Clone, Copy, Debug, Default)]
pub struct Fixed {
    pub sigma: Option<u16>,
    pub eta_shift: Option<u8>,
    pub out_shift: Option<u8>,
    pub epochs: Option<u32>,
    pub eta_decay: Option<u32>,
}

/// What the run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    pub sigma: u16,
    pub eta_shift: u8,
    pub out_shift: u8,
    pub epochs: u32,
    pub eta_decay: u32,
}

/// Splits the validation slice off `data`'s training rows: the data the device trains on
/// (test rows unchanged) and the validation rows. Deterministic in `seed`, so a resumed run
/// finds the same rows.
pub fn holdout(
    data: &PreparedData,
    n_classes: usize,
    seed: u32,
) -> (PreparedData, Vec<Vec<u8>>, Vec<usize>) {
    let (fit, val) = tune::validation_split(&data.train_y, n_classes, seed);
    // Keep the training rows' own order: the trial trains them in it.
    let mut fit = fit;
    fit.sort_unstable();
    let pick = |idx: &[usize]| -> (Vec<Vec<u8>>, Vec<usize>) {
        idx.iter()
            .map(|&i| (data.train_x[i].clone(), data.train_y[i]))
            .unzip()
    };
    let (train_x, train_y) = pick(&fit);
    let (val_x, val_y) = pick(&val);
    (
        PreparedData {
            train_x,
            train_y,
            test_x: data.test_x.clone(),
            test_y: data.test_y.clone(),
        },
        val_x,
        val_y,
    )
}

/// The longest run the search considers and the step's decay period: `--epochs` and
/// `--eta-decay` when given (the step halving [`tune::DECAYS_PER_HORIZON`] times in a fixed
/// `--epochs`), else [`tune::horizon`] of the fit rows and [`tune::default_decay_every`].
pub fn horizon_and_decay(fixed: &Fixed, n_fit: usize) -> (u32, u32) {
    let horizon = fixed.epochs.unwrap_or_else(|| tune::horizon(n_fit));
    let decay = fixed.eta_decay.unwrap_or_else(|| match fixed.epochs {
        Some(e) => tune::decay_every(e),
        None => tune::default_decay_every(n_fit),
    });
    (horizon, decay)
}

/// Runs the search on `fit` (the rows the device will train) scored on `val`. `spec` carries
/// the run's fixed settings, its horizon and decay ([`horizon_and_decay`]); `fixed` the
/// grid axes the user pinned.
pub fn choose(
    spec: &TuneSpec,
    fixed: Fixed,
    fit: &PreparedData,
    val: (&[Vec<u8>], &[usize]),
) -> (Choice, TuneReport) {
    let t0 = Instant::now();
    let (horizon, eta_decay) = (spec.max_epochs, spec.decay_every);
    let full = tune::Grid::full(spec.estimator);
    let grid = tune::Grid {
        sigmas: fixed.sigma.map_or(full.sigmas, |s| vec![s]),
        eta_shifts: fixed.eta_shift.map_or(full.eta_shifts, |e| vec![e]),
        out_shifts: fixed.out_shift.map_or(full.out_shifts, |o| vec![o]),
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let r = tune::tune(spec, &grid, (&fit.train_x, &fit.train_y), val, threads);
    let choice = Choice {
        sigma: r.best.setting.sigma,
        eta_shift: r.best.setting.eta_shift,
        out_shift: r.best.setting.out_shift,
        // A fixed --epochs is the run's length; otherwise stop at the best validation epoch.
        epochs: fixed.epochs.unwrap_or(r.best.best_epoch.max(1)),
        eta_decay,
    };
    let report = TuneReport {
        sigma_grid: grid.sigmas,
        eta_shift_grid: grid.eta_shifts,
        out_shift_grid: grid.out_shifts,
        horizon,
        sigma: choice.sigma,
        eta_shift: choice.eta_shift,
        out_shift: choice.out_shift,
        best_epoch: r.best.best_epoch,
        val_accuracy: r.best.val_accuracy,
        trials: r.trials.len(),
        n_fit: fit.train_x.len(),
        n_val: val.0.len(),
        seconds: t0.elapsed().as_secs_f64(),
    };
    (choice, report)
}
