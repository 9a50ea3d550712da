//! `zo_hdl::learner::sequencer::Sequencer` driven directly, with a five-stage stand-in for the
//! pipeline (`pipe_busy`) and a loss unit that answers after a random latency, against the
//! reference model's order of sweeps and draws.
//!
//! For random shapes, estimators, seeds, losses and batch sizes, every operation's S0 stream
//! must be the model's: each sweep in memory order (layer, row, column, address, first, last),
//! layer 1 then layer 2 for a forward pass, both layers for an update or apply sweep; the
//! perturbation signs of the `+`, `-` and update sweeps must be the model generator's draws
//! (`model::lfsr::Lfsr` from the probe seed: one per unit for node perturbation, none on the
//! hybrid output layer, one per weight for weight perturbation; inverted in the `-` pass);
//! no sweep may start before the pipeline has drained; after each sample the probe seed,
//! `L+`, `L-`, `op_loss`, `op_trained`, `op_updated` and the batch position must match
//! `zo_sim::model::Model::train` / `apply`. A negative control flips one expected sign.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use zo_hdl::config::{Estimator, Op, Shape, TrainParams};
use zo_hdl::formats::{nonzero_seed, NOISE_WIDTH};
use zo_hdl::learner::sequencer::Sequencer;
use zo_sim::harness::testkit;
use zo_sim::model::lfsr::Lfsr;
use zo_sim::model::Model;

const AW: usize = 8;

/// (layer, row, col, addr, first, last, sign) of one S0 weight.
type Issue = (bool, usize, usize, usize, bool, bool, bool);

struct Harness {
    uut: Box<Sequencer<AW>>,
    pipe: [bool; 5],
    loss_latency: u32,
    loss_countdown: Option<u32>,
    /// Losses the stand-in loss unit answers, in order.
    losses: Vec<u32>,
    issued: Vec<Issue>,
    /// A sweep started while the pipeline still held weights.
    early_start: bool,
    cycles: u64,
}

impl Harness {
    fn new(shape: Shape, rng: &mut ChaCha8Rng) -> Self {
        let mut uut = Box::new(Sequencer::<AW>::new(shape, true, true));
        uut.connect_all();
        let mut h = Self {
            uut,
            pipe: [false; 5],
            loss_latency: rng.gen_range(1..40),
            loss_countdown: None,
            losses: Vec::new(),
            issued: Vec::new(),
            early_start: false,
            cycles: 0,
        };
        testkit::settle(&mut *h.uut, "Sequencer");
        h
    }

    /// One cycle: inputs settled with the clock low, S0 and strobes sampled, rising edge; the
    /// stand-ins then move on.
    fn tick(&mut self) {
        let clock = |u: &mut Sequencer<AW>, c: bool| u.clock.next = c.into();
        testkit::clock_to(&mut *self.uut, "Sequencer", clock, false);
        let u = &self.uut;
        let valid = u.s0_valid.val();
        if valid {
            if !self.issued.is_empty() && self.pipe.iter().any(|&b| b) && !self.pipe[0] {
                self.early_start = true;
            }
            self.issued.push((
                u.s0_layer.val(),
                u.s0_row.val().index(),
                u.s0_col.val().index(),
                u.s0_addr.val().index(),
                u.s0_first.val(),
                u.s0_last.val(),
                u.s0_sign.val(),
            ));
        }
        let start_loss = u.loss_start.val();
        testkit::clock_to(&mut *self.uut, "Sequencer", clock, true);
        self.cycles += 1;
        self.pipe = [
            valid,
            self.pipe[0],
            self.pipe[1],
            self.pipe[2],
            self.pipe[3],
        ];
        self.uut.pipe_busy.next = self.pipe.iter().any(|&b| b);
        self.uut.loss_done.next = false;
        if start_loss {
            self.loss_countdown = Some(self.loss_latency);
        }
        if let Some(c) = self.loss_countdown {
            if c == 0 {
                self.loss_countdown = None;
                self.uut.loss_done.next = true;
                let l = self.losses.remove(0);
                self.uut.loss_value.next = (l as u64).to_bits();
            } else {
                self.loss_countdown = Some(c - 1);
            }
        }
    }

    /// Runs `op` to `done`; returns the S0 stream.
    fn run(&mut self, op: Op) -> Vec<Issue> {
        self.issued.clear();
        self.uut.op.next = (op as u64).to_bits();
        self.uut.start.next = true;
        self.tick();
        self.uut.start.next = false;
        for _ in 0..100_000 {
            testkit::settle(&mut *self.uut, "Sequencer");
            if self.uut.done.val() {
                self.tick();
                return std::mem::take(&mut self.issued);
            }
            self.tick();
        }
        panic!("{op:?} never finished");
    }
}

/// The model's sweep of `layers` with signs drawn from `noise` (None: no signs checked, all
/// false), as `Model::train` orders them.
fn model_sweep(
    shape: Shape,
    layers: &[usize],
    est: Estimator,
    noise: Option<(&mut Lfsr, bool)>,
) -> Vec<Issue> {
    let mut out = Vec::new();
    let mut noise = noise;
    for &layer in layers {
        let (rows, fan, base) = if layer == 0 {
            (shape.n_hid, shape.n_in, 0)
        } else {
            (shape.n_out, shape.n_hid, shape.layer2_base())
        };
        let exact = est.exact_output() && layer == 1;
        for row in 0..rows {
            let mut unit = false;
            if let Some((lfsr, _)) = noise.as_mut() {
                if est.perturbs_hidden_nodes() && !exact {
                    unit = lfsr.next_bit();
                }
            }
            for col in 0..=fan {
                let sign = match noise.as_mut() {
                    None => false,
                    Some(_) if exact => true,
                    Some((lfsr, minus)) => {
                        let s = if est.perturbs_weights() {
                            lfsr.next_bit()
                        } else {
                            unit
                        };
                        s ^ *minus
                    }
                };
                out.push((
                    layer == 1,
                    row,
                    col,
                    base + row * (fan + 1) + col,
                    col == 0,
                    col == fan,
                    sign,
                ));
            }
        }
    }
    out
}

