//! Training on a device over the link: per epoch, SET_PARAMS with the epoch's seed, the
//! training samples loaded in `epoch_order` (in chunks when the buffer is smaller), TRAIN,
//! STATUS polls, EVALUATE on the training and test sets, and a weight read-back for the
//! checkpoint. Every job's result is checked against what the device must report; a device
//! that stops answering or was reset is reconnected, restored to the last checkpoint and the
//! epoch is run again, which gives the same weights as an undisturbed run.

use crate::connect::Connection;
use crate::link::LinkError;
use crate::rundir::EpochRecord;
use crate::util::weights_sha256;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zo_hdl::config::Shape;
use zo_hdl::config::{Estimator, LossKind};
use zo_proto::{ErrorCode, Params, Request, Sample, Status};
use zo_sim::data::schedule::{
    decayed_weights, epoch_order, epoch_seed, eta_shift_at, PreparedData,
};

/// Reconnection attempts after one failure before the run gives up.
pub const MAX_RECOVERIES: u32 = 6;
/// Times one epoch may be restarted after recoveries.
pub const MAX_EPOCH_RESTARTS: u32 = 8;

/// The device parameters of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hyper {
    pub estimator: Estimator,
    pub loss: LossKind,
    pub sigma: u16,
    pub eta_mant: u8,
    pub eta_shift: u8,
    /// The step halves every this many epochs (0: never): `zo_sim::data::schedule::eta_shift_at`.
    pub eta_decay: u32,
    pub batch: u16,
    pub seed: u32,
    /// The hybrid estimator's output-layer step shift (decays with `eta_shift`).
    pub out_shift: u8,
    /// Momentum register (0: off); needs a build with mini-batch accumulators.
    pub momentum: u8,
    /// Weight-decay shift (0: off): `zo_sim::data::schedule::decayed_weights` at each epoch's
    /// start, written to the device.
    pub weight_decay: u8,
}

/// What a session reports while it runs (the CLI prints it; the library never prints).
pub trait Observer {
    /// Samples processed in the current epoch (training, then evaluation) out of `total`.
    fn progress(&mut self, _epoch: u32, _done: u64, _total: u64) {}
    /// The device failed; reconnection attempt `attempt` follows.
    fn recovering(&mut self, _epoch: u32, _attempt: u32, _reason: &str) {}
    /// The device is back and restored to the last checkpoint.
    fn recovered(&mut self, _epoch: u32) {}
    /// An epoch is done and checkpointed.
    fn epoch_done(&mut self, _record: &EpochRecord) {}
}

/// An observer that ignores everything.
pub struct Quiet;
impl Observer for Quiet {}

/// Why a step failed.
#[derive(Debug)]
pub enum Failure {
    /// The device is silent, gone or was reset: reconnect and restore.
    Recoverable(String),
    /// Anything else.
    Fatal(anyhow::Error),
}

impl From<LinkError> for Failure {
    fn from(e: LinkError) -> Self {
        match e {
            // Unexpected: mid-run, an answer of the wrong type means a confused link (late
            // answers after a stall); the connection was identified when it opened.
            LinkError::Silent { .. }
            | LinkError::Io { .. }
            | LinkError::Open { .. }
            | LinkError::Unexpected { .. } => Failure::Recoverable(e.to_string()),
            LinkError::Device {
                code: ErrorCode::Busy,
                ..
            } => Failure::Recoverable(format!(
                "{e} (a job is running that this run did not start)"
            )),
            other => Failure::Fatal(anyhow::anyhow!("{other}")),
        }
    }
}

fn reset(reason: String) -> Failure {
    Failure::Recoverable(format!("the device was reset or lost its state: {reason}"))
}

