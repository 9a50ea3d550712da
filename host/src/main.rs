//! `zo`, the host command-line tool: train, infer, move weights, identify devices, list ports,
//! run the float baseline, print completions. See host/CLI.md.
//!
//! Exit codes: 0 success, 1 failure (bad input file, device or I/O error), 2 bad command line.
//! Every error is one line on stderr naming the problem and the fix.

use anyhow::{anyhow, bail, Context, Result};
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use zo_hdl::config::Shape;
use zo_host::baseline;
use zo_host::cli::{
    BaselineArgs, Cli, Command, DataArgs, EstimatorArg, FlashArgs, InferArgs, InfoArgs, LossArg,
    PortsArgs, SplitArg, TrainArgs, WeightsAction,
};
use zo_host::connect::{self, Connection, DeviceKind, DEFAULT_SHAPE};
use zo_host::data::{self, Prepared};
use zo_host::defaults;
use zo_host::rundir::{self, DeviceInfo, EpochRecord, RunConfig, RunDir, Summary};
use zo_host::session::{self, Hyper, Observer, Trainer, MAX_RECOVERIES};
use zo_host::util::{timestamp, unix_now, weights_sha256};
use zo_host::weights::{self, Sidecar};
use zo_proto::{Request, Response, Sample};
use zo_sim::dataset::{stratified_split, Quantizer};
use zo_sim::train::init_weights;

/// Set when stdout is gone (a closed pipe): output stops and a run ends as on Ctrl-C.
static STDOUT_GONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Writes a line to stdout; never panics. A closed stdout stops the command like Ctrl-C.
fn out(line: &str) {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    if STDOUT_GONE.load(Ordering::SeqCst) {
        return;
    }
    let mut so = std::io::stdout().lock();
    if writeln!(so, "{line}").and_then(|_| so.flush()).is_err() {
        STDOUT_GONE.store(true, Ordering::SeqCst);
        interrupt_flag().store(true, Ordering::SeqCst);
    }
}

/// Writes a line to stderr; never panics.
fn err(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

macro_rules! outln {
    ($($t:tt)*) => { out(&format!($($t)*)) };
}

macro_rules! errln {
    ($($t:tt)*) => { err(&format!($($t)*)) };
}

/// What stopped a command: Ctrl-C or a closed stdout.
fn interrupt_cause() -> &'static str {
    if STDOUT_GONE.load(std::sync::atomic::Ordering::SeqCst) {
        "stdout was closed"
    } else {
        "Ctrl-C"
    }
}

fn main() -> ExitCode {
    let matches = match Cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => return clap_error(e),
    };
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => return clap_error(e),
    };
    mark_env_port(&mut cli, &matches);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.chain().any(|c| c.is::<session::Interrupted>()) => {
            errln!("error: {}", one_line(&e.to_string()));
            ExitCode::from(130)
        }
        Err(e) => {
            errln!("error: {}", one_line(&format!("{e:#}")));
            ExitCode::from(1)
        }
    }
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Clap's errors, folded into one line (help and version print as usual).
fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind as K;
    match e.kind() {
        K::DisplayHelp | K::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        K::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::from(2)
        }
        _ => {
            let text = e.render().to_string();
            let parts: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| {
                    !l.is_empty()
                        && !l.starts_with("Usage:")
                        && !l.starts_with("For more information")
                })
                .collect();
            let msg = parts.join(" ");
            let msg = msg.strip_prefix("error: ").unwrap_or(&msg);
            let sub = std::env::args()
                .nth(1)
                .filter(|a| Cli::command().find_subcommand(a).is_some())
                .map(|a| format!("zo {a} --help"))
                .unwrap_or_else(|| "zo --help".into());
            errln!("error: {msg}; see `{sub}`");
            ExitCode::from(2)
        }
    }
}

