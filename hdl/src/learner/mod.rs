//! The learner: a one-hidden-layer fixed-point MLP that trains itself by zeroth-order probing.
//!
//! Contract (one clock domain `clock`; reference model `zo_sim::model::Model`, which defines
//! every result bit for bit; formats in [`crate::formats`], layout in [`crate::config::Shape`]):
//!
//! Registers (inputs, held stable while `busy`): `estimator_wp` (0 node perturbation, 1 weight
//! perturbation), `hybrid` (the exact delta rule on the output layer with step shift
//! `out_shift`, the estimator probing the hidden layer only: `Hybrid` with `estimator_wp` low,
//! `WpHybrid` with it high),
//! `cross_entropy` (0 squared error, 1 cross-entropy), `sigma` (Q.12), `eta_mant`,
//! `eta_shift` (0..=31), `out_shift` (0..=31), `batch` (0 and 1 both mean "apply every
//! sample"), `momentum` (0..=7, 0 off: an apply leaves `A - (A >> m)` in the accumulator
//! instead of 0; with batch 1 each weight accumulates, applies and decays in the update sweep;
//! ignored by a build without accumulators).
//!
//! Strobes, honoured only while idle: `seed_load` restarts both generators from `seed` (a zero
//! `seed` is first replaced by 1: noise from it, rounding from it `^ ROUND_SEED_XOR`);
//! `start` runs operation `op` ([`crate::config::Op`]) on the sample in the external buffer,
//! class `target`. `busy` rises in the next cycle and `done` pulses for one cycle at the end.
//!
//! Per-operation results, valid from `done` until the next `start` (the running totals of the
//! model's `Counters` are kept outside, in [`crate::engine::status_file`]): `op_trained` (a training
//! sample finished), `op_updated` (the weights were updated), `op_saturations` and
//! `op_zero_updates` (clips and zero-rounded updates during the operation; at most two per
//! cycle and an operation takes fewer than 2^15 cycles with `AW <= 13`: `3 * 2^13 + 4 * 254 + 45`
//! < 2^15, so 16 bits never wrap),
//! `op_loss` (`(L+ + L-) / 2` of a training sample, the clean loss of an inference; kept by
//! other operations).
//!
//! Sample buffer (external, synchronous): the learner drives `x_addr` (feature index) and reads
//! `x_data` one cycle later. Features are signed Q0.7 bytes ([`crate::formats::input_operand`]).
//!
//! Host port (idle only): `host_we` writes `host_wdata` to weight `host_addr`; a read of
//! `host_addr` appears on `host_rdata` one cycle later. Logit `logit_addr` of the last pass
//! appears on `logit_data` one cycle later.
//!
//! Schedule: every pass is a sweep over the weight memory, one weight per cycle, through a
//! six-stage pipeline: S0 address and noise draw, S1 memory data and operand select (and the
//! perturbed weight for WP), S2 multiply, S3 accumulate / signed contribution (and the
//! mini-batch accumulator read-modify-write: read at S2, written at S3), S4 noise add /
//! stochastic rounding, S5 write-back of activations, logits or weights (an update or apply
//! sweep reads the old weight at S4, so no copy of it travels down the pipeline). A training sample is
//! `+` pass, loss, `-` pass, loss, step size, update sweep; the pipeline drains (6 cycles)
//! between the two layers of a forward pass and at the end of each sweep.
//! Cycles per sample (batch 1): `3 W + 4 n_out + 45` with `W` weights (the bound is `3 W`),
//! `n_out + 2` more under the hybrid estimator (the loss unit's derivative sweep);
//! (see docs/ARCHITECTURE.md; the tests measure it).
//!
//! Composition: [`sequencer::Sequencer`] (phases, S0 addresses, noise draw, drains, per-operation
//! results), [`pipeline::Pipeline`] (S1..S5: operand select, multiply, accumulate, node noise,
//! activation and logit), [`step::StepUnit`] (step size, contribution, accumulators and
//! momentum, stochastic rounding, weight write-back) and [`loss::LossUnit`]; each has its
//! contract on top and a test against the model. This block holds the weight memory, which the
//! pipeline reads in forward passes, the step unit in update and apply sweeps and the host
//! while idle, and wires the pieces. The cut leaves the logic as it was: yosys flattens the
//! pieces, and the iCEBreaker build went from 5215 to 5197 logic cells, 24.1 to 24.7 MHz
//! (`cargo xtask synth --board icebreaker`; the Alchitry Cu 7299 to 7291 LC, 55.7 to 56.1 MHz).
//!
//! Wiring rule (rust-hdl simulation): a harness may change an input in the same delta as the
//! rising clock, and rust-hdl moves a clock one block boundary per delta, like data. An input
//! therefore reaches a register at that edge only if its path crosses no more boundaries than
//! the clock does: down into a piece, never down, up and down again. So `seed_load` and `seed`
//! go to the step unit's rounding generator straight from this block's ports, not through the
//! sequencer (through it, the generator missed its load and the weights differed by one LSB).
pub mod lfsr;
pub mod loss;
pub mod pipeline;
pub mod sequencer;
pub mod step;

