//! The device side of the protocol (docs/PROTOCOL.md) over a learner backend: the reference
//! model (fast) or the rust-hdl learner (exact, slow). This is the specification of what a
//! device does with each request; the virtual board ([`crate::device::vboard`]) serves it on a
//! PTY.
//!
//! The device is a pure state machine: [`Device::receive`] takes bytes and returns the bytes to
//! send back, [`Device::step`] runs one sample of the current job. Status requests are answered
//! between samples, as on hardware.

use crate::harness::rtl::RtlLearner;
use crate::model::{Counters, Inference, Model};
use zo_hdl::config::{Estimator, LossKind, Shape, TrainParams};
use zo_proto::{
    kind, ErrorCode, FrameDecoder, FrameError, Identity, Packet, Params, ProtoError, Request,
    Response, Sample, Status,
};

/// A learner the device can drive: the reference model or the RTL simulation.
pub trait Backend {
    fn shape(&self) -> Shape;
    fn set_params(&mut self, p: &TrainParams);
    fn seed(&mut self, seed: u32);
    fn weights(&mut self) -> Vec<i16>;
    fn set_weights(&mut self, w: &[i16]);
    /// Trains one sample and returns the learner cycles it took.
    fn train(&mut self, x: &[u8], target: usize) -> u64;
    /// Clean inference and its cycles.
    fn infer(&mut self, x: &[u8], target: usize) -> (Inference, u64);
    /// Applies a partial mini-batch; returns its cycles (0 when nothing was accumulated).
    fn apply(&mut self) -> u64;
    fn clear_accumulators(&mut self);
    fn counters(&self) -> Counters;
    fn clear_counters(&mut self);
    fn probe_seed(&self) -> u32;
    fn batch_pos(&self) -> u16;
}

impl Backend for Model {
    fn shape(&self) -> Shape {
        Model::shape(self)
    }
    fn set_params(&mut self, p: &TrainParams) {
        self.params = *p;
    }
    fn seed(&mut self, seed: u32) {
        Model::seed(self, seed)
    }
    fn weights(&mut self) -> Vec<i16> {
        Model::weights(self).to_vec()
    }
    fn set_weights(&mut self, w: &[i16]) {
        Model::set_weights(self, w)
    }
    fn train(&mut self, x: &[u8], target: usize) -> u64 {
        let updates = self.counters.updates;
        let batched = self.params.batch > 1;
        Model::train(self, x, target);
        let shape = Model::shape(self);
        let applied = batched && self.counters.updates != updates;
        shape.train_cycles_of(self.params.estimator)
            + if applied {
                shape.batch_apply_cycles()
            } else {
                0
            }
    }
    fn infer(&mut self, x: &[u8], target: usize) -> (Inference, u64) {
        let shape = Model::shape(self);
        (Model::infer(self, x, target), shape.infer_cycles())
    }
    fn apply(&mut self) -> u64 {
        if self.batch_pos() == 0 {
            return 0;
        }
        Model::apply(self);
        Model::shape(self).apply_op_cycles()
    }
    fn clear_accumulators(&mut self) {
        Model::clear_accumulators(self)
    }
    fn counters(&self) -> Counters {
        self.counters
    }
    fn clear_counters(&mut self) {
        self.counters = Counters::default();
    }
    fn probe_seed(&self) -> u32 {
        Model::probe_seed(self)
    }
    fn batch_pos(&self) -> u16 {
        Model::batch_pos(self)
    }
}

