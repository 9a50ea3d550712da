//! Bit-exact reference model of the learner (`zo_hdl::learner::Learner`): the executable
//! specification. Same integers, same noise streams in the same order, same counters.
//!
//! One training sample (`train`):
//! 1. `+` pass: the noise generator restarts from the probe seed `P`; forward pass with noise
//!    `+sigma * s` (s = +1 for a drawn 1 bit, -1 for a 0 bit) on every hidden and output
//!    pre-activation (NP, one bit per unit in unit order) or on every weight (WP, one bit per
//!    weight in address order); loss `L+`.
//! 2. `-` pass: restart from `P`, the same draws with the opposite sign; loss `L-`.
//! 3. update sweep: restart from `P`, replay the same draws; for every weight in address order
//!    `c = s * G * operand`, `G = sat16(sat16(L+ - L-) * eta_mant)`; the operand is the input
//!    `x_j` (layer 1, NP; [`zo_hdl::formats::input_operand`] of the signed input byte), `h+_j + h-_j` (layer 2, NP: twice the mean activation of the two probes; its bias
//!    operand is 2.0 to match), or 1.0 (WP and every layer-1 bias).
//!    With `batch == 1` the weight moves at once: `w = sat16(w - sround(c >> eta_shift))`;
//!    otherwise `A = sat32(A + c)` and every `batch` samples an apply sweep does
//!    `w = sat16(w - sround(A >> eta_shift)); A = 0`.
//! 4. `P` becomes the generator state after the replay, so the next sample draws fresh bits.
//!
//! Hybrid estimator ([`Estimator::Hybrid`]): noise only on the hidden pre-activations (one bit
//! per hidden unit; the output units draw none). [`Estimator::WpHybrid`] is the same with weight
//! perturbation on the hidden layer (one bit per hidden weight and bias, operand 1.0 in its
//! update; the output weights draw none and are not perturbed). After `L-` the loss unit also forms the
//! derivative `e_k = dL/dz_k` of the `-` pass logits ([`LossTables::grad`], Q.14); the update
//! sweep moves the hidden rows as NP does and output row `k` by `c = e_k * operand` (operand
//! `h+_j + h-_j`, bias 2.0, no sign), rounded with `out_shift` instead of `eta_shift` (also in
//! the apply sweep of a mini-batch).
//!
//! `sround` is stochastic rounding of a magnitude: `q = (|c| + r) >> shift` with `r` the low
//! `shift` bits of the rounding generator (stepped once per rounded weight), sign restored.

pub mod arith;
pub mod lfsr;
pub mod shape;

use arith::{
    activation, logit, node_noise, perturbed_weight, sat16, sat32, sround, step_size,
    update_operand, velocity,
};

use lfsr::Lfsr;
use zo_hdl::config::{Estimator, LossKind, Shape, TrainParams};
use zo_hdl::formats::{
    exp2_table, input_operand, log2_table, nonzero_seed, EXP2_FRAC, GRAD_ONE, NOISE_WIDTH, ONE_X,
    ROUND_SEED_XOR,
};

/// Counters the host reads back; all wrap modulo 2^32.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Training samples processed.
    pub samples: u32,
    /// Weight updates applied (once per sample with batch 1, once per batch otherwise).
    pub updates: u32,
    /// Saturating operations that clipped (perturbed weights, logits, errors, loss difference,
    /// step size, accumulators, updated weights).
    pub saturations: u32,
    /// Weight updates that rounded to zero.
    pub zero_updates: u32,
    /// Sum of `(L+ + L-) / 2` over the samples, Q.8; mean loss = difference / samples.
    pub loss_sum: u32,
    /// `(L+ + L-) / 2` of the last sample, Q.8.
    pub last_loss: u32,
}

/// Result of a clean forward pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inference {
    pub logits: Vec<i16>,
    pub class: usize,
    pub loss: u32,
}

/// Losses of one training sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleLosses {
    pub plus: u32,
    pub minus: u32,
}

/// The lookup tables of the loss unit.
#[derive(Clone, Debug)]
pub struct LossTables {
    exp2: Vec<u16>,
    log2: Vec<u16>,
}

