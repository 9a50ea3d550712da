//! Fixed-point formats and lookup tables shared by the hardware and the reference model.
//!
//! Every number in the learner is an integer with an implied binary point. The formats are:
//!
//! | quantity | type | format | real value |
//! |---|---|---|---|
//! | input feature `x` | `i8` (sent as a byte) | Q0.7 signed | `x / 128`, in `[-1, 1)`; the multiplier sees `2 x` (Q.8) |
//! | weight / bias `w` | `i16` | Q3.12 | `w / 4096`, in `[-8, 8)` |
//! | pre-activation accumulator `a` | `i32` | Q.20 | `a / 2^20` |
//! | hidden activation `h` | `u8` (held in 16 bits) | Q0.8 unsigned | clipped ReLU, `[0, 255/256]` |
//! | logit `z` | `i16` | Q7.8 | `z / 256` |
//! | loss `L` | `u32` | Q.8 | MSE: `sum (z-t)^2`; CE: `-log2 softmax2(z)[t]` in bits |
//! | loss derivative `e = dL/dz` | `i16` | Q1.14 | `e / 16384`; CE: `p - t` in `[-1, 1]` |
//! | sigma | `u16` | Q.12 | NP: added to pre-activations as `sigma << 8`; WP: added to weights |
//! | learning rate | `u8` mantissa, 5-bit shift | | `eta = mant * 2^(4 - shift)` |
//!
//! Bias terms are weights whose input is the constant [`ONE_X`] (1.0 in Q0.8), so a layer of
//! `n` inputs has rows of `n + 1` weights and the same multiply-accumulate serves both.

/// Fractional bits of a weight (Q3.12).
pub const W_FRAC: u32 = 12;
/// Fractional bits of a multiplier operand: a hidden activation (Q0.8), or an input feature
/// after [`input_operand`].
pub const X_FRAC: u32 = 8;
/// Fractional bits of an input feature as sent to the device (signed Q0.7, two's complement
/// in one byte). IDENTIFY reports this as `x_frac`.
pub const IN_FRAC: u32 = 7;

/// The multiplier operand (Q.8, -256..=254) of an input byte (signed Q0.7): sign-extend and
/// double. Standardised features (z-scores clipped to +-4, code = round(32 z)) use the whole
/// range; `|operand| <= 256 = ONE_X` keeps the accumulator bound of [`MAX_FAN_IN`].
#[inline]
pub const fn input_operand(x: u8) -> i32 {
    (x as i8 as i32) * 2
}
/// Fractional bits of the loss unit's derivative `dL/dz` (hybrid estimator).
pub const GRAD_FRAC: u32 = 14;
/// `dL/dz = 1.0` in the derivative format.
pub const GRAD_ONE: i32 = 1 << GRAD_FRAC;
/// Fractional bits of a logit (Q7.8) and of the loss (Q.8).
pub const Z_FRAC: u32 = 8;
/// Right shift from an accumulator (Q.20) to an activation or logit (Q.8).
pub const ACC_SHIFT: u32 = W_FRAC + X_FRAC - Z_FRAC;
/// The constant input of a bias weight: 1.0 in Q0.8.
pub const ONE_X: i32 = 1 << X_FRAC;
/// Largest hidden activation (255/256): the clip level of the clipped ReLU.
pub const H_MAX: i32 = 255;
/// Rows are at most this long (inputs + bias) so that an i32 accumulator can never overflow:
/// every operand is at most `2^8` in magnitude (inputs `-256..=254`, activations `0..=255`,
/// the bias input 256), so `255 * 2^15 * 2^8 + (noise < 2^23) <= 2^31`.
pub const MAX_FAN_IN: usize = 254;

/// Entries of the exp2 table (indexed by the fractional part of a logit difference).
pub const EXP2_ENTRIES: usize = 256;
/// Fractional bits of the exp2 table entries: `exp2(0) = 1 << EXP2_FRAC`.
pub const EXP2_FRAC: u32 = 15;
/// Entries of the log2 mantissa table.
pub const LOG2_ENTRIES: usize = 256;

/// `EXP2[f] = round(2^15 * 2^(-f/256))`, f in 0..256: the fractional part of `2^-d`, d in Q.8.
pub fn exp2_table() -> Vec<u16> {
    (0..EXP2_ENTRIES)
        .map(|f| {
            let v = (1u32 << EXP2_FRAC) as f64 * (-(f as f64) / 256.0).exp2();
            v.round() as u16
        })
        .collect()
}

/// `LOG2[m] = round(256 * log2(1 + m/256))`, m in 0..256: log2 of a mantissa in [1, 2), Q.8.
pub fn log2_table() -> Vec<u16> {
    (0..LOG2_ENTRIES)
        .map(|m| (256.0 * (1.0 + m as f64 / 256.0).log2()).round() as u16)
        .collect()
}

/// Characteristic masks of maximal-length Galois LFSRs in right-shift form
/// (`out = s & 1; s >>= 1; if out { s ^= mask }`), from the tap tables of Xilinx XAPP052.
/// Index by width; tests prove each is maximal.
pub const fn lfsr_mask(width: usize) -> u64 {
    match width {
        4 => 0xC,          // x^4 + x^3 + 1
        5 => 0x14,         // x^5 + x^3 + 1
        8 => 0xB8,         // x^8 + x^6 + x^5 + x^4 + 1
        12 => 0x829,       // x^12 + x^6 + x^4 + x + 1
        16 => 0xB400,      // x^16 + x^14 + x^13 + x^11 + 1
        20 => 0x90000,     // x^20 + x^17 + 1
        24 => 0xE10000,    // x^24 + x^23 + x^22 + x^17 + 1
        32 => 0x8020_0003, // x^32 + x^22 + x^2 + x + 1
        _ => 0,
    }
}

/// Width of the learner's noise and rounding generators.
pub const NOISE_WIDTH: usize = 32;
/// The state loaded into a generator whose seed is zero (an LFSR must never hold zero).
pub const ZERO_SEED_REPLACEMENT: u32 = 0x1;
/// The rounding generator is seeded with `nonzero_seed(seed) ^ ROUND_SEED_XOR` (the noise
/// generator with `nonzero_seed(seed)`), so that it sits far from the noise generator on the
/// same m-sequence and a zero seed behaves as 1 for both.
pub const ROUND_SEED_XOR: u32 = 0x9E37_79B9;

/// Seed normalisation used by both generators: a zero state would lock an LFSR.
pub const fn nonzero_seed(seed: u32) -> u32 {
    if seed == 0 {
        ZERO_SEED_REPLACEMENT
    } else {
        seed
    }
}
