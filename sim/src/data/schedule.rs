//! The training schedule, one implementation of each rule every run follows, on a device over
//! the link (host/src/session.rs) and on the model (the tuner, the benchmark, the examples and
//! the tests): the split and quantisation ([`PreparedData`]), the initial weights
//! ([`init_weights`]), the noise seed of each epoch ([`epoch_seed`]), the sample order
//! ([`epoch_order`]), the step decay ([`eta_shift_at`]) and the weight decay
//! ([`decayed_weights`]); on the model, a run's start
//! ([`start_model`]) and one epoch ([`train_epoch`]); and accuracy by clean inference. A run
//! on the model and a run on hardware with the same seed see identical inputs.

use crate::data::dataset::{stratified_split, Dataset};
use crate::data::scaling::Quantizer;
use crate::model::Model;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zo_hdl::config::Shape;
use zo_hdl::formats::W_FRAC;

/// Initial weights: uniform in `+-1/sqrt(fan_in)` (Q3.12), biases zero, from a seeded ChaCha8.
pub fn init_weights(shape: Shape, seed: u64) -> Vec<i16> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut w = Vec::with_capacity(shape.n_weights());
    for (rows, fan_in) in [(shape.n_hid, shape.n_in), (shape.n_out, shape.n_hid)] {
        let limit = ((1 << W_FRAC) as f64 / (fan_in as f64).sqrt()) as i32;
        for _ in 0..rows {
            for _ in 0..fan_in {
                w.push(rng.gen_range(-limit..=limit) as i16);
            }
            w.push(0);
        }
    }
    w
}

/// A dataset quantised to the device's input format, split into train and test rows.
#[derive(Clone, Debug)]
pub struct PreparedData {
    /// Features padded with zeros to the device's input count.
    pub train_x: Vec<Vec<u8>>,
    pub train_y: Vec<usize>,
    pub test_x: Vec<Vec<u8>>,
    pub test_y: Vec<usize>,
}

impl PreparedData {
    /// Stratified split with `test_fraction` held out; scaling fitted on the training rows only.
    pub fn new(ds: &Dataset, n_in: usize, test_fraction: f64, seed: u64) -> Self {
        let (train, test) = stratified_split(&ds.labels, ds.n_classes, test_fraction, seed);
        Self::quantise((ds, &train), (ds, &test), n_in).0
    }

    /// The rows `train.1` of `train.0` and `test.1` of `test.0` in the device's input format
    /// (padded with zeros to `n_in`), with the scaling, fitted on the training rows only.
    pub fn quantise(
        train: (&Dataset, &[usize]),
        test: (&Dataset, &[usize]),
        n_in: usize,
    ) -> (Self, Quantizer) {
        let q = Quantizer::fit(train.0, train.1);
        let (train_x, train_y) = quantize_rows(&q, train.0, train.1, n_in);
        let (test_x, test_y) = quantize_rows(&q, test.0, test.1, n_in);
        let data = Self {
            train_x,
            train_y,
            test_x,
            test_y,
        };
        (data, q)
    }
}

/// Rows `rows` of `ds` in the device's input format (padded with zeros to `n_in`) and their
/// labels.
pub fn quantize_rows(
    q: &Quantizer,
    ds: &Dataset,
    rows: &[usize],
    n_in: usize,
) -> (Vec<Vec<u8>>, Vec<usize>) {
    rows.iter()
        .map(|&r| {
            let mut x = q.quantize(&ds.features[r]);
            x.resize(n_in, 0);
            (x, ds.labels[r])
        })
        .unzip()
}

/// Fraction of `xs` classified as `ys` by clean inference.
pub fn accuracy(model: &mut Model, xs: &[Vec<u8>], ys: &[usize]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    let correct = xs
        .iter()
        .zip(ys)
        .filter(|(x, &y)| model.infer(x, y).class == y)
        .count();
    correct as f64 / xs.len() as f64
}