impl Default for LossTables {
    fn default() -> Self {
        Self {
            exp2: exp2_table(),
            log2: log2_table(),
        }
    }
}

impl LossTables {
    /// Loss (Q.8) and predicted class (first maximum) of logits `z` against class `target`.
    pub fn loss(&self, z: &[i16], target: usize, kind: LossKind, sat: &mut u32) -> (u32, usize) {
        let mut max = z[0];
        let mut class = 0;
        for (k, &v) in z.iter().enumerate().skip(1) {
            if v > max {
                max = v;
                class = k;
            }
        }
        let loss = match kind {
            LossKind::SquaredError => {
                let mut l: u32 = 0;
                for (k, &v) in z.iter().enumerate() {
                    let t = if k == target { ONE_X } else { 0 };
                    let e = sat16(v as i64 - t as i64, sat) as i32;
                    l += ((e * e) >> 8) as u32;
                }
                l
            }
            // S = sum 2^(z_k - max) in Q.15, each term from the table, shifted by the integer
            // part of the difference; log2(S) - 15 = (p - 15) + log2(mantissa), p = position of
            // the leading one.
            LossKind::CrossEntropy => {
                self.log2_sum(z, max) + (max as i32 - z[target] as i32) as u32
            }
        };
        (loss, class)
    }

    /// `log2(S) - 15` in Q.8 of the cross-entropy: the loss is this plus `max - z_target`.
    fn log2_sum(&self, z: &[i16], max: i16) -> u32 {
        let mut s: u32 = 0;
        for &v in z {
            let d = (max as i32 - v as i32) as u32;
            let q = d >> 8;
            if q < 16 {
                s += (self.exp2[(d & 0xFF) as usize] as u32) >> q;
            }
        }
        let p = 31 - s.leading_zeros();
        let mant = (s >> (p - 8)) & 0xFF;
        (p - EXP2_FRAC) * 256 + self.log2[mant as usize] as u32
    }

    /// The derivative `e_k = dL/dz_k` of the loss at logits `z` (Q.14, [`GRAD_ONE`] = 1.0),
    /// written into `e`:
    /// - cross-entropy (base 2, in bits): `p_k - t_k`, with `p_k = 2^-L_k`,
    ///   `L_k = log2(S) - 15 + (max - z_k)` (Q.8) and `2^-L_k = EXP2[L_k & 255] >> (L_k >> 8)`
    ///   (Q.15, 0 when the shift reaches 16), halved to Q.14;
    /// - squared error: `2 (z_k - t_k)` = `(z_k - t_k) * 128` from Q.8, clipped to 16 bits
    ///   (each clip counted in `sat`).
    pub fn grad(&self, z: &[i16], target: usize, kind: LossKind, e: &mut [i16], sat: &mut u32) {
        match kind {
            LossKind::CrossEntropy => {
                let max = *z.iter().max().expect("at least two logits");
                let base = self.log2_sum(z, max);
                for (k, (&v, e_k)) in z.iter().zip(e.iter_mut()).enumerate() {
                    let l = base + (max as i32 - v as i32) as u32;
                    let q = l >> 8;
                    let p = if q < 16 {
                        (self.exp2[(l & 0xFF) as usize] as i32) >> q
                    } else {
                        0
                    };
                    let t = if k == target { GRAD_ONE } else { 0 };
                    *e_k = ((p >> 1) - t) as i16;
                }
            }
            LossKind::SquaredError => {
                for (k, (&v, e_k)) in z.iter().zip(e.iter_mut()).enumerate() {
                    let t = if k == target { ONE_X } else { 0 };
                    *e_k = sat16((v as i64 - t as i64) * 128, sat);
                }
            }
        }
    }
}

/// The learner's state: weights, accumulators, generators, batch position and counters.
#[derive(Clone, Debug)]
pub struct Model {
    shape: Shape,
    pub params: TrainParams,
    weights: Vec<i16>,
    accum: Vec<i32>,
    probe_seed: u32,
    round: Lfsr,
    batch_pos: u16,
    pub counters: Counters,
    tables: LossTables,
    // Scratch buffers of the passes (the hardware's activation and logit stores).
    h_plus: Vec<i32>,
    h_minus: Vec<i32>,
    z: Vec<i16>,
    /// The loss unit's derivative store (hybrid): `dL/dz` of the `-` pass, Q.14.
    grad: Vec<i16>,
    /// A fault for the mutation tests: `(k, bit)` flips bit `bit` of output `k`'s derivative
    /// after every derivative sweep. `None` outside those tests.
    #[doc(hidden)]
    pub grad_fault: Option<(usize, u32)>,
}

