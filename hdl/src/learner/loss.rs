//! Loss unit: squared error or base-2 softmax cross-entropy of the logits, and the class.
//!
//! Contract (clock `clock`; reference: `zo_sim::model::LossTables::loss`):
//! - Logit store: the learner writes logit `k` (Q7.8, two's complement in 16 bits) with
//!   `z_we`, `z_waddr = k`, `z_wdata` at any time the unit is idle.
//! - `start` (a one-cycle strobe while `busy` is low) evaluates the stored logits `0..n_out`
//!   against class `target` with the loss chosen by `cross_entropy`. `busy` is high from the
//!   next cycle until `done` pulses for one cycle; `loss` (Q.8, unsigned) and `predicted` (first
//!   maximum) then hold until the next start. `sat` pulses once for each clipped error.
//! - While idle, logit `peek_addr` appears on `peek_data` one cycle later (host read-back).
//! - Squared error: `sum_k (sat16(z_k - t_k)^2 >> 8)`, `t_k = 256` for the target, else 0.
//! - Cross-entropy, in bits: `S = sum_k EXP2[f_k] >> q_k` with `max - z_k = 256 q_k + f_k`
//!   (terms with `q_k >= 16` are 0); `p = floor(log2 S)`, `m = (S >> (p - 8)) & 255`;
//!   `L = 256 (p - 15) + LOG2[m] + (max - z_target)`.
//! - Latency: `2 n_out + 4` cycles (cross-entropy) or `2 n_out + 5` (squared error) from start
//!   to done; `n_out + 2` more with `grad`.
//! - Derivative (`grad` high with `start`): after the loss, a sweep writes `e_k = dL/dz_k`
//!   (Q.14, reference `zo_sim::model::LossTables::grad`) for every `k` into the derivative
//!   store, then `done` pulses. Cross-entropy: `L_k = B + (max - z_k)` with
//!   `B = 256 (p - 15) + LOG2[m]`, `p_k = EXP2[L_k & 255] >> (L_k >> 8)` (0 from a shift of 16),
//!   `e_k = (p_k >> 1) - 16384 t_k`. Squared error: `e_k = (z_k - t_k) * 128` clipped to 16
//!   bits, each clip pulsing `sat`. The store is read through `g_addr` / `g_data` (one cycle
//!   latency) at any time; it holds until the next derivative sweep.
//!
//! Signed logits are compared and subtracted in offset binary (`z ^ 0x8000`), which needs no
//! signed arithmetic and keeps the Rust and Verilog widths identical.
use crate::formats::{exp2_table, log2_table, GRAD_ONE, ONE_X};
use crate::mem::sized_ram::SizedRam;
use rust_hdl::prelude::*;

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum Phase {
    Idle,
    Max,
    Sum,
    Norm,
    Norm2,
    Tail1,
    Tail2,
    Fin,
    Grad,
    GradEnd,
}