/// Records whether `--port` came from ZO_PORT, so that an explicit `--board` wins over it.
fn mark_env_port(cli: &mut Cli, m: &ArgMatches) {
    let from_env = |m: &ArgMatches| m.value_source("port") == Some(ValueSource::EnvVariable);
    let Some((_, sub)) = m.subcommand() else {
        return;
    };
    match &mut cli.command {
        Command::Train(a) => a.connect.port_from_env = from_env(sub),
        Command::Infer(a) => a.connect.port_from_env = from_env(sub),
        Command::Info(a) => a.connect.port_from_env = from_env(sub),
        Command::Weights { action } => {
            if let Some((_, leaf)) = sub.subcommand() {
                match action {
                    WeightsAction::Pull { connect, .. } | WeightsAction::Push { connect, .. } => {
                        connect.port_from_env = from_env(leaf)
                    }
                }
            }
        }
        _ => {}
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Train(a) => cmd_train(a),
        Command::Infer(a) => cmd_infer(a),
        Command::Weights { action } => cmd_weights(action),
        Command::Info(a) => cmd_info(a),
        Command::Ports(a) => cmd_ports(a),
        Command::Baseline(a) => cmd_baseline(a),
        Command::Flash(a) => cmd_flash(a),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "zo", &mut script);
            out(String::from_utf8_lossy(&script).trim_end());
            Ok(())
        }
    }
}

// ------------------------------------------------------------------------------------------
// Ctrl-C

/// A flag that Ctrl-C sets; the first call installs the handler. Long commands check it,
/// stop the device's job and leave nothing half-written.
fn interrupt_flag() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, OnceLock};
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        let _ = ctrlc::set_handler(move || {
            if f.swap(true, Ordering::SeqCst) {
                std::process::exit(130); // a second Ctrl-C ends at once
            }
        });
        flag
    })
    .clone()
}

// ------------------------------------------------------------------------------------------
// Progress

fn progress_bar(len: u64, unit: &str) -> ProgressBar {
    if !std::io::stdout().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let template = format!("{{prefix}} [{{bar:32}}] {{pos}}/{{len}} {unit} {{msg}} ({{eta}} left)");
    bar.set_style(
        ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

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
                "epoch {:>w$}/{}  loss {:.3} {}  train {:.3}  test {:.3}  sat {}  zero-updates {}  {:.2} s{}",
                r.epoch,
                self.epochs,
                r.loss,
                self.loss_unit,
                r.train_accuracy,
                r.test_accuracy,
                r.saturations,
                r.zero_updates,
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

// ------------------------------------------------------------------------------------------
// zo train

fn estimator_name(e: EstimatorArg) -> &'static str {
    match e {
        EstimatorArg::Np => "np",
        EstimatorArg::Wp => "wp",
    }
}

fn loss_name(l: LossArg) -> &'static str {
    match l {
        LossArg::Ce => "ce",
        LossArg::Mse => "mse",
    }
}

fn device_info(conn: &Connection) -> DeviceInfo {
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
    while RunDir::check_new(&p).is_err() {
        p = PathBuf::from(format!("{}-{k}", base.display()));
        k += 1;
    }
    p
}

fn prepare(
    ds: &zo_sim::dataset::Dataset,
    test: Option<&zo_sim::dataset::Dataset>,
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

fn cmd_train(a: TrainArgs) -> Result<()> {
    if let Some(dir) = a.resume.clone() {
        return train_resume(&dir, a);
    }
    let (ds, info) = data::load_dataset(&a.data, defaults::DATASET)?;
    let d = defaults::for_dataset(info.builtin_name());
    let test = match &a.test_data {
        Some(p) => Some(data::load_test(p, &a.data, &info)?),
        None => None,
    };
    let test_fraction = match &a.test_data {
        Some(_) => None,
        None => Some(a.test_fraction.unwrap_or(defaults::TEST_FRACTION)),
    };
    let mut defaulted = Vec::new();
    let mut pick = |name: &str, given: bool| {
        if !given {
            defaulted.push(name.to_string());
        }
    };
    pick("sigma", a.sigma.is_some());
    pick("eta_mant", a.eta_mant.is_some());
    pick("eta_shift", a.eta_shift.is_some());
    pick("batch", a.batch.is_some());
    pick("epochs", a.epochs.is_some());
    pick("seed", a.seed.is_some());
    let seed = a.seed.unwrap_or(defaults::SEED);
    let estimator = estimator_name(a.estimator.unwrap_or(EstimatorArg::Np));
    let loss = loss_name(a.loss.unwrap_or(LossArg::Ce));
    let (sigma, eta_mant, eta_shift) = (
        a.sigma.unwrap_or(d.sigma),
        a.eta_mant.unwrap_or(d.eta_mant),
        a.eta_shift.unwrap_or(d.eta_shift),
    );
    let target = match &a.out {
        Some(p) => {
            RunDir::check_new(p)?;
            p.clone()
        }
        None => default_out(&info.name),
    };

    let conn = Connection::open(&a.connect, DEFAULT_SHAPE)?;
    let shape = conn.shape();
    data::check_fits(
        &info.name,
        info.n_features,
        info.n_classes,
        shape,
        conn.kind() != DeviceKind::Serial,
    )?;
    let prepared = prepare(
        &ds,
        test.as_ref().map(|t| &t.0),
        shape.n_in,
        test_fraction,
        seed,
    )?;
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
        estimator: estimator.into(),
        loss: loss.into(),
        sigma,
        eta_mant,
        eta_shift,
        eta: eta_mant as f64 * 2f64.powi(4 - eta_shift as i32),
        batch: a.batch.unwrap_or(d.batch),
        epochs: a.epochs.unwrap_or(d.epochs),
        seed,
        seed_schedule: rundir::SEED_SCHEDULE.into(),
        defaulted,
        device: device_info(&conn),
        input: prepared.scaling.clone(),
    };
    check_batch(&conn, cfg.batch)?;
    let dir = RunDir::create(&target)?;
    let init = init_weights(shape, seed as u64);
    train_loop(conn, cfg, prepared, dir, init, Vec::new(), &a)
}