/// Which way a pass perturbs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pass {
    Plus,
    Minus,
    Clean,
}

impl Model {
    /// A learner with all weights zero, seeded with `seed`.
    pub fn new(shape: Shape, seed: u32) -> Self {
        let mut m = Self {
            shape,
            params: TrainParams::default(),
            weights: vec![0; shape.n_weights()],
            accum: vec![0; shape.n_weights()],
            probe_seed: 0,
            round: Lfsr::new(NOISE_WIDTH, 1),
            batch_pos: 0,
            counters: Counters::default(),
            tables: LossTables::default(),
            h_plus: vec![0; shape.n_hid],
            h_minus: vec![0; shape.n_hid],
            z: vec![0; shape.n_out],
            grad: vec![0; shape.n_out],
            grad_fault: None,
        };
        m.seed(seed);
        m
    }

    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// Restart both generators from `seed` (the `seed` register's load strobe). A zero seed is
    /// replaced by 1 before either generator's state is derived from it, so seed 0 behaves
    /// exactly as seed 1.
    pub fn seed(&mut self, seed: u32) {
        let seed = nonzero_seed(seed);
        self.probe_seed = seed;
        self.round
            .set_state(nonzero_seed(seed ^ ROUND_SEED_XOR) as u64);
    }

    /// The probe seed `P` the next training sample starts from.
    pub fn probe_seed(&self) -> u32 {
        self.probe_seed
    }

    pub fn weights(&self) -> &[i16] {
        &self.weights
    }

    pub fn set_weights(&mut self, w: &[i16]) {
        assert_eq!(
            w.len(),
            self.weights.len(),
            "weight count must match the shape"
        );
        self.weights.copy_from_slice(w);
    }

    pub fn accumulators(&self) -> &[i32] {
        &self.accum
    }

    /// Samples accumulated since the last apply.
    pub fn batch_pos(&self) -> u16 {
        self.batch_pos
    }

    /// One forward pass; fills `h` (hidden activations) and `self.z` (logits).
    fn forward(&mut self, x: &[u8], pass: Pass, noise: &mut Lfsr, which_h: bool) {
        let sh = self.shape;
        let est = self.params.estimator;
        let sigma = self.params.sigma;
        let mut sat = self.counters.saturations;
        let counting = pass != Pass::Clean;
        let draw_sign = |noise: &mut Lfsr| -> i32 {
            let s = if noise.next_bit() { 1 } else { -1 };
            if pass == Pass::Minus {
                -s
            } else {
                s
            }
        };
        let h = if which_h {
            &mut self.h_minus
        } else {
            &mut self.h_plus
        };
        let mut scratch = 0u32;
        let sat_ref: &mut u32 = if counting { &mut sat } else { &mut scratch };
        // Layer 1.
        let row = sh.n_in + 1;
        for (i, h_i) in h.iter_mut().enumerate() {
            let wrow = &self.weights[i * row..(i + 1) * row];
            let mut acc: i32 = 0;
            for (j, &w) in wrow.iter().enumerate() {
                let xj = if j < sh.n_in {
                    input_operand(x[j])
                } else {
                    ONE_X
                };
                let w = if est.perturbs_weights() && pass != Pass::Clean {
                    perturbed_weight(w, draw_sign(noise) > 0, sigma, sat_ref)
                } else {
                    w
                };
                acc += w as i32 * xj;
            }
            if est.perturbs_hidden_nodes() && pass != Pass::Clean {
                acc += node_noise(draw_sign(noise) > 0, sigma);
            }
            *h_i = activation(acc);
        }
        // Layer 2.
        let base = sh.layer2_base();
        let row = sh.n_hid + 1;
        for k in 0..sh.n_out {
            let wrow = &self.weights[base + k * row..base + (k + 1) * row];
            let mut acc: i32 = 0;
            for (j, &w) in wrow.iter().enumerate() {
                let hj = if j < sh.n_hid { h[j] } else { ONE_X };
                // The exact output layer (hybrid estimators) is never perturbed.
                let w = if est.perturbs_weights() && !est.exact_output() && pass != Pass::Clean {
                    perturbed_weight(w, draw_sign(noise) > 0, sigma, sat_ref)
                } else {
                    w
                };
                acc += w as i32 * hj;
            }
            if est == Estimator::NodePerturbation && pass != Pass::Clean {
                acc += node_noise(draw_sign(noise) > 0, sigma);
            }
            self.z[k] = logit(acc, sat_ref);
        }
        self.counters.saturations = sat;
    }

