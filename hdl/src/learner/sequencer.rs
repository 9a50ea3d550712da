//! The learner's sequencer: phases, the S0 sweep (layer, row, column, address), the noise
//! draw, the drains between sweeps, and the per-operation results.
//!
//! Contract (one clock domain `clock`; reference model `zo_sim::model::Model`, whose `train`,
//! `infer`, `apply` and `clear_accumulators` fix the order of every sweep and draw; the test is
//! `sim/tests/block_sequencer.rs`):
//!
//! Registers (held stable while `busy`): `estimator_wp`, `hybrid`, `batch` as in
//! [`crate::learner::Learner`]. Strobes, honoured only while idle: `seed_load` sets the probe
//! seed to `seed`, 0 replaced by 1 (the step unit reloads the rounding generator from the same
//! strobe); `start` runs `op`
//! ([`crate::config::Op`]). `busy` rises in the next cycle, `done` pulses for one cycle at the end.
//!
//! Phases: a training sample is `Forward1, Drain1, Forward2, Drain2, LossWait` twice (`+` then
//! `-` pass), `Step1, Step2, Step3`, `Update, DrainUpdate`, and (batch full) `Apply,
//! DrainApply`, then `Done`. An inference is one forward pass and its loss; `Apply` and
//! `ClearAccumulators` are one apply sweep (an empty batch skips the sweep). A drain waits
//! until `pipe_busy` (any of S1..S5 holds a weight) falls; `LossWait` waits for `loss_done`.
//!
//! S0 (one weight per cycle while `s0_valid`): `s0_addr` counts weights in memory order;
//! `s0_layer`, `s0_row`, `s0_col` say where it sits (`s0_col == fan-in` is the bias, flagged by
//! `s0_last`; `s0_first` is column 0). A forward sweep covers one layer; update and apply
//! sweeps cover both. `s0_sign` is the weight's perturbation sign (1 = `+sigma`): node
//! perturbation draws one noise bit at each unit's first weight, weight perturbation one per
//! weight; neither draws on a hybrid's exact output layer, whose sign is 1; the `-`
//! pass inverts it; clean and apply sweeps draw nothing. The noise generator restarts from the
//! probe seed at every `+`, `-` and update sweep; after the update sweep the probe seed takes
//! the generator's state.
//!
//! Mode outputs (registered, stable during a sweep): `pass_minus`, `pass_clean`,
//! `mode_update`, `mode_apply`, `clear_only`; `hybrid_on` (an exact output layer selected,
//! with either estimator, and built) and
//! `batch_one` (apply every sample) are combinational from the registers.
//!
//! Strobes to the other pieces: `loss_start` (with `loss_grad` for the hybrid derivative);
//! `step_operands` (phase `Step1`: the multiplier takes the step unit's operands) and
//! `step_capture` (phase `Step3`: the step unit keeps `G`).
//!
//! Results (valid from `done` until the next `start`): `op_trained`, `op_updated`,
//! `op_loss` (`(L+ + L-) / 2` or the clean loss), `loss_plus`, `loss_minus`, `infer_class`,
//! `probe_seed`, `batch_pos`; `op_saturations` adds one per cycle with any clip event
//! (`clip_weight`, `clip_logit` in a noisy forward pass, `clip_step`, `loss_sat` outside a
//! clean pass), two when `clip_weight` and `clip_logit` coincide (weight perturbation), one
//! cycle late; `op_zero_updates` counts `zero_update`. With `AW <= 13` an operation takes fewer
//! than 2^15 cycles (`3 * 2^13 + 4 * 254 + 45`), so the 16-bit counters never wrap.
//!
//! Over 600 lines by its field list and constructor (rust-hdl wants every register and
//! intermediate named and initialised, about 250 lines); the logic is one phase machine and
//! its S0 address generator, which share every register, so a further cut would only add ports.
use crate::config::Shape;
use crate::learner::lfsr::Lfsr;
use rust_hdl::prelude::*;

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
pub enum Phase {
    Idle,
    Forward1,
    Drain1,
    Forward2,
    Drain2,
    LossWait,
    Step1,
    Step2,
    Step3,
    Update,
    DrainUpdate,
    Apply,
    DrainApply,
    Done,
}

