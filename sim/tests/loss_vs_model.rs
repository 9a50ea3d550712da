//! The rust-hdl loss unit against the model's loss on random and extreme logits.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use zo_hdl::config::LossKind;
use zo_hdl::learner::loss::LossUnit;
use zo_sim::harness::testkit;
use zo_sim::model::LossTables;

fn tick(u: &mut LossUnit) {
    testkit::high_then_low(u, "LossUnit", |u, c| u.clock.next = c.into());
}

/// Returns (loss, class, sat pulses, cycles from start to done).
fn eval(u: &mut LossUnit, z: &[i16], target: usize, ce: bool) -> (u32, usize, u32, u32) {
    eval_with(u, z, target, ce, false)
}

fn eval_with(
    u: &mut LossUnit,
    z: &[i16],
    target: usize,
    ce: bool,
    grad: bool,
) -> (u32, usize, u32, u32) {
    for (k, &v) in z.iter().enumerate() {
        u.z_we.next = true;
        u.z_waddr.next = k.to_bits();
        u.z_wdata.next = (v as u16 as u64).to_bits();
        tick(u);
    }
    u.z_we.next = false;
    u.cross_entropy.next = ce;
    u.target.next = target.to_bits();
    u.grad.next = grad;
    u.start.next = true;
    tick(u);
    u.start.next = false;
    u.grad.next = false;
    testkit::settle(u, "LossUnit");
    let mut cycles = 1;
    let mut sat = 0;
    while !u.done.val() {
        tick(u);
        cycles += 1;
        if u.sat.val() {
            sat += 1;
        }
        assert!(cycles < 2000);
    }
    (
        u.loss.val().index() as u32,
        u.predicted.val().index(),
        sat,
        cycles,
    )
}

/// Logits of four kinds by trial: small, any, extremes and the squared-error clip edges, wide.
fn random_logits(rng: &mut ChaCha8Rng, n_out: usize, trial: usize) -> Vec<i16> {
    (0..n_out)
        .map(|_| match trial % 4 {
            0 => rng.gen_range(-512..512),
            1 => rng.gen(),
            2 => [i16::MIN, i16::MAX, 0, -1, 255, 256, -256, -257][rng.gen_range(0..8)],
            _ => rng.gen_range(-4096..4096),
        })
        .collect()
}

#[test]
fn loss_unit_matches_model() {
    let tables = LossTables::default();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for n_out in [2usize, 3, 10] {
        let mut u = LossUnit::new(n_out);
        u.connect_all();
        for trial in 0..300 {
            let z = random_logits(&mut rng, n_out, trial);
            let t = rng.gen_range(0..n_out);
            for (ce, kind) in [
                (false, LossKind::SquaredError),
                (true, LossKind::CrossEntropy),
            ] {
                let mut sat = 0;
                let (want, class) = tables.loss(&z, t, kind, &mut sat);
                let (got, got_class, got_sat, _) = eval(&mut u, &z, t, ce);
                assert_eq!(
                    (got, got_class, got_sat),
                    (want, class, sat),
                    "z {z:?} target {t} {kind:?}"
                );
            }
        }
    }
}

/// The derivative store read back through `g_addr` / `g_data`.
fn read_derivatives(u: &mut LossUnit, n_out: usize) -> Vec<i16> {
    (0..n_out)
        .map(|k| {
            u.g_addr.next = k.to_bits();
            tick(u);
            u.g_data.val().index() as u16 as i16
        })
        .collect()
}

#[test]
fn derivative_sweep_matches_model() {
    let tables = LossTables::default();
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for n_out in [2usize, 3, 10] {
        let mut u = LossUnit::new(n_out);
        u.connect_all();
        for trial in 0..200 {
            let z = random_logits(&mut rng, n_out, trial);
            let t = rng.gen_range(0..n_out);
            for (ce, kind) in [
                (false, LossKind::SquaredError),
                (true, LossKind::CrossEntropy),
            ] {
                let mut sat = 0;
                let (want, class) = tables.loss(&z, t, kind, &mut sat);
                let mut want_grad = vec![0i16; n_out];
                tables.grad(&z, t, kind, &mut want_grad, &mut sat);
                let (_, _, _, plain_cycles) = eval(&mut u, &z, t, ce);
                let (got, got_class, got_sat, cycles) = eval_with(&mut u, &z, t, ce, true);
                let ctx = format!("z {z:?} target {t} {kind:?}");
                assert_eq!((got, got_class, got_sat), (want, class, sat), "{ctx}");
                assert_eq!(cycles, plain_cycles + n_out as u32 + 2, "{ctx}");
                let got_grad = read_derivatives(&mut u, n_out);
                assert_eq!(got_grad, want_grad, "derivatives differ: {ctx}");
                // One flipped bit in the reference is seen.
                let mut flipped = want_grad.clone();
                flipped[t] ^= 1;
                assert_ne!(got_grad, flipped);
            }
        }
    }
}

/// Cross-entropy derivatives are `p - t`: they sum to about zero and the target's is negative.
#[test]
fn cross_entropy_derivative_is_p_minus_t() {
    let tables = LossTables::default();
    let mut sat = 0;
    let mut e = vec![0i16; 3];
    tables.grad(&[0, 0, 0], 1, LossKind::CrossEntropy, &mut e, &mut sat);
    // p = 1/3 each: 16384 / 3 = 5461 (table rounding within a few units).
    for (k, &v) in e.iter().enumerate() {
        let want = if k == 1 { 5461 - 16384 } else { 5461 };
        assert!((v as i32 - want).abs() <= 8, "{e:?}");
    }
    let sum: i32 = e.iter().map(|&v| v as i32).sum();
    assert!(sum.abs() <= 16, "{e:?}");
    assert_eq!(sat, 0);
}