/// Drops the signs (clean and apply sweeps carry no meaningful sign).
fn unsigned(v: &[Issue]) -> Vec<Issue> {
    v.iter()
        .map(|&(a, b, c, d, e, f, _)| (a, b, c, d, e, f, false))
        .collect()
}

fn sequencer_against_model(seed: u64, trials: usize, flip: bool) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for trial in 0..trials {
        let shape = Shape {
            n_in: rng.gen_range(1..7),
            n_hid: rng.gen_range(1..6),
            n_out: rng.gen_range(2..5),
        };
        let est = Estimator::ALL[trial % Estimator::ALL.len()];
        let batch: u16 = [1, 1, 2, 3][rng.gen_range(0..4)];
        let run_seed: u32 = if trial % 7 == 0 { 0 } else { rng.gen() };
        let mut h = Harness::new(shape, &mut rng);
        let params = TrainParams {
            estimator: est,
            batch,
            ..TrainParams::default()
        };
        let mut model = Model::new(shape, run_seed);
        model.params = params;
        h.uut.estimator_wp.next = est.perturbs_weights();
        h.uut.hybrid.next = est.exact_output();
        h.uut.batch.next = (batch as u64).to_bits();
        h.uut.seed.next = (run_seed as u64).to_bits();
        h.uut.seed_load.next = true;
        h.tick();
        h.uut.seed_load.next = false;
        assert_eq!(
            h.uut.probe_seed.val().index() as u32,
            nonzero_seed(run_seed),
            "trial {trial}: seed"
        );
        for sample in 0..5 {
            let (lp, lm): (u32, u32) = (rng.gen_range(0..1 << 20), rng.gen_range(0..1 << 20));
            h.losses = vec![lp, lm];
            let p = model.probe_seed();
            let got = h.run(Op::Train);
            let mut want = Vec::new();
            for minus in [false, true] {
                let mut lfsr = Lfsr::new(NOISE_WIDTH, p as u64);
                want.extend(model_sweep(shape, &[0], est, Some((&mut lfsr, minus))));
                want.extend(model_sweep(shape, &[1], est, Some((&mut lfsr, minus))));
            }
            let mut lfsr = Lfsr::new(NOISE_WIDTH, p as u64);
            want.extend(model_sweep(shape, &[0, 1], est, Some((&mut lfsr, false))));
            let batch_full = batch > 1 && model.batch_pos() + 1 >= batch;
            if batch_full {
                want.extend(model_sweep(shape, &[0, 1], est, None));
            }
            if flip {
                want[0].6 ^= true;
            }
            // The apply sweep's signs are not used: compare it without them.
            let split = got
                .len()
                .min(want.len() - if batch_full { shape.n_weights() } else { 0 });
            assert_eq!(
                got[..split],
                want[..split],
                "trial {trial} sample {sample} {est:?}"
            );
            assert_eq!(
                unsigned(&got[split..]),
                unsigned(&want[split..]),
                "trial {trial} sample {sample} apply sweep"
            );
            // The model's step: the same draws advance its probe seed.
            let x = vec![0u8; shape.n_in];
            model.train(&x, 0);
            let u = &h.uut;
            assert_eq!(
                (
                    u.probe_seed.val().index() as u32,
                    u.loss_plus.val().index() as u32,
                    u.loss_minus.val().index() as u32,
                    u.op_loss.val().index() as u32,
                    u.op_trained.val(),
                    u.op_updated.val(),
                    u.batch_pos.val().index() as u16,
                ),
                (
                    model.probe_seed(),
                    lp,
                    lm,
                    (lp + lm) >> 1,
                    true,
                    batch <= 1 || batch_full,
                    model.batch_pos(),
                ),
                "trial {trial} sample {sample} results"
            );
        }
        assert!(
            !h.early_start,
            "trial {trial}: a sweep started before the drain"
        );
        // An inference: one clean forward pass, its loss and class.
        h.losses = vec![77];
        h.uut.loss_class.next = 1usize.to_bits();
        let got = h.run(Op::Infer);
        assert_eq!(unsigned(&got), model_sweep(shape, &[0, 1], est, None));
        assert_eq!(h.uut.op_loss.val().index(), 77);
        assert_eq!(h.uut.infer_class.val().index(), 1);
        // Apply: a sweep over both layers when samples are pending, none otherwise.
        let pending = model.batch_pos() > 0;
        let got = h.run(Op::Apply);
        let want = if pending {
            model_sweep(shape, &[0, 1], est, None)
        } else {
            vec![]
        };
        assert_eq!(unsigned(&got), want, "trial {trial} apply");
        assert_eq!(h.uut.op_updated.val(), pending);
        assert_eq!(h.uut.batch_pos.val().index(), 0);
        // Clear: always one sweep, never an update.
        let got = h.run(Op::ClearAccumulators);
        assert_eq!(unsigned(&got), model_sweep(shape, &[0, 1], est, None));
        assert!(!h.uut.op_updated.val());
    }
}

#[test]
fn sequencer_matches_model() {
    sequencer_against_model(31, 60, false);
}

#[test]
fn a_flipped_sign_fails_the_comparison() {
    let r = std::panic::catch_unwind(|| sequencer_against_model(32, 1, true));
    assert!(r.is_err(), "a flipped sign passed");
}