use crate::config::Shape;
use crate::learner::loss::LossUnit;
use crate::learner::pipeline::Pipeline;
use crate::learner::sequencer::Sequencer;
use crate::learner::step::StepUnit;
use crate::mem::sized_ram::SizedRam;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct Learner<const AW: usize> {
    pub clock: Signal<In, Clock>,
    // Run-time registers.
    pub estimator_wp: Signal<In, bool>,
    pub hybrid: Signal<In, bool>,
    pub out_shift: Signal<In, Bits<5>>,
    pub momentum: Signal<In, Bits<3>>,
    pub cross_entropy: Signal<In, bool>,
    pub sigma: Signal<In, Bits<16>>,
    pub eta_mant: Signal<In, Bits<8>>,
    pub eta_shift: Signal<In, Bits<5>>,
    pub batch: Signal<In, Bits<16>>,
    pub seed: Signal<In, Bits<32>>,
    pub seed_load: Signal<In, bool>,
    pub op: Signal<In, Bits<2>>,
    pub start: Signal<In, bool>,
    pub target: Signal<In, Bits<8>>,
    // Sample buffer.
    pub x_addr: Signal<Out, Bits<8>>,
    pub x_data: Signal<In, Bits<8>>,
    // Host weight port.
    pub host_addr: Signal<In, Bits<AW>>,
    pub host_wdata: Signal<In, Bits<16>>,
    pub host_we: Signal<In, bool>,
    pub host_rdata: Signal<Out, Bits<16>>,
    pub logit_addr: Signal<In, Bits<8>>,
    pub logit_data: Signal<Out, Bits<16>>,
    // Status.
    pub busy: Signal<Out, bool>,
    pub done: Signal<Out, bool>,
    pub op_trained: Signal<Out, bool>,
    pub op_updated: Signal<Out, bool>,
    pub op_saturations: Signal<Out, Bits<16>>,
    pub op_zero_updates: Signal<Out, Bits<16>>,
    pub op_loss: Signal<Out, Bits<32>>,
    pub loss_plus: Signal<Out, Bits<32>>,
    pub loss_minus: Signal<Out, Bits<32>>,
    pub infer_class: Signal<Out, Bits<8>>,
    pub probe_seed: Signal<Out, Bits<32>>,
    pub batch_pos: Signal<Out, Bits<16>>,

    // Pieces and the weight memory.
    sequencer: Sequencer<AW>,
    pipeline: Pipeline<AW>,
    step: StepUnit<AW>,
    loss: LossUnit,
    weights: SizedRam<Bits<16>, AW>,
    /// Update and apply sweeps read the weight at S4 for the write-back, forward passes at S0.
    late_read: Signal<Local, bool>,
}

impl<const AW: usize> Learner<AW> {
    /// A learner for `shape`; panics (at elaboration) when the shape does not fit `AW` or the
    /// accumulator bound.
    pub fn new(shape: Shape) -> Self {
        Self::with_features(shape, true, true)
    }

    /// A learner without mini-batch accumulators (one 32-bit word per weight less of block
    /// RAM): every sample is applied at once whatever `batch` says, and the `Apply` op finds
    /// nothing to apply. The protocol engine refuses batch sizes above 1 for such a build.
    pub fn without_batch(shape: Shape) -> Self {
        Self::with_features(shape, false, true)
    }

