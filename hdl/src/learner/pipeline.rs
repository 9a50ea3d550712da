//! The learner's pipeline datapath, stages S1..S5: operand select, multiply, accumulate, node
//! noise, activation and logit; it also carries each weight's tags (valid, first, last, layer,
//! row, sign, address) down the stages for the step unit.
//!
//! Contract (one clock domain `clock`; reference `zo_sim::model`: `input_operand`,
//! `update_operand`, `perturbed_weight`, `node_noise`, `activation`, `logit`; the test is
//! `sim/tests/block_pipeline.rs`):
//!
//! Inputs per cycle: the S0 tags of the sequencer (`s0_*`, see
//! [`crate::learner::sequencer::Sequencer`]); one cycle later (at S1) the weight `w_rdata`
//! (read at `s0_addr` by the composition in a forward pass), the input byte `x_data` (signed
//! Q0.7, read at `s0_col`) and the hybrid derivative `g_data` (read at `s0_row`). The
//! activation stores `h+`/`h-` are inside and read at `s0_col`. Mode inputs are stable during
//! a sweep.
//!
//! - S1: the operand: in a forward pass `2 x` (layer 1), `h+` or `h-` by the pass (layer 2),
//!   1.0 for the bias; in an update sweep with node perturbation `2 x`, `h+ + h-` (bias 2.0 in
//!   layer 2, 1.0 in layer 1), 1.0 for weight perturbation except on a hybrid's exact output
//!   layer (`h+ + h-`, bias 2.0). The multiplicand: the weight (clean, apply, a hybrid's
//!   output layer), `sat16(w +- sigma)` (weight perturbation, noisy pass: `clip_weight`
//!   pulses at S2 for each clip), `step` (update) or `g_data` (update, hybrid output layer).
//!   `step_operands` overrides both with `step_a`, `step_b` (the step size's product).
//! - S2: `product = a * b`, signed 16 x 16 -> 32, valid at S3 (`product`).
//! - S3: `acc` = the row's running sum (restarted by `first`).
//! - S4: node perturbation adds `+-sigma << 8` by the unit's sign (not in a clean pass, not on
//!   the hybrid output layer).
//! - S5 (at the row's last weight of a forward pass): `h = clamp(a >> 12, 0, 255)` into `h+`
//!   (`+` and clean passes) or `h-` at the row (layer 1), or the logit `sat16(a >> 12)`
//!   (arithmetic shift) on `z_we`/`z_waddr`/`z_wdata` (layer 2); `clip_logit` flags a clipped
//!   logit at S5 of any output row's last weight.
//!
//! `pipe_busy` is high while any of S1..S5 holds a weight. Latency S0 -> S5: five cycles.
use crate::config::Shape;
use crate::formats::ONE_X;
use crate::mem::sized_ram::SizedRam;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct Pipeline<const AW: usize> {
    pub clock: Signal<In, Clock>,
    // Registers and modes.
    pub estimator_wp: Signal<In, bool>,
    pub sigma: Signal<In, Bits<16>>,
    pub hybrid_on: Signal<In, bool>,
    pub pass_minus: Signal<In, bool>,
    pub pass_clean: Signal<In, bool>,
    pub mode_update: Signal<In, bool>,
    pub mode_apply: Signal<In, bool>,
    // S0 tags.
    pub s0_valid: Signal<In, bool>,
    pub s0_first: Signal<In, bool>,
    pub s0_last: Signal<In, bool>,
    pub s0_layer: Signal<In, bool>,
    pub s0_row: Signal<In, Bits<8>>,
    pub s0_col: Signal<In, Bits<8>>,
    pub s0_addr: Signal<In, Bits<AW>>,
    pub s0_sign: Signal<In, bool>,
    // S1 data.
    pub w_rdata: Signal<In, Bits<16>>,
    pub x_data: Signal<In, Bits<8>>,
    pub g_data: Signal<In, Bits<16>>,
    pub step: Signal<In, Bits<16>>,
    pub step_operands: Signal<In, bool>,
    pub step_a: Signal<In, Bits<16>>,
    pub step_b: Signal<In, Bits<16>>,
    // Results and tags for the step unit.
    pub pipe_busy: Signal<Out, bool>,
    pub product: Signal<Out, Bits<32>>,
    pub s2_addr: Signal<Out, Bits<AW>>,
    pub s3_valid: Signal<Out, bool>,
    pub s3_sign: Signal<Out, bool>,
    pub s3_addr: Signal<Out, Bits<AW>>,
    pub s4_valid: Signal<Out, bool>,
    pub s4_layer: Signal<Out, bool>,
    pub s4_addr: Signal<Out, Bits<AW>>,
    pub s5_valid: Signal<Out, bool>,
    pub s5_addr: Signal<Out, Bits<AW>>,
    pub clip_weight: Signal<Out, bool>,
    pub clip_logit: Signal<Out, bool>,
    // Logit store of the loss unit.
    pub z_we: Signal<Out, bool>,
    pub z_waddr: Signal<Out, Bits<8>>,
    pub z_wdata: Signal<Out, Bits<16>>,

    one_x: Constant<Bits<16>>,
    two_x: Constant<Bits<16>>,

    h_plus: SizedRam<Bits<8>, 8>,
    h_minus: SizedRam<Bits<8>, 8>,

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
    s2_addr_reg: DFF<Bits<AW>>,
    mult_a: DFF<Bits<16>>,
    mult_b: DFF<Bits<16>>,
    s2_sat: DFF<bool>,
    // S3.
    s3_valid_reg: DFF<bool>,
    s3_first: DFF<bool>,
    s3_last: DFF<bool>,
    s3_layer: DFF<bool>,
    s3_row: DFF<Bits<8>>,
    s3_sign_reg: DFF<bool>,
    s3_addr_reg: DFF<Bits<AW>>,
    product_reg: DFF<Bits<32>>,
    acc: DFF<Bits<32>>,
    // S4.
    s4_valid_reg: DFF<bool>,
    s4_last: DFF<bool>,
    s4_layer_reg: DFF<bool>,
    s4_row: DFF<Bits<8>>,
    s4_sign: DFF<bool>,
    s4_addr_reg: DFF<Bits<AW>>,
    // S5.
    s5_valid_reg: DFF<bool>,
    s5_last: DFF<bool>,
    s5_layer: DFF<bool>,
    s5_row: DFF<Bits<8>>,
    s5_addr_reg: DFF<Bits<AW>>,
    pre_act: DFF<Bits<32>>,

    // Combinational intermediates (one width change per assignment).
    node_pert: Signal<Local, bool>,
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
    sigma_wide: Signal<Local, Bits<32>>,
    noise_up: Signal<Local, Bits<32>>,
    noise_down: Signal<Local, Bits<32>>,
    pre_shift: Signal<Local, Bits<32>>,
    pre_ashr: Signal<Local, Bits<32>>,
    pre_hi: Signal<Local, Bits<32>>,
    pre_top: Signal<Local, Bits<32>>,
    h_value: Signal<Local, Bits<8>>,
    z_value: Signal<Local, Bits<16>>,
    z_sat: Signal<Local, bool>,
}