/// A training session on one connection.
pub struct Trainer<'a> {
    conn: &'a mut Connection,
    hyper: Hyper,
    shape: Shape,
    capacity: usize,
    train: Vec<Sample>,
    test: Vec<Sample>,
    /// The test set stays in the buffer after the training samples.
    test_resident: bool,
    test_loaded: bool,
    /// TRAIN and EVALUATE jobs run so far (each waited for with STATUS polls).
    jobs: u32,
    /// Set (by a Ctrl-C handler) to stop: the device's job is stopped and the run ends.
    stop: Option<Arc<AtomicBool>>,
}

/// The error a stopped run ends with.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

impl<'a> Trainer<'a> {
    pub fn new(conn: &'a mut Connection, hyper: Hyper, data: &PreparedData) -> Self {
        let shape = conn.shape();
        let capacity = conn.identity.sample_capacity as usize;
        let samples = |xs: &[Vec<u8>], ys: &[usize]| -> Vec<Sample> {
            xs.iter()
                .zip(ys)
                .map(|(x, &y)| Sample {
                    label: y as u8,
                    features: x.clone(),
                })
                .collect()
        };
        let train = samples(&data.train_x, &data.train_y);
        let test = samples(&data.test_x, &data.test_y);
        let test_resident = train.len() + test.len() <= capacity;
        Self {
            conn,
            hyper,
            shape,
            capacity,
            train,
            test,
            test_resident,
            test_loaded: false,
            jobs: 0,
            stop: None,
        }
    }

    /// Ends the run (after stopping the device's job) once `flag` is set.
    pub fn with_stop(mut self, flag: Arc<AtomicBool>) -> Self {
        self.stop = Some(flag);
        self
    }

    fn check_stop(&mut self) -> Result<(), Failure> {
        if self.stop.as_ref().is_some_and(|f| f.load(Ordering::SeqCst)) {
            let _ = self.conn.link().command(&Request::Stop);
            return Err(Failure::Fatal(Interrupted.into()));
        }
        Ok(())
    }

    pub fn backend(&self) -> String {
        self.conn.backend().to_string()
    }

    /// Stops any job, writes `weights` and reads them back.
    pub fn restore(&mut self, weights: &[i16]) -> Result<(), Failure> {
        let link = self.conn.link();
        link.command(&Request::Stop)?;
        let s = link.status()?;
        if s.state != Status::IDLE {
            return Err(Failure::Recoverable(
                "the device did not stop its job".into(),
            ));
        }
        link.write_weights(weights)?;
        let back = link.read_weights(weights.len())?;
        if back != weights {
            return Err(Failure::Recoverable(
                "the weights read back differ from those written".into(),
            ));
        }
        self.test_loaded = false;
        Ok(())
    }

    /// Reconnects and restores `weights`, retrying with a growing pause.
    pub fn recover(
        &mut self,
        weights: &[i16],
        epoch: u32,
        first_reason: &str,
        obs: &mut dyn Observer,
    ) -> Result<(), anyhow::Error> {
        let mut reason = first_reason.to_string();
        for attempt in 1..=MAX_RECOVERIES {
            obs.recovering(epoch, attempt, &reason);
            std::thread::sleep(Duration::from_millis(250 << (attempt - 1).min(4)));
            let result = self
                .conn
                .reopen()
                .map_err(Failure::from)
                .and_then(|_| self.restore(weights));
            match result {
                Ok(()) => {
                    obs.recovered(epoch);
                    return Ok(());
                }
                Err(Failure::Recoverable(r)) => reason = r,
                Err(Failure::Fatal(e)) => return Err(e),
            }
        }
        anyhow::bail!(
            "the device on {} is gone: {reason} (after {MAX_RECOVERIES} reconnection attempts)",
            self.conn.path()
        )
    }

