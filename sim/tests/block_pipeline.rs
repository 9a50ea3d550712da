//! `zo_hdl::learner::pipeline::Pipeline` driven directly through its ports with the S0 stream
//! a sequencer issues, against the model's datapath functions (`zo_sim::model::arith::{activation,
//! logit, perturbed_weight, node_noise, update_operand}`, `formats::input_operand`).
//!
//! Random networks, inputs, sigma and perturbation signs; per trial a clean pass, a `+` pass
//! and a `-` pass (node or weight perturbation, or the hybrid estimator's noise-free output
//! layer), each layer 1 then layer 2 with the drain between, then an update sweep over both
//! layers. The logits written to the loss unit's store and the clip pulses must equal the
//! model's forward pass on the same signs (which also checks the activations stored in
//! `h+`/`h-`: layer 2 reads them); every product of the update sweep must equal
//! `step * update_operand` (or the derivative `g_k` on the hybrid output layer), at the right
//! address and with the sign carried to S3. A negative control flips one expected bit.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use zo_hdl::config::Shape;
use zo_hdl::formats::{input_operand, ONE_X};
use zo_hdl::learner::pipeline::Pipeline;
use zo_sim::harness::testkit;
use zo_sim::model::arith::{activation, logit, node_noise, perturbed_weight, update_operand};

const AW: usize = 8;

/// One weight as the sequencer issues it at S0.
#[derive(Clone, Copy, Debug)]
struct Item {
    layer: bool,
    row: usize,
    col: usize,
    addr: usize,
    first: bool,
    last: bool,
    sign: bool,
}

/// What the pipeline reported in one sweep.
#[derive(Default, Debug)]
struct Seen {
    /// (row, logit) per logit write.
    logits: Vec<(usize, i16)>,
    /// (address, product, sign) per weight at S3.
    products: Vec<(usize, i32, bool)>,
    clip_weight: u32,
    clip_logit: u32,
}

struct Harness {
    uut: Box<Pipeline<AW>>,
}

impl Harness {
    /// One cycle: inputs settled with the clock low, outputs sampled (as the step unit, the
    /// loss unit and the sequencer see them before the edge), then the rising edge.
    fn tick(&mut self, seen: &mut Seen) {
        let clock = |u: &mut Pipeline<AW>, c: bool| u.clock.next = c.into();
        testkit::clock_to(&mut *self.uut, "Pipeline", clock, false);
        let u = &self.uut;
        if u.z_we.val() {
            seen.logits.push((
                u.z_waddr.val().index(),
                u.z_wdata.val().index() as u16 as i16,
            ));
        }
        if u.s3_valid.val() {
            seen.products.push((
                u.s3_addr.val().index(),
                u.product.val().index() as u32 as i32,
                u.s3_sign.val(),
            ));
        }
        seen.clip_weight += u.clip_weight.val() as u32;
        seen.clip_logit += u.clip_logit.val() as u32;
        testkit::clock_to(&mut *self.uut, "Pipeline", clock, true);
    }

    /// Issues `items` one per cycle, answering the synchronous reads (weight at the address,
    /// input at the column, derivative at the row) one cycle later, then drains.
    fn sweep(&mut self, items: &[Item], w: &[i16], x: &[u8], g: &[i16]) -> Seen {
        let mut seen = Seen::default();
        for it in items {
            let u = &mut self.uut;
            u.s0_valid.next = true;
            u.s0_layer.next = it.layer;
            u.s0_row.next = it.row.to_bits();
            u.s0_col.next = it.col.to_bits();
            u.s0_addr.next = it.addr.to_bits();
            u.s0_first.next = it.first;
            u.s0_last.next = it.last;
            u.s0_sign.next = it.sign;
            self.tick(&mut seen);
            let u = &mut self.uut;
            u.w_rdata.next = (w[it.addr] as u16 as u64).to_bits();
            u.x_data.next = (*x.get(it.col).unwrap_or(&0) as u64).to_bits();
            u.g_data.next = (*g.get(it.row).unwrap_or(&0) as u16 as u64).to_bits();
        }
        self.uut.s0_valid.next = false;
        for _ in 0..6 {
            self.tick(&mut seen);
        }
        seen
    }
}