impl<const AW: usize> Pipeline<AW> {
    /// The pipeline for `shape` (the activation stores hold `n_hid + 1` words: the bias
    /// column reads, and ignores, the last); panics when the shape does not fit `AW`.
    pub fn new(shape: Shape) -> Self {
        if let Err(e) = shape.check(AW) {
            panic!("cannot elaborate the pipeline: {e}");
        }
        Self {
            clock: Default::default(),
            estimator_wp: Default::default(),
            sigma: Default::default(),
            hybrid_on: Default::default(),
            pass_minus: Default::default(),
            pass_clean: Default::default(),
            mode_update: Default::default(),
            mode_apply: Default::default(),
            s0_valid: Default::default(),
            s0_first: Default::default(),
            s0_last: Default::default(),
            s0_layer: Default::default(),
            s0_row: Default::default(),
            s0_col: Default::default(),
            s0_addr: Default::default(),
            s0_sign: Default::default(),
            w_rdata: Default::default(),
            x_data: Default::default(),
            g_data: Default::default(),
            step: Default::default(),
            step_operands: Default::default(),
            step_a: Default::default(),
            step_b: Default::default(),
            pipe_busy: Default::default(),
            product: Default::default(),
            s2_addr: Default::default(),
            s3_valid: Default::default(),
            s3_sign: Default::default(),
            s3_addr: Default::default(),
            s4_valid: Default::default(),
            s4_layer: Default::default(),
            s4_addr: Default::default(),
            s5_valid: Default::default(),
            s5_addr: Default::default(),
            clip_weight: Default::default(),
            clip_logit: Default::default(),
            z_we: Default::default(),
            z_waddr: Default::default(),
            z_wdata: Default::default(),
            one_x: Constant::new((ONE_X as usize).to_bits()),
            two_x: Constant::new((2 * ONE_X as usize).to_bits()),
            h_plus: SizedRam::new(shape.n_hid + 1),
            h_minus: SizedRam::new(shape.n_hid + 1),
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
            s2_addr_reg: Default::default(),
            mult_a: Default::default(),
            mult_b: Default::default(),
            s2_sat: Default::default(),
            s3_valid_reg: Default::default(),
            s3_first: Default::default(),
            s3_last: Default::default(),
            s3_layer: Default::default(),
            s3_row: Default::default(),
            s3_sign_reg: Default::default(),
            s3_addr_reg: Default::default(),
            product_reg: Default::default(),
            acc: Default::default(),
            s4_valid_reg: Default::default(),
            s4_last: Default::default(),
            s4_layer_reg: Default::default(),
            s4_row: Default::default(),
            s4_sign: Default::default(),
            s4_addr_reg: Default::default(),
            s5_valid_reg: Default::default(),
            s5_last: Default::default(),
            s5_layer: Default::default(),
            s5_row: Default::default(),
            s5_addr_reg: Default::default(),
            pre_act: Default::default(),
            node_pert: Default::default(),
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
            sigma_wide: Default::default(),
            noise_up: Default::default(),
            noise_down: Default::default(),
            pre_shift: Default::default(),
            pre_ashr: Default::default(),
            pre_hi: Default::default(),
            pre_top: Default::default(),
            h_value: Default::default(),
            z_value: Default::default(),
            z_sat: Default::default(),
        }
    }
}