#[derive(LogicBlock)]
pub struct LossUnit {
    pub clock: Signal<In, Clock>,
    pub z_we: Signal<In, bool>,
    pub z_waddr: Signal<In, Bits<8>>,
    pub z_wdata: Signal<In, Bits<16>>,
    pub start: Signal<In, bool>,
    pub cross_entropy: Signal<In, bool>,
    pub target: Signal<In, Bits<8>>,
    pub busy: Signal<Out, bool>,
    pub done: Signal<Out, bool>,
    pub loss: Signal<Out, Bits<32>>,
    pub predicted: Signal<Out, Bits<8>>,
    pub sat: Signal<Out, bool>,
    pub peek_addr: Signal<In, Bits<8>>,
    pub peek_data: Signal<Out, Bits<16>>,
    pub grad: Signal<In, bool>,
    pub g_addr: Signal<In, Bits<8>>,
    pub g_data: Signal<Out, Bits<16>>,
    n_out: Constant<Bits<8>>,
    last_index: Constant<Bits<8>>,
    one_hot: Constant<Bits<16>>,
    grad_one: Constant<Bits<16>>,
    z_store: SizedRam<Bits<16>, 8>,
    g_store: SizedRam<Bits<16>, 8>,
    has_grad: Constant<bool>,
    grad_mode: DFF<bool>,
    base: DFF<Bits<16>>,
    g_valid: DFF<bool>,
    g_index: DFF<Bits<8>>,
    g_target: DFF<bool>,
    g_mse: DFF<Bits<16>>,
    exp2: SyncROM<Bits<16>, 8>,
    log2: SyncROM<Bits<16>, 8>,
    term_valid: DFF<bool>,
    term_shift: DFF<Bits<16>>,
    state: DFF<Phase>,
    read_index: DFF<Bits<8>>,
    data_valid: DFF<bool>,
    data_index: DFF<Bits<8>>,
    max_biased: DFF<Bits<16>>,
    class_reg: DFF<Bits<8>>,
    target_biased: DFF<Bits<16>>,
    sum: DFF<Bits<32>>,
    err_valid: DFF<bool>,
    err: DFF<Bits<16>>,
    square_valid: DFF<bool>,
    square: DFF<Bits<32>>,
    lead: DFF<Bits<8>>,
    loss_reg: DFF<Bits<32>>,
    sat_reg: DFF<bool>,
    // Combinational intermediates, one width change each.
    z_biased: Signal<Local, Bits<16>>,
    diff: Signal<Local, Bits<16>>,
    diff_int: Signal<Local, Bits<16>>,
    exp_term: Signal<Local, Bits<32>>,
    pending_term: Signal<Local, Bits<32>>,
    final_sum: Signal<Local, Bits<32>>,
    mantissa_next: Signal<Local, Bits<8>>,
    err_signed: Signal<Local, Signed<16>>,
    square_signed: Signal<Local, Signed<32>>,
    lead_next: Signal<Local, Bits<8>>,
    shift_amount: Signal<Local, Bits<8>>,
    shifted: Signal<Local, Bits<32>>,
    lead_wide: Signal<Local, Bits<32>>,
    log2_wide: Signal<Local, Bits<32>>,
    ce_loss: Signal<Local, Bits<32>>,
    margin: Signal<Local, Bits<16>>,
    margin_wide: Signal<Local, Bits<32>>,
    base_next: Signal<Local, Bits<32>>,
    base_wide: Signal<Local, Bits<24>>,
    diff_wide: Signal<Local, Bits<24>>,
    l_k: Signal<Local, Bits<24>>,
    l_hi: Signal<Local, Bits<24>>,
    t_k: Signal<Local, Bits<16>>,
    z17: Signal<Local, Bits<17>>,
    t17: Signal<Local, Bits<17>>,
    dzb: Signal<Local, Bits<17>>,
    d17: Signal<Local, Bits<17>>,
    d_mid: Signal<Local, Bits<17>>,
    d_mid8: Signal<Local, Bits<8>>,
    d_shl: Signal<Local, Bits<17>>,
    clip_hi: Signal<Local, bool>,
    clip_lo: Signal<Local, bool>,
    dz_scaled: Signal<Local, Bits<16>>,
    p_half: Signal<Local, Bits<32>>,
    p_half16: Signal<Local, Bits<16>>,
    e_ce: Signal<Local, Bits<16>>,
}

impl LossUnit {
    /// A loss unit for `n_out` logits (2..=254), with the derivative sweep.
    pub fn new(n_out: usize) -> Self {
        Self::with_derivative(n_out, true)
    }

