//! The learner: a one-hidden-layer fixed-point MLP that trains itself by zeroth-order probing.
//!
//! Why one file over 600 lines: it is one rust-hdl block, and `#[hdl_gen]` turns one `update`
//! function into one Verilog process, so its sequencer, pipeline and step logic cannot move to
//! other files without becoming sub-blocks with ports of their own. That split (sequencer,
//! pipeline, step and rounding, each checked against the model) is open work of issue 11.
//!
//! Contract (one clock domain `clock`; reference model `zo_sim::model::Model`, which defines
//! every result bit for bit; formats in [`crate::formats`], layout in [`crate::config::Shape`]):
//!
//! Registers (inputs, held stable while `busy`): `estimator_wp` (0 node perturbation, 1 weight
//! perturbation), `hybrid` (with `estimator_wp` low: node perturbation on the hidden units
//! only, the exact delta rule on the output layer with step shift `out_shift`),
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
pub mod lfsr;
pub mod loss;

use crate::config::Shape;
use crate::formats::{ONE_X, ROUND_SEED_XOR};
use crate::learner::lfsr::Lfsr;
use crate::learner::loss::LossUnit;
use crate::mem::sized_ram::SizedRam;
use rust_hdl::prelude::*;

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum Phase {
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

    // Elaboration constants.
    has_batch: Constant<bool>,
    has_exact: Constant<bool>,
    n_in: Constant<Bits<8>>,
    last_hidden: Constant<Bits<8>>,
    n_hid: Constant<Bits<8>>,
    last_output: Constant<Bits<8>>,
    layer2_base: Constant<Bits<AW>>,
    one_x: Constant<Bits<16>>,
    two_x: Constant<Bits<16>>,
    round_seed_xor: Constant<Bits<32>>,

    // Memories and units.
    weights: SizedRam<Bits<16>, AW>,
    accumulators: SizedRam<Bits<32>, AW>,
    h_plus: SizedRam<Bits<8>, 8>,
    h_minus: SizedRam<Bits<8>, 8>,
    noise: Lfsr<32>,
    rounding: Lfsr<32>,
    loss: LossUnit,

    // Control.
    phase: DFF<Phase>,
    op_reg: DFF<Bits<2>>,
    pass_minus: DFF<bool>,
    pass_clean: DFF<bool>,
    mode_update: DFF<bool>,
    mode_apply: DFF<bool>,
    clear_only: DFF<bool>,
    probe: DFF<Bits<32>>,
    l_plus: DFF<Bits<32>>,
    l_minus: DFF<Bits<32>>,
    step: DFF<Bits<16>>,
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
    step_sat: DFF<bool>,

    // S0: sweep address generator.
    issuing: DFF<bool>,
    layer: DFF<bool>,
    row: DFF<Bits<8>>,
    col: DFF<Bits<8>>,
    addr: DFF<Bits<AW>>,
    unit_sign: DFF<bool>,
    // S1.
    s1_valid: DFF<bool>,
    s1_first: DFF<bool>,
    s1_last: DFF<bool>,
    s1_layer: DFF<bool>,
    s1_row: DFF<Bits<8>>,
    s1_sign: DFF<bool>,
    /// +sigma or -sigma by the noise sign, chosen at S0 so that S1 has one adder.
    s1_sigma: DFF<Bits<16>>,
    s1_addr: DFF<Bits<AW>>,
    // S2.
    s2_valid: DFF<bool>,
    s2_first: DFF<bool>,
    s2_last: DFF<bool>,
    s2_layer: DFF<bool>,
    s2_row: DFF<Bits<8>>,
    s2_sign: DFF<bool>,
    s2_addr: DFF<Bits<AW>>,
    mult_a: DFF<Bits<16>>,
    mult_b: DFF<Bits<16>>,
    s2_sat: DFF<bool>,
    // S3.
    s3_valid: DFF<bool>,
    s3_first: DFF<bool>,
    s3_last: DFF<bool>,
    s3_layer: DFF<bool>,
    s3_row: DFF<Bits<8>>,
    s3_sign: DFF<bool>,
    s3_addr: DFF<Bits<AW>>,
    product: DFF<Bits<32>>,
    acc: DFF<Bits<32>>,
    // S4.
    s4_valid: DFF<bool>,
    s4_last: DFF<bool>,
    s4_layer: DFF<bool>,
    s4_row: DFF<Bits<8>>,
    s4_sign: DFF<bool>,
    s4_addr: DFF<Bits<AW>>,
    s4_mag: DFF<Bits<32>>,
    s4_neg: DFF<bool>,
    s4_sat: DFF<bool>,
    // S5.
    s5_valid: DFF<bool>,
    s5_last: DFF<bool>,
    s5_layer: DFF<bool>,
    s5_row: DFF<Bits<8>>,
    s5_addr: DFF<Bits<AW>>,
    s5_q: DFF<Bits<32>>,
    s5_neg: DFF<bool>,
    s5_round: DFF<bool>,
    pre_act: DFF<Bits<32>>,

    // Combinational intermediates (one width change per assignment).
    idle: Signal<Local, bool>,
    /// `seed` with 0 replaced by 1: both generators derive from it.
    seed_nz: Signal<Local, Bits<32>>,
    pipe_busy: Signal<Local, bool>,
    node_pert: Signal<Local, bool>,
    /// The hybrid estimator is selected and built in.
    hybrid_on: Signal<Local, bool>,
    /// The layer in S0 is the hybrid estimator's exact output layer (no noise, own step).
    s0_exact: Signal<Local, bool>,
    /// The step shift of the weight in S4.
    shift_now: Signal<Local, Bits<5>>,
    /// Momentum is on (and the build has accumulators).
    mom_on: Signal<Local, bool>,
    /// Batch-1 momentum: the update sweep accumulates, rounds the velocity and decays it.
    mom_fused: Signal<Local, bool>,
    /// The velocity an apply (or a fused update) leaves: `v - (v >> m)`, arithmetic shift.
    vel: Signal<Local, Bits<32>>,
    vel_shr: Signal<Local, Bits<32>>,
    vel_ones: Signal<Local, Bits<32>>,
    vel_sext: Signal<Local, Bits<32>>,
    vel_next: Signal<Local, Bits<32>>,
    batch_one: Signal<Local, bool>,
    fan_last: Signal<Local, Bits<8>>,
    row_last: Signal<Local, Bits<8>>,
    s0_first: Signal<Local, bool>,
    s0_last: Signal<Local, bool>,
    s0_draw: Signal<Local, bool>,
    s0_bit: Signal<Local, bool>,
    s0_sign: Signal<Local, bool>,
    x_ext: Signal<Local, Bits<16>>,
    x_wide: Signal<Local, Bits<16>>,
    hp_wide: Signal<Local, Bits<16>>,
    hm_wide: Signal<Local, Bits<16>>,
    h_sum: Signal<Local, Bits<16>>,
    operand: Signal<Local, Bits<16>>,
    w_sum: Signal<Local, Bits<16>>,
    w_perturbed: Signal<Local, Bits<16>>,
    w_pert_sat: Signal<Local, bool>,
    mult_a_signed: Signal<Local, Signed<16>>,
    mult_b_signed: Signal<Local, Signed<16>>,
    product_signed: Signal<Local, Signed<32>>,
    product_neg: Signal<Local, Bits<32>>,
    contribution: Signal<Local, Bits<32>>,
    late_read: Signal<Local, bool>,
    s3_acc: Signal<Local, Bits<32>>,
    s5_weight: Signal<Local, Bits<16>>,
    a_sum: Signal<Local, Bits<32>>,
    a_new: Signal<Local, Bits<32>>,
    a_ovf: Signal<Local, bool>,
    to_round: Signal<Local, Bits<32>>,
    to_round_neg: Signal<Local, Bits<32>>,
    sigma_wide: Signal<Local, Bits<32>>,
    noise_up: Signal<Local, Bits<32>>,
    noise_down: Signal<Local, Bits<32>>,
    mask_one: Signal<Local, Bits<32>>,
    round_mask: Signal<Local, Bits<32>>,
    round_active: Signal<Local, bool>,
    dither: Signal<Local, Bits<32>>,
    dithered: Signal<Local, Bits<32>>,
    quotient: Signal<Local, Bits<32>>,
    pre_shift: Signal<Local, Bits<32>>,
    pre_ashr: Signal<Local, Bits<32>>,
    pre_hi: Signal<Local, Bits<32>>,
    pre_top: Signal<Local, Bits<32>>,
    h_value: Signal<Local, Bits<8>>,
    z_value: Signal<Local, Bits<16>>,
    z_sat: Signal<Local, bool>,
    w_zext: Signal<Local, Bits<18>>,
    w_sext: Signal<Local, Bits<18>>,
    q_low: Signal<Local, Bits<18>>,
    w_res: Signal<Local, Bits<18>>,
    w_res_hi: Signal<Local, Bits<18>>,
    q_hi: Signal<Local, Bits<32>>,
    w_new: Signal<Local, Bits<16>>,
    w_sat: Signal<Local, bool>,
    s5_write_w: Signal<Local, bool>,
    loss_delta: Signal<Local, Bits<32>>,
    loss_delta_hi: Signal<Local, Bits<32>>,
    loss_delta16: Signal<Local, Bits<16>>,
    loss_delta_sat: Signal<Local, bool>,
    mant_wide: Signal<Local, Bits<16>>,
    step_hi: Signal<Local, Bits<32>>,
    step16: Signal<Local, Bits<16>>,
    step_clip: Signal<Local, bool>,
    sat_event: Signal<Local, bool>,
    sat_double: Signal<Local, bool>,
    sat_inc: Signal<Local, Bits<16>>,
    loss_mean: Signal<Local, Bits<32>>,
    batch_next: Signal<Local, Bits<16>>,
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
        assert!(
            AW <= 13,
            "the per-operation counters assume at most 2^13 weights"
        );
        if let Err(e) = shape.check(AW) {
            panic!("cannot elaborate the learner: {e}");
        }
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
            has_batch: Constant::new(has_batch),
            has_exact: Constant::new(has_exact),
            n_in: Constant::new(shape.n_in.to_bits()),
            last_hidden: Constant::new((shape.n_hid - 1).to_bits()),
            n_hid: Constant::new(shape.n_hid.to_bits()),
            last_output: Constant::new((shape.n_out - 1).to_bits()),
            layer2_base: Constant::new(shape.layer2_base().to_bits()),
            one_x: Constant::new((ONE_X as usize).to_bits()),
            two_x: Constant::new((2 * ONE_X as usize).to_bits()),
            round_seed_xor: Constant::new((ROUND_SEED_XOR as usize).to_bits()),
            weights: SizedRam::new(shape.n_weights()),
            accumulators: SizedRam::new(if has_batch { shape.n_weights() } else { 1 }),
            // One word more than the hidden units: the bias column reads (and ignores) it.
            h_plus: SizedRam::new(shape.n_hid + 1),
            h_minus: SizedRam::new(shape.n_hid + 1),
            noise: Default::default(),
            rounding: Default::default(),
            loss: LossUnit::with_derivative(shape.n_out, has_exact),
            phase: Default::default(),
            op_reg: Default::default(),
            pass_minus: Default::default(),
            pass_clean: Default::default(),
            mode_update: Default::default(),
            mode_apply: Default::default(),
            clear_only: Default::default(),
            probe: Default::default(),
            l_plus: Default::default(),
            l_minus: Default::default(),
            step: Default::default(),
            batch_count: Default::default(),
            op_trained_reg: Default::default(),
            op_updated_reg: Default::default(),
            op_sat: Default::default(),
            sat_pending: Default::default(),
            op_zero: Default::default(),
            op_loss_reg: Default::default(),
            infer_class_reg: Default::default(),
            step_sat: Default::default(),
            issuing: Default::default(),
            layer: Default::default(),
            row: Default::default(),
            col: Default::default(),
            addr: Default::default(),
            unit_sign: Default::default(),
            s1_valid: Default::default(),
            s1_first: Default::default(),
            s1_last: Default::default(),
            s1_layer: Default::default(),
            s1_row: Default::default(),
            s1_sign: Default::default(),
            s1_sigma: Default::default(),
            s1_addr: Default::default(),
            s2_valid: Default::default(),
            s2_first: Default::default(),
            s2_last: Default::default(),
            s2_layer: Default::default(),
            s2_row: Default::default(),
            s2_sign: Default::default(),
            s2_addr: Default::default(),
            mult_a: Default::default(),
            mult_b: Default::default(),
            s2_sat: Default::default(),
            s3_valid: Default::default(),
            s3_first: Default::default(),
            s3_last: Default::default(),
            s3_layer: Default::default(),
            s3_row: Default::default(),
            s3_sign: Default::default(),
            s3_addr: Default::default(),
            product: Default::default(),
            acc: Default::default(),
            s4_valid: Default::default(),
            s4_last: Default::default(),
            s4_layer: Default::default(),
            s4_row: Default::default(),
            s4_sign: Default::default(),
            s4_addr: Default::default(),
            s4_mag: Default::default(),
            s4_neg: Default::default(),
            s4_sat: Default::default(),
            s5_valid: Default::default(),
            s5_last: Default::default(),
            s5_layer: Default::default(),
            s5_row: Default::default(),
            s5_addr: Default::default(),
            s5_q: Default::default(),
            s5_neg: Default::default(),
            s5_round: Default::default(),
            pre_act: Default::default(),
            idle: Default::default(),
            pipe_busy: Default::default(),
            node_pert: Default::default(),
            hybrid_on: Default::default(),
            s0_exact: Default::default(),
            shift_now: Default::default(),
            mom_on: Default::default(),
            mom_fused: Default::default(),
            vel: Default::default(),
            vel_shr: Default::default(),
            vel_ones: Default::default(),
            vel_sext: Default::default(),
            vel_next: Default::default(),
            batch_one: Default::default(),
            fan_last: Default::default(),
            row_last: Default::default(),
            s0_first: Default::default(),
            s0_last: Default::default(),
            s0_draw: Default::default(),
            s0_bit: Default::default(),
            s0_sign: Default::default(),
            x_ext: Default::default(),
            x_wide: Default::default(),
            hp_wide: Default::default(),
            hm_wide: Default::default(),
            h_sum: Default::default(),
            operand: Default::default(),
            w_sum: Default::default(),
            w_perturbed: Default::default(),
            w_pert_sat: Default::default(),
            mult_a_signed: Default::default(),
            mult_b_signed: Default::default(),
            product_signed: Default::default(),
            product_neg: Default::default(),
            contribution: Default::default(),
            late_read: Default::default(),
            s3_acc: Default::default(),
            s5_weight: Default::default(),
            a_sum: Default::default(),
            a_new: Default::default(),
            a_ovf: Default::default(),
            to_round: Default::default(),
            to_round_neg: Default::default(),
            sigma_wide: Default::default(),
            noise_up: Default::default(),
            noise_down: Default::default(),
            mask_one: Default::default(),
            round_mask: Default::default(),
            round_active: Default::default(),
            dither: Default::default(),
            dithered: Default::default(),
            quotient: Default::default(),
            pre_shift: Default::default(),
            pre_ashr: Default::default(),
            pre_hi: Default::default(),
            pre_top: Default::default(),
            h_value: Default::default(),
            z_value: Default::default(),
            z_sat: Default::default(),
            w_zext: Default::default(),
            w_sext: Default::default(),
            q_low: Default::default(),
            w_res: Default::default(),
            w_res_hi: Default::default(),
            q_hi: Default::default(),
            w_new: Default::default(),
            w_sat: Default::default(),
            s5_write_w: Default::default(),
            loss_delta: Default::default(),
            loss_delta_hi: Default::default(),
            loss_delta16: Default::default(),
            loss_delta_sat: Default::default(),
            mant_wide: Default::default(),
            step_hi: Default::default(),
            step16: Default::default(),
            step_clip: Default::default(),
            sat_event: Default::default(),
            sat_double: Default::default(),
            sat_inc: Default::default(),
            loss_mean: Default::default(),
            batch_next: Default::default(),
            seed_nz: Default::default(),
        }
    }
}