    fn set_params(&mut self, epoch: u32) -> Result<Status, Failure> {
        let seed = epoch_seed(self.hyper.seed, epoch);
        let h = self.hyper;
        let link = self.conn.link();
        if h.momentum > 0 {
            // The velocity lives in the accumulators: RESET zeroes it (and keeps weights and
            // samples), so every epoch starts from its checkpoint's weights alone, as the
            // tuner's trials and a resumed or recovered run do.
            link.command(&Request::Reset)?;
        }
        link.command(&Request::SetParams(Params {
            estimator: h.estimator as u8,
            loss: h.loss as u8,
            sigma: h.sigma,
            eta_mant: h.eta_mant,
            eta_shift: eta_shift_at(h.eta_shift, h.eta_decay, epoch),
            batch: h.batch,
            reseed: true,
            seed,
            out_shift: eta_shift_at(h.out_shift, h.eta_decay, epoch),
            momentum: h.momentum,
        }))?;
        let s = link.status()?;
        let expected = seed.max(1);
        if s.state != Status::IDLE {
            return Err(reset(format!(
                "it is busy (state {}) after SET_PARAMS",
                s.state
            )));
        }
        if s.probe_seed != expected {
            return Err(reset(format!(
                "its noise seed is {:#x} right after SET_PARAMS set {expected:#x}",
                s.probe_seed
            )));
        }
        Ok(s)
    }

    /// Runs the job just started and polls until it ends; checks that it ran to completion.
    fn wait(
        &mut self,
        count: u32,
        before: &Status,
        mut progress: impl FnMut(u64),
    ) -> Result<Status, Failure> {
        self.jobs += 1;
        let mut interval = Duration::from_millis(1);
        let mut last_done = 0;
        let mut last_change = Instant::now();
        let stall = if self.conn.kind() == crate::connect::DeviceKind::Rtl {
            Duration::from_secs(300)
        } else {
            Duration::from_secs(60)
        };
        loop {
            self.check_stop()?;
            let s = self.conn.link().status()?;
            progress(s.job_done.min(count) as u64);
            if s.state == Status::IDLE {
                if s.job_total != count || s.job_done != count {
                    return Err(reset(format!(
                        "its job ended after {} of {} samples (expected {count})",
                        s.job_done, s.job_total
                    )));
                }
                if s.device_cycles < before.device_cycles {
                    return Err(reset("its cycle counter went backwards".into()));
                }
                return Ok(s);
            }
            if s.job_done != last_done {
                last_done = s.job_done;
                last_change = Instant::now();
            } else if last_change.elapsed() > stall {
                return Err(Failure::Recoverable(format!(
                    "its job made no progress for {} s",
                    stall.as_secs()
                )));
            }
            std::thread::sleep(interval);
            interval = (interval * 2).min(Duration::from_millis(50));
        }
    }

    fn load(&mut self, start: usize, samples: &[Sample]) -> Result<(), Failure> {
        if !samples.is_empty() {
            self.conn.link().load_samples(start, samples)?;
        }
        Ok(())
    }

