//! The epochs of `zo train`: printing, checkpoints, the end of a run.

use super::{interrupt_cause, interrupt_flag, progress_bar};
use crate::{errln, outln};
use anyhow::{anyhow, Result};
use indicatif::ProgressBar;
use zo_hdl::config::LossKind;
use zo_host::cli::TrainArgs;
use zo_host::connect::Connection;
use zo_host::data::Prepared;
use zo_host::rundir::{EpochRecord, RunConfig, RunDir, Summary};
use zo_host::session::{self, Hyper, Observer, Trainer, MAX_RECOVERIES};

/// Prints the session's events: epoch lines, recovery notes, a progress bar.
struct CliObserver {
    json: bool,
    bar: ProgressBar,
    first: u32,
    epochs: u32,
    per_epoch: u64,
    /// Human mode prints every `every`-th epoch (all are in epochs.jsonl).
    every: u32,
    loss_unit: &'static str,
}

impl CliObserver {
    fn print(&self, line: String) {
        self.bar.suspend(|| outln!("{line}"));
    }
}

impl Observer for CliObserver {
    fn progress(&mut self, epoch: u32, done: u64, _total: u64) {
        let base = (epoch - 1 - self.first) as u64 * self.per_epoch;
        self.bar.set_position(base + done);
        self.bar
            .set_prefix(format!("epoch {epoch}/{}", self.epochs));
    }
    fn recovering(&mut self, epoch: u32, attempt: u32, reason: &str) {
        self.bar.suspend(|| {
            errln!("warning: epoch {epoch}: {reason}; reconnecting ({attempt}/{MAX_RECOVERIES})")
        });
    }
    fn recovered(&mut self, epoch: u32) {
        self.bar.suspend(|| {
            errln!("note: device restored to the checkpoint before epoch {epoch}; running epoch {epoch} again")
        });
    }
    fn epoch_done(&mut self, r: &EpochRecord) {
        if self.json {
            let line = serde_json::to_string(r).unwrap_or_default();
            self.print(line);
        } else if r.epoch == 1 || r.epoch % self.every == 0 || r.epoch == self.epochs {
            let width = self.epochs.to_string().len();
            self.print(format!(
                "epoch {:>w$}/{}  loss {:.3} {}  train {:.3}  test {:.3}  sat {}  zero-updates {}  dead {:.2}  {:.2} s{}",
                r.epoch,
                self.epochs,
                r.loss,
                self.loss_unit,
                r.train_accuracy,
                r.test_accuracy,
                r.saturations,
                r.zero_updates,
                r.dead_units.unwrap_or(0.0),
                r.wall_seconds,
                if r.recoveries > 0 {
                    format!("  ({} recoveries)", r.recoveries)
                } else {
                    String::new()
                },
                w = width
            ));
        }
        self.bar.set_message(format!("test {:.3}", r.test_accuracy));
    }
}

fn loss_unit(cfg: &RunConfig) -> &'static str {
    if cfg.loss == LossKind::CrossEntropy {
        "bits"
    } else {
        ""
    }
}

/// The three lines that open a run: data, device, learning.
fn print_header(cfg: &RunConfig) {
    let d = &cfg.dataset;
    let source = match &cfg.test_data {
        Some(t) => format!(" from {}", t.name),
        None => format!(
            " (stratified split {:.2})",
            cfg.test_fraction.unwrap_or(0.0)
        ),
    };
    outln!(
        "zo train: {} ({} samples, {} features, {} classes): {} train / {} test{source}",
        d.name,
        d.n_samples,
        d.n_features,
        d.n_classes,
        cfg.n_train,
        cfg.n_test,
    );
    let dev = &cfg.device;
    outln!(
        "device: {} {} on {} (buffer {} samples, {} cycles per sample, {} MHz)",
        dev.backend,
        dev.shape,
        dev.port,
        dev.sample_capacity,
        dev.cycles_per_sample,
        dev.clock_hz as f64 / 1e6
    );
    let defaults = if let Some(t) = &cfg.tune {
        format!(
            " (tuned: {}; best validation epoch {} of {})",
            cfg.defaulted.join(", "),
            t.best_epoch,
            t.horizon
        )
    } else if cfg.defaulted.is_empty() {
        String::new()
    } else {
        format!(
            " (defaults for {}: {})",
            cfg.dataset.builtin_name().unwrap_or("files"),
            cfg.defaulted.join(", ")
        )
    };
    let decay = if cfg.eta_decay > 0 {
        format!(" halving every {} epochs", cfg.eta_decay)
    } else {
        String::new()
    };
    let mut out = if cfg.estimator.exact_output() {
        format!(", output eta 2^(11-{})", cfg.out_shift)
    } else {
        String::new()
    };
    if cfg.momentum > 0 {
        out += &format!(", momentum 1-2^-{}", cfg.momentum);
    }
    if cfg.weight_decay > 0 {
        out += &format!(", weight decay 2^-{} per epoch", cfg.weight_decay);
    }
    outln!(
        "learning: {}, {}, sigma {}, eta {}*2^(4-{}) = {}{out}{decay}, batch {}, {} epochs, seed {}{defaults}",
        cfg.estimator,
        cfg.loss,
        cfg.sigma,
        cfg.eta_mant,
        cfg.eta_shift,
        cfg.eta,
        cfg.batch,
        cfg.epochs,
        cfg.seed,
    );
}