impl<const AW: usize> Backend for RtlLearner<AW> {
    fn shape(&self) -> Shape {
        RtlLearner::shape(self)
    }
    fn set_params(&mut self, p: &TrainParams) {
        RtlLearner::set_params(self, p)
    }
    fn seed(&mut self, seed: u32) {
        RtlLearner::seed(self, seed)
    }
    fn weights(&mut self) -> Vec<i16> {
        self.read_weights()
    }
    fn set_weights(&mut self, w: &[i16]) {
        self.write_weights(w)
    }
    fn train(&mut self, x: &[u8], target: usize) -> u64 {
        RtlLearner::train(self, x, target);
        self.last_op_cycles
    }
    fn infer(&mut self, x: &[u8], target: usize) -> (Inference, u64) {
        let r = RtlLearner::infer(self, x, target);
        (r, self.last_op_cycles)
    }
    fn apply(&mut self) -> u64 {
        if RtlLearner::batch_pos(self) == 0 {
            return 0;
        }
        RtlLearner::apply(self);
        self.last_op_cycles
    }
    fn clear_accumulators(&mut self) {
        RtlLearner::clear_accumulators(self)
    }
    fn counters(&self) -> Counters {
        RtlLearner::counters(self)
    }
    fn clear_counters(&mut self) {
        RtlLearner::clear_counters(self)
    }
    fn probe_seed(&self) -> u32 {
        RtlLearner::probe_seed(self)
    }
    fn batch_pos(&self) -> u16 {
        RtlLearner::batch_pos(self)
    }
}

/// What the device reports about itself: the same description the RTL engine takes.
pub use zo_hdl::engine::controller::ControllerInfo as DeviceInfo;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JobKind {
    Train,
    Evaluate,
}

#[derive(Clone, Copy, Debug)]
struct Job {
    kind: JobKind,
    first: u16,
    count: u16,
    epochs: u16,
    /// Next sample of the current pass.
    next: u16,
}

/// The reference device: the protocol over a learner backend.
pub struct Device<B: Backend> {
    backend: B,
    info: DeviceInfo,
    decoder: FrameDecoder,
    /// Sample slots; a slot holds label 0 and zero features until loaded.
    samples: Vec<Sample>,
    job: Option<Job>,
    status: Status,
    /// The seq and encoded response of the last executed request.
    last: Option<(u8, Vec<u8>)>,
    /// Requests executed (not replayed), by kind: lets tests prove nothing ran twice.
    pub executed: Vec<(u8, u8)>,
}

impl<B: Backend> Device<B> {
    pub fn new(backend: B, info: DeviceInfo) -> Self {
        let capacity = info.sample_capacity as usize;
        let empty = Sample {
            label: 0,
            features: vec![0; backend.shape().n_in],
        };
        let mut d = Self {
            backend,
            info,
            decoder: FrameDecoder::new(),
            samples: vec![empty; capacity],
            job: None,
            status: Status::default(),
            last: None,
            executed: Vec::new(),
        };
        d.reset();
        d
    }

    pub fn backend(&self) -> &B {
        &self.backend
    }

    pub fn shape(&self) -> Shape {
        self.backend.shape()
    }

    /// Whether a job is running (the server then calls [`Device::step`] between reads).
    pub fn busy(&self) -> bool {
        self.job.is_some()
    }

    /// Feeds received bytes; returns the bytes to transmit.
    pub fn receive(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for &b in bytes {
            if let Some(frame) = self.decoder.push(b) {
                out.extend(self.answer(frame));
            }
        }
        out
    }

    /// Sends `request` as one frame and decodes the answer: the first good response packet,
    /// or `None` when the device sent none (the block tests compare against this).
    pub fn request(&mut self, request: &Packet) -> Option<Packet> {
        let wire = self.receive(&zo_proto::encode_frame(request));
        let mut dec = FrameDecoder::new();
        wire.iter().find_map(|&b| dec.push(b)).and_then(Result::ok)
    }

    fn answer(&mut self, frame: Result<Packet, FrameError>) -> Vec<u8> {
        let packet = match frame {
            Ok(p) => p,
            Err(e) => {
                return zo_proto::encode_frame(&Response::Nak(e.nak_reason()).to_packet(0));
            }
        };
        if let Some((seq, bytes)) = &self.last {
            if *seq == packet.seq {
                return bytes.clone();
            }
        }
        let response = self.execute(&packet);
        let bytes = zo_proto::encode_frame(&response.to_packet(packet.seq));
        self.executed.push((packet.kind, packet.seq));
        // RESET forgets the stored response; everything else is remembered for replay.
        if packet.kind == kind::RESET && !matches!(response, Response::Error { .. }) {
            self.last = None;
        } else {
            self.last = Some((packet.seq, bytes.clone()));
        }
        bytes
    }

