//! `zo_hdl::learner::step::StepUnit` driven directly through its ports, against the model's
//! step and rounding functions (`zo_sim::model::arith::{step_size, sround, sat16, sat32, velocity}`
//! and the rounding generator `model::lfsr::Lfsr`).
//!
//! - Step size: random and extreme `L+`, `L-`, `eta_mant`; the test multiplies the operands
//!   the unit hands out (the pipeline's multiplier) and feeds the product back; `step` and the
//!   number of `clip` pulses must equal `step_size` and its clip count.
//! - Weights: random contributions, signs, old weights, shifts, momentum and layers, one
//!   weight at a time through S2..S5 in random modes (update with batch 1, update into the
//!   accumulators, fused momentum, apply, clear); the written weight, the write strobe, the
//!   clips, the zero updates and the accumulators (read back by apply sweeps) must follow the
//!   model's `update_weight` / `apply_one` rules with the same rounding stream.
//!
//! A negative control flips one bit of one expected weight and shows the comparison fails.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use zo_hdl::config::Shape;
use zo_hdl::formats::{nonzero_seed, NOISE_WIDTH, ROUND_SEED_XOR};
use zo_hdl::learner::step::StepUnit;
use zo_sim::harness::testkit;
use zo_sim::model::arith::{sat16, sat32, sround, step_size, velocity};
use zo_sim::model::lfsr::Lfsr;

const AW: usize = 8;
const SHAPE: Shape = Shape {
    n_in: 5,
    n_hid: 4,
    n_out: 3,
};

struct Harness {
    uut: Box<StepUnit<AW>>,
    /// `clip` pulses seen before the edges so far (where the sequencer counts them).
    clips: u32,
}

impl Harness {
    fn new(momentum: u8) -> Self {
        let mut uut = Box::new(StepUnit::<AW>::new(SHAPE, true));
        uut.connect_all();
        uut.momentum.next = (momentum as u64).to_bits();
        uut.idle.next = true;
        let mut h = Self { uut, clips: 0 };
        testkit::settle(&mut *h.uut, "StepUnit");
        h
    }

    /// Inputs set before the call, settled with the clock low (a `clip` then is counted, as
    /// the sequencer samples it), sampled at the rising edge.
    fn tick(&mut self) {
        let clock = |u: &mut StepUnit<AW>, c: bool| u.clock.next = c.into();
        testkit::clock_to(&mut *self.uut, "StepUnit", clock, false);
        if self.uut.clip.val() {
            self.clips += 1;
        }
        testkit::clock_to(&mut *self.uut, "StepUnit", clock, true);
    }

    fn seed(&mut self, seed: u32) {
        self.uut.seed.next = (seed as u64).to_bits();
        self.uut.seed_load.next = true;
        self.tick();
        self.uut.seed_load.next = false;
    }

    /// `G` from `L+`, `L-`: the `Step1, Step2, Step3` phases, the product formed here as
    /// the pipeline's signed 16 x 16 multiplier does. Returns `(G, clips)`.
    fn step_size(&mut self, l_plus: u32, l_minus: u32, mant: u8) -> (i16, u32) {
        let before = self.clips;
        let u = &mut self.uut;
        u.eta_mant.next = (mant as u64).to_bits();
        u.l_plus.next = (l_plus as u64).to_bits();
        u.l_minus.next = (l_minus as u64).to_bits();
        u.step_operands.next = true;
        testkit::settle(&mut **u, "StepUnit");
        let a = u.mul_a.val().index() as u16 as i16 as i32;
        let b = u.mul_b.val().index() as u16 as i16 as i32;
        self.tick();
        self.uut.step_operands.next = false;
        self.tick();
        self.uut.product.next = ((a * b) as u32 as u64).to_bits();
        self.uut.step_capture.next = true;
        self.tick();
        self.uut.step_capture.next = false;
        self.tick();
        (
            self.uut.step.val().index() as u16 as i16,
            self.clips - before,
        )
    }
}

