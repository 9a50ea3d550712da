//! Stimulus shared by the equality tests (the model against the RTL, the protocol engine, the
//! generated Verilog and the host link): random samples and the training parameters those tests
//! run with, defined once so that every suite drives the views of the design alike.
use crate::device::reference::train_params;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zo_hdl::config::{Estimator, LossKind, Shape, TrainParams};
use zo_proto::{Params, Sample};

/// `n` samples of `shape` with uniformly random labels and features, reproducible from `seed`.
pub fn random_samples(shape: Shape, n: usize, seed: u64) -> Vec<Sample> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| Sample {
            label: rng.gen_range(0..shape.n_out) as u8,
            features: (0..shape.n_in).map(|_| rng.gen()).collect(),
        })
        .collect()
}

/// The parameters of the equality tests (sigma 96, eta 3 x 2^-7, hybrid output step 2^-2), reseeding the probe
/// generator with `seed`.
pub fn test_params(estimator: u8, loss: u8, batch: u16, seed: u32) -> Params {
    Params {
        estimator,
        loss,
        sigma: 96,
        eta_mant: 3,
        eta_shift: 7,
        batch,
        reseed: true,
        seed,
        out_shift: 13,
        momentum: 0,
    }
}

/// The same parameters as the learner's registers, for tests that drive it directly.
pub fn test_train_params(estimator: Estimator, loss: LossKind, batch: u16) -> TrainParams {
    train_params(&test_params(estimator as u8, loss as u8, batch, 0))
}
