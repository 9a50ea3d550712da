//! The noise generator: its polynomials are maximal, the rust-hdl block matches the model cycle
//! for cycle, and the perturbation signs the learner draws from it are uncorrelated.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use zo_hdl::config::{Estimator, Shape};
use zo_hdl::formats::{lfsr_mask, nonzero_seed, NOISE_WIDTH};
use zo_hdl::learner::lfsr::Lfsr as HwLfsr;
use zo_sim::model::lfsr::Lfsr;
use zo_sim::model::Model;

/// Widths small enough to walk the whole sequence.
const SMALL_WIDTHS: [usize; 6] = [4, 5, 8, 12, 16, 20];

// ---------------------------------------------------------------------------------------------
// Periods
// ---------------------------------------------------------------------------------------------

/// Steps until the model, started from state 1, first returns to 1 (`None` if it has not
/// after `2^width` steps). Panics if it ever leaves `width` bits or reaches the locking state 0.
fn brute_period(mask: u64, width: usize) -> Option<u64> {
    let mut l = Lfsr::with_mask(mask, 1);
    for n in 1..=1u64 << width {
        l.next_bit();
        let s = l.state();
        assert!(
            s != 0,
            "mask {mask:#x}: reached the zero state after {n} steps"
        );
        assert!(
            s >> width == 0,
            "mask {mask:#x}: state {s:#x} left {width} bits"
        );
        if s == 1 {
            return Some(n);
        }
    }
    None
}

