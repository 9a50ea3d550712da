//! The run directory of `zo train`: `config.json`, `epochs.jsonl`, the weights of the last
//! checkpoint (`weights.npy`, `weights.json`, `weights_readable.json`) and the plots.
//!
//! A run is written into `.NAME.partial` next to its target and renamed to `NAME` when it
//! completes, so the target is either complete or absent. A run that stops early (the device
//! is gone for good, Ctrl-C) leaves the partial directory, which `zo train --resume` continues.

use crate::data::DatasetInfo;
use crate::util::{weights_sha256, write_atomic};
use crate::weights::{self, InputScaling, Sidecar, SplitInfo};
use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use zo_hdl::config::Shape;

pub use zo_sim::train::{epoch_seed, SEED_SCHEDULE};

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
    /// `np` or `wp`.
    pub estimator: String,
    /// `ce` or `mse`.
    pub loss: String,
    pub sigma: u16,
    pub eta_mant: u8,
    pub eta_shift: u8,
    /// The learning rate in real units, `eta_mant * 2^(4 - eta_shift)`.
    pub eta: f64,
    pub batch: u16,
    pub epochs: u32,
    pub seed: u32,
    pub seed_schedule: String,
    /// Which settings came from the dataset's defaults rather than the command line.
    pub defaulted: Vec<String>,
    pub device: DeviceInfo,
    /// Input scaling fitted on the training rows (`zo_sim::scaling`).
    pub input: InputScaling,
}

impl RunConfig {
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
    pub batch: u16,
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
            estimator: cfg.estimator.clone(),
            loss: cfg.loss.clone(),
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
            batch: cfg.batch,
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

/// A run directory being written.
pub struct RunDir {
    /// Where files are written now (`.NAME.partial`).
    pub work: PathBuf,
    /// Where the run ends up.
    pub target: PathBuf,
    /// A finished run being extended: replaced by `work` at the end.
    replaces: bool,
}

fn partial_of(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    target.with_file_name(format!(".{name}.partial"))
}

/// Whether a run directory holds at least one completed epoch.
fn has_epochs(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("epochs.jsonl"))
        .map(|t| t.lines().any(|l| !l.trim().is_empty()))
        .unwrap_or(false)
}

/// Whether `dir` is a partial run directory (`.NAME.partial`).
pub fn is_partial(dir: &Path) -> bool {
    dir.file_name()
        .map(|n| {
            let n = n.to_string_lossy();
            n.starts_with('.') && n.ends_with(".partial")
        })
        .unwrap_or(false)
}

/// The target of a partial directory `.NAME.partial`.
fn target_of_partial(dir: &Path) -> PathBuf {
    let n = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = n
        .strip_prefix('.')
        .and_then(|s| s.strip_suffix(".partial"))
        .unwrap_or(&n)
        .to_string();
    dir.with_file_name(name)
}

impl RunDir {
    /// Checks that a new run can be written at `target` (nothing is created yet).
    pub fn check_new(target: &Path) -> Result<()> {
        if target.exists() {
            bail!(
                "run directory {} already exists; choose another --out or continue it with --resume {}",
                target.display(),
                target.display()
            );
        }
        let partial = partial_of(target);
        if partial.exists() && !has_epochs(&partial) {
            // Stopped before its first checkpoint: nothing in it can be continued.
            let _ = std::fs::remove_dir_all(&partial);
        }
        if partial.exists() {
            bail!(
                "an interrupted run is in {}; continue it with `zo train --resume {}` or delete it",
                partial.display(),
                partial.display()
            );
        }
        Ok(())
    }

