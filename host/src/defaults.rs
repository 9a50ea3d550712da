//! Hyper-parameters `zo train` uses when none are given, per built-in dataset, measured on the
//! default 64-32-10 board (features padded with zeros, unused outputs never targeted), with node
//! perturbation and on-chip cross-entropy, a 70/30 stratified split and the run's seed schedule.
//! The sweep behind them (seeds 1..=20 for iris, 1..=10 for wine and breast-cancer, 1..=5 for
//! digits) is summarised in docs/CLI.md.

use zo_hdl::config::Estimator;

/// The defaults of one dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Defaults {
    pub estimator: Estimator,
    pub sigma: u16,
    pub eta_mant: u8,
    pub eta_shift: u8,
    pub batch: u16,
    pub epochs: u32,
}

/// Test fraction of the stratified split.
pub const TEST_FRACTION: f64 = 0.3;
/// The seed when none is given.
pub const SEED: u32 = 1;
/// The dataset when none is given.
pub const DATASET: &str = "iris";

/// Defaults for a built-in dataset, or for a file (`None` or an unknown name).
pub fn for_dataset(builtin: Option<&str>) -> Defaults {
    let (sigma, eta_shift, epochs) = match builtin {
        // 64-32-10: test accuracy mean 0.954, min 0.933 over seeds 1..=20.
        Some("iris") => (32, 7, 200),
        // mean 0.966, min 0.943 over seeds 1..=10.
        Some("wine") => (64, 6, 100),
        // mean 0.970, min 0.947 over seeds 1..=10.
        Some("breast-cancer") => (64, 7, 60),
        // As the model test: mean 0.948, min 0.935 over seeds 1..=5.
        Some("digits") => (64, 9, 60),
        // Files: a middle setting; tune --sigma and --eta-shift for your data.
        _ => (64, 8, 30),
    };
    Defaults {
        // The built-ins' tables are node perturbation's. Files are tuned, and there the hybrid
        // estimator (exact output layer) trailed scikit-learn's MLP less than node perturbation
        // on bench/'s design suite (seeds 1-3; docs/UNSEEN.md).
        estimator: if builtin.is_some() {
            Estimator::NodePerturbation
        } else {
            Estimator::Hybrid
        },
        sigma,
        eta_mant: 1,
        eta_shift,
        batch: 1,
        epochs,
    }
}