/// How the device's noise generators are seeded per epoch (recorded in a run's config.json).
pub const SEED_SCHEDULE: &str = "SET_PARAMS reseeds the device at the start of every epoch \
     with epoch_seed(seed, e): seed itself for epoch 0, splitmix64((seed << 32) | e) truncated \
     to 32 bits (0 and 1 map to 2 and 3) after; the split, the initial weights \
     (zo_sim::data::schedule::init_weights) and the sample order \
     (zo_sim::data::schedule::epoch_order) use seed \
     too, so weights after epoch e plus the seed determine the rest of the run";

/// The device's noise seed for epoch `e` (see [`SEED_SCHEDULE`]).
pub fn epoch_seed(seed: u32, epoch: u32) -> u32 {
    if epoch == 0 {
        return seed;
    }
    let mut z = ((seed as u64) << 32 | epoch as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    let s = (z ^ (z >> 31)) as u32;
    if s <= 1 {
        s | 2
    } else {
        s
    }
}

/// The learning-rate schedule: the step shift of epoch `e` when it starts at `eta_shift` and
/// halves every `decay_every` epochs (0: never). The host sends it with each epoch's
/// SET_PARAMS; the hardware knows nothing of it.
pub fn eta_shift_at(eta_shift: u8, decay_every: u32, epoch: u32) -> u8 {
    if decay_every == 0 {
        return eta_shift;
    }
    (eta_shift as u32 + epoch / decay_every).min(31) as u8
}

/// Largest weight-decay shift (`--weight-decay`); 0 is off.
pub const MAX_WEIGHT_DECAY: u8 = 15;

/// The weight decay: host-driven, like the step decay. Every epoch after the first starts
/// from the previous epoch's weights shrunk toward zero by `2^-k` of themselves,
/// `w - sign(w) * ((|w| + 2^(k-1)) >> k)` (the magnitude rounded to nearest, so it is
/// symmetric in sign); `k = 0` leaves them. The host writes the decayed weights to the
/// device with WRITE_WEIGHTS, so it costs no logic cells and behaves the same on every
/// board; the checkpoint of an epoch holds its weights before the next epoch's decay.
///
/// Why per epoch: weight perturbation moves every weight at every sample, including weights
/// the loss does not depend on, so they drift in a random walk that costs generalisation;
/// a decay per epoch bounds the drift at the cost of one weight upload per epoch.
///
/// Returns the weights epoch `epoch` starts from, or `None` when they are `weights` as they
/// are (`k = 0`, or the first epoch), so that a caller writes nothing then.
pub fn decayed_weights(weights: &[i16], k: u8, epoch: u32) -> Option<Vec<i16>> {
    if k == 0 || epoch == 0 {
        return None;
    }
    let k = k.min(MAX_WEIGHT_DECAY) as u32;
    let shrink = |w: i16| w - w.signum() * ((w.unsigned_abs() as u32 + (1 << (k - 1))) >> k) as i16;
    Some(weights.iter().map(|&w| shrink(w)).collect())
}

/// The order in which an epoch visits the training rows: a seeded shuffle per epoch.
pub fn epoch_order(n: usize, seed: u64, epoch: usize) -> Vec<usize> {
    let mut rng =
        ChaCha8Rng::seed_from_u64(seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng);
    order
}

/// A model at the start of a run with `seed`: the initial weights [`init_weights`] of the
/// seed. Its noise generators are set by the first [`train_epoch`].
pub fn start_model(shape: Shape, seed: u32) -> Model {
    let mut m = Model::new(shape, seed);
    m.set_weights(&init_weights(shape, seed as u64));
    m
}

/// One epoch (0-based `epoch`) of a run with `seed` on the model, as `zo train` runs it on a
/// device (host/src/session.rs): the noise generators reseeded with [`epoch_seed`], the
/// accumulators cleared (the momentum velocity, which the session's RESET zeroes; nothing
/// else is left in them after an apply), the rows of `fit` in [`epoch_order`], then an apply
/// for a partial mini-batch. The parameters are the model's (`Model::params`), set before.
pub fn train_epoch(model: &mut Model, fit: (&[Vec<u8>], &[usize]), seed: u32, epoch: u32) {
    model.seed(epoch_seed(seed, epoch));
    model.clear_accumulators();
    for i in epoch_order(fit.0.len(), seed as u64, epoch as usize) {
        model.train(&fit.0[i], fit.1[i]);
    }
    model.apply();
}
