//! The records of a run directory: its configuration (`config.json`), one line of
//! `epochs.jsonl` per epoch, and the summary `zo train --json` prints.

use crate::data::DatasetInfo;
use crate::weights::InputScaling;
use anyhow::{anyhow, bail, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use zo_hdl::config::{Estimator, LossKind, Shape};
use zo_sim::data::schedule::MAX_WEIGHT_DECAY;

/// The device a run trained on.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DeviceInfo {
    /// `virtual`, `rtl` or `serial`.
    pub board: String,
    /// The identity's name: `virtual-model`, `virtual-rtl`, `icebreaker`, ...
    pub backend: String,
    pub port: String,
    pub shape: String,
    pub n_weights: usize,
    pub sample_capacity: usize,
    pub clock_hz: u32,
    pub baud: u32,
    pub build_id: u32,
    pub cycles_per_sample: u32,
}

/// The resolved configuration of a run.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RunConfig {
    pub zo_version: String,
    pub run_name: String,
    pub created_unix: u64,
    pub dataset: DatasetInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_data: Option<DatasetInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_fraction: Option<f64>,
    pub n_train: usize,
    pub n_test: usize,
    /// `np`, `wp` or `hybrid`.
    #[serde(with = "crate::util::by_name")]
    pub estimator: Estimator,
    /// `ce` or `mse`.
    #[serde(with = "crate::util::by_name")]
    pub loss: LossKind,
    pub sigma: u16,
    pub eta_mant: u8,
    pub eta_shift: u8,
    /// The learning rate in real units, `eta_mant * 2^(4 - eta_shift)`.
    pub eta: f64,
    /// The hybrid estimator's output-layer step shift, `eta_out = 2^(11 - out_shift)` (unused
    /// by the others; runs before it existed have the reset value).
    #[serde(default = "crate::util::default_out_shift")]
    pub out_shift: u8,
    /// Momentum register (0: off; runs before it existed had none).
    #[serde(default)]
    pub momentum: u8,
    /// Weight-decay shift at each epoch's start (0: off; runs before it existed had none).
    #[serde(default)]
    pub weight_decay: u8,
    pub batch: u16,
    pub epochs: u32,
    /// The step halves every this many epochs (0: never); runs before it existed had none.
    #[serde(default)]
    pub eta_decay: u32,
    pub seed: u32,
    pub seed_schedule: String,
    /// What self-tuning chose and why; `None` when the run was not tuned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tune: Option<crate::autotune::TuneReport>,
    /// Which settings came from the dataset's defaults rather than the command line.
    pub defaulted: Vec<String>,
    pub device: DeviceInfo,
    /// Input scaling fitted on the training rows (`zo_sim::data::scaling`).
    pub input: InputScaling,
}

impl RunConfig {
    /// The checks the command line applies to the same settings, for a config read back
    /// from disk (an edited config.json must not bypass them).
    pub fn validate(&self) -> Result<()> {
        let fix = "restore the file, or start a new run with the settings as flags";
        if !(1..=32767).contains(&self.sigma) {
            bail!("sigma {} is outside 1..=32767; {fix}", self.sigma);
        }
        if self.eta_mant == 0 {
            bail!("eta_mant 0 is outside 1..=255; {fix}");
        }
        if self.eta_shift > 31 {
            bail!("eta_shift {} is outside 0..=31; {fix}", self.eta_shift);
        }
        if self.out_shift > 31 {
            bail!("out_shift {} is outside 0..=31; {fix}", self.out_shift);
        }
        if self.momentum > 7 {
            bail!("momentum {} is outside 0..=7; {fix}", self.momentum);
        }
        if self.weight_decay > MAX_WEIGHT_DECAY {
            bail!(
                "weight_decay {} is outside 0..={MAX_WEIGHT_DECAY}; {fix}",
                self.weight_decay
            );
        }
        if self.batch == 0 {
            bail!("batch 0 is outside 1..=65535; {fix}");
        }
        if !(1..=100_000).contains(&self.epochs) {
            bail!("epochs {} is outside 1..=100000; {fix}", self.epochs);
        }
        if let Some(f) = self.test_fraction {
            if !(f > 0.0 && f < 1.0) {
                bail!("test_fraction {f} is not strictly between 0 and 1; {fix}");
            }
        }
        if self.test_fraction.is_none() && self.test_data.is_none() {
            bail!("neither test_fraction nor test_data is set; {fix}");
        }
        self.shape()?;
        Ok(())
    }

    pub fn shape(&self) -> Result<Shape> {
        crate::cli::parse_shape(&self.device.shape)
            .map_err(|e| anyhow!("config.json: device shape: {e}"))
    }
}

