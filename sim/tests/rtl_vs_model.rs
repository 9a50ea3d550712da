//! The rust-hdl learner and the reference model must agree bit for bit: weights, losses,
//! counters, generator state and batch position after every sample.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zo_hdl::config::{Estimator, LossKind, Shape, TrainParams};
use zo_sim::data::schedule::init_weights;
use zo_sim::harness::compare::first_weight_difference;
use zo_sim::harness::fixtures::test_train_params;
use zo_sim::harness::rtl::RtlLearner;
use zo_sim::model::{Counters, Model, SampleLosses};

struct Case {
    shape: Shape,
    params: TrainParams,
    samples: usize,
    /// Multiplies the initial weights (large values provoke saturation).
    init_scale: i32,
    seed: u32,
}

/// What both sides expose after a training sample.
#[derive(Clone, Debug)]
struct Observed {
    losses: SampleLosses,
    counters: Counters,
    probe_seed: u32,
    batch_pos: u16,
    weights: Vec<i16>,
}

/// Where the RTL first disagrees with the model after sample `n`: the field, and for weights
/// the first address.
fn compare(n: usize, rtl: &Observed, model: &Observed) -> Result<(), String> {
    let at = format!("sample {n}");
    if rtl.losses != model.losses {
        return Err(format!(
            "{at}: losses differ: rtl {:?} model {:?}",
            rtl.losses, model.losses
        ));
    }
    if rtl.counters != model.counters {
        return Err(format!(
            "{at}: counters differ: rtl {:?} model {:?}",
            rtl.counters, model.counters
        ));
    }
    if rtl.probe_seed != model.probe_seed {
        return Err(format!(
            "{at}: probe seed differs: rtl {:#x} model {:#x}",
            rtl.probe_seed, model.probe_seed
        ));
    }
    if rtl.batch_pos != model.batch_pos {
        return Err(format!(
            "{at}: batch position differs: rtl {} model {}",
            rtl.batch_pos, model.batch_pos
        ));
    }
    if let Some(a) = first_weight_difference(&rtl.weights, &model.weights) {
        return Err(format!(
            "{at}: weights differ first at address {a}: rtl {:?} model {:?}",
            rtl.weights.get(a),
            model.weights.get(a)
        ));
    }
    Ok(())
}

/// A single-bit fault injected into what the model reports after one sample (the mutation
/// test's; the model itself is not touched).
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// Flip `bit` of the weight at `address` after sample `sample`.
    Weight {
        sample: usize,
        address: usize,
        bit: u32,
    },
    /// Flip `bit` of `L+` after sample `sample`.
    LossPlus { sample: usize, bit: u32 },
    /// The model's derivative of output 0 has this bit flipped (the hybrid path).
    Derivative(u32),
    /// The RTL's out_shift register has its low bit flipped.
    OutShift,
    /// Feature 0 of every sample has its sign bit flipped on the RTL's side.
    InputSign,
    /// The RTL's momentum register has its low bit flipped.
    Momentum,
    /// The RTL runs this estimator (one of its two estimator registers flipped).
    Estimator(Estimator),
}