    /// A learner with or without the mini-batch accumulators (see [`Self::without_batch`])
    /// and the hybrid estimator's exact output layer (the loss unit's derivative sweep and
    /// its store; about 200 iCE40 logic cells). Without it the `hybrid` register is ignored
    /// and the protocol engine refuses the estimator.
    pub fn with_features(shape: Shape, has_batch: bool, has_exact: bool) -> Self {
        // The sequencer checks the shape against `AW` and the counter bound `AW <= 13`.
        let sequencer = Sequencer::new(shape, has_batch, has_exact);
        Self {
            clock: Default::default(),
            estimator_wp: Default::default(),
            hybrid: Default::default(),
            out_shift: Default::default(),
            momentum: Default::default(),
            cross_entropy: Default::default(),
            sigma: Default::default(),
            eta_mant: Default::default(),
            eta_shift: Default::default(),
            batch: Default::default(),
            seed: Default::default(),
            seed_load: Default::default(),
            op: Default::default(),
            start: Default::default(),
            target: Default::default(),
            x_addr: Default::default(),
            x_data: Default::default(),
            host_addr: Default::default(),
            host_wdata: Default::default(),
            host_we: Default::default(),
            host_rdata: Default::default(),
            logit_addr: Default::default(),
            logit_data: Default::default(),
            busy: Default::default(),
            done: Default::default(),
            op_trained: Default::default(),
            op_updated: Default::default(),
            op_saturations: Default::default(),
            op_zero_updates: Default::default(),
            op_loss: Default::default(),
            loss_plus: Default::default(),
            loss_minus: Default::default(),
            infer_class: Default::default(),
            probe_seed: Default::default(),
            batch_pos: Default::default(),
            sequencer,
            pipeline: Pipeline::new(shape),
            step: StepUnit::new(shape, has_batch),
            loss: LossUnit::with_derivative(shape.n_out, has_exact),
            weights: SizedRam::new(shape.n_weights()),
            late_read: Default::default(),
        }
    }
}