#[derive(LogicBlock)]
pub struct Sequencer<const AW: usize> {
    pub clock: Signal<In, Clock>,
    // Registers and strobes.
    pub estimator_wp: Signal<In, bool>,
    pub hybrid: Signal<In, bool>,
    pub batch: Signal<In, Bits<16>>,
    pub seed: Signal<In, Bits<32>>,
    pub seed_load: Signal<In, bool>,
    pub op: Signal<In, Bits<2>>,
    pub start: Signal<In, bool>,
    // From the pipeline and the loss unit.
    pub pipe_busy: Signal<In, bool>,
    pub loss_done: Signal<In, bool>,
    pub loss_value: Signal<In, Bits<32>>,
    pub loss_class: Signal<In, Bits<8>>,
    // Clip and zero-update events.
    pub clip_weight: Signal<In, bool>,
    pub clip_logit: Signal<In, bool>,
    pub clip_step: Signal<In, bool>,
    pub loss_sat: Signal<In, bool>,
    pub zero_update: Signal<In, bool>,
    // S0.
    pub s0_valid: Signal<Out, bool>,
    pub s0_first: Signal<Out, bool>,
    pub s0_last: Signal<Out, bool>,
    pub s0_layer: Signal<Out, bool>,
    pub s0_row: Signal<Out, Bits<8>>,
    pub s0_col: Signal<Out, Bits<8>>,
    pub s0_addr: Signal<Out, Bits<AW>>,
    pub s0_sign: Signal<Out, bool>,
    // Modes.
    pub pass_minus: Signal<Out, bool>,
    pub pass_clean: Signal<Out, bool>,
    pub mode_update: Signal<Out, bool>,
    pub mode_apply: Signal<Out, bool>,
    pub clear_only: Signal<Out, bool>,
    pub hybrid_on: Signal<Out, bool>,
    pub batch_one: Signal<Out, bool>,
    // Strobes.
    pub loss_start: Signal<Out, bool>,
    pub loss_grad: Signal<Out, bool>,
    pub step_operands: Signal<Out, bool>,
    pub step_capture: Signal<Out, bool>,
    // Status and results.
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

    // Elaboration constants.
    has_batch: Constant<bool>,
    has_exact: Constant<bool>,
    n_in: Constant<Bits<8>>,
    last_hidden: Constant<Bits<8>>,
    n_hid: Constant<Bits<8>>,
    last_output: Constant<Bits<8>>,
    layer2_base: Constant<Bits<AW>>,

    noise: Lfsr<32>,

    phase: DFF<Phase>,
    op_reg: DFF<Bits<2>>,
    pass_minus_reg: DFF<bool>,
    pass_clean_reg: DFF<bool>,
    mode_update_reg: DFF<bool>,
    mode_apply_reg: DFF<bool>,
    clear_only_reg: DFF<bool>,
    probe: DFF<Bits<32>>,
    l_plus: DFF<Bits<32>>,
    l_minus: DFF<Bits<32>>,
    batch_count: DFF<Bits<16>>,
    op_trained_reg: DFF<bool>,
    op_updated_reg: DFF<bool>,
    op_sat: DFF<Bits<16>>,
    /// This cycle's clips, added to `op_sat` in the next (the add would otherwise follow the
    /// weight update's adder and saturation in one cycle).
    sat_pending: DFF<Bits<16>>,
    op_zero: DFF<Bits<16>>,
    op_loss_reg: DFF<Bits<32>>,
    infer_class_reg: DFF<Bits<8>>,
    issuing: DFF<bool>,
    layer: DFF<bool>,
    row: DFF<Bits<8>>,
    col: DFF<Bits<8>>,
    addr: DFF<Bits<AW>>,
    unit_sign: DFF<bool>,