    fn error(request: u8, code: ErrorCode, detail: u16) -> Response {
        Response::Error {
            request,
            code,
            detail,
        }
    }

    fn execute(&mut self, packet: &Packet) -> Response {
        let shape = self.shape();
        let request = match Request::decode(packet.kind, &packet.payload, shape.n_in) {
            Ok(r) => r,
            Err(e) => {
                let (code, detail) = ProtoError::error_code(&e);
                return Self::error(packet.kind, code, detail);
            }
        };
        let k = packet.kind;
        let allowed_while_busy = matches!(
            request,
            Request::Identify | Request::Status | Request::Stop | Request::Reset
        );
        if self.job.is_some() && !allowed_while_busy {
            return Self::error(k, ErrorCode::Busy, 0);
        }
        let n_weights = shape.n_weights();
        let capacity = self.samples.len();
        match request {
            Request::Identify => Response::Identity(self.identity()),
            Request::Status => Response::Status(self.status()),
            Request::ReadWeights { start, count } => {
                let (s, n) = (start as usize, count as usize);
                if s + n > n_weights {
                    return Self::error(k, ErrorCode::OutOfRange, n_weights as u16);
                }
                let w = self.backend.weights();
                Response::Weights {
                    start,
                    values: w[s..s + n].to_vec(),
                }
            }
            Request::WriteWeights { start, values } => {
                let s = start as usize;
                if s + values.len() > n_weights {
                    return Self::error(k, ErrorCode::OutOfRange, n_weights as u16);
                }
                let mut w = self.backend.weights();
                w[s..s + values.len()].copy_from_slice(&values);
                self.backend.set_weights(&w);
                Response::Done { request: k }
            }
            Request::LoadSamples { start, samples } => {
                let s = start as usize;
                if s + samples.len() > capacity {
                    return Self::error(k, ErrorCode::OutOfRange, capacity as u16);
                }
                if samples.iter().any(|x| x.label as usize >= shape.n_out) {
                    return Self::error(k, ErrorCode::OutOfRange, shape.n_out as u16);
                }
                for (i, x) in samples.into_iter().enumerate() {
                    self.samples[s + i] = x;
                }
                Response::Done { request: k }
            }
            Request::SetParams(p) => {
                // The limit is the one IDENTIFY reports (`limits`), not a second copy of it.
                let max_batch = self.identity().max_batch();
                if p.batch > max_batch {
                    return Self::error(k, ErrorCode::OutOfRange, max_batch);
                }
                // In the order of docs/PROTOCOL.md: batch, momentum, estimator.
                let max_momentum = self.identity().max_momentum();
                if p.momentum > max_momentum {
                    return Self::error(k, ErrorCode::OutOfRange, max_momentum as u16);
                }
                let max_estimator = self.identity().max_estimator();
                if p.estimator > max_estimator {
                    return Self::error(k, ErrorCode::OutOfRange, max_estimator as u16);
                }
                self.backend.set_params(&train_params(&p));
                if p.reseed {
                    self.backend.seed(p.seed);
                }
                Response::Done { request: k }
            }
            Request::Train {
                first,
                count,
                epochs,
            } => self.start_job(k, JobKind::Train, first, count, epochs),
            Request::Evaluate { first, count } => {
                self.start_job(k, JobKind::Evaluate, first, count, 1)
            }
            Request::Stop => {
                self.job = None;
                self.status.state = 0;
                Response::Done { request: k }
            }
            Request::Infer(sample) => {
                if sample.label as usize >= shape.n_out {
                    return Self::error(k, ErrorCode::OutOfRange, shape.n_out as u16);
                }
                let (r, cycles) = self.backend.infer(&sample.features, sample.label as usize);
                self.status.device_cycles += cycles;
                Response::Inference {
                    class: r.class as u8,
                    loss: r.loss,
                    logits: r.logits,
                }
            }
            Request::Reset => {
                self.reset();
                Response::Done { request: k }
            }
        }
    }