impl<const AW: usize> Logic for Learner<AW> {
    #[hdl_gen]
    fn update(&mut self) {
        self.sequencer.clock.next = self.clock.val();
        self.pipeline.clock.next = self.clock.val();
        self.step.clock.next = self.clock.val();
        self.loss.clock.next = self.clock.val();
        self.weights.read_clock.next = self.clock.val();
        self.weights.write_clock.next = self.clock.val();

        // ---------------- Sequencer ----------------
        self.sequencer.estimator_wp.next = self.estimator_wp.val();
        self.sequencer.hybrid.next = self.hybrid.val();
        self.sequencer.batch.next = self.batch.val();
        self.sequencer.seed.next = self.seed.val();
        self.sequencer.seed_load.next = self.seed_load.val();
        self.sequencer.op.next = self.op.val();
        self.sequencer.start.next = self.start.val();
        self.sequencer.pipe_busy.next = self.pipeline.pipe_busy.val();
        self.sequencer.loss_done.next = self.loss.done.val();
        self.sequencer.loss_value.next = self.loss.loss.val();
        self.sequencer.loss_class.next = self.loss.predicted.val();
        self.sequencer.clip_weight.next = self.pipeline.clip_weight.val();
        self.sequencer.clip_logit.next = self.pipeline.clip_logit.val();
        self.sequencer.clip_step.next = self.step.clip.val();
        self.sequencer.loss_sat.next = self.loss.sat.val();
        self.sequencer.zero_update.next = self.step.zero_update.val();

        // ---------------- Pipeline ----------------
        self.pipeline.estimator_wp.next = self.estimator_wp.val();
        self.pipeline.sigma.next = self.sigma.val();
        self.pipeline.hybrid_on.next = self.sequencer.hybrid_on.val();
        self.pipeline.pass_minus.next = self.sequencer.pass_minus.val();
        self.pipeline.pass_clean.next = self.sequencer.pass_clean.val();
        self.pipeline.mode_update.next = self.sequencer.mode_update.val();
        self.pipeline.mode_apply.next = self.sequencer.mode_apply.val();
        self.pipeline.s0_valid.next = self.sequencer.s0_valid.val();
        self.pipeline.s0_first.next = self.sequencer.s0_first.val();
        self.pipeline.s0_last.next = self.sequencer.s0_last.val();
        self.pipeline.s0_layer.next = self.sequencer.s0_layer.val();
        self.pipeline.s0_row.next = self.sequencer.s0_row.val();
        self.pipeline.s0_col.next = self.sequencer.s0_col.val();
        self.pipeline.s0_addr.next = self.sequencer.s0_addr.val();
        self.pipeline.s0_sign.next = self.sequencer.s0_sign.val();
        self.pipeline.w_rdata.next = self.weights.read_data.val();
        self.pipeline.x_data.next = self.x_data.val();
        self.pipeline.g_data.next = self.loss.g_data.val();
        self.pipeline.step.next = self.step.step.val();
        self.pipeline.step_operands.next = self.sequencer.step_operands.val();
        self.pipeline.step_a.next = self.step.mul_a.val();
        self.pipeline.step_b.next = self.step.mul_b.val();
        self.x_addr.next = self.sequencer.s0_col.val();

        // ---------------- Step and rounding ----------------
        self.step.momentum.next = self.momentum.val();
        self.step.eta_mant.next = self.eta_mant.val();
        self.step.eta_shift.next = self.eta_shift.val();
        self.step.out_shift.next = self.out_shift.val();
        self.step.hybrid_on.next = self.sequencer.hybrid_on.val();
        self.step.batch_one.next = self.sequencer.batch_one.val();
        self.step.mode_update.next = self.sequencer.mode_update.val();
        self.step.mode_apply.next = self.sequencer.mode_apply.val();
        self.step.clear_only.next = self.sequencer.clear_only.val();
        self.step.l_plus.next = self.sequencer.loss_plus.val();
        self.step.l_minus.next = self.sequencer.loss_minus.val();
        self.step.step_operands.next = self.sequencer.step_operands.val();
        self.step.step_capture.next = self.sequencer.step_capture.val();
        self.step.product.next = self.pipeline.product.val();
        self.step.s2_addr.next = self.pipeline.s2_addr.val();
        self.step.s3_valid.next = self.pipeline.s3_valid.val();
        self.step.s3_sign.next = self.pipeline.s3_sign.val();
        self.step.s3_addr.next = self.pipeline.s3_addr.val();
        self.step.s4_valid.next = self.pipeline.s4_valid.val();
        self.step.s4_layer.next = self.pipeline.s4_layer.val();
        self.step.s5_valid.next = self.pipeline.s5_valid.val();
        self.step.w_old.next = self.weights.read_data.val();
        self.step.seed_load.next = self.seed_load.val();
        self.step.seed.next = self.seed.val();
        self.step.idle.next = !self.sequencer.busy.val();

        // ---------------- Loss unit ----------------
        self.loss.start.next = self.sequencer.loss_start.val();
        self.loss.grad.next = self.sequencer.loss_grad.val();
        self.loss.cross_entropy.next = self.cross_entropy.val();
        self.loss.target.next = self.target.val();
        self.loss.z_we.next = self.pipeline.z_we.val();
        self.loss.z_waddr.next = self.pipeline.z_waddr.val();
        self.loss.z_wdata.next = self.pipeline.z_wdata.val();
        self.loss.g_addr.next = self.sequencer.s0_row.val();
        self.loss.peek_addr.next = self.logit_addr.val();
        self.logit_data.next = self.loss.peek_data.val();

        // ---------------- Weight memory ----------------
        // Forward passes read a weight for the multiplier (S0 -> S1); update and apply sweeps
        // need it only for the write-back, so they read it at S4 (data at S5) and no copy of
        // it travels down the pipeline. Reads and writes of one sweep hit different addresses
        // in any cycle. The host has the memory while the learner is idle.
        self.late_read.next = self.sequencer.mode_update.val() | self.sequencer.mode_apply.val();
        if !self.sequencer.busy.val() {
            self.weights.read_address.next = self.host_addr.val();
            self.weights.write_enable.next = self.host_we.val();
            self.weights.write_address.next = self.host_addr.val();
            self.weights.write_data.next = self.host_wdata.val();
        } else {
            if self.late_read.val() {
                self.weights.read_address.next = self.pipeline.s4_addr.val();
            } else {
                self.weights.read_address.next = self.sequencer.s0_addr.val();
            }
            self.weights.write_enable.next = self.step.w_we.val();
            self.weights.write_address.next = self.pipeline.s5_addr.val();
            self.weights.write_data.next = self.step.w_wdata.val();
        }
        self.host_rdata.next = self.weights.read_data.val();

        // ---------------- Status ----------------
        self.busy.next = self.sequencer.busy.val();
        self.done.next = self.sequencer.done.val();
        self.op_trained.next = self.sequencer.op_trained.val();
        self.op_updated.next = self.sequencer.op_updated.val();
        self.op_saturations.next = self.sequencer.op_saturations.val();
        self.op_zero_updates.next = self.sequencer.op_zero_updates.val();
        self.op_loss.next = self.sequencer.op_loss.val();
        self.loss_plus.next = self.sequencer.loss_plus.val();
        self.loss_minus.next = self.sequencer.loss_minus.val();
        self.infer_class.next = self.sequencer.infer_class.val();
        self.probe_seed.next = self.sequencer.probe_seed.val();
        self.batch_pos.next = self.sequencer.batch_pos.val();
    }
}
