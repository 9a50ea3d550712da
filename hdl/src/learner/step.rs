//! The learner's step and rounding: the step size `G`, the signed contribution, the
//! mini-batch accumulators and momentum, stochastic rounding and the saturating weight
//! write-back.
//!
//! Contract (one clock domain `clock`; reference `zo_sim::model`: `step_size`, `contribution`,
//! `sat32`, `velocity`, `sround`, `sat16` and the rounding generator `model::lfsr::Lfsr`; the
//! test is `sim/tests/block_step.rs`):
//!
//! - Step size (`L+`, `L-` below 2^31, as every loss of the loss unit is): while
//!   `step_operands` is high, `mul_a = sat16(L+ - L-)` and
//!   `mul_b = eta_mant` are the multiplier's operands (the pipeline's, one product two cycles
//!   later on `product`); at `step_capture`, `step = G = sat16(product)`. Each of the two
//!   clips pulses `clip` in the next cycle.
//! - S3 (`s3_valid`; `product` is that weight's `G * operand`): the contribution
//!   `c = s3_sign ? product : -product`. The accumulator at `s2_addr` is read one cycle
//!   earlier; an update sweep with `batch_one` low writes `sat32(A + c)` back at `s3_addr`; an
//!   apply sweep writes the velocity `A - (A >> momentum)` (arithmetic shift), or 0 when
//!   `momentum` is 0 or `clear_only` is high; an update sweep with `batch_one` and momentum
//!   writes the velocity of `sat32(A + c)` (accumulate, apply and decay at once). An
//!   accumulator clip in an update sweep pulses `clip` at S4.
//! - S4: the value to round is `A` (apply), `sat32(A + c)` (fused momentum) or `c` (update,
//!   batch 1); with `shift = out_shift` on the hybrid output layer (`hybrid_on & s4_layer`),
//!   else `eta_shift`, `q = (|v| + r) >> shift`, `r` the low `shift` bits of the rounding
//!   generator, which advances once per rounded weight (update with `batch_one`, or apply,
//!   not `clear_only`).
//! - S5: with `w_old` the weight (read at `s4_addr` by the composition),
//!   `w_wdata = sat16(w_old - sign(v) q)`, `w_we` for each rounded weight (the composition
//!   writes it at `s5_addr`); a clipped weight pulses `clip` (not in a clear), and
//!   `zero_update` flags `q == 0`.
//! - `seed_load` while `idle` reloads the rounding generator from `s ^ ROUND_SEED_XOR`, `s` =
//!   `seed` with 0 replaced by 1 (and a zero result loads 1), as the model's `Model::seed`.
//!
//! `s5_valid` gates the write; the accumulators are one 32-bit word per weight, or one unused
//! word in a build without them (`has_batch` false: `batch_one` is then always high).
use crate::config::Shape;
use crate::formats::ROUND_SEED_XOR;
use crate::learner::lfsr::Lfsr;
use crate::mem::sized_ram::SizedRam;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct StepUnit<const AW: usize> {
    pub clock: Signal<In, Clock>,
    // Registers and modes.
    pub momentum: Signal<In, Bits<3>>,
    pub eta_mant: Signal<In, Bits<8>>,
    pub eta_shift: Signal<In, Bits<5>>,
    pub out_shift: Signal<In, Bits<5>>,
    pub hybrid_on: Signal<In, bool>,
    pub batch_one: Signal<In, bool>,
    pub mode_update: Signal<In, bool>,
    pub mode_apply: Signal<In, bool>,
    pub clear_only: Signal<In, bool>,
    // Step size.
    pub l_plus: Signal<In, Bits<32>>,
    pub l_minus: Signal<In, Bits<32>>,
    pub step_operands: Signal<In, bool>,
    pub step_capture: Signal<In, bool>,
    pub mul_a: Signal<Out, Bits<16>>,
    pub mul_b: Signal<Out, Bits<16>>,
    pub step: Signal<Out, Bits<16>>,
    // Pipeline tags and data.
    pub product: Signal<In, Bits<32>>,
    pub s2_addr: Signal<In, Bits<AW>>,
    pub s3_valid: Signal<In, bool>,
    pub s3_sign: Signal<In, bool>,
    pub s3_addr: Signal<In, Bits<AW>>,
    pub s4_valid: Signal<In, bool>,
    pub s4_layer: Signal<In, bool>,
    pub s5_valid: Signal<In, bool>,
    pub w_old: Signal<In, Bits<16>>,
    // Rounding generator.
    pub seed_load: Signal<In, bool>,
    pub seed: Signal<In, Bits<32>>,
    pub idle: Signal<In, bool>,
    // Results.
    pub w_we: Signal<Out, bool>,
    pub w_wdata: Signal<Out, Bits<16>>,
    pub clip: Signal<Out, bool>,
    pub zero_update: Signal<Out, bool>,

    has_batch: Constant<bool>,
    round_seed_xor: Constant<Bits<32>>,

    accumulators: SizedRam<Bits<32>, AW>,
    rounding: Lfsr<32>,

    step_reg: DFF<Bits<16>>,
    step_sat: DFF<bool>,
    s4_mag: DFF<Bits<32>>,
    s4_neg: DFF<bool>,
    s4_sat: DFF<bool>,
    s5_q: DFF<Bits<32>>,
    s5_neg: DFF<bool>,
    s5_round: DFF<bool>,

    // Combinational intermediates (one width change per assignment).
    /// Momentum is on (and the build has accumulators).
    mom_on: Signal<Local, bool>,
    /// Batch-1 momentum: the update sweep accumulates, rounds the velocity and decays it.
    mom_fused: Signal<Local, bool>,
    /// The step shift of the weight in S4.
    shift_now: Signal<Local, Bits<5>>,
    /// The velocity an apply (or a fused update) leaves: `v - (v >> m)`, arithmetic shift.
    vel: Signal<Local, Bits<32>>,
    vel_shr: Signal<Local, Bits<32>>,
    vel_ones: Signal<Local, Bits<32>>,
    vel_sext: Signal<Local, Bits<32>>,
    vel_next: Signal<Local, Bits<32>>,
    product_neg: Signal<Local, Bits<32>>,
    contribution: Signal<Local, Bits<32>>,
    s3_acc: Signal<Local, Bits<32>>,
    a_sum: Signal<Local, Bits<32>>,
    a_new: Signal<Local, Bits<32>>,
    a_ovf: Signal<Local, bool>,
    to_round: Signal<Local, Bits<32>>,
    to_round_neg: Signal<Local, Bits<32>>,
    mask_one: Signal<Local, Bits<32>>,
    round_mask: Signal<Local, Bits<32>>,
    round_active: Signal<Local, bool>,
    dither: Signal<Local, Bits<32>>,
    dithered: Signal<Local, Bits<32>>,
    quotient: Signal<Local, Bits<32>>,
    s5_weight: Signal<Local, Bits<16>>,
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
    step_hi: Signal<Local, Bits<32>>,
    step16: Signal<Local, Bits<16>>,
    step_clip: Signal<Local, bool>,
    /// `seed` with 0 replaced by 1, before the rounding seed is derived from it.
    seed_nz: Signal<Local, Bits<32>>,
}