impl<const AW: usize> Logic for Pipeline<AW> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
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
            s2_addr_reg,
            mult_a,
            mult_b,
            s2_sat,
            s3_valid_reg,
            s3_first,
            s3_last,
            s3_layer,
            s3_row,
            s3_sign_reg,
            s3_addr_reg,
            product_reg,
            acc,
            s4_valid_reg,
            s4_last,
            s4_layer_reg,
            s4_row,
            s4_sign,
            s4_addr_reg,
            s5_valid_reg,
            s5_last,
            s5_layer,
            s5_row,
            s5_addr_reg,
            pre_act
        );
        self.h_plus.read_clock.next = self.clock.val();
        self.h_plus.write_clock.next = self.clock.val();
        self.h_minus.read_clock.next = self.clock.val();
        self.h_minus.write_clock.next = self.clock.val();
        self.node_pert.next = !self.estimator_wp.val();
        self.h_plus.read_address.next = self.s0_col.val();
        self.h_minus.read_address.next = self.s0_col.val();

        // ---------------- S0 -> S1 ----------------
        self.s1_valid.d.next = self.s0_valid.val();
        self.s1_first.d.next = self.s0_first.val();
        self.s1_last.d.next = self.s0_last.val();
        self.s1_layer.d.next = self.s0_layer.val();
        self.s1_row.d.next = self.s0_row.val();
        self.s1_sign.d.next = self.s0_sign.val();
        // sigma <= 0x7FFF (SET_PARAMS), so -sigma fits 16 bits.
        if self.s0_sign.val() {
            self.s1_sigma.d.next = self.sigma.val();
        } else {
            self.s1_sigma.d.next = bits::<16>(0) - self.sigma.val();
        }
        self.s1_addr.d.next = self.s0_addr.val();

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
        if self.mode_update.val() {
            // Node perturbation's operands, and the summed activations of the exact output
            // rows under either hybrid; weight perturbation's operand is 1.0.
            if self.s1_layer.q.val() {
                if self.node_pert.val() | self.hybrid_on.val() {
                    if self.s1_last.q.val() {
                        self.operand.next = self.two_x.val();
                    } else {
                        self.operand.next = self.h_sum.val();
                    }
                }
            } else if self.node_pert.val() & !self.s1_last.q.val() {
                self.operand.next = self.x_wide.val();
            }
        } else if !self.s1_last.q.val() {
            if self.s1_layer.q.val() {
                if self.pass_minus.val() {
                    self.operand.next = self.hm_wide.val();
                } else {
                    self.operand.next = self.hp_wide.val();
                }
            } else {
                self.operand.next = self.x_wide.val();
            }
        }
        // Weight perturbation: w +- sigma, saturating.
        self.w_sum.next = self.w_rdata.val() + self.s1_sigma.q.val();
        self.w_perturbed.next = self.w_sum.val();
        self.w_pert_sat.next = false;
        if self.s1_sign.q.val() {
            if !self.w_rdata.val().get_bit(15) & self.w_sum.val().get_bit(15) {
                self.w_perturbed.next = 0x7FFF.into();
                self.w_pert_sat.next = true;
            }
        } else if self.w_rdata.val().get_bit(15) & !self.w_sum.val().get_bit(15) {
            self.w_perturbed.next = 0x8000.into();
            self.w_pert_sat.next = true;
        }
        self.s2_sat.d.next = false;
        if self.mode_update.val() {
            if self.hybrid_on.val() & self.s1_layer.q.val() {
                self.mult_a.d.next = self.g_data.val();
            } else {
                self.mult_a.d.next = self.step.val();
            }
        } else if self.estimator_wp.val()
            & !self.pass_clean.val()
            & !self.mode_apply.val()
            & !(self.hybrid_on.val() & self.s1_layer.q.val())
        {
            self.mult_a.d.next = self.w_perturbed.val();
            self.s2_sat.d.next = self.s1_valid.q.val() & self.w_pert_sat.val();
        } else {
            self.mult_a.d.next = self.w_rdata.val();
        }
        self.mult_b.d.next = self.operand.val();
        // The step size's product borrows the multiplier while the pipeline is empty.
        if self.step_operands.val() {
            self.mult_a.d.next = self.step_a.val();
            self.mult_b.d.next = self.step_b.val();
        }
        self.s2_valid.d.next = self.s1_valid.q.val();
        self.s2_first.d.next = self.s1_first.q.val();
        self.s2_last.d.next = self.s1_last.q.val();
        self.s2_layer.d.next = self.s1_layer.q.val();
        self.s2_row.d.next = self.s1_row.q.val();
        self.s2_sign.d.next = self.s1_sign.q.val();
        self.s2_addr_reg.d.next = self.s1_addr.q.val();

        // ---------------- S2: multiply ----------------
        self.mult_a_signed.next = signed_cast(self.mult_a.q.val());
        self.mult_b_signed.next = signed_cast(self.mult_b.q.val());
        self.product_signed.next = self.mult_a_signed.val() * self.mult_b_signed.val();
        self.product_reg.d.next = unsigned_cast(self.product_signed.val());
        self.s3_valid_reg.d.next = self.s2_valid.q.val();
        self.s3_first.d.next = self.s2_first.q.val();
        self.s3_last.d.next = self.s2_last.q.val();
        self.s3_layer.d.next = self.s2_layer.q.val();
        self.s3_row.d.next = self.s2_row.q.val();
        self.s3_sign_reg.d.next = self.s2_sign.q.val();
        self.s3_addr_reg.d.next = self.s2_addr_reg.q.val();

        // ---------------- S3: accumulate ----------------
        if self.s3_valid_reg.q.val() {
            if self.s3_first.q.val() {
                self.acc.d.next = self.product_reg.q.val();
            } else {
                self.acc.d.next = self.acc.q.val() + self.product_reg.q.val();
            }
        }
        self.s4_valid_reg.d.next = self.s3_valid_reg.q.val();
        self.s4_last.d.next = self.s3_last.q.val();
        self.s4_layer_reg.d.next = self.s3_layer.q.val();
        self.s4_row.d.next = self.s3_row.q.val();
        self.s4_sign.d.next = self.s3_sign_reg.q.val();
        self.s4_addr_reg.d.next = self.s3_addr_reg.q.val();

        // ---------------- S4: node noise ----------------
        self.sigma_wide.next = bit_cast::<32, 16>(self.sigma.val());
        self.noise_up.next = self.sigma_wide.val() << 8;
        self.noise_down.next = bits::<32>(0) - self.noise_up.val();
        self.pre_act.d.next = self.acc.q.val();
        if self.node_pert.val()
            & !self.pass_clean.val()
            & !(self.hybrid_on.val() & self.s4_layer_reg.q.val())
        {
            if self.s4_sign.q.val() {
                self.pre_act.d.next = self.acc.q.val() + self.noise_up.val();
            } else {
                self.pre_act.d.next = self.acc.q.val() + self.noise_down.val();
            }
        }
        self.s5_valid_reg.d.next = self.s4_valid_reg.q.val();
        self.s5_last.d.next = self.s4_last.q.val();
        self.s5_layer.d.next = self.s4_layer_reg.q.val();
        self.s5_row.d.next = self.s4_row.q.val();
        self.s5_addr_reg.d.next = self.s4_addr_reg.q.val();

        // ---------------- S5: activation and logit ----------------
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
        self.z_we.next = false;
        self.z_waddr.next = self.s5_row.q.val();
        self.z_wdata.next = self.z_value.val();
        if self.s5_valid_reg.q.val()
            & self.s5_last.q.val()
            & !self.mode_update.val()
            & !self.mode_apply.val()
        {
            if self.s5_layer.q.val() {
                self.z_we.next = true;
            } else if self.pass_minus.val() {
                self.h_minus.write_enable.next = true;
            } else {
                self.h_plus.write_enable.next = true;
            }
        }

        self.pipe_busy.next = self.s1_valid.q.val()
            | self.s2_valid.q.val()
            | self.s3_valid_reg.q.val()
            | self.s4_valid_reg.q.val()
            | self.s5_valid_reg.q.val();
        self.product.next = self.product_reg.q.val();
        self.s2_addr.next = self.s2_addr_reg.q.val();
        self.s3_valid.next = self.s3_valid_reg.q.val();
        self.s3_sign.next = self.s3_sign_reg.q.val();
        self.s3_addr.next = self.s3_addr_reg.q.val();
        self.s4_valid.next = self.s4_valid_reg.q.val();
        self.s4_layer.next = self.s4_layer_reg.q.val();
        self.s4_addr.next = self.s4_addr_reg.q.val();
        self.s5_valid.next = self.s5_valid_reg.q.val();
        self.s5_addr.next = self.s5_addr_reg.q.val();
        self.clip_weight.next = self.s2_sat.q.val();
        self.clip_logit.next = self.s5_valid_reg.q.val()
            & self.s5_last.q.val()
            & self.s5_layer.q.val()
            & self.z_sat.val();
    }
}