/// One line of `epochs.jsonl`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EpochRecord {
    /// 1-based.
    pub epoch: u32,
    pub train_accuracy: f64,
    pub test_accuracy: f64,
    /// Mean training loss of the epoch: loss_sum delta / samples / 256 (bits for ce).
    pub loss: f64,
    /// Mean clean loss of the test set.
    pub test_loss: f64,
    pub samples: u64,
    pub updates: u64,
    pub saturations: u64,
    pub zero_updates: u64,
    /// Learner cycles of the training jobs.
    pub train_cycles: u64,
    /// Learner cycles of the epoch: training and evaluation.
    pub device_cycles: u64,
    pub wall_seconds: f64,
    pub weights_sha256: String,
    pub backend: String,
    /// Times the device was reconnected and restored during this epoch.
    pub recoveries: u32,
    /// Fraction of hidden units that never fire (clean activation 0 on every training row)
    /// with the epoch's weights, computed on the host by the reference model; absent for
    /// float backprop and in logs written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_units: Option<f64>,
    /// Wire bytes the epoch exchanged with the device in both directions, STATUS polls
    /// excluded (`LinkStats::payload_traffic`): what a UART must carry whatever the host's
    /// polling. 0 for float backprop and in logs written before it existed.
    #[serde(default)]
    pub link_bytes: u64,
    /// TRAIN and EVALUATE jobs of the epoch: each needs at least one STATUS exchange after
    /// it ends before the host goes on.
    #[serde(default)]
    pub jobs: u32,
    /// STATUS exchanges of the epoch (polls while jobs ran; depends on the host's timing).
    #[serde(default)]
    pub status_polls: u64,
}

/// The summary `--json` prints last.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub dataset: String,
    pub estimator: String,
    pub loss: String,
    pub epochs: u32,
    pub seed: u32,
    pub train_accuracy: f64,
    pub test_accuracy: f64,
    pub final_loss: f64,
    pub backend: String,
    pub board: String,
    pub shape: String,
    pub sigma: u16,
    pub eta_mant: u8,
    pub eta_shift: u8,
    pub out_shift: u8,
    pub momentum: u8,
    /// Weight-decay shift at each epoch's start (0: off).
    pub weight_decay: u8,
    pub batch: u16,
    /// The step halves every this many epochs (0: never).
    pub eta_decay: u32,
    /// `auto` when the settings were tuned on the model, else `off`.
    pub tune: String,
    /// Tuned runs: the winning trial's best validation accuracy, averaged over neighbouring
    /// epochs (`zo_sim::data::tune::smooth_epochs`; the run stops at that epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub val_accuracy: Option<f64>,
    /// Tuned runs: training rows held out as the validation slice (not in `n_train`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_val: Option<usize>,
    pub n_train: usize,
    pub n_test: usize,
    /// Learner cycles over all epochs (training and evaluation).
    pub device_cycles: u64,
    /// Training cycles per trained sample (3 W + 4 n_out + 45 with batch 1).
    pub cycles_per_sample: f64,
    /// `device_cycles` at the device's clock: the time the learner itself needs.
    pub device_seconds: f64,
    /// Wall time over all epochs.
    pub wall_seconds: f64,
    pub recoveries: u32,
    pub weights_sha256: String,
    pub run_dir: String,
}

impl Summary {
    pub fn new(cfg: &RunConfig, records: &[EpochRecord], run_dir: &Path) -> Self {
        let last = records.last();
        let sum = |f: fn(&EpochRecord) -> u64| records.iter().map(f).sum::<u64>();
        let samples = sum(|r| r.samples);
        let device_cycles = sum(|r| r.device_cycles);
        Summary {
            dataset: cfg.dataset.name.clone(),
            estimator: cfg.estimator.to_string(),
            loss: cfg.loss.to_string(),
            epochs: records.len() as u32,
            seed: cfg.seed,
            train_accuracy: last.map_or(0.0, |r| r.train_accuracy),
            test_accuracy: last.map_or(0.0, |r| r.test_accuracy),
            final_loss: last.map_or(0.0, |r| r.loss),
            backend: cfg.device.backend.clone(),
            board: cfg.device.board.clone(),
            shape: cfg.device.shape.clone(),
            sigma: cfg.sigma,
            eta_mant: cfg.eta_mant,
            eta_shift: cfg.eta_shift,
            out_shift: cfg.out_shift,
            momentum: cfg.momentum,
            weight_decay: cfg.weight_decay,
            batch: cfg.batch,
            eta_decay: cfg.eta_decay,
            tune: if cfg.tune.is_some() { "auto" } else { "off" }.into(),
            val_accuracy: cfg.tune.as_ref().map(|t| t.val_accuracy),
            n_val: cfg.tune.as_ref().map(|t| t.n_val),
            n_train: cfg.n_train,
            n_test: cfg.n_test,
            device_cycles,
            cycles_per_sample: if samples == 0 {
                0.0
            } else {
                sum(|r| r.train_cycles) as f64 / samples as f64
            },
            device_seconds: device_cycles as f64 / cfg.device.clock_hz.max(1) as f64,
            wall_seconds: records.iter().map(|r| r.wall_seconds).sum(),
            recoveries: records.iter().map(|r| r.recoveries).sum(),
            weights_sha256: last.map_or_else(String::new, |r| r.weights_sha256.clone()),
            run_dir: run_dir.display().to_string(),
        }
    }
}