    /// EVALUATE `first..first+count`; returns (correct, loss sum, status after).
    fn evaluate(
        &mut self,
        first: usize,
        count: usize,
        before: &Status,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(u64, u64, Status), Failure> {
        self.conn.link().command(&Request::Evaluate {
            first: first as u16,
            count: count as u16,
        })?;
        let s = self.wait(count as u32, before, progress)?;
        if s.eval_count as usize != count || s.samples != before.samples {
            return Err(reset(format!(
                "EVALUATE counted {} of {count} samples and the sample counter moved from {} to {}",
                s.eval_count, before.samples, s.samples
            )));
        }
        Ok((s.eval_correct as u64, s.eval_loss_sum as u64, s))
    }

    /// Evaluates the test set, loading it in chunks unless it is in the buffer at `resident`.
    fn evaluate_test(
        &mut self,
        resident: Option<usize>,
        mut before: Status,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(u64, u64, Status), Failure> {
        let n = self.test.len();
        if n == 0 {
            return Ok((0, 0, before));
        }
        if let Some(first) = resident {
            return self.evaluate(first, n, &before, progress);
        }
        let (mut correct, mut loss) = (0, 0);
        let mut done = 0u64;
        for start in (0..n).step_by(self.capacity) {
            let end = (start + self.capacity).min(n);
            let chunk: Vec<Sample> = self.test[start..end].to_vec();
            self.load(0, &chunk)?;
            let base = done;
            let (c, l, s) = self.evaluate(0, chunk.len(), &before, &mut |d| progress(base + d))?;
            correct += c;
            loss += l;
            done += chunk.len() as u64;
            before = s;
        }
        Ok((correct, loss, before))
    }

    /// One epoch (0-based `epoch`) from `weights` (the device holds them: the last
    /// checkpoint): returns its record and the weights after it.
    pub fn epoch(
        &mut self,
        epoch: u32,
        weights: &[i16],
        obs: &mut dyn Observer,
    ) -> Result<(EpochRecord, Vec<i16>), Failure> {
        let t0 = Instant::now();
        let link0 = self.conn.link().stats;
        let jobs0 = self.jobs;
        let n_train = self.train.len();
        let n_test = self.test.len();
        // The training rows are scored by the device when they are all in its buffer, else
        // by the bit-exact model on the weights read back at the epoch's end: the same
        // answers (tests/commands.rs compares both) without sending every training row over
        // the link a second time each epoch.
        let train_resident = n_train <= self.capacity;
        let device_scored = if train_resident { n_train } else { 0 };
        let total = (n_train + device_scored + n_test) as u64;
        let shown = epoch + 1;
        obs.progress(shown, 0, total);
        self.check_stop()?;
        if let Some(w) = decayed_weights(weights, self.hyper.weight_decay, epoch) {
            self.conn.link().write_weights(&w)?;
        }
        let start = self.set_params(epoch)?;
        if self.test_resident && !self.test_loaded {
            let test = self.test.clone();
            self.load(n_train, &test)?;
            self.test_loaded = true;
        }
        let order = epoch_order(n_train, self.hyper.seed as u64, epoch as usize);
        // Whole mini-batches per chunk, so that only the epoch's last chunk applies a partial one.
        let batch = self.hyper.batch as usize;
        let chunk_size = if n_train <= self.capacity {
            n_train
        } else if batch <= self.capacity {
            self.capacity / batch * batch
        } else {
            self.capacity
        };
        let cps = self.conn.identity.cycles_per_sample as u64;
        let mut prev = start;
        let (mut loss_sum, mut sats, mut zeros, mut updates, mut train_cycles) =
            (0u64, 0u64, 0u64, 0u64, 0u64);
        let mut done = 0u64;
        for chunk in order.chunks(chunk_size.max(1)) {
            let samples: Vec<Sample> = chunk.iter().map(|&i| self.train[i].clone()).collect();
            self.load(0, &samples)?;
            self.conn.link().command(&Request::Train {
                first: 0,
                count: samples.len() as u16,
                epochs: 1,
            })?;
            let base = done;
            let s = self.wait(samples.len() as u32, &prev, |d| {
                obs.progress(shown, base + d, total)
            })?;
            let n = samples.len() as u32;
            if s.samples != prev.samples.wrapping_add(n) {
                return Err(reset(format!(
                    "its sample counter went from {} to {} over {n} samples",
                    prev.samples, s.samples
                )));
            }
            let cycles = s.device_cycles - prev.device_cycles;
            if cycles < n as u64 * cps {
                return Err(reset(format!(
                    "{n} samples took {cycles} cycles, fewer than {} at {cps} per sample",
                    n as u64 * cps
                )));
            }
            loss_sum += s.loss_sum.wrapping_sub(prev.loss_sum) as u64;
            sats += s.saturations.wrapping_sub(prev.saturations) as u64;
            zeros += s.zero_updates.wrapping_sub(prev.zero_updates) as u64;
            updates += s.updates.wrapping_sub(prev.updates) as u64;
            train_cycles += cycles;
            done += n as u64;
            prev = s;
        }
        // Evaluation: the training samples are in the buffer (shuffled) when they fit.
        let base = done;
        let (train_correct, s) = if train_resident {
            let (c, _, s) = self.evaluate(0, n_train, &prev, &mut |d| {
                obs.progress(shown, base + d, total)
            })?;
            (Some(c), s)
        } else {
            (None, prev)
        };
        let base = done + device_scored as u64;
        let test_resident = self.test_resident.then_some(n_train);
        let (test_correct, test_loss, s) = self.evaluate_test(test_resident, s, &mut |d| {
            obs.progress(shown, base + d, total)
        })?;
        let weights = self.conn.link().read_weights(self.shape.n_weights())?;
        let end = self.conn.link().status()?;
        if end.samples != s.samples || end.device_cycles < s.device_cycles {
            return Err(reset(
                "its counters changed while the weights were read".into(),
            ));
        }
        obs.progress(shown, total, total);
        let frac = |c: u64, n: usize| if n == 0 { 0.0 } else { c as f64 / n as f64 };
        let mut twin = zo_sim::model::Model::new(self.shape, 1);
        twin.set_weights(&weights);
        let xs: Vec<Vec<u8>> = self.train.iter().map(|s| s.features.clone()).collect();
        let dead_units = twin.dead_fraction(&xs);
        let train_correct = train_correct.unwrap_or_else(|| {
            self.train
                .iter()
                .filter(|s| twin.infer(&s.features, s.label as usize).class == s.label as usize)
                .count() as u64
        });
        let link = self.conn.link().stats;
        let record = EpochRecord {
            epoch: shown,
            train_accuracy: frac(train_correct, n_train),
            test_accuracy: frac(test_correct, n_test),
            loss: frac(loss_sum, n_train) / 256.0,
            test_loss: frac(test_loss, n_test) / 256.0,
            samples: n_train as u64,
            updates,
            saturations: sats,
            zero_updates: zeros,
            train_cycles,
            device_cycles: end.device_cycles - start.device_cycles,
            wall_seconds: t0.elapsed().as_secs_f64(),
            weights_sha256: weights_sha256(&weights),
            backend: self.backend(),
            recoveries: 0,
            dead_units: Some(dead_units),
            link_bytes: link.payload_traffic() - link0.payload_traffic(),
            jobs: self.jobs - jobs0,
            status_polls: link.status_requests - link0.status_requests,
        };
        Ok((record, weights))
    }
}

/// Runs epochs `first..epochs` from `weights` (the initial weights or the last checkpoint);
/// `checkpoint` receives each epoch's record and weights. Recovers from silent or reset
/// devices; any other failure ends the run.
pub fn run(
    trainer: &mut Trainer<'_>,
    mut weights: Vec<i16>,
    first: u32,
    epochs: u32,
    obs: &mut dyn Observer,
    checkpoint: &mut dyn FnMut(&EpochRecord, &[i16]) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<i16>> {
    match trainer.restore(&weights) {
        Ok(()) => {}
        Err(Failure::Recoverable(r)) => trainer.recover(&weights, first + 1, &r, obs)?,
        Err(Failure::Fatal(e)) => return Err(e),
    }
    for epoch in first..epochs {
        let mut restarts = 0;
        loop {
            match trainer.epoch(epoch, &weights, obs) {
                Ok((mut record, w)) => {
                    record.recoveries = restarts;
                    checkpoint(&record, &w)?;
                    obs.epoch_done(&record);
                    weights = w;
                    break;
                }
                Err(Failure::Recoverable(reason)) => {
                    restarts += 1;
                    if restarts > MAX_EPOCH_RESTARTS {
                        anyhow::bail!(
                            "epoch {} failed {MAX_EPOCH_RESTARTS} times: {reason}",
                            epoch + 1
                        );
                    }
                    trainer.recover(&weights, epoch + 1, &reason, obs)?;
                }
                Err(Failure::Fatal(e)) => return Err(e),
            }
        }
    }
    Ok(weights)
}