    fn start_job(&mut self, k: u8, kind: JobKind, first: u16, count: u16, epochs: u16) -> Response {
        // A count or epochs of 0 never gets here: the decoder refuses it before BUSY.
        let end = first as usize + count as usize;
        if end > self.samples.len() {
            return Self::error(k, ErrorCode::OutOfRange, self.samples.len() as u16);
        }
        self.job = Some(Job {
            kind,
            first,
            count,
            epochs,
            next: 0,
        });
        let s = &mut self.status;
        s.state = if kind == JobKind::Train { 1 } else { 2 };
        s.epoch = 0;
        s.job_done = 0;
        s.job_total = count as u32 * epochs as u32;
        if kind == JobKind::Evaluate {
            s.eval_count = 0;
            s.eval_correct = 0;
            s.eval_loss_sum = 0;
        }
        Response::Done { request: k }
    }

    /// Runs one sample of the current job; returns false when there is none.
    pub fn step(&mut self) -> bool {
        let Some(mut job) = self.job else {
            return false;
        };
        let index = (job.first + job.next) as usize;
        let sample = self.samples[index].clone();
        let target = sample.label as usize;
        match job.kind {
            JobKind::Train => {
                self.status.device_cycles += self.backend.train(&sample.features, target);
            }
            JobKind::Evaluate => {
                let (r, cycles) = self.backend.infer(&sample.features, target);
                self.status.device_cycles += cycles;
                self.status.eval_count += 1;
                self.status.eval_loss_sum = self.status.eval_loss_sum.wrapping_add(r.loss);
                if r.class == target {
                    self.status.eval_correct += 1;
                }
            }
        }
        self.status.job_done += 1;
        job.next += 1;
        if job.next == job.count {
            job.next = 0;
            if job.kind == JobKind::Train {
                self.status.device_cycles += self.backend.apply();
            }
            self.status.epoch += 1;
        }
        if self.status.epoch == job.epochs {
            self.job = None;
            self.status.state = 0;
        } else {
            self.job = Some(job);
        }
        true
    }

    fn identity(&self) -> Identity {
        zo_hdl::engine::controller::identity(self.shape(), &self.info)
    }

    fn status(&self) -> Status {
        let c = self.backend.counters();
        Status {
            samples: c.samples,
            updates: c.updates,
            saturations: c.saturations,
            zero_updates: c.zero_updates,
            loss_sum: c.loss_sum,
            last_loss: c.last_loss,
            probe_seed: self.backend.probe_seed(),
            batch_pos: self.backend.batch_pos(),
            ..self.status
        }
    }

    /// Power-on state except weights and samples (docs/PROTOCOL.md, RESET).
    fn reset(&mut self) {
        self.job = None;
        self.backend.set_params(&TrainParams::default());
        self.backend.seed(1);
        self.backend.clear_accumulators();
        self.backend.clear_counters();
        self.status = Status::default();
        self.last = None;
    }
}

/// The learner's registers from the wire parameters (already validated by the decoder).
pub fn train_params(p: &Params) -> TrainParams {
    TrainParams {
        estimator: Estimator::from_u8(p.estimator).unwrap_or(Estimator::NodePerturbation),
        loss: LossKind::from_u8(p.loss).unwrap_or(LossKind::SquaredError),
        sigma: p.sigma,
        eta_mant: p.eta_mant,
        eta_shift: p.eta_shift,
        batch: p.batch,
        out_shift: p.out_shift,
        momentum: p.momentum,
    }
}