/// One weight's mode.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    UpdateBatch1,
    UpdateAccumulate,
    UpdateFused,
    Apply,
    Clear,
}

/// What the unit did with one weight.
#[derive(Debug, PartialEq)]
struct Outcome {
    write: Option<i16>,
    zero: bool,
    clips: u32,
}

/// Runs weight `addr` through S2..S5: `product` and `sign` at S3, `layer` at S4, `w_old` at S5.
fn one_weight(
    h: &mut Harness,
    mode: Mode,
    addr: usize,
    product: i32,
    sign: bool,
    layer: bool,
    w_old: i16,
) -> Outcome {
    let before = h.clips;
    let u = &mut h.uut;
    u.mode_update.next = matches!(
        mode,
        Mode::UpdateBatch1 | Mode::UpdateAccumulate | Mode::UpdateFused
    );
    u.mode_apply.next = matches!(mode, Mode::Apply | Mode::Clear);
    u.clear_only.next = mode == Mode::Clear;
    u.batch_one.next = matches!(mode, Mode::UpdateBatch1 | Mode::UpdateFused);
    // S2: the accumulator read.
    u.s2_addr.next = addr.to_bits();
    h.tick();
    // S3.
    h.uut.s3_valid.next = true;
    h.uut.s3_addr.next = addr.to_bits();
    h.uut.s3_sign.next = sign;
    h.uut.product.next = (product as u32 as u64).to_bits();
    h.tick();
    h.uut.s3_valid.next = false;
    // S4.
    h.uut.s4_valid.next = true;
    h.uut.s4_layer.next = layer;
    h.tick();
    h.uut.s4_valid.next = false;
    // S5: the write-back is combinational from the S5 registers and `w_old`.
    h.uut.s5_valid.next = true;
    h.uut.w_old.next = (w_old as u16 as u64).to_bits();
    testkit::settle(&mut *h.uut, "StepUnit");
    let write = h
        .uut
        .w_we
        .val()
        .then(|| h.uut.w_wdata.val().index() as u16 as i16);
    let zero = h.uut.zero_update.val();
    h.tick();
    h.uut.s5_valid.next = false;
    h.tick();
    Outcome {
        write,
        zero,
        clips: h.clips - before,
    }
}

/// The model's rule for one weight: `(outcome, new accumulator)`, stepping `round`.
#[allow(clippy::too_many_arguments)]
fn expected(
    mode: Mode,
    acc: i32,
    c: i32,
    shift: u8,
    momentum: u8,
    w_old: i16,
    round: &mut Lfsr,
) -> (Outcome, i32) {
    let mut sat = 0;
    let mut rounded = |v: i32, sat: &mut u32| {
        let d = sround(v, shift, round.state() as u32);
        round.next_bit();
        (sat16(w_old as i64 - d, sat), d == 0)
    };
    let (write, zero, acc) = match mode {
        Mode::UpdateBatch1 => {
            let (w, z) = rounded(c, &mut sat);
            (Some(w), z, acc)
        }
        Mode::UpdateAccumulate => (None, false, sat32(acc as i64 + c as i64, &mut sat)),
        Mode::UpdateFused => {
            let a = sat32(acc as i64 + c as i64, &mut sat);
            let (w, z) = rounded(a, &mut sat);
            (Some(w), z, velocity(a, momentum))
        }
        Mode::Apply => {
            let (w, z) = rounded(acc, &mut sat);
            (Some(w), z, velocity(acc, momentum))
        }
        Mode::Clear => (None, false, 0),
    };
    (
        Outcome {
            write,
            zero,
            clips: sat,
        },
        acc,
    )
}

/// A random 32-bit value of one of four kinds: small, product-sized, any, extreme.
fn value(rng: &mut ChaCha8Rng) -> i32 {
    match rng.gen_range(0..4) {
        0 => rng.gen_range(-4096..4096),
        1 => rng.gen_range(-(1 << 24)..(1 << 24)),
        2 => rng.gen(),
        _ => [i32::MIN, i32::MAX, 0, -1, 1 << 30, -(1 << 30)][rng.gen_range(0..6)],
    }
}