fn train_resume(dir: &Path, a: TrainArgs) -> Result<()> {
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
        ("--batch", a.batch.is_some()),
        ("--seed", a.seed.is_some()),
        ("--out", a.out.is_some()),
    ];
    if let Some((flag, _)) = fixed.iter().find(|f| f.1) {
        bail!(
            "{flag} cannot change a run that --resume continues; drop {flag} (the run's settings \
             are in {}/config.json; --epochs sets the new total)",
            dir.display()
        );
    }
    let r = rundir::read_run(dir)?;
    let mut cfg = r.config;
    let done = r.records.len() as u32;
    let epochs = a.epochs.unwrap_or(cfg.epochs);
    if epochs <= done {
        bail!(
            "{} already has {done} epochs; pass --epochs N with N > {done} to train further",
            dir.display()
        );
    }
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
    let run_shape = cfg.shape()?;
    let conn = Connection::open(&a.connect, run_shape)?;
    if conn.shape() != run_shape {
        bail!(
            "the run trained a {run_shape} network but the device is {}; continue it on a \
             device of the same shape (--shape {run_shape} for a virtual board)",
            conn.shape()
        );
    }
    let prepared = prepare(
        &ds,
        test.as_ref(),
        run_shape.n_in,
        cfg.test_fraction,
        cfg.seed,
    )?;
    if prepared.scaling != cfg.input {
        bail!("the input scaling differs from the run's; the dataset is not the one the run used");
    }
    check_batch(&conn, cfg.batch)?;
    cfg.epochs = epochs;
    cfg.device = device_info(&conn);
    let rd = RunDir::reopen(dir)?;
    rd.rewrite_epochs(&r.records)?;
    train_loop(conn, cfg, prepared, rd, r.weights, r.records, &a)
}

/// Refuses a mini-batch the device cannot accumulate (builds without accumulators), before
/// anything is written.
fn check_batch(conn: &Connection, batch: u16) -> Result<()> {
    let max = conn.identity.max_batch();
    if batch > max {
        bail!(
            "--batch {batch}: the {} build has no mini-batch accumulators (IDENTIFY limits) and              takes batch 1 only; use --batch 1, or a board built with them (ulx3s, or              `cargo xtask synth --accumulators true`)",
            conn.identity.name
        );
    }
    Ok(())
}