/// Trains both on the same random samples; returns (saturations, cycles per sample), or the
/// first disagreement.
fn run_with<const AW: usize>(case: &Case, fault: Option<Fault>) -> Result<(u32, f64), String> {
    let shape = case.shape;
    let mut model = Model::new(shape, case.seed);
    let mut rtl = RtlLearner::<AW>::new(shape);
    rtl.seed(case.seed);
    model.params = case.params;
    let mut rtl_params = case.params;
    match fault {
        Some(Fault::Derivative(bit)) => model.grad_fault = Some((0, bit)),
        Some(Fault::OutShift) => rtl_params.out_shift ^= 1,
        Some(Fault::Momentum) => rtl_params.momentum ^= 1,
        Some(Fault::Estimator(e)) => rtl_params.estimator = e,
        _ => {}
    }
    rtl.set_params(&rtl_params);
    let w0: Vec<i16> = init_weights(shape, case.seed as u64)
        .iter()
        .map(|&w| (w as i32 * case.init_scale).clamp(-32768, 32767) as i16)
        .collect();
    model.set_weights(&w0);
    rtl.write_weights(&w0);
    assert_eq!(rtl.read_weights(), w0, "weights read back as written");

    let mut rng = ChaCha8Rng::seed_from_u64(case.seed as u64 + 99);
    let mut train_cycles = 0;
    for n in 0..case.samples {
        let x: Vec<u8> = (0..shape.n_in).map(|_| rng.gen()).collect();
        let t = rng.gen_range(0..shape.n_out);
        let lm = model.train(&x, t);
        let mut xr = x.clone();
        if let Some(Fault::InputSign) = fault {
            xr[0] ^= 0x80;
        }
        let lr = rtl.train(&xr, t);
        train_cycles += rtl.last_op_cycles;
        let ctx = format!("{} {:?}", shape, case.params);
        let mut m = Observed {
            losses: lm,
            counters: model.counters,
            probe_seed: model.probe_seed(),
            batch_pos: model.batch_pos(),
            weights: model.weights().to_vec(),
        };
        match fault {
            Some(Fault::Weight {
                sample,
                address,
                bit,
            }) if sample == n => m.weights[address] ^= 1 << bit,
            Some(Fault::LossPlus { sample, bit }) if sample == n => m.losses.plus ^= 1 << bit,
            _ => {}
        }
        let r = Observed {
            losses: lr,
            counters: rtl.counters(),
            probe_seed: rtl.probe_seed(),
            batch_pos: rtl.batch_pos(),
            weights: rtl.read_weights(),
        };
        compare(n, &r, &m).map_err(|e| format!("{e}: {ctx}"))?;
        if n % 17 == 0 {
            let im = model.infer(&x, t);
            let ir = rtl.infer(&xr, t);
            if ir != im {
                return Err(format!(
                    "sample {n}: inference (logits, class, loss) differs: rtl {ir:?} model {im:?}: {ctx}"
                ));
            }
            if rtl.counters() != model.counters {
                return Err(format!(
                    "sample {n}: inference changed counters differ: {ctx}"
                ));
            }
        }
    }
    // A partial batch flushed by the Apply op, then cleared accumulators.
    model.apply();
    rtl.apply();
    assert_eq!(rtl.read_weights(), model.weights(), "after apply");
    assert_eq!(rtl.counters(), model.counters, "after apply");
    model.clear_accumulators();
    rtl.clear_accumulators();
    assert_eq!(rtl.batch_pos(), model.batch_pos());
    Ok((
        model.counters.saturations,
        train_cycles as f64 / case.samples as f64,
    ))
}

/// Trains both on the same random samples; returns (saturations, cycles per sample).
fn run<const AW: usize>(case: &Case) -> (u32, f64) {
    run_with::<AW>(case, None).unwrap_or_else(|e| panic!("{e}"))
}

/// Mutation test of the comparison: one flipped bit of one weight, and of one loss, in what
/// the model reports after sample 5 must each fail it, naming the sample and the address.
#[test]
fn comparison_catches_one_flipped_weight_bit_and_one_flipped_loss_bit() {
    let case = Case {
        shape: A,
        params: params(Estimator::NodePerturbation, LossKind::CrossEntropy, 1),
        samples: 8,
        init_scale: 1,
        seed: 2,
    };
    assert!(run_with::<6>(&case, None).is_ok(), "the clean run agrees");
    let weight = Fault::Weight {
        sample: 5,
        address: 23,
        bit: 0,
    };
    let e = run_with::<6>(&case, Some(weight)).expect_err("a flipped weight bit is caught");
    assert!(
        e.starts_with("sample 5: weights differ first at address 23:"),
        "{e}"
    );
    let loss = Fault::LossPlus { sample: 5, bit: 7 };
    let e = run_with::<6>(&case, Some(loss)).expect_err("a flipped loss bit is caught");
    assert!(e.starts_with("sample 5: losses differ"), "{e}");
}

fn params(estimator: Estimator, loss: LossKind, batch: u16) -> TrainParams {
    test_train_params(estimator, loss, batch)
}

