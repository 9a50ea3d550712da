//! Elaboration-time network shape and run-time register encodings of the learner.

use crate::formats::MAX_FAN_IN;
use std::fmt;

/// Sizes of the one-hidden-layer network, fixed when the hardware is elaborated.
///
/// Weight memory layout (one 16-bit word per weight, bias last in each row):
/// layer 1 row `i` (hidden unit) at `i * (n_in + 1) .. (i + 1) * (n_in + 1)`, then layer 2 row `k`
/// (output) at `layer2_base() + k * (n_hid + 1)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    pub n_in: usize,
    pub n_hid: usize,
    pub n_out: usize,
}

/// Why a shape cannot be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeError(pub String);

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ShapeError {}

impl Shape {
    pub const fn new(n_in: usize, n_hid: usize, n_out: usize) -> Self {
        Self { n_in, n_hid, n_out }
    }

    /// Checks the elaboration limits: fan-in bounds keep the accumulator from overflowing,
    /// index counters are 8 bits, and the weights must fit `2^addr_bits` words.
    pub fn check(&self, addr_bits: usize) -> Result<(), ShapeError> {
        if self.n_in == 0 || self.n_hid == 0 || self.n_out < 2 {
            return Err(ShapeError(format!(
                "network {self} is degenerate: need at least 1 input, 1 hidden unit and 2 outputs"
            )));
        }
        if self.n_in > MAX_FAN_IN || self.n_hid > MAX_FAN_IN || self.n_out > MAX_FAN_IN {
            return Err(ShapeError(format!(
                "network {self} is too large: each layer may have at most {MAX_FAN_IN} units"
            )));
        }
        if self.n_weights() > 1 << addr_bits {
            return Err(ShapeError(format!(
                "network {self} has {} weights, more than the {} words of a {addr_bits}-bit weight memory",
                self.n_weights(),
                1usize << addr_bits
            )));
        }
        Ok(())
    }

    /// Weights of layer 1 including biases.
    pub const fn layer1_weights(&self) -> usize {
        self.n_hid * (self.n_in + 1)
    }

    /// Address of the first layer-2 weight.
    pub const fn layer2_base(&self) -> usize {
        self.layer1_weights()
    }

    /// All weights and biases.
    pub const fn n_weights(&self) -> usize {
        self.layer1_weights() + self.n_out * (self.n_hid + 1)
    }

    /// Learner cycles of one training sample with batch 1: two forward sweeps, two loss
    /// evaluations and the update sweep (docs/ARCHITECTURE.md; asserted by the RTL tests).
    pub const fn train_cycles(&self) -> u64 {
        (3 * self.n_weights() + 4 * self.n_out + 45) as u64
    }

    /// Learner cycles of one training sample with batch 1 under `estimator`: the hybrid
    /// estimator adds the loss unit's derivative sweep, `n_out + 2`.
    pub const fn train_cycles_of(&self, estimator: Estimator) -> u64 {
        let derivative = if estimator.exact_output() {
            self.n_out + 2
        } else {
            0
        };
        self.train_cycles() + derivative as u64
    }

    /// Extra cycles of a training sample that completes a mini-batch (its apply sweep).
    pub const fn batch_apply_cycles(&self) -> u64 {
        (self.n_weights() + 6) as u64
    }

    /// Cycles of a standalone `Apply` operation (a partial batch at the end of a pass).
    pub const fn apply_op_cycles(&self) -> u64 {
        (self.n_weights() + 8) as u64
    }

    /// Cycles of one clean inference.
    pub const fn infer_cycles(&self) -> u64 {
        (self.n_weights() + 2 * self.n_out + 19) as u64
    }

    /// Smallest weight-memory address width that holds the weights.
    pub fn min_addr_bits(&self) -> usize {
        let n = self.n_weights();
        (usize::BITS - (n - 1).leading_zeros()) as usize
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.n_in, self.n_hid, self.n_out)
    }
}

/// `N-H-O`, for example `64-32-10`. Only the form is checked here; [`Shape::check`] applies
/// the limits of a weight memory.
impl std::str::FromStr for Shape {
    type Err = ShapeError;