fn train_loop(
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
    let loss_unit = if cfg.loss == "ce" { "bits" } else { "" };
    let title = format!(
        "{} on {} {} ({}, {})",
        cfg.dataset.name, cfg.device.backend, cfg.device.shape, cfg.estimator, cfg.loss
    );
    if !a.json {
        let d = &cfg.dataset;
        outln!(
            "zo train: {} ({} samples, {} features, {} classes): {} train / {} test{}",
            d.name,
            d.n_samples,
            d.n_features,
            d.n_classes,
            cfg.n_train,
            cfg.n_test,
            match &cfg.test_data {
                Some(t) => format!(" from {}", t.name),
                None => format!(
                    " (stratified split {:.2})",
                    cfg.test_fraction.unwrap_or(0.0)
                ),
            }
        );
        outln!(
            "device: {} {} on {} (buffer {} samples, {} cycles per sample, {} MHz)",
            cfg.device.backend,
            cfg.device.shape,
            cfg.device.port,
            cfg.device.sample_capacity,
            cfg.device.cycles_per_sample,
            cfg.device.clock_hz as f64 / 1e6
        );
        outln!(
            "learning: {}, {}, sigma {}, eta {}*2^(4-{}) = {}, batch {}, {} epochs, seed {}{}",
            cfg.estimator,
            cfg.loss,
            cfg.sigma,
            cfg.eta_mant,
            cfg.eta_shift,
            cfg.eta,
            cfg.batch,
            cfg.epochs,
            cfg.seed,
            if cfg.defaulted.is_empty() {
                String::new()
            } else {
                format!(
                    " (defaults for {}: {})",
                    cfg.dataset.builtin_name().unwrap_or("files"),
                    cfg.defaulted.join(", ")
                )
            }
        );
        if first > 0 {
            outln!("resuming after epoch {first} of {}", dir.target.display());
        } else {
            outln!("run directory: {}", dir.target.display());
        }
    }
    let per_epoch = (2 * cfg.n_train + cfg.n_test) as u64;
    let remaining = cfg.epochs - first;
    let mut obs = CliObserver {
        json: a.json,
        bar: progress_bar(remaining as u64 * per_epoch, "samples"),
        first,
        epochs: cfg.epochs,
        per_epoch,
        every: (cfg.epochs / 20).max(1),
        loss_unit,
    };
    let hyper = Hyper {
        estimator: u8::from(cfg.estimator == "wp"),
        loss: u8::from(cfg.loss == "ce"),
        sigma: cfg.sigma,
        eta_mant: cfg.eta_mant,
        eta_shift: cfg.eta_shift,
        batch: cfg.batch,
        seed: cfg.seed,
    };
    let result = {
        let mut trainer =
            Trainer::new(&mut conn, hyper, &prepared.data).with_stop(interrupt_flag());
        let records_ref = &mut records;
        session::run(
            &mut trainer,
            weights,
            first,
            cfg.epochs,
            &mut obs,
            &mut |rec, w| {
                dir.checkpoint(&cfg, rec, w)?;
                records_ref.push(rec.clone());
                Ok(())
            },
        )
    };
    obs.bar.finish_and_clear();
    if let Err(e) = result {
        let interrupted = e.is::<session::Interrupted>();
        if records.is_empty() {
            // Nothing was checkpointed: leave nothing behind.
            dir.discard();
            if interrupted {
                return Err(e.context(format!(
                    "interrupted ({}) before the first epoch finished; the device's job was \
                     stopped and nothing was saved",
                    interrupt_cause()
                )));
            }
            return Err(e);
        }
        if interrupted {
            let msg = format!(
                "interrupted ({}); the device's job was stopped and the run is saved up to \
                 epoch {} in {}: continue it with `zo train --resume {}`",
                interrupt_cause(),
                records.len(),
                dir.work.display(),
                dir.work.display()
            );
            return Err(e.context(msg));
        }
        return Err(anyhow!(
            "{e:#}; the run is saved up to epoch {} in {}: continue it with `zo train --resume {}`",
            records.len(),
            dir.work.display(),
            dir.work.display()
        ));
    }
    if let Err(e) = zo_host::plot::write_run_plots(&dir.work, &title, &cfg.loss, &records, a.png) {
        obs.bar
            .suspend(|| errln!("warning: the plots were not written: {e:#}"));
    }
    let final_dir = dir.finish()?;
    let summary = Summary::new(&cfg, &records, &final_dir);
    if a.json {
        outln!("{}", serde_json::to_string(&summary)?);
    } else {
        outln!(
            "done: test accuracy {:.3}, train accuracy {:.3}, final loss {:.3} {}, {} epochs in {:.1} s",
            summary.test_accuracy,
            summary.train_accuracy,
            summary.final_loss,
            loss_unit,
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
            if a.png { " (+ PNGs)" } else { "" }
        );
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// zo infer

#[derive(Serialize)]
struct Prediction {
    row: usize,
    class: usize,
    class_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<usize>,
    /// Clean loss of the sample (Q.8 / 256) against its label, or class 0 when unlabelled.
    loss: f64,
}

#[derive(Serialize)]
struct InferReport {
    dataset: String,
    split: String,
    samples: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    correct: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    accuracy: Option<f64>,
    backend: String,
    weights_sha256: String,
    predictions: Vec<Prediction>,
}

fn read_run_config(weights_path: &Path) -> Option<RunConfig> {
    let dir = weights_path.parent()?;
    let text = std::fs::read_to_string(dir.join("config.json")).ok()?;
    serde_json::from_str(&text).ok()
}

fn cmd_infer(a: InferArgs) -> Result<()> {
    let loaded = a.weights.as_deref().map(weights::load).transpose()?;
    let run_cfg = loaded.as_ref().and_then(|l| read_run_config(&l.path));
    let sidecar = loaded.as_ref().and_then(|l| l.sidecar.clone());
    let data_args = if a.data.dataset.is_some() {
        a.data.clone()
    } else if let Some(c) = &run_cfg {
        c.dataset.to_args()
    } else if let Some(d) = sidecar.as_ref().and_then(|s| s.dataset.clone()) {
        DataArgs {
            dataset: Some(d),
            ..a.data.clone()
        }
    } else {
        bail!("--dataset is required: no dataset is recorded with the weights; pass --dataset NAME|FILE");
    };
    let split = a.split.unwrap_or(SplitArg::All);
    let loaded_table = data::load_table(&data_args, "")?;
    let dataset_name = loaded_table.info.name.clone();
    let table = loaded_table.table;
    let known_classes: Option<Vec<String>> = run_cfg
        .as_ref()
        .map(|c| c.dataset.class_names.clone())
        .or_else(|| sidecar.as_ref().and_then(|s| s.classes.clone()));
    let n_features = table.n_features();
    let (features, labels, class_names) = if table.labels.is_some() {
        let ds = match &known_classes {
            Some(c) => table.into_dataset_with_classes(c),
            None => table.into_dataset(),
        }
        .map_err(|e| anyhow!("{e}"))?;
        (ds.features, Some(ds.labels), ds.class_names)
    } else {
        (table.features, None, known_classes.unwrap_or_default())
    };
    let rows: Vec<usize> = match split {
        SplitArg::All => (0..features.len()).collect(),
        SplitArg::Train | SplitArg::Test => {
            let which = if split == SplitArg::Train {
                "train"
            } else {
                "test"
            };
            if run_cfg.as_ref().is_some_and(|c| c.test_data.is_some()) {
                bail!("the run used a separate --test-data file; pass it with --dataset instead of --split {which}");
            }
            let info = run_cfg
                .as_ref()
                .and_then(|c| c.test_fraction.map(|f| (c.seed, f)))
                .or_else(|| {
                    sidecar
                        .as_ref()
                        .and_then(|s| s.split.as_ref().map(|s| (s.seed, s.test_fraction)))
                });
            let Some((seed, fraction)) = info else {
                bail!("--split {which} needs the split of the run that produced the weights; pass --weights with the weights.npy of a `zo train` run");
            };
            let Some(labels) = &labels else {
                bail!("--split {which} needs labelled data; drop --label-column none");
            };
            let (train, test) = stratified_split(labels, class_names.len(), fraction, seed as u64);
            if split == SplitArg::Train {
                train
            } else {
                test
            }
        }
    };
    let saved = run_cfg
        .as_ref()
        .map(|c| c.input.clone())
        .or_else(|| sidecar.as_ref().and_then(|s| s.input.clone()))
        .filter(|s| s.n_features() == n_features);
    let default_shape = sidecar
        .as_ref()
        .map(|s| s.net_shape())
        .unwrap_or(DEFAULT_SHAPE);
    let mut conn = Connection::open(&a.connect, default_shape)?;
    let shape = conn.shape();
    if loaded.is_none() && conn.kind() != DeviceKind::Serial {
        bail!("a new virtual board holds no trained weights; pass --weights FILE|RUN_DIR (or --port to use a board's weights)");
    }
    data::check_fits(
        &dataset_name,
        n_features,
        class_names.len(),
        shape,
        conn.kind() != DeviceKind::Serial,
    )?;
    let quantizer = match saved {
        Some(s) if s.is_current() => s,
        Some(s) => bail!(
            "the weights' input scaling is in format `{}`, which this version does not apply (it \
             writes `{}`); retrain the weights with this version of zo",
            s.format,
            zo_sim::scaling::FORMAT
        ),
        None => {
            let ds = zo_sim::dataset::Dataset {
                name: dataset_name.clone(),
                features: features.clone(),
                labels: vec![0; features.len()],
                n_classes: 1,
                class_names: vec![],
            };
            errln!("note: no input scaling is saved with these weights; fitting it on the rows being classified");
            Quantizer::fit(&ds, &rows)
        }
    };
    let weights_sha = match &loaded {
        Some(l) => {
            push_weights(&mut conn, &l.path, &l.values, l.sidecar.as_ref())?;
            weights_sha256(&l.values)
        }
        None => weights_sha256(&conn.link().read_weights(shape.n_weights())?),
    };
    let bar = progress_bar(rows.len() as u64, "samples");
    let mut predictions = Vec::with_capacity(rows.len());
    let stop = interrupt_flag();
    for (k, &r) in rows.iter().enumerate() {
        if stop.load(std::sync::atomic::Ordering::SeqCst) {
            bar.finish_and_clear();
            return Err(anyhow::Error::new(session::Interrupted).context(format!(
                "interrupted ({}) after {k} of {} samples",
                interrupt_cause(),
                rows.len()
            )));
        }
        let mut x = quantizer.quantize(&features[r]);
        x.resize(shape.n_in, 0);
        let label = labels.as_ref().map(|l| l[r]);
        let response = conn.link().request(&Request::Infer(Sample {
            label: label.unwrap_or(0) as u8,
            features: x,
        }))?;
        let Response::Inference { class, loss, .. } = response else {
            bail!(
                "the device answered INFER with {}; is this a zo device?",
                zo_proto::kind::name(response.kind())
            );
        };
        let class = class as usize;
        predictions.push(Prediction {
            row: r,
            class,
            class_name: class_names
                .get(class)
                .cloned()
                .unwrap_or_else(|| class.to_string()),
            label,
            loss: loss as f64 / 256.0,
        });
        bar.set_position(k as u64 + 1);
    }
    bar.finish_and_clear();
    let correct = labels.as_ref().map(|_| {
        predictions
            .iter()
            .filter(|p| p.label == Some(p.class))
            .count()
    });
    let accuracy = correct.map(|c| c as f64 / predictions.len().max(1) as f64);
    let split_name = match split {
        SplitArg::All => "all",
        SplitArg::Train => "train",
        SplitArg::Test => "test",
    };
    if a.json {
        let report = InferReport {
            dataset: dataset_name,
            split: split_name.into(),
            samples: predictions.len(),
            correct,
            accuracy,
            backend: conn.backend().into(),
            weights_sha256: weights_sha,
            predictions,
        };
        outln!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    if !a.quiet {
        outln!("# row\tpredicted\tlabel");
        for p in &predictions {
            let label = p
                .label
                .map(|l| class_names.get(l).cloned().unwrap_or_else(|| l.to_string()))
                .unwrap_or_else(|| "-".into());
            outln!("{}\t{}\t{}", p.row, p.class_name, label);
        }
    }
    match (correct, accuracy) {
        (Some(c), Some(acc)) => outln!(
            "accuracy {acc:.4} ({c}/{} samples of {dataset_name}, {split_name} rows) on {}",
            predictions.len(),
            conn.backend()
        ),
        _ => outln!(
            "classified {} unlabelled samples of {dataset_name} on {}",
            predictions.len(),
            conn.backend()
        ),
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// zo weights

fn push_weights(
    conn: &mut Connection,
    path: &Path,
    values: &[i16],
    sidecar: Option<&Sidecar>,
) -> Result<()> {
    let shape = conn.shape();
    if let Some(s) = sidecar {
        if s.net_shape() != shape {
            bail!(
                "{} holds weights for a {} network but the device is {shape}; use weights of \
                 the device's shape{}",
                path.display(),
                s.shape,
                if conn.kind() == DeviceKind::Serial {
                    String::new()
                } else {
                    format!(" (or --shape {} for a virtual board)", s.shape)
                }
            );
        }
    }
    if values.len() != shape.n_weights() {
        bail!(
            "{} holds {} weights but the device ({shape}) has {}; use weights of the device's shape",
            path.display(),
            values.len(),
            shape.n_weights()
        );
    }
    conn.link().write_weights(values)?;
    let back = conn.link().read_weights(values.len())?;
    if back != values {
        bail!("the weights read back from the device differ from those written; check the link and retry");
    }
    Ok(())
}

fn cmd_weights(action: WeightsAction) -> Result<()> {
    match action {
        WeightsAction::Pull { file, connect } => {
            if file.extension().and_then(|e| e.to_str()) != Some("npy") {
                bail!(
                    "weights file {} must end in .npy (the sidecar .json is written next to it)",
                    file.display()
                );
            }
            let mut conn = Connection::open(&connect, DEFAULT_SHAPE)?;
            let shape = conn.shape();
            let w = conn.link().read_weights(shape.n_weights())?;
            weights::save(&file, shape, &w, &Sidecar::new(shape, &w))
                .with_context(|| format!("saving {}", file.display()))?;
            outln!(
                "read {} weights ({shape}, Q3.12) from {} on {} into {} (sha256 {})",
                w.len(),
                conn.backend(),
                conn.path(),
                file.display(),
                weights_sha256(&w)
            );
        }
        WeightsAction::Push { file, connect } => {
            let l = weights::load(&file)?;
            let default_shape = l
                .sidecar
                .as_ref()
                .map(|s| s.net_shape())
                .unwrap_or(DEFAULT_SHAPE);
            let mut conn = Connection::open(&connect, default_shape)?;
            push_weights(&mut conn, &l.path, &l.values, l.sidecar.as_ref())?;
            outln!(
                "wrote {} weights ({}) from {} into {} on {} and read them back (sha256 {})",
                l.values.len(),
                conn.shape(),
                l.path.display(),
                conn.backend(),
                conn.path(),
                weights_sha256(&l.values)
            );
            if conn.kind() != DeviceKind::Serial {
                errln!("note: the virtual board ends with this command, and its weights with it; pass --port to write a board");
            }
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// zo info, zo ports

fn cmd_info(a: InfoArgs) -> Result<()> {
    let mut conn = Connection::open(&a.connect, DEFAULT_SHAPE)?;
    let status = conn.link().status()?;
    let id = conn.identity.clone();
    let shape = conn.shape();
    let samples_per_s = id.clock_hz as f64 / id.cycles_per_sample.max(1) as f64;
    if a.json {
        let v = serde_json::json!({
            "name": id.name,
            "board": conn.kind().name(),
            "port": conn.path(),
            "version": id.version,
            "shape": shape.to_string(),
            "n_in": id.n_in,
            "n_hid": id.n_hid,
            "n_out": id.n_out,
            "n_weights": id.n_weights,
            "sample_capacity": id.sample_capacity,
            "max_batch": id.max_batch(),
            "max_payload": id.max_payload,
            "w_frac": id.w_frac,
            "x_frac": id.x_frac,
            "z_frac": id.z_frac,
            "clock_hz": id.clock_hz,
            "baud": id.baud,
            "build_id": id.build_id,
            "cycles_per_sample": id.cycles_per_sample,
            "samples_per_second": samples_per_s,
            "status": {
                "state": status.state,
                "samples": status.samples,
                "updates": status.updates,
                "saturations": status.saturations,
                "device_cycles": status.device_cycles,
            },
        });
        outln!("{v}");
        return Ok(());
    }
    let state = match status.state {
        0 => "idle",
        1 => "training",
        2 => "evaluating",
        _ => "unknown",
    };
    let rows = [
        ("device", format!("{} (build {:#x})", id.name, id.build_id)),
        (
            "port",
            format!(
                "{}{}",
                conn.path(),
                match conn.kind() {
                    DeviceKind::Serial => String::new(),
                    k => format!(" (in-process {} board)", k.name()),
                }
            ),
        ),
        ("protocol", format!("version {}", id.version)),
        ("network", format!("{shape}, {} weights", id.n_weights)),
        (
            "formats",
            format!(
                "weights Q3.{}, inputs Q0.{}, logits Q7.{}",
                id.w_frac, id.x_frac, id.z_frac
            ),
        ),
        ("sample buffer", format!("{} samples", id.sample_capacity)),
        (
            "mini-batches",
            if id.max_batch() > 1 {
                "yes (accumulators)".to_string()
            } else {
                "no: batch 1 only".to_string()
            },
        ),
        ("max payload", format!("{} bytes", id.max_payload)),
        ("clock", format!("{} MHz", id.clock_hz as f64 / 1e6)),
        ("baud", id.baud.to_string()),
        (
            "speed",
            format!(
                "{} cycles per training sample = {samples_per_s:.0} samples/s at the clock",
                id.cycles_per_sample
            ),
        ),
        (
            "state",
            format!(
                "{state}; {} samples trained, {} updates, {} saturations, {} cycles",
                status.samples, status.updates, status.saturations, status.device_cycles
            ),
        ),
    ];
    for (k, v) in rows {
        outln!("{k:<14}{v}");
    }
    Ok(())
}

fn cmd_flash(a: FlashArgs) -> Result<()> {
    use zo_hdl::top::{board, Family, BOARDS};
    let Some(b) = board(&a.board) else {
        let names: Vec<_> = BOARDS.iter().map(|b| b.name).collect();
        anyhow::bail!(
            "unknown board '{}': use one of {}",
            a.board,
            names.join(", ")
        );
    };
    let default = format!(
        "build/{}/top.{}",
        b.name,
        if b.family == Family::Ecp5 {
            "bit"
        } else {
            "bin"
        }
    );
    let bitstream = a.bitstream.unwrap_or_else(|| default.into());
    let mut words: Vec<String> = b.programmer.iter().map(|s| s.to_string()).collect();
    words.push(bitstream.display().to_string());
    if a.dry_run {
        outln!("{}", words.join(" "));
        return Ok(());
    }
    if !bitstream.is_file() {
        anyhow::bail!(
            "no bitstream at {}: build it with `cargo xtask synth --board {}` or pass --bitstream FILE",
            bitstream.display(),
            b.name
        );
    }
    let status = std::process::Command::new(&words[0])
        .args(&words[1..])
        .status()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => anyhow::anyhow!(
                "{} is not installed: apt-get install {}",
                words[0],
                if words[0] == "iceprog" {
                    "fpga-icestorm"
                } else {
                    "openfpgaloader"
                }
            ),
            _ => anyhow::anyhow!("cannot run {}: {e}", words[0]),
        })?;
    if !status.success() {
        anyhow::bail!(
            "{} failed ({status}): check the USB cable and that the board is powered",
            words[0]
        );
    }
    Ok(())
}

fn cmd_ports(a: PortsArgs) -> Result<()> {
    let ports = connect::list_ports()?;
    if a.json {
        outln!("{}", serde_json::to_string(&ports)?);
        return Ok(());
    }
    if ports.is_empty() {
        outln!("no serial ports found (a board's FT2232H shows up as 0403:6010; virtual boards are not listed)");
        return Ok(());
    }
    outln!(
        "{:<20} {:<10} {:<9} {:<9} {:<16} product",
        "port",
        "type",
        "vid:pid",
        "interface",
        "serial"
    );
    for p in &ports {
        let vidpid = match (&p.vid, &p.pid) {
            (Some(v), Some(d)) => format!("{v}:{d}"),
            _ => "-".into(),
        };
        outln!(
            "{:<20} {:<10} {:<9} {:<9} {:<16} {}{}",
            p.path,
            p.kind,
            vidpid,
            p.interface.map_or("-".into(), |i| i.to_string()),
            p.serial.clone().unwrap_or_else(|| "-".into()),
            p.product
                .clone()
                .or(p.manufacturer.clone())
                .unwrap_or_else(|| "-".into()),
            if p.zo_board {
                "  <- zo board (FT2232H UART)"
            } else {
                ""
            }
        );
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// zo baseline

#[derive(Serialize)]
struct BaselineSummary {
    #[serde(flatten)]
    summary: Summary,
    lr: f64,
}

fn cmd_baseline(a: BaselineArgs) -> Result<()> {
    let (ds, info) = data::load_dataset(&a.data, defaults::DATASET)?;
    let d = defaults::for_dataset(info.builtin_name());
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
    let q = net.quantized();
    let last_stats = stats.last();
    let summary = Summary {
        dataset: info.name.clone(),
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
        batch: 1,
        n_train: prepared.data.train_x.len(),
        n_test: prepared.data.test_x.len(),
        device_cycles: 0,
        cycles_per_sample: 0.0,
        device_seconds: 0.0,
        wall_seconds: t0.elapsed().as_secs_f64(),
        recoveries: 0,
        weights_sha256: weights_sha256(&q),
        run_dir: String::new(),
    };
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