#[test]
fn model_full_period_small_widths() {
    for w in SMALL_WIDTHS {
        let mask = lfsr_mask(w);
        assert_eq!(
            mask >> (w - 1),
            1,
            "width {w}: mask {mask:#x} must have bit {} as its top bit",
            w - 1
        );
        // First return to 1 after 2^w - 1 steps, never 0, always w bits: every non-zero state
        // is visited exactly once per period.
        assert_eq!(
            brute_period(mask, w),
            Some((1 << w) - 1),
            "width {w}, mask {mask:#x}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// GF(2) linear algebra: a w x w matrix is its w columns, column j = image of basis vector e_j.
// ---------------------------------------------------------------------------------------------

type Mat = Vec<u64>;

fn identity(w: usize) -> Mat {
    (0..w).map(|j| 1u64 << j).collect()
}

/// `m * v`: the xor of the columns selected by the bits of `v`.
fn apply(m: &Mat, v: u64) -> u64 {
    m.iter()
        .enumerate()
        .filter(|&(j, _)| v >> j & 1 == 1)
        .fold(0, |acc, (_, &c)| acc ^ c)
}

/// `a * b` (first `b`, then `a`).
fn mul(a: &Mat, b: &Mat) -> Mat {
    b.iter().map(|&c| apply(a, c)).collect()
}

fn pow(m: &Mat, mut e: u64) -> Mat {
    let mut result = identity(m.len());
    let mut base = m.clone();
    while e > 0 {
        if e & 1 == 1 {
            result = mul(&result, &base);
        }
        base = mul(&base, &base);
        e >>= 1;
    }
    result
}

/// The model's one-step transition as a matrix: column j is the model's step applied to `e_j`.
/// Checks on random states that the matrix really is the step (the step is linear).
fn transition(mask: u64, width: usize) -> Mat {
    let step = |s: u64| {
        let mut l = Lfsr::with_mask(mask, s);
        l.next_bit();
        l.state()
    };
    let t: Mat = (0..width).map(|j| step(1 << j)).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(mask);
    let lim = if width == 64 {
        u64::MAX
    } else {
        (1 << width) - 1
    };
    for _ in 0..64 {
        let s = rng.gen::<u64>() & lim;
        assert_eq!(
            apply(&t, s),
            step(s),
            "mask {mask:#x}: matrix differs from the step at {s:#x}"
        );
    }
    t
}

/// Distinct prime factors, by trial division.
// `u64::is_multiple_of` (Rust 1.87) is newer than the workspace's `rust-version` (1.80).
#[allow(unknown_lints, clippy::manual_is_multiple_of)]
fn prime_factors(mut n: u64) -> Vec<u64> {
    let mut f = Vec::new();
    let mut p = 2;
    while p * p <= n {
        if n % p == 0 {
            f.push(p);
            while n % p == 0 {
                n /= p;
            }
        }
        p += 1;
    }
    if n > 1 {
        f.push(n);
    }
    f
}

/// The transition has multiplicative order exactly `2^w - 1` (so its characteristic polynomial
/// is primitive and the generator is maximal-length).
fn order_is_maximal(mask: u64, width: usize) -> bool {
    let t = transition(mask, width);
    let id = identity(width);
    let order = (1u64 << width) - 1;
    pow(&t, order) == id
        && prime_factors(order)
            .into_iter()
            .all(|p| pow(&t, order / p) != id)
}

/// Euler's totient from the distinct prime factors.
fn totient(n: u64) -> u64 {
    prime_factors(n)
        .into_iter()
        .fold(n, |acc, p| acc / p * (p - 1))
}

#[test]
fn mask_is_primitive_for_24_and_32_bits() {
    let cases: [(usize, &[u64]); 2] =
        [(24, &[3, 5, 7, 13, 17, 241]), (32, &[3, 5, 17, 257, 65537])];
    for (w, factors) in cases {
        let order = (1u64 << w) - 1;
        assert_eq!(prime_factors(order), factors, "prime factors of 2^{w} - 1");
        let mask = lfsr_mask(w);
        assert_eq!(mask >> (w - 1), 1, "width {w}: mask {mask:#x} top bit");
        assert!(
            order_is_maximal(mask, w),
            "width {w}: mask {mask:#x} is not maximal-length"
        );
    }

    // Cross-check of the method: it agrees with brute force on the project's small masks and
    // on every candidate mask of widths 4, 5, 8 and 12, where it must also find exactly the
    // phi(2^w - 1) / w primitive polynomials (so it can say "no").
    for w in SMALL_WIDTHS {
        assert!(
            order_is_maximal(lfsr_mask(w), w),
            "width {w}: matrix test rejects the mask"
        );
    }
    for w in [4usize, 5, 8, 12] {
        let order = (1u64 << w) - 1;
        let mut maximal = 0;
        for low in 0..1u64 << (w - 1) {
            let mask = 1 << (w - 1) | low;
            let by_matrix = order_is_maximal(mask, w);
            let by_walk = brute_period(mask, w) == Some(order);
            assert_eq!(
                by_matrix, by_walk,
                "width {w}, mask {mask:#x}: matrix vs brute force"
            );
            maximal += by_matrix as u64;
        }
        assert_eq!(
            maximal,
            totient(order) / w as u64,
            "width {w}: primitive polynomials found"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// RTL against the model
// ---------------------------------------------------------------------------------------------

fn settle<const N: usize>(uut: &mut HwLfsr<N>) {
    zo_sim::harness::testkit::settle(uut, "the LFSR");
}

fn check<const N: usize>(uut: &HwLfsr<N>, model: &Lfsr, when: &str) {
    assert_eq!(
        uut.state.val().to_u64(),
        model.state(),
        "{N}-bit LFSR state, {when}"
    );
    assert_eq!(
        uut.lsb.val(),
        model.state() & 1 == 1,
        "{N}-bit LFSR lsb, {when}"
    );
}

/// Steps the rust-hdl block with random `load` / `advance` / `seed` for `cycles` cycles and
/// compares `bit` and `state` with the model before and after every rising edge.
fn rtl_matches_model<const N: usize>(cycles: usize, rng_seed: u64) {
    let mut uut = HwLfsr::<N>::default();
    uut.connect_all();
    settle(&mut uut);
    let mut model = Lfsr::new(N, nonzero_seed(0) as u64);
    check(&uut, &model, "at power-on");

    let mut rng = ChaCha8Rng::seed_from_u64(rng_seed);
    let lim = (1u64 << N) - 1;
    let (mut loads, mut zero_loads, mut both, mut advances, mut ones) = (0, 0, 0, 0, 0);
    for cycle in 0..cycles {
        let load = rng.gen_bool(0.1);
        let advance = rng.gen_bool(0.7);
        let seed = if rng.gen_bool(0.25) {
            0
        } else {
            rng.gen::<u64>() & lim
        };
        // `seed` changes every cycle, also when it must be ignored.
        uut.load.next = load;
        uut.advance.next = advance;
        uut.seed.next = seed.to_bits();
        settle(&mut uut);
        check(
            &uut,
            &model,
            &format!("cycle {cycle}, inputs set, before the edge"),
        );
        let bit_before = uut.lsb.val();

        zo_sim::harness::testkit::high_then_low(&mut uut, "the LFSR", |u, c| {
            u.clock.next = c.into()
        });

        if load {
            model.set_state(nonzero_seed(seed as u32) as u64);
            loads += 1;
            zero_loads += (seed == 0) as u32;
            both += advance as u32;
        } else if advance {
            assert_eq!(
                bit_before,
                model.next_bit(),
                "{N}-bit: bit read while advancing, cycle {cycle}"
            );
            advances += 1;
            ones += bit_before as u32;
        }
        check(
            &uut,
            &model,
            &format!("after edge {cycle} (load {load}, advance {advance}, seed {seed:#x})"),
        );
    }
    // The random pattern exercised every case.
    assert!(
        loads > 100 && zero_loads > 20 && both > 50,
        "{loads} loads, {zero_loads} of 0, {both} with advance"
    );
    assert!(
        advances > 1000 && ones > 200 && advances - ones > 200,
        "{advances} advances, {ones} ones"
    );
}

#[test]
fn rtl_lfsr_matches_model() {
    rtl_matches_model::<32>(5000, 0x5EED_0032);
    rtl_matches_model::<16>(5000, 0x5EED_0016);
}

// ---------------------------------------------------------------------------------------------
// Perturbation signs
// ---------------------------------------------------------------------------------------------

/// Worst-case statistics of the signs of `positions` perturbation positions over `probes` probes.
#[derive(Debug)]
struct SignStats {
    probes: usize,
    /// Largest |mean sign| of one position.
    max_abs_mean: f64,
    /// Largest |Pearson r| between positions i < j of the same probe, and that pair.
    max_r_within: (f64, usize, usize),
    /// Largest |Pearson r| between position i of probe p and position j of probe p + 1.
    max_r_across: (f64, usize, usize),
}

impl SignStats {
    /// The acceptance bound: 6 standard errors of a correlation (or mean) of `probes` samples.
    /// The largest of ~10^5 independent pair statistics sits near sqrt(2 ln 10^5) = 4.8 standard
    /// errors, so 6 leaves room for an ideal generator while the naive scheme scores r = 1.
    fn limit(&self) -> f64 {
        6.0 / (self.probes as f64).sqrt()
    }

    fn passes(&self) -> bool {
        let lim = self.limit();
        self.max_abs_mean < lim && self.max_r_within.0 < lim && self.max_r_across.0 < lim
    }
}

/// Pearson correlation of two 0/1 series (equal to that of the +-1 signs) from counts: `n`
/// samples, `a` and `b` ones, `ab` joint ones. A constant series counts as fully correlated.
fn pearson(n: u64, a: u64, b: u64, ab: u64) -> f64 {
    let (n, a, b, ab) = (n as f64, a as f64, b as f64, ab as f64);
    let den = (a * (n - a) * b * (n - b)).sqrt();
    if den == 0.0 {
        1.0
    } else {
        (n * ab - a * b) / den
    }
}

/// Draws `probes + 1` probes of `positions` signs (`true` = +1) with `draw` and measures them.
/// Sign series are bitsets over probes: `cur[i]` holds position i of probes `0..probes`,
/// `nxt[i]` position i of probes `1..=probes`, so `cur[i] & nxt[j]` pairs probe p with p + 1.
fn sign_stats(positions: usize, probes: usize, mut draw: impl FnMut(&mut [bool])) -> SignStats {
    let words = probes.div_ceil(64);
    let mut cur = vec![vec![0u64; words]; positions];
    let mut nxt = vec![vec![0u64; words]; positions];
    let mut probe = vec![false; positions];
    for p in 0..=probes {
        draw(&mut probe);
        for (i, _) in probe.iter().enumerate().filter(|&(_, &s)| s) {
            if p < probes {
                cur[i][p / 64] |= 1 << (p % 64);
            }
            if p > 0 {
                nxt[i][(p - 1) / 64] |= 1 << ((p - 1) % 64);
            }
        }
    }
    let ones = |v: &[u64]| v.iter().map(|w| w.count_ones() as u64).sum::<u64>();
    let joint = |x: &[u64], y: &[u64]| {
        x.iter()
            .zip(y)
            .map(|(a, b)| (a & b).count_ones() as u64)
            .sum::<u64>()
    };
    let n = probes as u64;
    let cur_ones: Vec<u64> = cur.iter().map(|v| ones(v)).collect();
    let nxt_ones: Vec<u64> = nxt.iter().map(|v| ones(v)).collect();
    let max_abs_mean = cur_ones
        .iter()
        .map(|&a| ((2 * a) as f64 - n as f64).abs() / n as f64)
        .fold(0.0, f64::max);
    let mut max_r_within = (0.0, 0, 0);
    let mut max_r_across = (0.0, 0, 0);
    for i in 0..positions {
        for j in 0..positions {
            if i < j {
                let r = pearson(n, cur_ones[i], cur_ones[j], joint(&cur[i], &cur[j])).abs();
                if r > max_r_within.0 {
                    max_r_within = (r, i, j);
                }
            }
            let r = pearson(n, cur_ones[i], nxt_ones[j], joint(&cur[i], &nxt[j])).abs();
            if r > max_r_across.0 {
                max_r_across = (r, i, j);
            }
        }
    }
    SignStats {
        probes,
        max_abs_mean,
        max_r_within,
        max_r_across,
    }
}

const PROBES: usize = 20_000;
const STREAM_SEED: u32 = 0x1234_5678;

/// The learner's scheme: every position takes the next bit of one continuing stream.
fn learner_stats(positions: usize) -> SignStats {
    let mut noise = Lfsr::new(NOISE_WIDTH, nonzero_seed(STREAM_SEED) as u64);
    sign_stats(positions, PROBES, |probe| {
        for s in probe.iter_mut() {
            *s = noise.next_bit();
        }
    })
}

/// The learner really draws its probes that way: a probe consumes exactly one bit per unit (NP)
/// or per weight (WP), and the next sample continues from there.
fn assert_bits_per_probe(estimator: Estimator, bits: usize) {
    let shape = Shape::new(64, 32, 10);
    let mut model = Model::new(shape, STREAM_SEED);
    model.params.estimator = estimator;
    let mut stream = Lfsr::new(NOISE_WIDTH, nonzero_seed(STREAM_SEED) as u64);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for sample in 0..3 {
        assert_eq!(
            model.probe_seed() as u64,
            stream.state(),
            "{estimator:?}: start of sample {sample}"
        );
        let x: Vec<u8> = (0..shape.n_in).map(|_| rng.gen()).collect();
        model.train(&x, rng.gen_range(0..shape.n_out));
        for _ in 0..bits {
            stream.next_bit();
        }
    }
    assert_eq!(
        model.probe_seed() as u64,
        stream.state(),
        "{estimator:?}: after 3 samples"
    );
}

#[test]
fn perturbation_signs_are_uncorrelated() {
    let shape = Shape::new(64, 32, 10);
    let np_units = shape.n_hid + shape.n_out;
    assert_eq!(np_units, 42);
    assert_bits_per_probe(Estimator::NodePerturbation, np_units);
    assert_bits_per_probe(Estimator::WeightPerturbation, shape.n_weights());

    for positions in [np_units, 256] {
        let s = learner_stats(positions);
        println!(
            "learner, {positions} positions: {s:?} (limit {:.4})",
            s.limit()
        );
        let lim = s.limit();
        assert!(s.max_abs_mean < lim, "{positions} positions: mean {s:?}");
        assert!(
            s.max_r_within.0 < lim,
            "{positions} positions: within a probe {s:?}"
        );
        assert!(
            s.max_r_across.0 < lim,
            "{positions} positions: across probes {s:?}"
        );
        assert!(s.passes());
    }

    // Teeth: position i = bit i of one register stepped once per probe. Bit i + 1 becomes bit i
    // at the next probe, so the same statistic must catch it.
    let mut reg = Lfsr::new(NOISE_WIDTH, nonzero_seed(STREAM_SEED) as u64);
    let naive = sign_stats(NOISE_WIDTH, PROBES, |probe| {
        for (i, s) in probe.iter_mut().enumerate() {
            *s = reg.state() >> i & 1 == 1;
        }
        reg.next_bit();
    });
    println!(
        "naive register bits, {NOISE_WIDTH} positions: {naive:?} (limit {:.4})",
        naive.limit()
    );
    assert!(
        !naive.passes(),
        "the naive scheme passed the uncorrelatedness check: {naive:?}"
    );
    assert!(naive.max_r_across.0 > 0.5, "naive scheme: {naive:?}");
}