#[test]
fn step_size_matches_model() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut h = Harness::new(0);
    for trial in 0..2000 {
        // Losses below 2^31: the unit subtracts modulo 2^32, the model in i64; they agree
        // wherever the loss unit can reach (its losses stay far below 2^31).
        let l_plus: u32 = if trial % 2 == 0 {
            rng.gen_range(0..70_000)
        } else {
            rng.gen_range(0..1 << 31)
        };
        let l_minus: u32 = if trial % 3 == 0 {
            rng.gen_range(0..1 << 31)
        } else {
            l_plus
                .saturating_add(rng.gen_range(0..1000))
                .saturating_sub(500)
        };
        let mant: u8 = rng.gen();
        let mut sat = 0;
        let want = step_size(l_plus, l_minus, mant, &mut sat);
        assert_eq!(
            h.step_size(l_plus, l_minus, mant),
            (want, sat),
            "L+ {l_plus} L- {l_minus} mant {mant}"
        );
    }
}

/// Runs `trials` random weights; `flip` flips one bit of the expected weight of trial 0.
fn weights_against_model(seed: u64, trials: usize, flip: Option<u32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = SHAPE.n_weights();
    for momentum in [0u8, 3] {
        let mut h = Harness::new(momentum);
        let run_seed: u32 = rng.gen();
        h.seed(run_seed);
        let mut round = Lfsr::new(
            NOISE_WIDTH,
            nonzero_seed(nonzero_seed(run_seed) ^ ROUND_SEED_XOR) as u64,
        );
        let mut accum = vec![0i32; n];
        for trial in 0..trials {
            let mode = match rng.gen_range(0..10) {
                // With momentum a batch-1 update is the fused one.
                0..=2 if momentum > 0 => Mode::UpdateFused,
                0..=2 => Mode::UpdateBatch1,
                3..=5 => Mode::UpdateAccumulate,
                6 | 7 if momentum > 0 => Mode::UpdateFused,
                6..=8 => Mode::Apply,
                _ => Mode::Clear,
            };
            let addr = rng.gen_range(0..n);
            let product = value(&mut rng);
            let sign: bool = rng.gen();
            let layer: bool = rng.gen();
            let hybrid: bool = rng.gen();
            let (eta_shift, out_shift) = (rng.gen_range(0..32u8), rng.gen_range(0..32u8));
            let w_old: i16 = rng.gen();
            h.uut.hybrid_on.next = hybrid;
            h.uut.eta_shift.next = (eta_shift as u64).to_bits();
            h.uut.out_shift.next = (out_shift as u64).to_bits();
            let shift = if hybrid && layer {
                out_shift
            } else {
                eta_shift
            };
            let c = if sign {
                product
            } else {
                product.wrapping_neg()
            };
            let (mut want, acc) =
                expected(mode, accum[addr], c, shift, momentum, w_old, &mut round);
            if trial == 0 {
                if let (Some(bit), Some(w)) = (flip, want.write.as_mut()) {
                    *w ^= 1 << bit;
                }
            }
            let got = one_weight(&mut h, mode, addr, product, sign, layer, w_old);
            assert_eq!(
                got, want,
                "trial {trial} {mode:?} addr {addr} product {product} sign {sign} shift {shift} \
                 momentum {momentum} w {w_old} acc {}",
                accum[addr]
            );
            accum[addr] = acc;
        }
    }
}

#[test]
fn weights_and_accumulators_match_model() {
    weights_against_model(12, 3000, None);
}

#[test]
fn a_flipped_bit_of_a_weight_fails_the_comparison() {
    for bit in [0, 15] {
        // Trial 0 of seed 13 writes a weight (checked: the control must have a write to flip).
        let r = std::panic::catch_unwind(|| weights_against_model(13, 1, Some(bit)));
        assert!(r.is_err(), "a flipped bit {bit} passed");
    }
}