const A: Shape = Shape::new(5, 4, 3);
const B: Shape = Shape::new(9, 7, 4);

fn matrix<const AW: usize>(shape: Shape, batch: u16) {
    for estimator in Estimator::ALL {
        for loss in [LossKind::SquaredError, LossKind::CrossEntropy] {
            run::<AW>(&Case {
                shape,
                params: params(estimator, loss, batch),
                samples: 300,
                init_scale: 1,
                seed: 11 + batch as u32,
            });
        }
    }
}

#[test]
fn small_network_all_estimators_and_losses() {
    matrix::<6>(A, 1);
}

#[test]
fn second_network_all_estimators_and_losses() {
    matrix::<7>(B, 1);
}

#[test]
fn mini_batches_accumulate_and_apply() {
    matrix::<6>(A, 4);
    matrix::<7>(B, 3);
}

/// Momentum (the accumulators as a velocity) for every estimator, batch 1 (fused update) and
/// mini-batches (decay at apply), several decay shifts.
#[test]
fn momentum_agrees() {
    for (estimator, loss, batch, momentum) in [
        (Estimator::NodePerturbation, LossKind::CrossEntropy, 1, 3),
        (Estimator::Hybrid, LossKind::CrossEntropy, 1, 1),
        (Estimator::WeightPerturbation, LossKind::SquaredError, 1, 7),
        (Estimator::Hybrid, LossKind::SquaredError, 3, 2),
        (Estimator::NodePerturbation, LossKind::CrossEntropy, 4, 5),
        (Estimator::WpHybrid, LossKind::CrossEntropy, 1, 2),
        (Estimator::WpHybrid, LossKind::SquaredError, 2, 4),
    ] {
        let mut p = params(estimator, loss, batch);
        p.momentum = momentum;
        run::<7>(&Case {
            shape: B,
            params: p,
            samples: 300,
            init_scale: 1,
            seed: 21,
        });
    }
}

#[test]
fn saturating_runs_agree() {
    for (estimator, loss) in [
        (Estimator::NodePerturbation, LossKind::SquaredError),
        (Estimator::WeightPerturbation, LossKind::CrossEntropy),
        (Estimator::NodePerturbation, LossKind::CrossEntropy),
        // The derivative of a squared error clips; out_shift 0 saturates the output rows.
        (Estimator::Hybrid, LossKind::SquaredError),
        (Estimator::Hybrid, LossKind::CrossEntropy),
        (Estimator::WpHybrid, LossKind::CrossEntropy),
    ] {
        for batch in [1, 5] {
            let mut p = params(estimator, loss, batch);
            p.sigma = 0x2000;
            p.eta_mant = 255;
            p.eta_shift = 0;
            p.out_shift = 0;
            // A velocity that hardly decays saturates its accumulator.
            p.momentum = if batch == 1 { 7 } else { 0 };
            let (sat, _) = run::<7>(&Case {
                shape: B,
                params: p,
                samples: 300,
                init_scale: 8,
                seed: 3,
            });
            assert!(sat > 100, "the run was meant to saturate, saw {sat} clips");
        }
    }
}

/// The schedule: a training sample (batch 1) takes `3 W + 4 n_out + 45` cycles, W weights,
/// and `n_out + 2` more for a hybrid estimator's derivative sweep; the bound is `3 W` (three
/// sweeps of one weight per cycle).
fn formula(shape: Shape, estimator: Estimator) -> f64 {
    let derivative = if estimator.exact_output() {
        shape.n_out + 2
    } else {
        0
    };
    (3 * shape.n_weights() + 4 * shape.n_out + 45 + derivative) as f64
}