    /// Clean forward pass: logits, class, loss. Changes nothing.
    pub fn infer(&mut self, x: &[u8], target: usize) -> Inference {
        let mut dummy = Lfsr::new(NOISE_WIDTH, 1);
        let saved = self.counters;
        self.forward(x, Pass::Clean, &mut dummy, false);
        let mut scratch = 0;
        let (loss, class) = self
            .tables
            .loss(&self.z, target, self.params.loss, &mut scratch);
        self.counters = saved;
        Inference {
            logits: self.z.clone(),
            class,
            loss,
        }
    }

    /// Hidden activations (Q0.8) of a clean forward pass. Changes nothing.
    pub fn hidden(&mut self, x: &[u8]) -> Vec<i32> {
        let mut dummy = Lfsr::new(NOISE_WIDTH, 1);
        let saved = self.counters;
        self.forward(x, Pass::Clean, &mut dummy, false);
        self.counters = saved;
        self.h_plus.clone()
    }

    /// Fraction of hidden units whose clean activation is 0 on every sample of `xs`: units
    /// node perturbation cannot revive (their noise never reaches the loss). 0 for no samples.
    pub fn dead_fraction(&mut self, xs: &[Vec<u8>]) -> f64 {
        if xs.is_empty() {
            return 0.0;
        }
        let mut alive = vec![false; self.shape.n_hid];
        for x in xs {
            for (a, h) in alive.iter_mut().zip(self.hidden(x)) {
                *a |= h > 0;
            }
        }
        alive.iter().filter(|a| !**a).count() as f64 / self.shape.n_hid as f64
    }

    /// Stochastic rounding of `c >> shift` (see the module doc), counting zero updates.
    #[inline]
    fn round_step(&mut self, c: i32, shift: u8) -> i64 {
        let d = sround(c, shift, self.round.state() as u32);
        self.round.next_bit();
        if d == 0 {
            self.counters.zero_updates = self.counters.zero_updates.wrapping_add(1);
        }
        d
    }