impl<const AW: usize> StepUnit<AW> {
    /// The step unit for `shape`, with the accumulators (one word per weight) or without
    /// (one unused word); panics when the shape does not fit `AW`.
    pub fn new(shape: Shape, has_batch: bool) -> Self {
        if let Err(e) = shape.check(AW) {
            panic!("cannot elaborate the step unit: {e}");
        }
        Self {
            clock: Default::default(),
            momentum: Default::default(),
            eta_mant: Default::default(),
            eta_shift: Default::default(),
            out_shift: Default::default(),
            hybrid_on: Default::default(),
            batch_one: Default::default(),
            mode_update: Default::default(),
            mode_apply: Default::default(),
            clear_only: Default::default(),
            l_plus: Default::default(),
            l_minus: Default::default(),
            step_operands: Default::default(),
            step_capture: Default::default(),
            mul_a: Default::default(),
            mul_b: Default::default(),
            step: Default::default(),
            product: Default::default(),
            s2_addr: Default::default(),
            s3_valid: Default::default(),
            s3_sign: Default::default(),
            s3_addr: Default::default(),
            s4_valid: Default::default(),
            s4_layer: Default::default(),
            s5_valid: Default::default(),
            w_old: Default::default(),
            seed_load: Default::default(),
            seed: Default::default(),
            idle: Default::default(),
            seed_nz: Default::default(),
            w_we: Default::default(),
            w_wdata: Default::default(),
            clip: Default::default(),
            zero_update: Default::default(),
            has_batch: Constant::new(has_batch),
            round_seed_xor: Constant::new((ROUND_SEED_XOR as usize).to_bits()),
            accumulators: SizedRam::new(if has_batch { shape.n_weights() } else { 1 }),
            rounding: Default::default(),
            step_reg: Default::default(),
            step_sat: Default::default(),
            s4_mag: Default::default(),
            s4_neg: Default::default(),
            s4_sat: Default::default(),
            s5_q: Default::default(),
            s5_neg: Default::default(),
            s5_round: Default::default(),
            mom_on: Default::default(),
            mom_fused: Default::default(),
            shift_now: Default::default(),
            vel: Default::default(),
            vel_shr: Default::default(),
            vel_ones: Default::default(),
            vel_sext: Default::default(),
            vel_next: Default::default(),
            product_neg: Default::default(),
            contribution: Default::default(),
            s3_acc: Default::default(),
            a_sum: Default::default(),
            a_new: Default::default(),
            a_ovf: Default::default(),
            to_round: Default::default(),
            to_round_neg: Default::default(),
            mask_one: Default::default(),
            round_mask: Default::default(),
            round_active: Default::default(),
            dither: Default::default(),
            dithered: Default::default(),
            quotient: Default::default(),
            s5_weight: Default::default(),
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
            step_hi: Default::default(),
            step16: Default::default(),
            step_clip: Default::default(),
        }
    }
}