/// The S0 stream of `layers` with the given signs: `signs[row]` per unit (node perturbation)
/// or per weight (`signs[addr]`), as `per_weight` says.
fn items(shape: Shape, layers: &[usize], signs: &[bool], per_weight: bool) -> Vec<Item> {
    let mut out = Vec::new();
    for &layer in layers {
        let (rows, fan, base) = if layer == 0 {
            (shape.n_hid, shape.n_in, 0)
        } else {
            (shape.n_out, shape.n_hid, shape.layer2_base())
        };
        for row in 0..rows {
            for col in 0..=fan {
                let addr = base + row * (fan + 1) + col;
                let unit = if layer == 0 { row } else { shape.n_hid + row };
                out.push(Item {
                    layer: layer == 1,
                    row,
                    col,
                    addr,
                    first: col == 0,
                    last: col == fan,
                    sign: signs[if per_weight { addr } else { unit }],
                });
            }
        }
    }
    out
}

/// The model's forward pass on the given signs: (hidden activations, logits, weight clips,
/// logit clips). `noise` says whether the pass is noisy, `wp` weight perturbation, `hybrid`
/// the hybrid estimator (no node noise on the output layer).
#[allow(clippy::too_many_arguments)]
fn model_forward(
    shape: Shape,
    w: &[i16],
    x: &[u8],
    signs: &[bool],
    sigma: u16,
    noise: bool,
    wp: bool,
    hybrid: bool,
) -> (Vec<i32>, Vec<i16>, u32, u32) {
    let (mut wsat, mut zsat) = (0, 0);
    let mut h = vec![0; shape.n_hid];
    let mut z = vec![0; shape.n_out];
    for layer in 0..2 {
        let (rows, fan, base) = if layer == 0 {
            (shape.n_hid, shape.n_in, 0)
        } else {
            (shape.n_out, shape.n_hid, shape.layer2_base())
        };
        for row in 0..rows {
            let unit = if layer == 0 { row } else { shape.n_hid + row };
            let mut acc: i32 = 0;
            for j in 0..=fan {
                let addr = base + row * (fan + 1) + j;
                let operand = match (layer, j < fan) {
                    (0, true) => input_operand(x[j]),
                    (_, true) => h[j],
                    _ => ONE_X,
                };
                let wj = if wp && noise {
                    perturbed_weight(w[addr], signs[addr], sigma, &mut wsat)
                } else {
                    w[addr]
                };
                acc = acc.wrapping_add(wj as i32 * operand);
            }
            if !wp && noise && !(hybrid && layer == 1) {
                acc = acc.wrapping_add(node_noise(signs[unit], sigma));
            }
            if layer == 0 {
                h[row] = activation(acc);
            } else {
                z[row] = logit(acc, &mut zsat);
            }
        }
    }
    (h, z, wsat, zsat)
}

fn set_modes(u: &mut Pipeline<AW>, minus: bool, clean: bool, update: bool) {
    u.pass_minus.next = minus;
    u.pass_clean.next = clean;
    u.mode_update.next = update;
    u.mode_apply.next = false;
}