    /// Creates `.NAME.partial` next to `target`.
    pub fn create(target: &Path) -> Result<Self> {
        Self::check_new(target)?;
        let work = partial_of(target);
        if let Some(parent) = work.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create the directory {}", parent.display()))?;
        }
        std::fs::create_dir(&work)
            .with_context(|| format!("cannot create the run directory {}", work.display()))?;
        Ok(Self {
            work,
            target: target.to_path_buf(),
            replaces: false,
        })
    }

    /// Opens an existing run for `--resume`: a partial directory is continued in place; a
    /// finished one is copied to its partial directory and replaced at the end.
    pub fn reopen(dir: &Path) -> Result<Self> {
        if is_partial(dir) {
            // An interrupted new run, or an interrupted continuation of a finished one.
            let target = target_of_partial(dir);
            let replaces = target.exists();
            return Ok(Self {
                work: dir.to_path_buf(),
                target,
                replaces,
            });
        }
        let work = partial_of(dir);
        if work.exists() {
            bail!(
                "an interrupted continuation of {} is in {}; resume that one (--resume {}) or delete it",
                dir.display(),
                work.display(),
                work.display()
            );
        }
        std::fs::create_dir(&work).with_context(|| format!("cannot create {}", work.display()))?;
        let copy = || -> std::io::Result<()> {
            for entry in std::fs::read_dir(dir)? {
                let entry = entry?;
                if entry.file_type()?.is_file() {
                    std::fs::copy(entry.path(), work.join(entry.file_name()))?;
                }
            }
            Ok(())
        };
        if let Err(e) = copy() {
            let _ = std::fs::remove_dir_all(&work);
            bail!("cannot copy {} to {}: {e}", dir.display(), work.display());
        }
        Ok(Self {
            work,
            target: dir.to_path_buf(),
            replaces: true,
        })
    }

    pub fn write_config(&self, cfg: &RunConfig) -> Result<()> {
        let p = self.work.join("config.json");
        write_atomic(&p, serde_json::to_string_pretty(cfg)?.as_bytes())
            .with_context(|| format!("cannot write {}", p.display()))
    }

    /// Rewrites `epochs.jsonl` with `records` (drops a line cut short by a crash).
    pub fn rewrite_epochs(&self, records: &[EpochRecord]) -> Result<()> {
        let mut text = String::new();
        for r in records {
            text.push_str(&serde_json::to_string(r)?);
            text.push('\n');
        }
        let p = self.work.join("epochs.jsonl");
        write_atomic(&p, text.as_bytes()).with_context(|| format!("cannot write {}", p.display()))
    }

    /// Saves the weights after an epoch, then appends its record (the record is the commit).
    pub fn checkpoint(&self, cfg: &RunConfig, record: &EpochRecord, w: &[i16]) -> Result<()> {
        let shape = cfg.shape()?;
        let mut sidecar = Sidecar::new(shape, w);
        sidecar.dataset = Some(
            cfg.dataset
                .path
                .clone()
                .unwrap_or_else(|| cfg.dataset.name.clone()),
        );
        sidecar.classes = Some(cfg.dataset.class_names.clone());
        sidecar.input = Some(cfg.input.clone());
        sidecar.split = cfg.test_fraction.map(|f| SplitInfo {
            seed: cfg.seed,
            test_fraction: f,
        });
        sidecar.epoch = Some(record.epoch);
        weights::save(&self.work.join("weights.npy"), shape, w, &sidecar)?;
        let p = self.work.join("epochs.jsonl");
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&p)
            .with_context(|| format!("cannot open {}", p.display()))?;
        writeln!(f, "{}", serde_json::to_string(record)?)
            .with_context(|| format!("cannot append to {}", p.display()))?;
        Ok(())
    }

    /// Renames the work directory to the target.
    pub fn finish(self) -> Result<PathBuf> {
        if self.replaces {
            let old = self.target.with_file_name(format!(
                ".{}.old",
                self.target
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ));
            let _ = std::fs::remove_dir_all(&old);
            std::fs::rename(&self.target, &old)
                .with_context(|| format!("cannot move {} aside", self.target.display()))?;
            std::fs::rename(&self.work, &self.target).with_context(|| {
                format!(
                    "cannot rename {} to {}",
                    self.work.display(),
                    self.target.display()
                )
            })?;
            let _ = std::fs::remove_dir_all(&old);
        } else {
            std::fs::rename(&self.work, &self.target).with_context(|| {
                format!(
                    "cannot rename {} to {}",
                    self.work.display(),
                    self.target.display()
                )
            })?;
        }
        Ok(self.target)
    }

    /// Removes the work directory (a run that failed before its first checkpoint).
    pub fn discard(self) {
        let _ = std::fs::remove_dir_all(&self.work);
    }
}

/// What `--resume` reads back.
pub struct Resumed {
    pub config: RunConfig,
    pub records: Vec<EpochRecord>,
    pub weights: Vec<i16>,
}

/// Reads a run directory: its config, its epochs and the last checkpoint, which must agree.
pub fn read_run(dir: &Path) -> Result<Resumed> {
    if !dir.is_dir() {
        bail!(
            "--resume {}: no such run directory; pass a directory written by `zo train`",
            dir.display()
        );
    }
    let cfg_path = dir.join("config.json");
    let text = std::fs::read_to_string(&cfg_path).map_err(|_| {
        anyhow!(
            "--resume {}: not a run directory (no config.json); pass a directory written by `zo train`",
            dir.display()
        )
    })?;
    let config: RunConfig = serde_json::from_str(&text).map_err(|e| {
        anyhow!(
            "--resume {}: config.json is not valid ({e}); the run cannot be continued",
            dir.display()
        )
    })?;
    let mut records = Vec::new();
    if let Ok(text) = std::fs::read_to_string(dir.join("epochs.jsonl")) {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match serde_json::from_str::<EpochRecord>(line) {
                Ok(r) => records.push(r),
                Err(_) => break, // a line cut short by a crash: the checkpoint before it counts
            }
        }
    }
    let Some(last) = records.last() else {
        bail!(
            "--resume {}: the run has no completed epoch; start it again without --resume",
            dir.display()
        );
    };
    let loaded = weights::load(&dir.join("weights.npy"))?;
    if weights_sha256(&loaded.values) != last.weights_sha256 {
        bail!(
            "--resume {}: weights.npy does not match epoch {} in epochs.jsonl (the run stopped \
             while checkpointing); the run cannot be continued",
            dir.display(),
            last.epoch
        );
    }
    Ok(Resumed {
        config,
        records,
        weights: loaded.values,
    })
}
