//! The run directory of `zo train`: `config.json`, `epochs.jsonl`, the weights of the last
//! checkpoint (`weights.npy`, `weights.json`, `weights_readable.json`) and the plots.
//!
//! A run is written into `.NAME.partial` next to its target and renamed to `NAME` when it
//! completes, so the target is either complete or absent. A run that stops early (the device
//! is gone for good, Ctrl-C) leaves the partial directory, which `zo train --resume` continues.

use crate::lock::RunLock;
use crate::util::{fault, sync_dir, weights_sha256, write_atomic, write_atomic_at};
use crate::weights::{self, Sidecar, SplitInfo};
use anyhow::{anyhow, bail, Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

mod records;
pub use records::{DeviceInfo, EpochRecord, RunConfig, Summary};

/// A run directory being written, locked for the life of the run.
pub struct RunDir {
    /// Where files are written now (`.NAME.partial`).
    pub work: PathBuf,
    /// Where the run ends up.
    pub target: PathBuf,
    /// A finished run being extended: replaced by `work` at the end.
    replaces: bool,
    _lock: RunLock,
}

/// `.NAME.partial` next to `target`.
pub fn partial_of(target: &Path) -> PathBuf {
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

/// Whether `dir` looks like a run directory of `zo train` (finished or partial).
pub fn is_run_dir(dir: &Path) -> bool {
    dir.join("config.json").is_file() || dir.join("epochs.jsonl").is_file() || is_partial(dir)
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

/// The final directory of a run given as `--resume DIR` (itself, or NAME for `.NAME.partial`).
pub fn target_of(dir: &Path) -> PathBuf {
    if is_partial(dir) {
        target_of_partial(dir)
    } else {
        dir.to_path_buf()
    }
}

/// Takes the lock of the run that `--resume DIR` continues.
pub fn lock_for_resume(dir: &Path) -> Result<RunLock> {
    check_exists(dir)?;
    Ok(RunLock::acquire(&target_of(dir))?)
}

/// Removes the temporary files a killed checkpoint left (`.*.tmp`).
fn remove_temp_files(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.ends_with(".tmp") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

impl RunDir {
    /// Checks that a new run can be written at `target`, under its lock: refuses a live run
    /// (naming its pid), an existing directory and an interrupted run; removes a partial
    /// directory that stopped before its first epoch.
    pub fn check_new(target: &Path) -> Result<()> {
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !parent.is_dir() {
            return Ok(()); // nothing can be there yet
        }
        let _lock = RunLock::acquire(target)?;
        Self::check_new_locked(target)
    }

    fn check_new_locked(target: &Path) -> Result<()> {
        if target.exists() {
            bail!(
                "run directory {} already exists; choose another --out or continue it with --resume {}",
                target.display(),
                target.display()
            );
        }
        let partial = partial_of(target);
        if partial.exists() && !has_epochs(&partial) {
            // Stopped before its first checkpoint, and not live: we hold the lock.
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

    /// Locks `target` and creates `.NAME.partial` next to it.
    pub fn create(target: &Path) -> Result<Self> {
        if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create the directory {}", parent.display()))?;
        }
        let lock = RunLock::acquire(target)?;
        let work = partial_of(target);
        Self::check_new_locked(target)?;
        std::fs::create_dir(&work)
            .with_context(|| format!("cannot create the run directory {}", work.display()))?;
        Ok(Self {
            work,
            target: target.to_path_buf(),
            replaces: false,
            _lock: lock,
        })
    }

    /// Opens an existing run for `--resume` under its lock: a partial directory is continued
    /// in place; a finished one is copied to its partial directory and replaced at the end.
    pub fn reopen(dir: &Path, lock: RunLock) -> Result<Self> {
        if is_partial(dir) {
            // An interrupted new run, or an interrupted continuation of a finished one.
            let target = target_of_partial(dir);
            let replaces = target.exists();
            remove_temp_files(dir);
            return Ok(Self {
                work: dir.to_path_buf(),
                target,
                replaces,
                _lock: lock,
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
                let name = entry.file_name().to_string_lossy().into_owned();
                if entry.file_type()?.is_file() && !name.ends_with(".tmp") {
                    let to = work.join(entry.file_name());
                    std::fs::copy(entry.path(), &to)?;
                    std::fs::File::open(&to)?.sync_all()?;
                }
            }
            sync_dir(&work)
        };
        if let Err(e) = copy() {
            let _ = std::fs::remove_dir_all(&work);
            bail!("cannot copy {} to {}: {e}", dir.display(), work.display());
        }
        Ok(Self {
            work,
            target: dir.to_path_buf(),
            replaces: true,
            _lock: lock,
        })
    }

    pub fn write_config(&self, cfg: &RunConfig) -> Result<()> {
        let p = self.work.join("config.json");
        write_atomic(&p, serde_json::to_string_pretty(cfg)?.as_bytes())
            .with_context(|| format!("cannot write {}", p.display()))
    }

    /// Rewrites `epochs.jsonl` with `records` (drops a line cut short by a crash, duplicates
    /// and epochs after the checkpoint).
    pub fn rewrite_epochs(&self, records: &[EpochRecord]) -> Result<()> {
        let mut text = String::new();
        for r in records {
            text.push_str(&serde_json::to_string(r)?);
            text.push('\n');
        }
        let p = self.work.join("epochs.jsonl");
        write_atomic(&p, text.as_bytes()).with_context(|| format!("cannot write {}", p.display()))
    }

    /// Commits an epoch: its line is appended to `epochs.jsonl` and synced, then the three
    /// weight files are replaced one by one (each synced, then renamed). A kill or a failed
    /// write at any step leaves weights that match one of the epochs in `epochs.jsonl`, and
    /// [`read_run`] resumes from that one.
    pub fn checkpoint(&self, cfg: &RunConfig, record: &EpochRecord, w: &[i16]) -> Result<()> {
        let e = record.epoch;
        let p = self.work.join("epochs.jsonl");
        let line = format!("{}\n", serde_json::to_string(record)?);
        let append = || -> std::io::Result<()> {
            fault("line", e)?;
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&p)?;
            let (head, tail) = line.as_bytes().split_at(line.len() / 2);
            f.write_all(head)?;
            fault("half-line", e)?;
            f.write_all(tail)?;
            f.sync_all()
        };
        append().with_context(|| format!("cannot append to {}", p.display()))?;
        self.save_weights(cfg, e, w)?;
        fault("done", e).context("after the checkpoint")?;
        Ok(())
    }

    /// Writes `weights.npy`, `weights.json` and `weights_readable.json` for epoch `epoch`.
    pub fn save_weights(&self, cfg: &RunConfig, epoch: u32, w: &[i16]) -> Result<()> {
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
        sidecar.epoch = Some(epoch);
        let npy_path = self.work.join("weights.npy");
        let (json, readable) = weights::companion_paths(&npy_path);
        let files = [
            (npy_path, crate::npy::encode_i16(w, &[w.len()]), "npy"),
            (
                json,
                serde_json::to_string_pretty(&sidecar)?.into_bytes(),
                "json",
            ),
            (
                readable,
                weights::readable_json(shape, w).into_bytes(),
                "readable",
            ),
        ];
        // Only weights.npy must survive a power cut for --resume, and only in one of its
        // versions: a rename lost with the power leaves an older checkpoint, which resume
        // finds by its sha256 in epochs.jsonl. The sidecars are rewritten with each checkpoint.
        for (path, bytes, point) in files {
            write_atomic_at(&path, &bytes, Some((point, epoch)), point == "npy")
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    }

    /// Renames the work directory to the target.
    pub fn finish(self) -> Result<PathBuf> {
        let rename = |from: &Path, to: &Path| {
            std::fs::rename(from, to)
                .with_context(|| format!("cannot rename {} to {}", from.display(), to.display()))
        };
        sync_dir(&self.work).with_context(|| format!("cannot sync {}", self.work.display()))?;
        if self.replaces {
            let old = self.target.with_file_name(format!(
                ".{}.old",
                self.target
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ));
            let _ = std::fs::remove_dir_all(&old);
            rename(&self.target, &old)?;
            rename(&self.work, &self.target)?;
            let _ = std::fs::remove_dir_all(&old);
        } else {
            rename(&self.work, &self.target)?;
        }
        let parent = self
            .target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        sync_dir(parent).with_context(|| format!("cannot sync {}", parent.display()))?;
        Ok(self.target.clone())
    }

    /// Removes the work directory (a run that failed before its first checkpoint).
    pub fn discard(self) {
        let _ = std::fs::remove_dir_all(&self.work);
    }
}

/// What `--resume` reads back.
pub struct Resumed {
    pub config: RunConfig,
    /// Epochs 1..=N, N being the epoch of the checkpointed weights.
    pub records: Vec<EpochRecord>,
    pub weights: Vec<i16>,
}

/// The epochs of `epochs.jsonl` by number: lines cut short are skipped, a duplicated epoch
/// counts once, and the list ends before the first missing epoch.
pub fn parse_epochs(text: &str) -> Vec<EpochRecord> {
    let mut by_epoch = std::collections::BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Ok(r) = serde_json::from_str::<EpochRecord>(line) {
            by_epoch.insert(r.epoch, r);
        }
    }
    let mut records = Vec::new();
    for (k, (epoch, r)) in by_epoch.into_iter().enumerate() {
        if epoch != k as u32 + 1 {
            break;
        }
        records.push(r);
    }
    records
}

/// Refuses a `--resume DIR` that does not exist, pointing to `.NAME.partial` when a run
/// into NAME was interrupted.
pub fn check_exists(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        let partial = partial_of(dir);
        if !is_partial(dir) && partial.is_dir() {
            bail!(
                "--resume {}: the run did not finish; its directory is {}: continue it with \
                 `zo train --resume {}`",
                dir.display(),
                partial.display(),
                partial.display()
            );
        }
        bail!(
            "--resume {}: no such run directory; pass a directory written by `zo train`",
            dir.display()
        );
    }
    Ok(())
}

/// Reads a run directory: its config, its epochs and the checkpointed weights. The run
/// resumes from the last epoch whose `weights_sha256` the weights match (later lines were
/// written by a checkpoint that did not finish).
pub fn read_run(dir: &Path) -> Result<Resumed> {
    check_exists(dir)?;
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
    config
        .validate()
        .map_err(|e| anyhow!("--resume {}: config.json: {e}", dir.display()))?;
    let mut records =
        parse_epochs(&std::fs::read_to_string(dir.join("epochs.jsonl")).unwrap_or_default());
    if records.is_empty() {
        bail!(
            "--resume {}: the run has no completed epoch; start it again without --resume",
            dir.display()
        );
    }
    let npy_path = dir.join("weights.npy");
    let bytes = std::fs::read(&npy_path).map_err(|e| {
        anyhow!(
            "--resume {}: cannot read weights.npy ({e}); the run cannot be continued",
            dir.display()
        )
    })?;
    let (_, values) = crate::npy::decode_i16(&bytes)
        .map_err(|e| anyhow!("--resume {}: weights.npy: {e}", dir.display()))?;
    let sha = weights_sha256(&values);
    let Some(k) = records.iter().rposition(|r| r.weights_sha256 == sha) else {
        bail!(
            "--resume {}: weights.npy matches none of the {} epochs in epochs.jsonl; the run \
             cannot be continued",
            dir.display(),
            records.len()
        );
    };
    records.truncate(k + 1);
    Ok(Resumed {
        config,
        records,
        weights: values,
    })
}