    /// One training sample: two antithetic probes and the update (see the module doc).
    pub fn train(&mut self, x: &[u8], target: usize) -> SampleLosses {
        assert!(x.len() >= self.shape.n_in && target < self.shape.n_out);
        let sh = self.shape;
        let p = self.params;
        let mut noise = Lfsr::new(NOISE_WIDTH, self.probe_seed as u64);
        self.forward(x, Pass::Plus, &mut noise, false);
        let mut sat = self.counters.saturations;
        let (l_plus, _) = self.tables.loss(&self.z, target, p.loss, &mut sat);
        self.counters.saturations = sat;
        noise.set_state(self.probe_seed as u64);
        self.forward(x, Pass::Minus, &mut noise, true);
        let mut sat = self.counters.saturations;
        let (l_minus, _) = self.tables.loss(&self.z, target, p.loss, &mut sat);
        noise.set_state(self.probe_seed as u64);

        if p.estimator.exact_output() {
            self.tables
                .grad(&self.z, target, p.loss, &mut self.grad, &mut sat);
            if let Some((k, bit)) = self.grad_fault {
                self.grad[k] ^= 1 << bit;
            }
        }
        let g = step_size(l_plus, l_minus, p.eta_mant, &mut sat) as i32;
        self.counters.saturations = sat;

        let node = p.estimator.perturbs_hidden_nodes();
        let exact_out = p.estimator.exact_output();
        let inputs = &x[..sh.n_in];
        let mut addr = 0;
        for layer in 0..2 {
            let (rows, fan_in) = if layer == 0 {
                (sh.n_hid, sh.n_in)
            } else {
                (sh.n_out, sh.n_hid)
            };
            // The exact output rows draw no noise and carry their own signed step.
            let exact = exact_out && layer == 1;
            for row in 0..rows {
                let unit_sign = if node && !exact {
                    noise.next_bit()
                } else {
                    false
                };
                let step = if exact { self.grad[row] as i32 } else { g };
                for j in 0..=fan_in {
                    let positive = if exact {
                        true
                    } else if node {
                        unit_sign
                    } else {
                        noise.next_bit()
                    };
                    // The bias (j == fan_in) has input 1.0 (2.0 for the summed activations).
                    // The exact rows take the summed activations whatever the hidden layer's
                    // estimator.
                    let operand = update_operand(
                        node || exact,
                        layer,
                        j,
                        inputs,
                        &self.h_plus,
                        &self.h_minus,
                    );
                    let prod = step * operand;
                    let c = if positive { prod } else { -prod };
                    self.update_weight(addr, c);
                    addr += 1;
                }
            }
        }
        self.probe_seed = noise.state() as u32;

        let mean = (l_plus + l_minus) >> 1;
        let c = &mut self.counters;
        c.samples = c.samples.wrapping_add(1);
        c.loss_sum = c.loss_sum.wrapping_add(mean);
        c.last_loss = mean;
        if p.batch <= 1 {
            c.updates = c.updates.wrapping_add(1);
        } else {
            self.batch_pos += 1;
            if self.batch_pos >= p.batch {
                self.apply();
            }
        }
        SampleLosses {
            plus: l_plus,
            minus: l_minus,
        }
    }

    /// The step shift of weight `addr`: `out_shift` for the output rows of the hybrid
    /// estimator, `eta_shift` everywhere else.
    #[inline]
    fn shift_of(&self, addr: usize) -> u8 {
        if self.params.estimator.exact_output() && addr >= self.shape.layer2_base() {
            self.params.out_shift
        } else {
            self.params.eta_shift
        }
    }

    /// Per-weight step of the update sweep: apply at once (batch 1) or accumulate.
    #[inline]
    fn update_weight(&mut self, addr: usize, c: i32) {
        if self.params.batch <= 1 && self.params.momentum == 0 {
            self.step_weight(addr, c);
            return;
        }
        let mut sat = self.counters.saturations;
        let a = sat32(self.accum[addr] as i64 + c as i64, &mut sat);
        self.counters.saturations = sat;
        self.accum[addr] = a;
        if self.params.batch <= 1 {
            // Momentum with batch 1: accumulate, apply and decay in one step.
            self.apply_one(addr);
        }
    }

    /// `w = sat16(w - sround(v >> shift))` for weight `addr`.
    #[inline]
    fn step_weight(&mut self, addr: usize, v: i32) {
        let d = self.round_step(v, self.shift_of(addr));
        let mut sat = self.counters.saturations;
        self.weights[addr] = sat16(self.weights[addr] as i64 - d, &mut sat);
        self.counters.saturations = sat;
    }

    /// Applies accumulator `addr` to its weight and leaves the velocity, `A - (A >> m)` with
    /// momentum `m`, else 0.
    #[inline]
    fn apply_one(&mut self, addr: usize) {
        let a = self.accum[addr];
        self.step_weight(addr, a);
        self.accum[addr] = velocity(a, self.params.momentum);
    }

    /// Apply the accumulated batch now (the `Apply` op); nothing happens when it is empty.
    pub fn apply(&mut self) {
        if self.batch_pos == 0 {
            return;
        }
        for addr in 0..self.weights.len() {
            self.apply_one(addr);
        }
        self.batch_pos = 0;
        self.counters.updates = self.counters.updates.wrapping_add(1);
    }

    /// Zero the accumulators and the batch position (the `ClearAccumulators` op).
    pub fn clear_accumulators(&mut self) {
        self.accum.iter_mut().for_each(|a| *a = 0);
        self.batch_pos = 0;
    }
}