    fn from_str(s: &str) -> Result<Self, ShapeError> {
        let parts: Vec<usize> = s
            .split('-')
            .map(|p| p.trim().parse::<usize>())
            .collect::<Result<_, _>>()
            .map_err(|_| {
                ShapeError(format!(
                    "`{s}` is not a shape; write INPUTS-HIDDEN-OUTPUTS, e.g. 64-32-10"
                ))
            })?;
        let [n_in, n_hid, n_out] = parts[..] else {
            return Err(ShapeError(format!(
                "`{s}` needs three sizes INPUTS-HIDDEN-OUTPUTS, e.g. 64-32-10"
            )));
        };
        Ok(Shape::new(n_in, n_hid, n_out))
    }
}

/// Which zeroth-order estimator drives the update (register `estimator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Estimator {
    /// Antithetic noise on the hidden and output pre-activations; one sign per unit.
    NodePerturbation = 0,
    /// Antithetic noise on every weight and bias (SPSA); one sign per weight.
    WeightPerturbation = 1,
    /// Node perturbation on the hidden units only; the output layer takes the exact local
    /// delta rule `dW2 = -eta_out (dL/dz) h` from the loss unit's own derivative (no
    /// backpropagation through the hidden layer).
    Hybrid = 2,
    /// Weight perturbation on the hidden layer only (one sign per hidden weight and bias);
    /// the output layer takes the exact local delta rule, as [`Estimator::Hybrid`]'s does.
    WpHybrid = 3,
}

/// Which loss the chip evaluates (register `loss`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LossKind {
    /// Sum of squared errors against a one-hot target (1.0 = 256 in Q.8).
    SquaredError = 0,
    /// Base-2 softmax cross-entropy, in bits.
    CrossEntropy = 1,
}

impl Estimator {
    /// Every estimator, the default first.
    pub const ALL: [Estimator; 4] = [
        Estimator::NodePerturbation,
        Estimator::WeightPerturbation,
        Estimator::Hybrid,
        Estimator::WpHybrid,
    ];
    /// The names of [`Estimator::ALL`], as the command line and config files write them.
    pub const NAMES: [&'static str; 4] = ["np", "wp", "hybrid", "wp-hybrid"];

    /// `np`, `wp`, `hybrid` or `wp-hybrid`.
    pub const fn name(self) -> &'static str {
        match self {
            Estimator::NodePerturbation => "np",
            Estimator::WeightPerturbation => "wp",
            Estimator::Hybrid => "hybrid",
            Estimator::WpHybrid => "wp-hybrid",
        }
    }

    /// Whether noise goes on the hidden pre-activations (one sign per hidden unit).
    pub const fn perturbs_hidden_nodes(self) -> bool {
        matches!(self, Estimator::NodePerturbation | Estimator::Hybrid)
    }

    /// Whether the output layer learns by the exact delta rule instead of by probing.
    pub const fn exact_output(self) -> bool {
        matches!(self, Estimator::Hybrid | Estimator::WpHybrid)
    }

    /// Whether noise goes on weights (one sign per perturbed weight) rather than on units.
    pub const fn perturbs_weights(self) -> bool {
        matches!(self, Estimator::WeightPerturbation | Estimator::WpHybrid)
    }

    /// The estimator of a register / SET_PARAMS value.
    pub fn from_u8(v: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|e| *e as u8 == v)
    }
}

impl LossKind {
    /// Every loss, the default first.
    pub const ALL: [LossKind; 2] = [LossKind::CrossEntropy, LossKind::SquaredError];
    /// The names of [`LossKind::ALL`], as the command line and config files write them.
    pub const NAMES: [&'static str; 2] = ["ce", "mse"];

    /// `ce` or `mse`.
    pub const fn name(self) -> &'static str {
        match self {
            LossKind::CrossEntropy => "ce",
            LossKind::SquaredError => "mse",
        }
    }

    /// The loss of a register / SET_PARAMS value.
    pub fn from_u8(v: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|l| *l as u8 == v)
    }
}