    idle: Signal<Local, bool>,
    /// `seed` with 0 replaced by 1 (the step unit derives the rounding seed the same way).
    seed_nz: Signal<Local, Bits<32>>,
    pipe_any: Signal<Local, bool>,
    node_pert: Signal<Local, bool>,
    hybrid_sel: Signal<Local, bool>,
    batch_single: Signal<Local, bool>,
    /// The layer in S0 is the hybrid estimator's exact output layer (no noise, own step).
    s0_exact: Signal<Local, bool>,
    fan_last: Signal<Local, Bits<8>>,
    row_last: Signal<Local, Bits<8>>,
    first: Signal<Local, bool>,
    last: Signal<Local, bool>,
    draw: Signal<Local, bool>,
    noise_bit: Signal<Local, bool>,
    sat_event: Signal<Local, bool>,
    sat_double: Signal<Local, bool>,
    sat_inc: Signal<Local, Bits<16>>,
    loss_mean: Signal<Local, Bits<32>>,
    batch_next: Signal<Local, Bits<16>>,
}

impl<const AW: usize> Sequencer<AW> {
    /// The sequencer for `shape`, with or without the mini-batch accumulators and the hybrid
    /// estimator's exact output layer (see [`crate::learner::Learner::with_features`]); panics
    /// (at elaboration) when the shape does not fit `AW` or `AW > 13` (the counter bound).
    pub fn new(shape: Shape, has_batch: bool, has_exact: bool) -> Self {
        assert!(
            AW <= 13,
            "the per-operation counters assume at most 2^13 weights"
        );
        if let Err(e) = shape.check(AW) {
            panic!("cannot elaborate the sequencer: {e}");
        }
        Self {
            clock: Default::default(),
            estimator_wp: Default::default(),
            hybrid: Default::default(),
            batch: Default::default(),
            seed: Default::default(),
            seed_load: Default::default(),
            op: Default::default(),
            start: Default::default(),
            pipe_busy: Default::default(),
            loss_done: Default::default(),
            loss_value: Default::default(),
            loss_class: Default::default(),
            clip_weight: Default::default(),
            clip_logit: Default::default(),
            clip_step: Default::default(),
            loss_sat: Default::default(),
            zero_update: Default::default(),
            s0_valid: Default::default(),
            s0_first: Default::default(),
            s0_last: Default::default(),
            s0_layer: Default::default(),
            s0_row: Default::default(),
            s0_col: Default::default(),
            s0_addr: Default::default(),
            s0_sign: Default::default(),
            pass_minus: Default::default(),
            pass_clean: Default::default(),
            mode_update: Default::default(),
            mode_apply: Default::default(),
            clear_only: Default::default(),
            hybrid_on: Default::default(),
            batch_one: Default::default(),
            loss_start: Default::default(),
            loss_grad: Default::default(),
            step_operands: Default::default(),
            step_capture: Default::default(),
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
            has_batch: Constant::new(has_batch),
            has_exact: Constant::new(has_exact),
            n_in: Constant::new(shape.n_in.to_bits()),
            last_hidden: Constant::new((shape.n_hid - 1).to_bits()),
            n_hid: Constant::new(shape.n_hid.to_bits()),
            last_output: Constant::new((shape.n_out - 1).to_bits()),
            layer2_base: Constant::new(shape.layer2_base().to_bits()),
            noise: Default::default(),
            phase: Default::default(),
            op_reg: Default::default(),
            pass_minus_reg: Default::default(),
            pass_clean_reg: Default::default(),
            mode_update_reg: Default::default(),
            mode_apply_reg: Default::default(),
            clear_only_reg: Default::default(),
            probe: Default::default(),
            l_plus: Default::default(),
            l_minus: Default::default(),
            batch_count: Default::default(),
            op_trained_reg: Default::default(),
            op_updated_reg: Default::default(),
            op_sat: Default::default(),
            sat_pending: Default::default(),
            op_zero: Default::default(),
            op_loss_reg: Default::default(),
            infer_class_reg: Default::default(),
            issuing: Default::default(),
            layer: Default::default(),
            row: Default::default(),
            col: Default::default(),
            addr: Default::default(),
            unit_sign: Default::default(),
            idle: Default::default(),
            seed_nz: Default::default(),
            pipe_any: Default::default(),
            node_pert: Default::default(),
            hybrid_sel: Default::default(),
            batch_single: Default::default(),
            s0_exact: Default::default(),
            fan_last: Default::default(),
            row_last: Default::default(),
            first: Default::default(),
            last: Default::default(),
            draw: Default::default(),
            noise_bit: Default::default(),
            sat_event: Default::default(),
            sat_double: Default::default(),
            sat_inc: Default::default(),
            loss_mean: Default::default(),
            batch_next: Default::default(),
        }
    }
}