    /// A loss unit with or without the derivative sweep and its store (without: `grad` is
    /// ignored and `g_data` reads 0).
    pub fn with_derivative(n_out: usize, derivative: bool) -> Self {
        assert!(
            (2..=254).contains(&n_out),
            "the loss unit needs 2..=254 outputs"
        );
        Self {
            clock: Default::default(),
            z_we: Default::default(),
            z_waddr: Default::default(),
            z_wdata: Default::default(),
            start: Default::default(),
            cross_entropy: Default::default(),
            target: Default::default(),
            busy: Default::default(),
            done: Default::default(),
            loss: Default::default(),
            predicted: Default::default(),
            sat: Default::default(),
            peek_addr: Default::default(),
            peek_data: Default::default(),
            grad: Default::default(),
            g_addr: Default::default(),
            g_data: Default::default(),
            n_out: Constant::new(n_out.to_bits()),
            last_index: Constant::new((n_out - 1).to_bits()),
            one_hot: Constant::new((ONE_X as usize).to_bits()),
            grad_one: Constant::new((GRAD_ONE as usize).to_bits()),
            // One word more than the outputs: the read sequencer runs one address ahead.
            z_store: SizedRam::new(n_out + 1),
            g_store: SizedRam::new(if derivative { n_out + 1 } else { 1 }),
            has_grad: Constant::new(derivative),
            grad_mode: Default::default(),
            base: Default::default(),
            g_valid: Default::default(),
            g_index: Default::default(),
            g_target: Default::default(),
            g_mse: Default::default(),
            exp2: exp2_table()
                .into_iter()
                .map(|v| bits::<16>(v as LiteralType))
                .into(),
            log2: log2_table()
                .into_iter()
                .map(|v| bits::<16>(v as LiteralType))
                .into(),
            state: Default::default(),
            read_index: Default::default(),
            data_valid: Default::default(),
            data_index: Default::default(),
            max_biased: Default::default(),
            class_reg: Default::default(),
            target_biased: Default::default(),
            sum: Default::default(),
            err_valid: Default::default(),
            err: Default::default(),
            square_valid: Default::default(),
            square: Default::default(),
            lead: Default::default(),
            loss_reg: Default::default(),
            sat_reg: Default::default(),
            z_biased: Default::default(),
            diff: Default::default(),
            diff_int: Default::default(),
            exp_term: Default::default(),
            pending_term: Default::default(),
            final_sum: Default::default(),
            mantissa_next: Default::default(),
            term_valid: Default::default(),
            term_shift: Default::default(),
            err_signed: Default::default(),
            square_signed: Default::default(),
            lead_next: Default::default(),
            shift_amount: Default::default(),
            shifted: Default::default(),
            lead_wide: Default::default(),
            log2_wide: Default::default(),
            ce_loss: Default::default(),
            margin: Default::default(),
            margin_wide: Default::default(),
            base_next: Default::default(),
            base_wide: Default::default(),
            diff_wide: Default::default(),
            l_k: Default::default(),
            l_hi: Default::default(),
            t_k: Default::default(),
            z17: Default::default(),
            t17: Default::default(),
            dzb: Default::default(),
            d17: Default::default(),
            d_mid: Default::default(),
            d_mid8: Default::default(),
            d_shl: Default::default(),
            clip_hi: Default::default(),
            clip_lo: Default::default(),
            dz_scaled: Default::default(),
            p_half: Default::default(),
            p_half16: Default::default(),
            e_ce: Default::default(),
        }
    }
}

