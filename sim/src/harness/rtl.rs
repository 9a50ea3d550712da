//! Cycle-accurate harness around the rust-hdl learner, stepped directly
//! ([`crate::harness::testkit`]) rather than through the threaded `Simulation`, which is ~10x
//! slower. It is also the exact, slow learner backend of the reference device.
//!
//! It mirrors the reference model's API so that tests can drive both with the same calls and
//! compare every observable after every operation.

use crate::harness::vcd::{VcdError, VcdRecorder, VcdSpec};
use crate::model::{Counters, Inference, SampleLosses};
use rust_hdl::prelude::*;
use zo_hdl::config::{LossKind, Op, Shape, TrainParams};
use zo_hdl::learner::Learner;

/// The learner's scope in a waveform file.
const VCD_TOP: &str = "learner";
/// How the harness names the learner when its logic does not settle.
const WHAT: &str = "the learner's logic";

/// The RTL learner with an emulated synchronous sample buffer, a cycle counter and the running
/// totals of its per-operation counters (which the device keeps in its status file).
pub struct RtlLearner<const AW: usize> {
    uut: Box<Learner<AW>>,
    shape: Shape,
    sample: Vec<u8>,
    counters: Counters,
    /// Clock cycles simulated so far.
    pub cycles: u64,
    /// Cycles from `start` to `done` of the last operation.
    pub last_op_cycles: u64,
    vcd: Option<VcdRecorder>,
}

impl<const AW: usize> RtlLearner<AW> {
    pub fn new(shape: Shape) -> Self {
        let mut uut = Box::new(Learner::<AW>::new(shape));
        uut.connect_all();
        let mut s = Self {
            uut,
            shape,
            sample: vec![0; 256],
            counters: Counters::default(),
            cycles: 0,
            last_op_cycles: 0,
            vcd: None,
        };
        s.settle();
        s
    }

    /// Records the learner's signals selected by `spec` into a VCD file (top scope
    /// `learner`), one sample per clock cycle, until the harness is dropped.
    pub fn record_vcd(&mut self, spec: &VcdSpec) -> Result<(), VcdError> {
        self.vcd = Some(VcdRecorder::create(spec, &*self.uut, VCD_TOP)?);
        Ok(())
    }

    fn settle(&mut self) {
        crate::harness::testkit::settle(&mut *self.uut, WHAT);
    }

    /// One clock cycle. Inputs set before the call are seen at this rising edge; the sample
    /// buffer answers, after the edge, the address it saw at the edge (a synchronous read).
    pub fn tick(&mut self) {
        let a = self.uut.x_addr.val().index();
        let clock = |u: &mut Learner<AW>, c: bool| u.clock.next = c.into();
        crate::harness::testkit::clock_to(&mut *self.uut, WHAT, clock, true);
        self.uut.x_data.next = self.sample.get(a).copied().unwrap_or(0).to_bits();
        self.settle();
        crate::harness::testkit::clock_to(&mut *self.uut, WHAT, clock, false);
        self.cycles += 1;
        if let Some(v) = self.vcd.as_mut() {
            v.sample(self.cycles, &*self.uut, VCD_TOP);
        }
    }

    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// Generated Verilog of the learner (for co-simulation and synthesis).
    pub fn verilog(&self) -> String {
        generate_verilog(&*self.uut)
    }

    pub fn set_params(&mut self, p: &TrainParams) {
        let u = &mut self.uut;
        u.estimator_wp.next = p.estimator.perturbs_weights();
        u.hybrid.next = p.estimator.exact_output();
        u.out_shift.next = (p.out_shift as u64).to_bits();
        u.momentum.next = (p.momentum as u64).to_bits();
        u.cross_entropy.next = p.loss == LossKind::CrossEntropy;
        u.sigma.next = (p.sigma as u64).to_bits();
        u.eta_mant.next = (p.eta_mant as u64).to_bits();
        u.eta_shift.next = (p.eta_shift as u64).to_bits();
        u.batch.next = (p.batch as u64).to_bits();
        self.settle();
    }