/// Runs `trials` random trials; `flip` flips bit 0 of the first expected logit.
fn pipeline_against_model(seed: u64, trials: usize, flip: bool) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for trial in 0..trials {
        let shape = [
            Shape {
                n_in: 5,
                n_hid: 4,
                n_out: 3,
            },
            Shape {
                n_in: 3,
                n_hid: 6,
                n_out: 2,
            },
        ][trial % 2];
        let mut h = Harness {
            uut: Box::new(Pipeline::<AW>::new(shape)),
        };
        h.uut.connect_all();
        testkit::settle(&mut *h.uut, "Pipeline");
        let n = shape.n_weights();
        // Small weights keep most units in range; every fourth trial uses any weights.
        let w: Vec<i16> = (0..n)
            .map(|_| {
                if trial % 4 == 3 {
                    rng.gen()
                } else {
                    rng.gen_range(-3000..3000)
                }
            })
            .collect();
        let x: Vec<u8> = (0..shape.n_in).map(|_| rng.gen()).collect();
        let g: Vec<i16> = (0..shape.n_out).map(|_| rng.gen()).collect();
        let sigma: u16 = rng.gen_range(0..0x8000);
        let step: i16 = rng.gen();
        let (wp, hybrid) = match trial % 3 {
            0 => (false, false),
            1 => (true, false),
            _ => (false, true),
        };
        h.uut.estimator_wp.next = wp;
        h.uut.hybrid_on.next = hybrid;
        h.uut.sigma.next = (sigma as u64).to_bits();
        h.uut.step.next = (step as u16 as u64).to_bits();
        let n_signs = n.max(shape.n_hid + shape.n_out);
        let plus: Vec<bool> = (0..n_signs).map(|_| rng.gen()).collect();
        let mut minus: Vec<bool> = plus.iter().map(|s| !s).collect();
        let clean = vec![true; n_signs];
        if hybrid {
            // The output units of the hybrid estimator carry sign 1 in every pass.
            for s in minus.iter_mut().skip(shape.n_hid) {
                *s = true;
            }
        }
        let mut h_pm = Vec::new();
        // Clean first: it writes h+, which the update sweep must find from the `+` pass.
        for (pass, signs) in [(2, &clean), (0, &plus), (1, &minus)] {
            set_modes(&mut h.uut, pass == 1, pass == 2, false);
            let mut seen = h.sweep(&items(shape, &[0], signs, wp), &w, &x, &g);
            let s2 = h.sweep(&items(shape, &[1], signs, wp), &w, &x, &g);
            seen.logits.extend(s2.logits);
            seen.clip_weight += s2.clip_weight;
            seen.clip_logit += s2.clip_logit;
            let (hv, mut z, wsat, zsat) =
                model_forward(shape, &w, &x, signs, sigma, pass != 2, wp, hybrid);
            if flip && pass == 0 {
                z[0] ^= 1;
            }
            let want: Vec<(usize, i16)> = z.into_iter().enumerate().collect();
            assert_eq!(
                (seen.logits, seen.clip_weight, seen.clip_logit),
                (want, wsat, zsat),
                "trial {trial} pass {pass} wp {wp} hybrid {hybrid} sigma {sigma}"
            );
            h_pm.push(hv);
        }
        // The update sweep: both layers, products at S3 with the S0 sign.
        set_modes(&mut h.uut, false, false, true);
        let up = items(shape, &[0, 1], &plus, wp);
        let seen = h.sweep(&up, &w, &x, &g);
        let want: Vec<(usize, i32, bool)> = up
            .iter()
            .map(|it| {
                let layer = it.layer as usize;
                // h+ and h- of the `+` and `-` passes (the clean pass ran first).
                let operand = update_operand(!wp, layer, it.col, &x, &h_pm[1], &h_pm[2]);
                let mult = if hybrid && it.layer {
                    g[it.row] as i32
                } else {
                    step as i32
                };
                (it.addr, mult * operand, it.sign)
            })
            .collect();
        assert_eq!(
            seen.products, want,
            "trial {trial} update wp {wp} hybrid {hybrid}"
        );
    }
}

#[test]
fn pipeline_matches_model() {
    pipeline_against_model(21, 300, false);
}

#[test]
fn a_flipped_logit_bit_fails_the_comparison() {
    let r = std::panic::catch_unwind(|| pipeline_against_model(22, 1, true));
    assert!(r.is_err(), "a flipped logit bit passed");
}

#[test]
fn step_operands_borrow_the_multiplier() {
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    let shape = Shape {
        n_in: 5,
        n_hid: 4,
        n_out: 3,
    };
    let mut h = Harness {
        uut: Box::new(Pipeline::<AW>::new(shape)),
    };
    h.uut.connect_all();
    for _ in 0..500 {
        let (a, b): (i16, i16) = (rng.gen(), rng.gen());
        h.uut.step_a.next = (a as u16 as u64).to_bits();
        h.uut.step_b.next = (b as u16 as u64).to_bits();
        h.uut.step_operands.next = true;
        let mut seen = Seen::default();
        h.tick(&mut seen);
        h.uut.step_operands.next = false;
        h.tick(&mut seen);
        testkit::settle(&mut *h.uut, "Pipeline");
        assert_eq!(
            h.uut.product.val().index() as u32 as i32,
            a as i32 * b as i32,
            "{a} * {b}"
        );
    }
}