#[test]
fn cycles_per_sample_follow_the_formula() {
    for (sh, loss) in [
        (A, LossKind::CrossEntropy),
        (A, LossKind::SquaredError),
        (B, LossKind::CrossEntropy),
    ] {
        for est in Estimator::ALL {
            let (_, c) = run::<7>(&Case {
                shape: sh,
                params: params(est, loss, 1),
                samples: 3,
                init_scale: 1,
                seed: 1,
            });
            assert_eq!(c, formula(sh, est), "{sh} {loss:?} {est:?}");
            assert_eq!(c as u64, sh.train_cycles_of(est), "{sh} {loss:?} {est:?}");
        }
        // Inference: one clean pass, `W + 2 n_out + 19`; a mini-batch's apply sweep: `W + 6`.
        let mut rtl = RtlLearner::<7>::new(sh);
        rtl.set_params(&params(Estimator::NodePerturbation, loss, 2));
        let w = sh.n_weights() as u64;
        rtl.infer(&[1; 9], 0);
        assert_eq!(
            rtl.last_op_cycles,
            w + 2 * sh.n_out as u64 + 19,
            "{sh} inference"
        );
        rtl.train(&[1; 9], 0);
        let accumulate_only = rtl.last_op_cycles;
        rtl.train(&[1; 9], 0);
        assert_eq!(
            rtl.last_op_cycles - accumulate_only,
            w + 6,
            "{sh} apply sweep"
        );
    }
}

#[test]
fn full_size_network_and_cycle_count() {
    let shape = Shape::new(64, 32, 10);
    let (_, cps) = run::<12>(&Case {
        shape,
        params: params(Estimator::NodePerturbation, LossKind::CrossEntropy, 1),
        samples: 12,
        init_scale: 1,
        seed: 7,
    });
    let bound = 3.0 * shape.n_weights() as f64;
    println!(
        "64-32-10: {cps} cycles per sample, bound {bound}, overhead {:.2} %",
        (cps / bound - 1.0) * 100.0
    );
    assert_eq!(cps, formula(shape, Estimator::NodePerturbation));
    assert!(
        cps <= bound * 1.10,
        "schedule more than 10 % above the bound"
    );
}

/// Each new path is covered: one flipped bit in it (the hybrid estimator's derivative and
/// output step, the signed input, momentum) makes the comparison fail, and the failure names
/// what differs.
#[test]
fn a_flipped_bit_in_a_new_path_fails_the_comparison() {
    let case = Case {
        shape: A,
        params: TrainParams {
            momentum: 2,
            ..params(Estimator::Hybrid, LossKind::CrossEntropy, 1)
        },
        samples: 40,
        init_scale: 1,
        seed: 5,
    };
    assert!(run_with::<6>(&case, None).is_ok(), "the clean run agrees");
    for (fault, name) in [
        (Fault::Derivative(0), "derivative bit 0"),
        (Fault::Derivative(15), "derivative sign bit"),
        (Fault::OutShift, "out_shift bit 0"),
        (Fault::InputSign, "input sign bit"),
        (Fault::Momentum, "momentum bit 0"),
    ] {
        let e = run_with::<6>(&case, Some(fault))
            .expect_err(&format!("a flipped {name} went unnoticed"));
        assert!(
            e.starts_with("sample ") && e.contains("differ"),
            "{name}: the failure must say where and what differs: {e}"
        );
    }
}

/// Weight perturbation with the exact output layer: a flipped bit of the derivative or of
/// `out_shift`, or either estimator register flipped (the RTL then runs the hybrid or plain
/// weight perturbation), fails the comparison.
#[test]
fn a_flipped_bit_in_the_wp_hybrid_path_fails_the_comparison() {
    let case = Case {
        shape: A,
        params: params(Estimator::WpHybrid, LossKind::CrossEntropy, 1),
        samples: 40,
        init_scale: 1,
        seed: 6,
    };
    assert!(run_with::<6>(&case, None).is_ok(), "the clean run agrees");
    for (fault, name) in [
        (Fault::Derivative(0), "derivative bit 0"),
        (Fault::OutShift, "out_shift bit 0"),
        (Fault::Estimator(Estimator::Hybrid), "estimator_wp register"),
        (
            Fault::Estimator(Estimator::WeightPerturbation),
            "hybrid register",
        ),
    ] {
        let e = run_with::<6>(&case, Some(fault))
            .expect_err(&format!("a flipped {name} went unnoticed"));
        assert!(
            e.starts_with("sample ") && e.contains("differ"),
            "{name}: the failure must say where and what differs: {e}"
        );
    }
}