    pub fn seed(&mut self, seed: u32) {
        self.uut.seed.next = (seed as u64).to_bits();
        self.uut.seed_load.next = true;
        self.tick();
        self.uut.seed_load.next = false;
        self.settle();
    }

    pub fn clear_counters(&mut self) {
        self.counters = Counters::default();
    }

    pub fn write_weights(&mut self, w: &[i16]) {
        assert_eq!(w.len(), self.shape.n_weights());
        for (a, &v) in w.iter().enumerate() {
            self.uut.host_addr.next = a.to_bits();
            self.uut.host_wdata.next = (v as u16 as u64).to_bits();
            self.uut.host_we.next = true;
            self.tick();
        }
        self.uut.host_we.next = false;
        self.settle();
    }

    pub fn read_weights(&mut self) -> Vec<i16> {
        (0..self.shape.n_weights())
            .map(|a| {
                self.uut.host_addr.next = a.to_bits();
                self.tick();
                self.uut.host_rdata.val().index() as u16 as i16
            })
            .collect()
    }

    /// Runs one operation to completion and returns its cycle count.
    fn run(&mut self, op: Op, target: usize) -> u64 {
        self.uut.op.next = (op as u64).to_bits();
        self.uut.target.next = target.to_bits();
        self.uut.start.next = true;
        self.tick();
        self.uut.start.next = false;
        self.settle();
        let start = self.cycles;
        let limit = 64 * self.shape.n_weights() as u64 + 10_000;
        while !self.uut.done.val() {
            self.tick();
            assert!(
                self.cycles - start < limit,
                "the learner never finished {op:?}"
            );
        }
        self.tick();
        self.last_op_cycles = self.cycles - start + 1;
        self.add_op_counters();
        self.last_op_cycles
    }

    /// Adds the finished operation's results to the running totals, as the status file does.
    fn add_op_counters(&mut self) {
        let u = &self.uut;
        let c = &mut self.counters;
        if u.op_trained.val() {
            let loss = u.op_loss.val().index() as u32;
            c.samples = c.samples.wrapping_add(1);
            c.loss_sum = c.loss_sum.wrapping_add(loss);
            c.last_loss = loss;
        }
        if u.op_updated.val() {
            c.updates = c.updates.wrapping_add(1);
        }
        c.saturations = c
            .saturations
            .wrapping_add(u.op_saturations.val().index() as u32);
        c.zero_updates = c
            .zero_updates
            .wrapping_add(u.op_zero_updates.val().index() as u32);
    }

    fn load_sample(&mut self, x: &[u8]) {
        assert!(x.len() >= self.shape.n_in);
        self.sample[..self.shape.n_in].copy_from_slice(&x[..self.shape.n_in]);
    }

    pub fn train(&mut self, x: &[u8], target: usize) -> SampleLosses {
        self.load_sample(x);
        self.run(Op::Train, target);
        SampleLosses {
            plus: self.uut.loss_plus.val().index() as u32,
            minus: self.uut.loss_minus.val().index() as u32,
        }
    }

    /// Clean inference; the logits are read back through the logit port.
    pub fn infer(&mut self, x: &[u8], target: usize) -> Inference {
        self.load_sample(x);
        self.run(Op::Infer, target);
        let cycles = self.last_op_cycles;
        let logits = (0..self.shape.n_out)
            .map(|k| {
                self.uut.logit_addr.next = k.to_bits();
                self.tick();
                self.uut.logit_data.val().index() as u16 as i16
            })
            .collect();
        self.last_op_cycles = cycles;
        Inference {
            logits,
            class: self.uut.infer_class.val().index(),
            loss: self.uut.op_loss.val().index() as u32,
        }
    }

    pub fn apply(&mut self) {
        self.run(Op::Apply, 0);
    }

    pub fn clear_accumulators(&mut self) {
        self.run(Op::ClearAccumulators, 0);
    }

    pub fn counters(&self) -> Counters {
        self.counters
    }

    pub fn probe_seed(&self) -> u32 {
        self.uut.probe_seed.val().index() as u32
    }

    pub fn batch_pos(&self) -> u16 {
        self.uut.batch_pos.val().index() as u16
    }
}