impl<const AW: usize> Logic for StepUnit<AW> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, step_reg, step_sat, s4_mag, s4_neg, s4_sat, s5_q, s5_neg, s5_round);
        self.accumulators.read_clock.next = self.clock.val();
        self.accumulators.write_clock.next = self.clock.val();
        self.rounding.clock.next = self.clock.val();
        self.mom_on.next = self.has_batch.val() & (self.momentum.val() != 0);
        self.mom_fused.next = self.mom_on.val() & self.batch_one.val();

        // ---------------- Step size: G = sat16(sat16(L+ - L-) * mant) ----------------
        self.loss_delta.next = self.l_plus.val() - self.l_minus.val();
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
        self.mul_a.next = self.loss_delta16.val();
        self.mul_b.next = bit_cast::<16, 8>(self.eta_mant.val());
        self.step_hi.next = self.product.val() >> 15;
        self.step16.next = bit_cast::<16, 32>(self.product.val());
        self.step_clip.next = false;
        if self.product.val().get_bit(31) {
            if self.step_hi.val() != 0x1FFFF {
                self.step16.next = 0x8000.into();
                self.step_clip.next = true;
            }
        } else if self.step_hi.val() != 0 {
            self.step16.next = 0x7FFF.into();
            self.step_clip.next = true;
        }
        self.step_sat.d.next = false;
        if self.step_operands.val() {
            self.step_sat.d.next = self.loss_delta_sat.val();
        }
        if self.step_capture.val() {
            self.step_reg.d.next = self.step16.val();
            self.step_sat.d.next = self.step_clip.val();
        }

        // ---------------- S3: contribution and accumulator ----------------
        // Without accumulators the one-word stand-in is always read at 0 (never unknown).
        if self.has_batch.val() {
            self.accumulators.read_address.next = self.s2_addr.val();
        } else {
            self.accumulators.read_address.next = 0.into();
        }
        self.product_neg.next = bits::<32>(0) - self.product.val();
        if self.s3_sign.val() {
            self.contribution.next = self.product.val();
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
        if self.mode_apply.val() {
            self.to_round.next = self.s3_acc.val();
        } else if self.mom_fused.val() {
            self.to_round.next = self.a_new.val();
        } else {
            self.to_round.next = self.contribution.val();
        }
        // The velocity left behind: v - (v >> m), the shift arithmetic (sign filled in).
        if self.mode_apply.val() {
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
        self.s4_sat.d.next = self.s3_valid.val()
            & self.mode_update.val()
            & (!self.batch_one.val() | self.mom_fused.val())
            & self.a_ovf.val();
        self.accumulators.write_address.next = self.s3_addr.val();
        self.accumulators.write_enable.next = false;
        self.accumulators.write_data.next = self.a_new.val();
        if self.s3_valid.val() & self.has_batch.val() {
            if self.mode_apply.val() {
                self.accumulators.write_enable.next = true;
                if self.mom_on.val() & !self.clear_only.val() {
                    self.accumulators.write_data.next = self.vel_next.val();
                } else {
                    self.accumulators.write_data.next = 0.into();
                }
            } else if self.mode_update.val() & self.mom_fused.val() {
                self.accumulators.write_enable.next = true;
                self.accumulators.write_data.next = self.vel_next.val();
            } else if self.mode_update.val() & !self.batch_one.val() {
                self.accumulators.write_enable.next = true;
            }
        }

        // ---------------- S4: stochastic rounding ----------------
        self.shift_now.next = self.eta_shift.val();
        if self.hybrid_on.val() & self.s4_layer.val() {
            self.shift_now.next = self.out_shift.val();
        }
        self.mask_one.next = bits::<32>(1) << self.shift_now.val();
        self.round_mask.next = self.mask_one.val() - 1;
        self.round_active.next = self.s4_valid.val()
            & !self.clear_only.val()
            & (self.mode_apply.val() | (self.mode_update.val() & self.batch_one.val()));
        self.rounding.advance.next = self.round_active.val();
        // The strobe comes straight from the learner's port, not through the sequencer: in
        // rust-hdl's simulation an input set together with the clock edge reaches a register
        // only over as many block boundaries as the clock crosses (see the learner's header).
        self.rounding.load.next = self.seed_load.val() & self.idle.val();
        self.seed_nz.next = self.seed.val();
        if self.seed.val() == 0 {
            self.seed_nz.next = 1.into();
        }
        self.rounding.seed.next = self.seed_nz.val() ^ self.round_seed_xor.val();
        self.dither.next = self.rounding.state.val() & self.round_mask.val();
        self.dithered.next = self.s4_mag.q.val() + self.dither.val();
        self.quotient.next = self.dithered.val() >> self.shift_now.val();
        self.s5_q.d.next = self.quotient.val();
        self.s5_round.d.next = self.round_active.val();
        self.s5_neg.d.next = self.s4_neg.q.val();

        // ---------------- S5: weight write-back ----------------
        // Weight update: w - (+-q), saturating.
        self.s5_weight.next = self.w_old.val();
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
        self.s5_write_w.next = self.s5_valid.val() & self.s5_round.q.val();

        self.w_we.next = self.s5_write_w.val();
        self.w_wdata.next = self.w_new.val();
        self.step.next = self.step_reg.q.val();
        self.clip.next = self.s4_sat.q.val()
            | self.step_sat.q.val()
            | (self.s5_write_w.val() & !self.clear_only.val() & self.w_sat.val());
        self.zero_update.next = self.s5_write_w.val() & (self.s5_q.q.val() == 0);
    }
}