impl Logic for LossUnit {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            state,
            read_index,
            data_valid,
            data_index,
            max_biased,
            class_reg,
            target_biased,
            sum,
            err_valid,
            err,
            square_valid,
            square,
            lead,
            term_valid,
            term_shift,
            loss_reg,
            sat_reg,
            grad_mode,
            base,
            g_valid,
            g_index,
            g_target,
            g_mse
        );
        // Logit store: written by the learner, read here in index order.
        self.z_store.write_clock.next = self.clock.val();
        self.z_store.read_clock.next = self.clock.val();
        self.z_store.write_enable.next = self.z_we.val();
        self.z_store.write_address.next = self.z_waddr.val();
        self.z_store.write_data.next = self.z_wdata.val();
        if self.state.q.val() == Phase::Idle {
            self.z_store.read_address.next = self.peek_addr.val();
        } else {
            self.z_store.read_address.next = self.read_index.q.val();
        }
        self.peek_data.next = self.z_store.read_data.val();

        // Read sequencer for the MAX and SUM sweeps.
        self.data_valid.d.next = false;
        self.data_index.d.next = self.read_index.q.val();
        if ((self.state.q.val() == Phase::Max)
            | (self.state.q.val() == Phase::Sum)
            | (self.state.q.val() == Phase::Grad))
            & (self.read_index.q.val() < self.n_out.val())
        {
            self.data_valid.d.next = true;
            self.read_index.d.next = self.read_index.q.val() + 1;
        }
        self.z_biased.next = self.z_store.read_data.val() ^ 0x8000;

        // Cross-entropy term of the logit in flight.
        self.diff.next = self.max_biased.q.val() - self.z_biased.val();
        self.diff_int.next = self.diff.val() >> 8;
        // Both tables are synchronous ROMs (block RAM): a term is added one cycle after its
        // logit is read, and the last one is folded in while the sum is normalised.
        self.exp2.clock.next = self.clock.val();
        self.log2.clock.next = self.clock.val();
        // Derivative sweep, stage A (the logit's data cycle): -log2 p_k and its table address,
        // and the squared-error derivative with its clip.
        self.base_wide.next = bit_cast::<24, 16>(self.base.q.val());
        self.diff_wide.next = bit_cast::<24, 16>(self.diff.val());
        self.l_k.next = self.base_wide.val() + self.diff_wide.val();
        self.l_hi.next = self.l_k.val() >> 8;
        if self.state.q.val() == Phase::Grad {
            self.exp2.address.next = bit_cast::<8, 24>(self.l_k.val());
        } else {
            self.exp2.address.next = bit_cast::<8, 16>(self.diff.val());
        }
        self.t_k.next = 0.into();
        if self.data_index.q.val() == self.target.val() {
            self.t_k.next = self.one_hot.val();
        }
        // d = z - t in 17 bits (z from offset binary); it clips when |d * 128| needs more than
        // 16 bits: d >= 256 or d < -256.
        self.z17.next = bit_cast::<17, 16>(self.z_biased.val());
        self.t17.next = bit_cast::<17, 16>(self.t_k.val());
        self.dzb.next = self.z17.val() - self.t17.val();
        self.d17.next = self.dzb.val() - 0x8000;
        self.d_mid.next = self.d17.val() >> 8;
        self.d_mid8.next = bit_cast::<8, 17>(self.d_mid.val());
        self.d_shl.next = self.d17.val() << 7;
        self.dz_scaled.next = bit_cast::<16, 17>(self.d_shl.val());
        self.clip_hi.next = !self.d17.val().get_bit(16) & (self.d_mid8.val() != 0);
        self.clip_lo.next = self.d17.val().get_bit(16) & (self.d_mid8.val() != 0xFF);
        self.g_valid.d.next = (self.state.q.val() == Phase::Grad) & self.data_valid.q.val();
        self.g_index.d.next = self.data_index.q.val();
        self.g_target.d.next = self.data_index.q.val() == self.target.val();
        if self.clip_hi.val() {
            self.g_mse.d.next = 0x7FFF.into();
        } else if self.clip_lo.val() {
            self.g_mse.d.next = 0x8000.into();
        } else {
            self.g_mse.d.next = self.dz_scaled.val();
        }
        self.exp_term.next = bit_cast::<32, 16>(self.exp2.data.val());
        // One shifter serves the sum's terms and the derivative's probabilities: a term is
        // EXP2[f] >> q, and p_k = EXP2[L_k & 255] >> (L_k >> 8), 0 from a shift of 16.
        self.term_valid.d.next = false;
        self.term_shift.d.next = self.diff_int.val();
        if self.state.q.val() == Phase::Grad {
            self.term_valid.d.next = self.data_valid.q.val() & (self.l_hi.val() < 16);
            self.term_shift.d.next = bit_cast::<16, 24>(self.l_hi.val());
        } else if self.state.q.val() == Phase::Sum {
            self.term_valid.d.next =
                self.data_valid.q.val() & self.cross_entropy.val() & (self.diff_int.val() < 16);
        }
        self.pending_term.next = 0.into();
        if self.term_valid.q.val() {
            self.pending_term.next = self.exp_term.val() >> self.term_shift.q.val();
        }
        // Stage B: p_k / 2 - t_k, the write into the derivative store.
        self.p_half.next = self.pending_term.val() >> 1;
        self.p_half16.next = bit_cast::<16, 32>(self.p_half.val());
        self.e_ce.next = self.p_half16.val();
        if self.g_target.q.val() {
            self.e_ce.next = self.p_half16.val() - self.grad_one.val();
        }
        self.g_store.write_clock.next = self.clock.val();
        self.g_store.read_clock.next = self.clock.val();
        self.g_store.write_address.next = self.g_index.q.val();
        self.g_store.write_enable.next = self.g_valid.q.val() & self.has_grad.val();
        if self.cross_entropy.val() {
            self.g_store.write_data.next = self.e_ce.val();
        } else {
            self.g_store.write_data.next = self.g_mse.q.val();
        }
        // Without the derivative the one-word stand-in is always read at 0 (never unknown).
        if self.has_grad.val() {
            self.g_store.read_address.next = self.g_addr.val();
        } else {
            self.g_store.read_address.next = 0.into();
        }
        self.g_data.next = self.g_store.read_data.val();
        self.final_sum.next = self.sum.q.val() + self.pending_term.val();

        // Squared-error pipeline: error, square, accumulate.
        // A clipped squared-error derivative pulses `sat` in the cycle it is written (the last
        // one with `done`).
        self.sat_reg.d.next = (self.state.q.val() == Phase::Grad)
            & self.data_valid.q.val()
            & !self.cross_entropy.val()
            & (self.clip_hi.val() | self.clip_lo.val());
        self.err_valid.d.next = false;
        self.err_signed.next = signed_cast(self.err.q.val());
        self.square_signed.next = self.err_signed.val() * self.err_signed.val();
        self.square_valid.d.next = self.err_valid.q.val();
        self.square.d.next = unsigned_cast(self.square_signed.val());
        if self.square_valid.q.val() {
            self.sum.d.next = self.sum.q.val() + (self.square.q.val() >> 8);
        }

        // Leading one of the exp sum (S in [2^15, 2^23)), from the sum register: the last
        // term is folded in first (Norm), so no adder precedes the normalisation (Norm2).
        self.lead_next.next = 15.into();
        if self.sum.q.val().get_bit(16) {
            self.lead_next.next = 16.into();
        }
        if self.sum.q.val().get_bit(17) {
            self.lead_next.next = 17.into();
        }
        if self.sum.q.val().get_bit(18) {
            self.lead_next.next = 18.into();
        }
        if self.sum.q.val().get_bit(19) {
            self.lead_next.next = 19.into();
        }
        if self.sum.q.val().get_bit(20) {
            self.lead_next.next = 20.into();
        }
        if self.sum.q.val().get_bit(21) {
            self.lead_next.next = 21.into();
        }
        if self.sum.q.val().get_bit(22) {
            self.lead_next.next = 22.into();
        }
        self.shift_amount.next = self.lead_next.val() - 8;
        self.shifted.next = self.sum.q.val() >> self.shift_amount.val();
        self.mantissa_next.next = bit_cast::<8, 32>(self.shifted.val());
        self.log2.address.next = self.mantissa_next.val();
        self.lead_wide.next = bit_cast::<32, 8>(self.lead.q.val());
        self.log2_wide.next = bit_cast::<32, 16>(self.log2.data.val());
        self.margin.next = self.max_biased.q.val() - self.target_biased.q.val();
        self.margin_wide.next = bit_cast::<32, 16>(self.margin.val());
        self.base_next.next = ((self.lead_wide.val() - 15) << 8) + self.log2_wide.val();
        self.ce_loss.next = self.base_next.val() + self.margin_wide.val();

        self.done.next = false;
        match self.state.q.val() {
            Phase::Idle => {
                if self.start.val() {
                    self.grad_mode.d.next = self.grad.val() & self.has_grad.val();
                    self.state.d.next = Phase::Max;
                    self.read_index.d.next = 0.into();
                    self.sum.d.next = 0.into();
                }
            }
            Phase::Max => {
                if self.data_valid.q.val() {
                    if (self.data_index.q.val() == 0)
                        | (self.z_biased.val() > self.max_biased.q.val())
                    {
                        self.max_biased.d.next = self.z_biased.val();
                        self.class_reg.d.next = self.data_index.q.val();
                    }
                    if self.data_index.q.val() == self.target.val() {
                        self.target_biased.d.next = self.z_biased.val();
                    }
                    if self.data_index.q.val() == self.last_index.val() {
                        self.state.d.next = Phase::Sum;
                        self.read_index.d.next = 0.into();
                    }
                }
            }
            Phase::Sum => {
                if self.cross_entropy.val() {
                    self.sum.d.next = self.final_sum.val();
                }
                if self.data_valid.q.val() {
                    if !self.cross_entropy.val() {
                        self.err_valid.d.next = true;
                        self.err.d.next = self.z_store.read_data.val();
                        if self.data_index.q.val() == self.target.val() {
                            // z - 1.0 clips when z < -32768 + 256, i.e. biased z < 256.
                            if self.z_biased.val() < self.one_hot.val() {
                                self.err.d.next = 0x8000.into();
                                self.sat_reg.d.next = true;
                            } else {
                                self.err.d.next = self.z_store.read_data.val() - self.one_hot.val();
                            }
                        }
                    }
                    if self.data_index.q.val() == self.last_index.val() {
                        if self.cross_entropy.val() {
                            self.state.d.next = Phase::Norm;
                        } else {
                            self.state.d.next = Phase::Tail1;
                        }
                    }
                }
            }
            Phase::Norm => {
                self.sum.d.next = self.final_sum.val();
                self.state.d.next = Phase::Norm2;
            }
            // The log2 table reads the mantissa here; the loss is formed in Fin.
            Phase::Norm2 => {
                self.lead.d.next = self.lead_next.val();
                self.state.d.next = Phase::Fin;
            }
            Phase::Tail1 => {
                self.state.d.next = Phase::Tail2;
            }
            Phase::Tail2 => {
                self.state.d.next = Phase::Fin;
            }
            Phase::Fin => {
                self.loss_reg.d.next = self.ce_loss.val();
                self.base.d.next = bit_cast::<16, 32>(self.base_next.val());
                if self.grad_mode.q.val() {
                    self.read_index.d.next = 0.into();
                    self.state.d.next = Phase::Grad;
                } else {
                    self.done.next = true;
                    self.state.d.next = Phase::Idle;
                }
            }
            Phase::Grad => {
                if self.data_valid.q.val() & (self.data_index.q.val() == self.last_index.val()) {
                    self.state.d.next = Phase::GradEnd;
                }
            }
            // The last derivative is written at the end of this cycle.
            Phase::GradEnd => {
                self.done.next = true;
                self.state.d.next = Phase::Idle;
            }
            _ => {
                self.state.d.next = Phase::Idle;
            }
        }
        self.busy.next = self.state.q.val() != Phase::Idle;
        // The squared-error sum is final in Fin and holds while idle.
        if self.cross_entropy.val() {
            // Formed in Fin (when `done` pulses), held from then on.
            if self.state.q.val() == Phase::Fin {
                self.loss.next = self.ce_loss.val();
            } else {
                self.loss.next = self.loss_reg.q.val();
            }
        } else {
            self.loss.next = self.sum.q.val();
        }
        self.predicted.next = self.class_reg.q.val();
        self.sat.next = self.sat_reg.q.val();
    }
}