macro_rules! named {
    ($t:ty, $what:literal) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl std::str::FromStr for $t {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, String> {
                Self::ALL
                    .into_iter()
                    .find(|v| v.name() == s)
                    .ok_or_else(|| {
                        format!("`{s}` is not {}; use {}", $what, Self::NAMES.join(" or "))
                    })
            }
        }
    };
}
named!(Estimator, "an estimator");
named!(LossKind, "a loss");

/// Operations started by the `start` strobe (register `op`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// Two perturbed passes and the update (or accumulation) for the current sample.
    Train = 0,
    /// One clean pass: logits, class and loss; no noise drawn, no state changed.
    Infer = 1,
    /// Apply the accumulated mini-batch now (a partial batch at the end of an epoch).
    Apply = 2,
    /// Zero the accumulators and the batch position without touching the weights.
    ClearAccumulators = 3,
}

/// The output-layer step shift a device has after RESET (`eta_out = 2^(11 - 15) = 1/16`); the
/// protocol's value.
pub const DEFAULT_OUT_SHIFT: u8 = zo_proto::Params::DEFAULT_OUT_SHIFT;

/// Run-time training registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TrainParams {
    pub estimator: Estimator,
    pub loss: LossKind,
    /// Perturbation size, Q.12 (NP: on pre-activations; WP: on weights). At most 0x7FFF.
    pub sigma: u16,
    /// Learning-rate mantissa.
    pub eta_mant: u8,
    /// Learning-rate shift, 0..=31: `eta = mant * 2^(4 - shift)` in real units.
    pub eta_shift: u8,
    /// Samples per update, >= 1: contributions are accumulated and applied every `batch` samples.
    pub batch: u16,
    /// Step shift of the output layer under [`Estimator::Hybrid`], 0..=31:
    /// `eta_out = 2^(11 - out_shift)` in real units (`dW2 = -eta_out (dL/dz) h`). Unused by the
    /// other estimators.
    pub out_shift: u8,
    /// Momentum, 0..=7: 0 off; `m > 0` keeps the accumulator as a velocity that decays by
    /// `1 - 2^-m` at every apply instead of being zeroed (heavy ball; the effective step grows
    /// by up to `2^m`). Needs the mini-batch accumulators.
    pub momentum: u8,
}

impl Default for TrainParams {
    fn default() -> Self {
        Self {
            estimator: Estimator::NodePerturbation,
            loss: LossKind::CrossEntropy,
            sigma: 1 << 8,
            eta_mant: 1,
            eta_shift: 8,
            batch: 1,
            out_shift: DEFAULT_OUT_SHIFT,
            momentum: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_registers_and_parsing_agree() {
        for (e, n) in Estimator::ALL.into_iter().zip(Estimator::NAMES) {
            assert_eq!(e.name(), n);
            assert_eq!(n.parse::<Estimator>(), Ok(e));
            assert_eq!(Estimator::from_u8(e as u8), Some(e));
        }
        for (l, n) in LossKind::ALL.into_iter().zip(LossKind::NAMES) {
            assert_eq!(l.to_string(), n);
            assert_eq!(n.parse::<LossKind>(), Ok(l));
            assert_eq!(LossKind::from_u8(l as u8), Some(l));
        }
        assert_eq!(Estimator::from_u8(1), Some(Estimator::WeightPerturbation));
        assert_eq!(LossKind::from_u8(1), Some(LossKind::CrossEntropy));
        assert_eq!(Estimator::from_u8(2), Some(Estimator::Hybrid));
        assert_eq!(Estimator::from_u8(3), Some(Estimator::WpHybrid));
        assert_eq!(Estimator::from_u8(4), None);
        assert!("sgd"
            .parse::<Estimator>()
            .unwrap_err()
            .contains("np or wp or hybrid or wp-hybrid"));
        assert_eq!("64-32-10".parse::<Shape>().unwrap(), Shape::new(64, 32, 10));
        assert!("64-32".parse::<Shape>().is_err());
    }
}