impl<const AW: usize> Logic for Sequencer<AW> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            phase,
            op_reg,
            pass_minus_reg,
            pass_clean_reg,
            mode_update_reg,
            mode_apply_reg,
            clear_only_reg,
            probe,
            l_plus,
            l_minus,
            batch_count,
            op_trained_reg,
            op_updated_reg,
            op_sat,
            sat_pending,
            op_zero,
            op_loss_reg,
            infer_class_reg,
            issuing,
            layer,
            row,
            col,
            addr,
            unit_sign
        );
        self.noise.clock.next = self.clock.val();

        self.idle.next = self.phase.q.val() == Phase::Idle;
        self.pipe_any.next = self.issuing.q.val() | self.pipe_busy.val();
        self.node_pert.next = !self.estimator_wp.val();
        self.hybrid_sel.next = self.hybrid.val() & self.has_exact.val();
        self.batch_single.next = (self.batch.val() < 2) | !self.has_batch.val();

        // ---------------- S0: addresses and noise draw ----------------
        if self.layer.q.val() {
            self.fan_last.next = self.n_hid.val();
            self.row_last.next = self.last_output.val();
        } else {
            self.fan_last.next = self.n_in.val();
            self.row_last.next = self.last_hidden.val();
        }
        self.first.next = self.col.q.val() == 0;
        self.last.next = self.col.q.val() == self.fan_last.val();
        // NP draws one bit per unit (at its first weight), WP one per weight; no noise in a clean
        // pass or an apply sweep.
        self.s0_exact.next = self.hybrid_sel.val() & self.layer.q.val();
        self.draw.next = false;
        if self.issuing.q.val() & !self.pass_clean_reg.q.val() & !self.mode_apply_reg.q.val() {
            if self.node_pert.val() {
                self.draw.next = self.first.val() & !self.s0_exact.val();
            } else {
                self.draw.next = !self.s0_exact.val();
            }
        }
        if self.node_pert.val() & !self.first.val() {
            self.noise_bit.next = self.unit_sign.q.val();
        } else {
            self.noise_bit.next = self.noise.lsb.val();
        }
        if self.draw.val() & self.first.val() {
            self.unit_sign.d.next = self.noise.lsb.val();
        }
        // The exact output rows move by their signed derivative: no noise sign.
        self.s0_sign.next =
            (self.noise_bit.val() ^ self.pass_minus_reg.q.val()) | self.s0_exact.val();
        self.noise.advance.next = self.draw.val();
        self.noise.load.next = false;
        self.noise.seed.next = self.probe.q.val();

        if self.issuing.q.val() {
            self.addr.d.next = self.addr.q.val() + 1;
            if self.last.val() {
                self.col.d.next = 0.into();
                if self.row.q.val() == self.row_last.val() {
                    self.row.d.next = 0.into();
                    if self.layer.q.val()
                        | !(self.mode_update_reg.q.val() | self.mode_apply_reg.q.val())
                    {
                        self.issuing.d.next = false;
                    } else {
                        self.layer.d.next = true;
                    }
                } else {
                    self.row.d.next = self.row.q.val() + 1;
                }
            } else {
                self.col.d.next = self.col.q.val() + 1;
            }
        }
        self.s0_valid.next = self.issuing.q.val();
        self.s0_first.next = self.first.val();
        self.s0_last.next = self.last.val();
        self.s0_layer.next = self.layer.q.val();
        self.s0_row.next = self.row.q.val();
        self.s0_col.next = self.col.q.val();
        self.s0_addr.next = self.addr.q.val();

        // ---------------- Counters ----------------
        self.sat_event.next = self.clip_weight.val()
            | self.clip_step.val()
            | (self.clip_logit.val()
                & !self.mode_update_reg.q.val()
                & !self.mode_apply_reg.q.val()
                & !self.pass_clean_reg.q.val())
            | (self.loss_sat.val() & !self.pass_clean_reg.q.val());
        // Only a WP forward pass can clip a perturbed weight (S2) and a logit (S5) together.
        self.sat_double.next = self.clip_weight.val() & self.clip_logit.val();
        self.sat_inc.next = 0.into();
        if self.sat_event.val() {
            self.sat_inc.next = 1.into();
        }
        if self.sat_double.val() {
            self.sat_inc.next = 2.into();
        }
        self.sat_pending.d.next = self.sat_inc.val();
        self.op_sat.d.next = self.op_sat.q.val() + self.sat_pending.q.val();
        if self.zero_update.val() {
            self.op_zero.d.next = self.op_zero.q.val() + 1;
        }
        self.loss_mean.next = (self.l_plus.q.val() + self.l_minus.q.val()) >> 1;
        self.batch_next.next = self.batch_count.q.val() + 1;

        // ---------------- Phases ----------------
        // A zero seed is replaced by 1 before either generator's seed is derived from it.
        self.seed_nz.next = self.seed.val();
        if self.seed.val() == 0 {
            self.seed_nz.next = 1.into();
        }
        self.loss_start.next = false;
        self.step_operands.next = false;
        self.step_capture.next = false;
        self.done.next = false;
        match self.phase.q.val() {
            Phase::Idle => {
                if self.seed_load.val() {
                    self.probe.d.next = self.seed_nz.val();
                }
                if self.start.val() {
                    self.op_reg.d.next = self.op.val();
                    self.op_trained_reg.d.next = false;
                    self.op_updated_reg.d.next = false;
                    self.op_sat.d.next = 0.into();
                    self.sat_pending.d.next = 0.into();
                    self.op_zero.d.next = 0.into();
                    self.pass_minus_reg.d.next = false;
                    self.pass_clean_reg.d.next = false;
                    self.mode_update_reg.d.next = false;
                    self.mode_apply_reg.d.next = false;
                    self.clear_only_reg.d.next = false;
                    self.layer.d.next = false;
                    self.row.d.next = 0.into();
                    self.col.d.next = 0.into();
                    self.addr.d.next = 0.into();
                    if self.op.val() == 0 {
                        self.noise.load.next = true;
                        self.issuing.d.next = true;
                        self.phase.d.next = Phase::Forward1;
                    } else if self.op.val() == 1 {
                        self.pass_clean_reg.d.next = true;
                        self.issuing.d.next = true;
                        self.phase.d.next = Phase::Forward1;
                    } else if self.op.val() == 2 {
                        if self.batch_count.q.val() == 0 {
                            self.phase.d.next = Phase::Done;
                        } else {
                            self.mode_apply_reg.d.next = true;
                            self.issuing.d.next = true;
                            self.phase.d.next = Phase::Apply;
                        }
                    } else {
                        self.mode_apply_reg.d.next = true;
                        self.clear_only_reg.d.next = true;
                        self.issuing.d.next = true;
                        self.phase.d.next = Phase::Apply;
                    }
                }
            }
            Phase::Forward1 => {
                if !self.issuing.q.val() {
                    self.phase.d.next = Phase::Drain1;
                }
            }
            Phase::Drain1 => {
                if !self.pipe_any.val() {
                    self.layer.d.next = true;
                    self.row.d.next = 0.into();
                    self.col.d.next = 0.into();
                    self.addr.d.next = self.layer2_base.val();
                    self.issuing.d.next = true;
                    self.phase.d.next = Phase::Forward2;
                }
            }
            Phase::Forward2 => {
                if !self.issuing.q.val() {
                    self.phase.d.next = Phase::Drain2;
                }
            }
            Phase::Drain2 => {
                if !self.pipe_any.val() {
                    self.loss_start.next = true;
                    self.phase.d.next = Phase::LossWait;
                }
            }
            Phase::LossWait => {
                if self.loss_done.val() {
                    self.layer.d.next = false;
                    self.row.d.next = 0.into();
                    self.col.d.next = 0.into();
                    self.addr.d.next = 0.into();
                    if self.pass_clean_reg.q.val() {
                        self.op_loss_reg.d.next = self.loss_value.val();
                        self.infer_class_reg.d.next = self.loss_class.val();
                        self.phase.d.next = Phase::Done;
                    } else if !self.pass_minus_reg.q.val() {
                        self.l_plus.d.next = self.loss_value.val();
                        self.pass_minus_reg.d.next = true;
                        self.noise.load.next = true;
                        self.issuing.d.next = true;
                        self.phase.d.next = Phase::Forward1;
                    } else {
                        self.l_minus.d.next = self.loss_value.val();
                        self.phase.d.next = Phase::Step1;
                    }
                }
            }
            Phase::Step1 => {
                self.step_operands.next = true;
                self.pass_minus_reg.d.next = false;
                self.phase.d.next = Phase::Step2;
            }
            Phase::Step2 => {
                self.phase.d.next = Phase::Step3;
            }
            Phase::Step3 => {
                self.step_capture.next = true;
                self.noise.load.next = true;
                self.mode_update_reg.d.next = true;
                self.issuing.d.next = true;
                self.phase.d.next = Phase::Update;
            }
            Phase::Update => {
                if !self.issuing.q.val() {
                    self.phase.d.next = Phase::DrainUpdate;
                }
            }
            Phase::DrainUpdate => {
                if !self.pipe_any.val() {
                    self.probe.d.next = self.noise.state.val();
                    self.op_trained_reg.d.next = true;
                    self.op_loss_reg.d.next = self.loss_mean.val();
                    self.mode_update_reg.d.next = false;
                    if self.batch_single.val() {
                        self.op_updated_reg.d.next = true;
                        self.phase.d.next = Phase::Done;
                    } else {
                        self.batch_count.d.next = self.batch_next.val();
                        if self.batch_next.val() >= self.batch.val() {
                            self.layer.d.next = false;
                            self.row.d.next = 0.into();
                            self.col.d.next = 0.into();
                            self.addr.d.next = 0.into();
                            self.mode_apply_reg.d.next = true;
                            self.issuing.d.next = true;
                            self.phase.d.next = Phase::Apply;
                        } else {
                            self.phase.d.next = Phase::Done;
                        }
                    }
                }
            }
            Phase::Apply => {
                if !self.issuing.q.val() {
                    self.phase.d.next = Phase::DrainApply;
                }
            }
            Phase::DrainApply => {
                if !self.pipe_any.val() {
                    if !self.clear_only_reg.q.val() {
                        self.op_updated_reg.d.next = true;
                    }
                    self.batch_count.d.next = 0.into();
                    self.mode_apply_reg.d.next = false;
                    self.phase.d.next = Phase::Done;
                }
            }
            Phase::Done => {
                self.done.next = true;
                self.phase.d.next = Phase::Idle;
            }
            _ => {
                self.phase.d.next = Phase::Idle;
            }
        }

        // The hybrid estimator's derivative comes from the `-` pass logits.
        self.loss_grad.next =
            self.hybrid_sel.val() & self.pass_minus_reg.q.val() & !self.pass_clean_reg.q.val();
        self.pass_minus.next = self.pass_minus_reg.q.val();
        self.pass_clean.next = self.pass_clean_reg.q.val();
        self.mode_update.next = self.mode_update_reg.q.val();
        self.mode_apply.next = self.mode_apply_reg.q.val();
        self.clear_only.next = self.clear_only_reg.q.val();
        self.hybrid_on.next = self.hybrid_sel.val();
        self.batch_one.next = self.batch_single.val();
        self.busy.next = !self.idle.val();
        self.op_trained.next = self.op_trained_reg.q.val();
        self.op_updated.next = self.op_updated_reg.q.val();
        self.op_saturations.next = self.op_sat.q.val() + self.sat_pending.q.val();
        self.op_zero_updates.next = self.op_zero.q.val();
        self.op_loss.next = self.op_loss_reg.q.val();
        self.loss_plus.next = self.l_plus.q.val();
        self.loss_minus.next = self.l_minus.q.val();
        self.infer_class.next = self.infer_class_reg.q.val();
        self.probe_seed.next = self.probe.q.val();
        self.batch_pos.next = self.batch_count.q.val();
    }
}