impl<const AW: usize> Logic for Learner<AW> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            phase,
            op_reg,
            pass_minus,
            pass_clean,
            mode_update,
            mode_apply,
            clear_only,
            probe,
            l_plus,
            l_minus,
            step,
            batch_count,
            op_trained_reg,
            op_updated_reg,
            op_sat,
            sat_pending,
            op_zero,
            op_loss_reg,
            infer_class_reg,
            step_sat,
            issuing,
            layer,
            row,
            col,
            addr,
            unit_sign,
            s1_valid,
            s1_first,
            s1_last,
            s1_layer,
            s1_row,
            s1_sign,
            s1_sigma,
            s1_addr,
            s2_valid,
            s2_first,
            s2_last,
            s2_layer,
            s2_row,
            s2_sign,
            s2_addr,
            mult_a,
            mult_b,
            s2_sat,
            s3_valid,
            s3_first,
            s3_last,
            s3_layer,
            s3_row,
            s3_sign,
            s3_addr,
            product,
            acc,
            s4_valid,
            s4_last,
            s4_layer,
            s4_row,
            s4_sign,
            s4_addr,
            s4_mag,
            s4_neg,
            s4_sat,
            s5_valid,
            s5_last,
            s5_layer,
            s5_row,
            s5_addr,
            s5_q,
            s5_neg,
            s5_round,
            pre_act
        );
        self.weights.read_clock.next = self.clock.val();
        self.weights.write_clock.next = self.clock.val();
        self.accumulators.read_clock.next = self.clock.val();
        self.accumulators.write_clock.next = self.clock.val();
        self.h_plus.read_clock.next = self.clock.val();
        self.h_plus.write_clock.next = self.clock.val();
        self.h_minus.read_clock.next = self.clock.val();
        self.h_minus.write_clock.next = self.clock.val();
        self.noise.clock.next = self.clock.val();
        self.rounding.clock.next = self.clock.val();
        self.loss.clock.next = self.clock.val();

        self.idle.next = self.phase.q.val() == Phase::Idle;
        self.pipe_busy.next = self.issuing.q.val()
            | self.s1_valid.q.val()
            | self.s2_valid.q.val()
            | self.s3_valid.q.val()
            | self.s4_valid.q.val()
            | self.s5_valid.q.val();
        self.node_pert.next = !self.estimator_wp.val();
        self.hybrid_on.next = self.hybrid.val() & self.has_exact.val() & self.node_pert.val();
        self.batch_one.next = (self.batch.val() < 2) | !self.has_batch.val();
        self.mom_on.next = self.has_batch.val() & (self.momentum.val() != 0);
        self.mom_fused.next = self.mom_on.val() & self.batch_one.val();

        // ---------------- S0: addresses and noise draw ----------------
        if self.layer.q.val() {
            self.fan_last.next = self.n_hid.val();
            self.row_last.next = self.last_output.val();
        } else {
            self.fan_last.next = self.n_in.val();
            self.row_last.next = self.last_hidden.val();
        }
        self.s0_first.next = self.col.q.val() == 0;
        self.s0_last.next = self.col.q.val() == self.fan_last.val();
        // NP draws one bit per unit (at its first weight), WP one per weight; no noise in a clean
        // pass or an apply sweep.
        self.s0_exact.next = self.hybrid_on.val() & self.layer.q.val();
        self.s0_draw.next = false;
        if self.issuing.q.val() & !self.pass_clean.q.val() & !self.mode_apply.q.val() {
            if self.node_pert.val() {
                self.s0_draw.next = self.s0_first.val() & !self.s0_exact.val();
            } else {
                self.s0_draw.next = true;
            }
        }
        if self.node_pert.val() & !self.s0_first.val() {
            self.s0_bit.next = self.unit_sign.q.val();
        } else {
            self.s0_bit.next = self.noise.lsb.val();
        }
        if self.s0_draw.val() & self.s0_first.val() {
            self.unit_sign.d.next = self.noise.lsb.val();
        }
        // The exact output rows move by their signed derivative: no noise sign.
        self.s0_sign.next = (self.s0_bit.val() ^ self.pass_minus.q.val()) | self.s0_exact.val();
        self.noise.advance.next = self.s0_draw.val();
        self.noise.load.next = false;
        self.noise.seed.next = self.probe.q.val();

        // Forward passes read a weight for the multiplier (S0 -> S1); update and apply sweeps
        // need it only for the write-back, so they read it at S4 (data at S5) and no copy of
        // it travels down the pipeline. Accumulators are read at S2 (data at S3) and written
        // back at S3. Reads and writes of one sweep hit different addresses in any cycle.
        self.late_read.next = self.mode_update.q.val() | self.mode_apply.q.val();
        if self.idle.val() {
            self.weights.read_address.next = self.host_addr.val();
        } else if self.late_read.val() {
            self.weights.read_address.next = self.s4_addr.q.val();
        } else {
            self.weights.read_address.next = self.addr.q.val();
        }
        // Without accumulators the one-word stand-in is always read at 0 (never unknown).
        if self.has_batch.val() {
            self.accumulators.read_address.next = self.s2_addr.q.val();
        } else {
            self.accumulators.read_address.next = 0.into();
        }
        self.x_addr.next = self.col.q.val();
        self.loss.g_addr.next = self.row.q.val();
        self.h_plus.read_address.next = self.col.q.val();
        self.h_minus.read_address.next = self.col.q.val();
        self.host_rdata.next = self.weights.read_data.val();

        if self.issuing.q.val() {
            self.addr.d.next = self.addr.q.val() + 1;
            if self.s0_last.val() {
                self.col.d.next = 0.into();
                if self.row.q.val() == self.row_last.val() {
                    self.row.d.next = 0.into();
                    if self.layer.q.val() | !(self.mode_update.q.val() | self.mode_apply.q.val()) {
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
        self.s1_valid.d.next = self.issuing.q.val();
        self.s1_first.d.next = self.s0_first.val();
        self.s1_last.d.next = self.s0_last.val();
        self.s1_layer.d.next = self.layer.q.val();
        self.s1_row.d.next = self.row.q.val();
        self.s1_sign.d.next = self.s0_sign.val();
        // sigma <= 0x7FFF (SET_PARAMS), so -sigma fits 16 bits.
        if self.s0_sign.val() {
            self.s1_sigma.d.next = self.sigma.val();
        } else {
            self.s1_sigma.d.next = bits::<16>(0) - self.sigma.val();
        }
        self.s1_addr.d.next = self.addr.q.val();

        // ---------------- S1: operands ----------------
        // Inputs are signed Q0.7: sign-extend, then double into the Q.8 operand format
        // (formats::input_operand). The extension is a mask, not a signed cast, so that the
        // generated Verilog sizes it exactly as the simulation does.
        self.x_ext.next = bit_cast::<16, 8>(self.x_data.val());
        if self.x_data.val().get_bit(7) {
            self.x_ext.next = bit_cast::<16, 8>(self.x_data.val()) | bits::<16>(0xFF00);
        }
        self.x_wide.next = self.x_ext.val() + self.x_ext.val();
        self.hp_wide.next = bit_cast::<16, 8>(self.h_plus.read_data.val());
        self.hm_wide.next = bit_cast::<16, 8>(self.h_minus.read_data.val());
        self.h_sum.next = self.hp_wide.val() + self.hm_wide.val();
        self.operand.next = self.one_x.val();
        if self.mode_update.q.val() {
            if self.node_pert.val() {
                if self.s1_layer.q.val() {
                    if self.s1_last.q.val() {
                        self.operand.next = self.two_x.val();
                    } else {
                        self.operand.next = self.h_sum.val();
                    }
                } else if !self.s1_last.q.val() {
                    self.operand.next = self.x_wide.val();
                }
            }
        } else if !self.s1_last.q.val() {
            if self.s1_layer.q.val() {
                if self.pass_minus.q.val() {
                    self.operand.next = self.hm_wide.val();
                } else {
                    self.operand.next = self.hp_wide.val();
                }
            } else {
                self.operand.next = self.x_wide.val();
            }
        }
        // Weight perturbation: w +- sigma, saturating.
        self.w_sum.next = self.weights.read_data.val() + self.s1_sigma.q.val();
        self.w_perturbed.next = self.w_sum.val();
        self.w_pert_sat.next = false;
        if self.s1_sign.q.val() {
            if !self.weights.read_data.val().get_bit(15) & self.w_sum.val().get_bit(15) {
                self.w_perturbed.next = 0x7FFF.into();
                self.w_pert_sat.next = true;
            }
        } else if self.weights.read_data.val().get_bit(15) & !self.w_sum.val().get_bit(15) {
            self.w_perturbed.next = 0x8000.into();
            self.w_pert_sat.next = true;
        }
        self.s2_sat.d.next = false;
        if self.mode_update.q.val() {
            if self.hybrid_on.val() & self.s1_layer.q.val() {
                self.mult_a.d.next = self.loss.g_data.val();
            } else {
                self.mult_a.d.next = self.step.q.val();
            }
        } else if self.estimator_wp.val() & !self.pass_clean.q.val() & !self.mode_apply.q.val() {
            self.mult_a.d.next = self.w_perturbed.val();
            self.s2_sat.d.next = self.s1_valid.q.val() & self.w_pert_sat.val();
        } else {
            self.mult_a.d.next = self.weights.read_data.val();
        }
        self.mult_b.d.next = self.operand.val();
        self.s2_valid.d.next = self.s1_valid.q.val();
        self.s2_first.d.next = self.s1_first.q.val();
        self.s2_last.d.next = self.s1_last.q.val();
        self.s2_layer.d.next = self.s1_layer.q.val();
        self.s2_row.d.next = self.s1_row.q.val();
        self.s2_sign.d.next = self.s1_sign.q.val();
        self.s2_addr.d.next = self.s1_addr.q.val();

        // ---------------- S2: multiply ----------------
        self.mult_a_signed.next = signed_cast(self.mult_a.q.val());
        self.mult_b_signed.next = signed_cast(self.mult_b.q.val());
        self.product_signed.next = self.mult_a_signed.val() * self.mult_b_signed.val();
        self.product.d.next = unsigned_cast(self.product_signed.val());
        self.s3_valid.d.next = self.s2_valid.q.val();
        self.s3_first.d.next = self.s2_first.q.val();
        self.s3_last.d.next = self.s2_last.q.val();
        self.s3_layer.d.next = self.s2_layer.q.val();
        self.s3_row.d.next = self.s2_row.q.val();
        self.s3_sign.d.next = self.s2_sign.q.val();
        self.s3_addr.d.next = self.s2_addr.q.val();

        // ---------------- S3: accumulate / contribution ----------------
        if self.s3_valid.q.val() {
            if self.s3_first.q.val() {
                self.acc.d.next = self.product.q.val();
            } else {
                self.acc.d.next = self.acc.q.val() + self.product.q.val();
            }
        }
        self.product_neg.next = bits::<32>(0) - self.product.q.val();
        if self.s3_sign.q.val() {
            self.contribution.next = self.product.q.val();
        } else {
            self.contribution.next = self.product_neg.val();
        }
        self.s3_acc.next = self.accumulators.read_data.val();
        self.a_sum.next = self.s3_acc.val() + self.contribution.val();
        self.a_ovf.next = (self.s3_acc.val().get_bit(31) == self.contribution.val().get_bit(31))
            & (self.a_sum.val().get_bit(31) != self.s3_acc.val().get_bit(31));
        self.a_new.next = self.a_sum.val();
        if self.a_ovf.val() {
            if self.s3_acc.val().get_bit(31) {
                self.a_new.next = 0x8000_0000u64.into();
            } else {
                self.a_new.next = 0x7FFF_FFFF.into();
            }
        }
        if self.mode_apply.q.val() {
            self.to_round.next = self.s3_acc.val();
        } else if self.mom_fused.val() {
            self.to_round.next = self.a_new.val();
        } else {
            self.to_round.next = self.contribution.val();
        }
        // The velocity left behind: v - (v >> m), the shift arithmetic (sign filled in).
        if self.mode_apply.q.val() {
            self.vel.next = self.s3_acc.val();
        } else {
            self.vel.next = self.a_new.val();
        }
        self.vel_ones.next = bits::<32>(0xFFFF_FFFFu64) >> self.momentum.val();
        self.vel_sext.next = 0.into();
        if self.vel.val().get_bit(31) {
            self.vel_sext.next = !self.vel_ones.val();
        }
        self.vel_shr.next = (self.vel.val() >> self.momentum.val()) | self.vel_sext.val();
        self.vel_next.next = self.vel.val() - self.vel_shr.val();
        self.to_round_neg.next = bits::<32>(0) - self.to_round.val();
        if self.to_round.val().get_bit(31) {
            self.s4_mag.d.next = self.to_round_neg.val();
        } else {
            self.s4_mag.d.next = self.to_round.val();
        }
        self.s4_neg.d.next = self.to_round.val().get_bit(31);
        self.s4_sat.d.next = self.s3_valid.q.val()
            & self.mode_update.q.val()
            & (!self.batch_one.val() | self.mom_fused.val())
            & self.a_ovf.val();
        self.s4_valid.d.next = self.s3_valid.q.val();
        self.s4_last.d.next = self.s3_last.q.val();
        self.s4_layer.d.next = self.s3_layer.q.val();
        self.s4_row.d.next = self.s3_row.q.val();
        self.s4_sign.d.next = self.s3_sign.q.val();
        self.s4_addr.d.next = self.s3_addr.q.val();

        // ---------------- S4: node noise / stochastic rounding ----------------
        self.sigma_wide.next = bit_cast::<32, 16>(self.sigma.val());
        self.noise_up.next = self.sigma_wide.val() << 8;
        self.noise_down.next = bits::<32>(0) - self.noise_up.val();
        self.pre_act.d.next = self.acc.q.val();
        if self.node_pert.val()
            & !self.pass_clean.q.val()
            & !(self.hybrid_on.val() & self.s4_layer.q.val())
        {
            if self.s4_sign.q.val() {
                self.pre_act.d.next = self.acc.q.val() + self.noise_up.val();
            } else {
                self.pre_act.d.next = self.acc.q.val() + self.noise_down.val();
            }
        }
        self.shift_now.next = self.eta_shift.val();
        if self.hybrid_on.val() & self.s4_layer.q.val() {
            self.shift_now.next = self.out_shift.val();
        }
        self.mask_one.next = bits::<32>(1) << self.shift_now.val();
        self.round_mask.next = self.mask_one.val() - 1;
        self.round_active.next = self.s4_valid.q.val()
            & !self.clear_only.q.val()
            & (self.mode_apply.q.val() | (self.mode_update.q.val() & self.batch_one.val()));
        self.rounding.advance.next = self.round_active.val();
        self.dither.next = self.rounding.state.val() & self.round_mask.val();
        self.dithered.next = self.s4_mag.q.val() + self.dither.val();
        self.quotient.next = self.dithered.val() >> self.shift_now.val();
        self.s5_q.d.next = self.quotient.val();
        self.s5_round.d.next = self.round_active.val();
        self.s5_valid.d.next = self.s4_valid.q.val();
        self.s5_last.d.next = self.s4_last.q.val();
        self.s5_layer.d.next = self.s4_layer.q.val();
        self.s5_row.d.next = self.s4_row.q.val();
        self.s5_addr.d.next = self.s4_addr.q.val();
        self.s5_neg.d.next = self.s4_neg.q.val();

        // ---------------- S5: write-back ----------------
        // Activation / logit from the pre-activation (Q.20 -> Q.8).
        self.pre_shift.next = self.pre_act.q.val() >> 12;
        self.pre_ashr.next = self.pre_shift.val();
        if self.pre_act.q.val().get_bit(31) {
            self.pre_ashr.next = self.pre_shift.val() | 0xFFF0_0000u64;
        }
        self.pre_hi.next = self.pre_ashr.val() >> 15;
        self.pre_top.next = self.pre_act.q.val() >> 20;
        self.h_value.next = bit_cast::<8, 32>(self.pre_shift.val());
        if self.pre_act.q.val().get_bit(31) {
            self.h_value.next = 0.into();
        } else if self.pre_top.val() != 0 {
            self.h_value.next = 0xFF.into();
        }
        self.z_value.next = bit_cast::<16, 32>(self.pre_ashr.val());
        self.z_sat.next = false;
        if self.pre_act.q.val().get_bit(31) {
            if self.pre_hi.val() != 0x1FFFF {
                self.z_value.next = 0x8000.into();
                self.z_sat.next = true;
            }
        } else if self.pre_hi.val() != 0 {
            self.z_value.next = 0x7FFF.into();
            self.z_sat.next = true;
        }
        // Forward write-back: activations to h+ / h-, logits to the loss unit's store.
        self.h_plus.write_address.next = self.s5_row.q.val();
        self.h_plus.write_data.next = self.h_value.val();
        self.h_minus.write_address.next = self.s5_row.q.val();
        self.h_minus.write_data.next = self.h_value.val();
        self.h_plus.write_enable.next = false;
        self.h_minus.write_enable.next = false;
        self.loss.z_we.next = false;
        self.loss.z_waddr.next = self.s5_row.q.val();
        self.loss.z_wdata.next = self.z_value.val();
        if self.s5_valid.q.val()
            & self.s5_last.q.val()
            & !self.mode_update.q.val()
            & !self.mode_apply.q.val()
        {
            if self.s5_layer.q.val() {
                self.loss.z_we.next = true;
            } else if self.pass_minus.q.val() {
                self.h_minus.write_enable.next = true;
            } else {
                self.h_plus.write_enable.next = true;
            }
        }
        // Weight update: w - (+-q), saturating.
        self.s5_weight.next = self.weights.read_data.val();
        // A q of 2^16 or more clips whatever w is; below that w +- q lies within +-2^17, so
        // the sum is formed in 18 bits (a short carry chain) and clipped to 16.
        self.w_zext.next = bit_cast::<18, 16>(self.s5_weight.val());
        self.w_sext.next = self.w_zext.val();
        if self.s5_weight.val().get_bit(15) {
            self.w_sext.next = self.w_zext.val() | 0x3_0000u64;
        }
        self.q_low.next = bit_cast::<18, 32>(self.s5_q.q.val());
        if self.s5_neg.q.val() {
            self.w_res.next = self.w_sext.val() + self.q_low.val();
        } else {
            self.w_res.next = self.w_sext.val() - self.q_low.val();
        }
        self.w_res_hi.next = self.w_res.val() >> 15;
        self.q_hi.next = self.s5_q.q.val() >> 16;
        self.w_new.next = bit_cast::<16, 18>(self.w_res.val());
        self.w_sat.next = false;
        if self.q_hi.val() != 0 {
            self.w_sat.next = true;
            if self.s5_neg.q.val() {
                self.w_new.next = 0x7FFF.into();
            } else {
                self.w_new.next = 0x8000.into();
            }
        } else if self.w_res.val().get_bit(17) {
            if self.w_res_hi.val() != 0b111 {
                self.w_sat.next = true;
                self.w_new.next = 0x8000.into();
            }
        } else if self.w_res_hi.val() != 0 {
            self.w_sat.next = true;
            self.w_new.next = 0x7FFF.into();
        }
        self.s5_write_w.next = self.s5_valid.q.val() & self.s5_round.q.val();
        if self.idle.val() {
            self.weights.write_enable.next = self.host_we.val();
            self.weights.write_address.next = self.host_addr.val();
            self.weights.write_data.next = self.host_wdata.val();
        } else {
            self.weights.write_enable.next = self.s5_write_w.val();
            self.weights.write_address.next = self.s5_addr.q.val();
            self.weights.write_data.next = self.w_new.val();
        }
        self.accumulators.write_address.next = self.s3_addr.q.val();
        self.accumulators.write_enable.next = false;
        self.accumulators.write_data.next = self.a_new.val();
        if self.s3_valid.q.val() & self.has_batch.val() {
            if self.mode_apply.q.val() {
                self.accumulators.write_enable.next = true;
                if self.mom_on.val() & !self.clear_only.q.val() {
                    self.accumulators.write_data.next = self.vel_next.val();
                } else {
                    self.accumulators.write_data.next = 0.into();
                }
            } else if self.mode_update.q.val() & self.mom_fused.val() {
                self.accumulators.write_enable.next = true;
                self.accumulators.write_data.next = self.vel_next.val();
            } else if self.mode_update.q.val() & !self.batch_one.val() {
                self.accumulators.write_enable.next = true;
            }
        }

        // ---------------- Step size: G = sat16(sat16(L+ - L-) * mant) ----------------
        self.loss_delta.next = self.l_plus.q.val() - self.l_minus.q.val();
        self.loss_delta_hi.next = self.loss_delta.val() >> 15;
        self.loss_delta16.next = bit_cast::<16, 32>(self.loss_delta.val());
        self.loss_delta_sat.next = false;
        if self.loss_delta.val().get_bit(31) {
            if self.loss_delta_hi.val() != 0x1FFFF {
                self.loss_delta16.next = 0x8000.into();
                self.loss_delta_sat.next = true;
            }
        } else if self.loss_delta_hi.val() != 0 {
            self.loss_delta16.next = 0x7FFF.into();
            self.loss_delta_sat.next = true;
        }
        self.mant_wide.next = bit_cast::<16, 8>(self.eta_mant.val());
        self.step_hi.next = self.product.q.val() >> 15;
        self.step16.next = bit_cast::<16, 32>(self.product.q.val());
        self.step_clip.next = false;
        if self.product.q.val().get_bit(31) {
            if self.step_hi.val() != 0x1FFFF {
                self.step16.next = 0x8000.into();
                self.step_clip.next = true;
            }
        } else if self.step_hi.val() != 0 {
            self.step16.next = 0x7FFF.into();
            self.step_clip.next = true;
        }

        // ---------------- Loss unit ----------------
        self.loss.start.next = false;
        // The hybrid estimator's derivative comes from the `-` pass logits.
        self.loss.grad.next =
            self.hybrid_on.val() & self.pass_minus.q.val() & !self.pass_clean.q.val();
        self.loss.cross_entropy.next = self.cross_entropy.val();
        self.loss.target.next = self.target.val();
        self.loss.peek_addr.next = self.logit_addr.val();
        self.logit_data.next = self.loss.peek_data.val();

        // ---------------- Counters ----------------
        self.step_sat.d.next = false;
        self.sat_event.next = self.s2_sat.q.val()
            | self.s4_sat.q.val()
            | self.step_sat.q.val()
            | (self.s5_valid.q.val()
                & self.s5_last.q.val()
                & self.s5_layer.q.val()
                & !self.mode_update.q.val()
                & !self.mode_apply.q.val()
                & !self.pass_clean.q.val()
                & self.z_sat.val())
            | (self.s5_write_w.val() & !self.clear_only.q.val() & self.w_sat.val())
            | (self.loss.sat.val() & !self.pass_clean.q.val());
        // Only a WP forward pass can clip a perturbed weight (S2) and a logit (S5) together.
        self.sat_double.next = self.s2_sat.q.val()
            & self.s5_valid.q.val()
            & self.s5_last.q.val()
            & self.s5_layer.q.val()
            & self.z_sat.val();
        self.sat_inc.next = 0.into();
        if self.sat_event.val() {
            self.sat_inc.next = 1.into();
        }
        if self.sat_double.val() {
            self.sat_inc.next = 2.into();
        }
        self.sat_pending.d.next = self.sat_inc.val();
        self.op_sat.d.next = self.op_sat.q.val() + self.sat_pending.q.val();
        if self.s5_write_w.val() & (self.s5_q.q.val() == 0) {
            self.op_zero.d.next = self.op_zero.q.val() + 1;
        }
        self.loss_mean.next = (self.l_plus.q.val() + self.l_minus.q.val()) >> 1;
        self.batch_next.next = self.batch_count.q.val() + 1;

        // ---------------- Sequencer ----------------
        self.rounding.load.next = false;
        // A zero seed is replaced by 1 before either generator's seed is derived from it.
        self.seed_nz.next = self.seed.val();
        if self.seed.val() == 0 {
            self.seed_nz.next = 1.into();
        }
        self.rounding.seed.next = self.seed_nz.val() ^ self.round_seed_xor.val();
        self.done.next = false;
        match self.phase.q.val() {
            Phase::Idle => {
                if self.seed_load.val() {
                    self.rounding.load.next = true;
                    self.probe.d.next = self.seed_nz.val();
                }
                if self.start.val() {
                    self.op_reg.d.next = self.op.val();
                    self.op_trained_reg.d.next = false;
                    self.op_updated_reg.d.next = false;
                    self.op_sat.d.next = 0.into();
                    self.sat_pending.d.next = 0.into();
                    self.op_zero.d.next = 0.into();
                    self.pass_minus.d.next = false;
                    self.pass_clean.d.next = false;
                    self.mode_update.d.next = false;
                    self.mode_apply.d.next = false;
                    self.clear_only.d.next = false;
                    self.layer.d.next = false;
                    self.row.d.next = 0.into();
                    self.col.d.next = 0.into();
                    self.addr.d.next = 0.into();
                    if self.op.val() == 0 {
                        self.noise.load.next = true;
                        self.issuing.d.next = true;
                        self.phase.d.next = Phase::Forward1;
                    } else if self.op.val() == 1 {
                        self.pass_clean.d.next = true;
                        self.issuing.d.next = true;
                        self.phase.d.next = Phase::Forward1;
                    } else if self.op.val() == 2 {
                        if self.batch_count.q.val() == 0 {
                            self.phase.d.next = Phase::Done;
                        } else {
                            self.mode_apply.d.next = true;
                            self.issuing.d.next = true;
                            self.phase.d.next = Phase::Apply;
                        }
                    } else {
                        self.mode_apply.d.next = true;
                        self.clear_only.d.next = true;
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
                if !self.pipe_busy.val() {
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
                if !self.pipe_busy.val() {
                    self.loss.start.next = true;
                    self.phase.d.next = Phase::LossWait;
                }
            }
            Phase::LossWait => {
                if self.loss.done.val() {
                    self.layer.d.next = false;
                    self.row.d.next = 0.into();
                    self.col.d.next = 0.into();
                    self.addr.d.next = 0.into();
                    if self.pass_clean.q.val() {
                        self.op_loss_reg.d.next = self.loss.loss.val();
                        self.infer_class_reg.d.next = self.loss.predicted.val();
                        self.phase.d.next = Phase::Done;
                    } else if !self.pass_minus.q.val() {
                        self.l_plus.d.next = self.loss.loss.val();
                        self.pass_minus.d.next = true;
                        self.noise.load.next = true;
                        self.issuing.d.next = true;
                        self.phase.d.next = Phase::Forward1;
                    } else {
                        self.l_minus.d.next = self.loss.loss.val();
                        self.phase.d.next = Phase::Step1;
                    }
                }
            }
            Phase::Step1 => {
                self.mult_a.d.next = self.loss_delta16.val();
                self.mult_b.d.next = self.mant_wide.val();
                self.step_sat.d.next = self.loss_delta_sat.val();
                self.pass_minus.d.next = false;
                self.phase.d.next = Phase::Step2;
            }
            Phase::Step2 => {
                self.phase.d.next = Phase::Step3;
            }
            Phase::Step3 => {
                self.step.d.next = self.step16.val();
                self.step_sat.d.next = self.step_clip.val();
                self.noise.load.next = true;
                self.mode_update.d.next = true;
                self.issuing.d.next = true;
                self.phase.d.next = Phase::Update;
            }
            Phase::Update => {
                if !self.issuing.q.val() {
                    self.phase.d.next = Phase::DrainUpdate;
                }
            }
            Phase::DrainUpdate => {
                if !self.pipe_busy.val() {
                    self.probe.d.next = self.noise.state.val();
                    self.op_trained_reg.d.next = true;
                    self.op_loss_reg.d.next = self.loss_mean.val();
                    self.mode_update.d.next = false;
                    if self.batch_one.val() {
                        self.op_updated_reg.d.next = true;
                        self.phase.d.next = Phase::Done;
                    } else {
                        self.batch_count.d.next = self.batch_next.val();
                        if self.batch_next.val() >= self.batch.val() {
                            self.layer.d.next = false;
                            self.row.d.next = 0.into();
                            self.col.d.next = 0.into();
                            self.addr.d.next = 0.into();
                            self.mode_apply.d.next = true;
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
                if !self.pipe_busy.val() {
                    if !self.clear_only.q.val() {
                        self.op_updated_reg.d.next = true;
                    }
                    self.batch_count.d.next = 0.into();
                    self.mode_apply.d.next = false;
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