/// The error of a run that stopped early, with what was saved and how to continue.
fn stopped(e: anyhow::Error, dir: RunDir, saved: usize) -> anyhow::Error {
    let interrupted = e.is::<session::Interrupted>();
    if saved == 0 {
        // Nothing was checkpointed: leave nothing behind.
        dir.discard();
        if interrupted {
            return e.context(format!(
                "interrupted ({}) before the first epoch finished; the device's job was \
                 stopped and nothing was saved",
                interrupt_cause()
            ));
        }
        return e;
    }
    let work = dir.work.display();
    if interrupted {
        return e.context(format!(
            "interrupted ({}); the device's job was stopped and the run is saved up to epoch \
             {saved} in {work}: continue it with `zo train --resume {work}`",
            interrupt_cause(),
        ));
    }
    anyhow!(
        "{e:#}; the run is saved up to epoch {saved} in {work}: continue it with `zo train --resume {work}`"
    )
}

fn print_done(cfg: &RunConfig, summary: &Summary, final_dir: &std::path::Path, png: bool) {
    outln!(
        "done: test accuracy {:.3}, train accuracy {:.3}, final loss {:.3} {}, {} epochs in {:.1} s",
        summary.test_accuracy,
        summary.train_accuracy,
        summary.final_loss,
        loss_unit(cfg),
        summary.epochs,
        summary.wall_seconds
    );
    outln!(
        "device: {} learner cycles ({:.0} per training sample) = {:.2} s at {} MHz",
        summary.device_cycles,
        summary.cycles_per_sample,
        summary.device_seconds,
        cfg.device.clock_hz as f64 / 1e6
    );
    outln!(
        "weights: {} (sha256 {})",
        final_dir.join("weights.npy").display(),
        summary.weights_sha256
    );
    outln!(
        "plots: {} and accuracy.svg{}",
        final_dir.join("loss.svg").display(),
        if png { " (+ PNGs)" } else { "" }
    );
}

fn hyper(cfg: &RunConfig) -> Hyper {
    Hyper {
        estimator: cfg.estimator,
        loss: cfg.loss,
        sigma: cfg.sigma,
        eta_mant: cfg.eta_mant,
        eta_shift: cfg.eta_shift,
        eta_decay: cfg.eta_decay,
        batch: cfg.batch,
        seed: cfg.seed,
        out_shift: cfg.out_shift,
        momentum: cfg.momentum,
        weight_decay: cfg.weight_decay,
    }
}

/// Runs the epochs after `records` from `weights`, checkpointing each into `dir`, then writes
/// the plots and moves the run to its final directory.
pub fn train_loop(
    mut conn: Connection,
    cfg: RunConfig,
    prepared: Prepared,
    dir: RunDir,
    weights: Vec<i16>,
    mut records: Vec<EpochRecord>,
    a: &TrainArgs,
) -> Result<()> {
    let first = records.len() as u32;
    if let Err(e) = dir.write_config(&cfg) {
        if first == 0 {
            dir.discard();
        }
        return Err(e);
    }
    if !a.json {
        print_header(&cfg);
        if first > 0 {
            outln!("resuming after epoch {first} of {}", dir.target.display());
        } else {
            outln!("run directory: {}", dir.target.display());
        }
    }
    let per_epoch = (2 * cfg.n_train + cfg.n_test) as u64;
    let mut obs = CliObserver {
        json: a.json,
        bar: progress_bar((cfg.epochs - first) as u64 * per_epoch, "samples"),
        first,
        epochs: cfg.epochs,
        per_epoch,
        every: (cfg.epochs / 20).max(1),
        loss_unit: loss_unit(&cfg),
    };
    let result = {
        let mut trainer =
            Trainer::new(&mut conn, hyper(&cfg), &prepared.data).with_stop(interrupt_flag());
        let records_ref = &mut records;
        let mut commit = |rec: &EpochRecord, w: &[i16]| {
            dir.checkpoint(&cfg, rec, w)?;
            records_ref.push(rec.clone());
            Ok(())
        };
        session::run(
            &mut trainer,
            weights,
            first,
            cfg.epochs,
            &mut obs,
            &mut commit,
        )
    };
    obs.bar.finish_and_clear();
    if let Err(e) = result {
        return Err(stopped(e, dir, records.len()));
    }
    let title = format!(
        "{} on {} {} ({}, {})",
        cfg.dataset.name, cfg.device.backend, cfg.device.shape, cfg.estimator, cfg.loss
    );
    if let Err(e) =
        zo_host::plot::write_run_plots(&dir.work, &title, cfg.loss.name(), &records, a.png)
    {
        errln!("warning: the plots were not written: {e:#}");
    }
    let final_dir = dir.finish()?;
    let summary = Summary::new(&cfg, &records, &final_dir);
    if a.json {
        outln!("{}", serde_json::to_string(&summary)?);
    } else {
        print_done(&cfg, &summary, &final_dir, a.png);
    }
    Ok(())
}
