//! The model's integer arithmetic, one pure function per rule the learner's datapath
//! implements (saturation, activation, logits, perturbation, update operands, step size,
//! stochastic rounding, momentum velocity): the model calls them, and the learner's block
//! tests (sim/tests/block_step.rs, block_pipeline.rs) compare the hardware pieces with them.

use zo_hdl::formats::{input_operand, ACC_SHIFT, H_MAX, ONE_X};

/// Saturate to i16, counting a clip.
#[inline]
pub fn sat16(v: i64, sat: &mut u32) -> i16 {
    if v > i16::MAX as i64 {
        *sat = sat.wrapping_add(1);
        i16::MAX
    } else if v < i16::MIN as i64 {
        *sat = sat.wrapping_add(1);
        i16::MIN
    } else {
        v as i16
    }
}

/// Saturate to i32, counting a clip.
#[inline]
pub fn sat32(v: i64, sat: &mut u32) -> i32 {
    if v > i32::MAX as i64 {
        *sat = sat.wrapping_add(1);
        i32::MAX
    } else if v < i32::MIN as i64 {
        *sat = sat.wrapping_add(1);
        i32::MIN
    } else {
        v as i32
    }
}

/// Clipped ReLU from an accumulator (Q.20) to an activation (Q0.8, 0..=255).
#[inline]
pub fn activation(acc: i32) -> i32 {
    (acc >> ACC_SHIFT).clamp(0, H_MAX)
}

/// A logit from an accumulator (Q.20 -> Q7.8): `sat16(acc >> 12)`, arithmetic shift,
/// counting a clip.
#[inline]
pub fn logit(acc: i32, sat: &mut u32) -> i16 {
    sat16((acc >> ACC_SHIFT) as i64, sat)
}

/// A perturbed weight of weight perturbation: `sat16(w +- sigma)`, `+` for a drawn 1 bit
/// (`positive`), counting a clip.
#[inline]
pub fn perturbed_weight(w: i16, positive: bool, sigma: u16, sat: &mut u32) -> i16 {
    let s = if positive { 1 } else { -1 };
    sat16(w as i64 + (s * sigma as i32) as i64, sat)
}

/// The node noise of node perturbation added to a pre-activation: `+-sigma << 8`.
#[inline]
pub fn node_noise(positive: bool, sigma: u16) -> i32 {
    let s = if positive { 1 } else { -1 };
    s * ((sigma as i32) << 8)
}

/// The operand of column `j` in the update sweep: the input `x_j` (layer 1, node
/// perturbation; 1.0 for the bias), `h+_j + h-_j` (layer 2, node perturbation; 2.0 for the
/// bias), 1.0 for weight perturbation. `x` holds the layer's inputs, `h_plus`/`h_minus` the
/// hidden activations of the two probes.
#[inline]
pub fn update_operand(
    node: bool,
    layer: usize,
    j: usize,
    x: &[u8],
    h_plus: &[i32],
    h_minus: &[i32],
) -> i32 {
    match (node, layer) {
        (true, 0) => x.get(j).map_or(ONE_X, |&v| input_operand(v)),
        (true, _) => h_plus
            .get(j)
            .zip(h_minus.get(j))
            .map_or(2 * ONE_X, |(p, m)| p + m),
        _ => ONE_X,
    }
}

/// The step size `G = sat16(sat16(L+ - L-) * eta_mant)`, counting each clip.
#[inline]
pub fn step_size(l_plus: u32, l_minus: u32, eta_mant: u8, sat: &mut u32) -> i16 {
    let dl = sat16(l_plus as i64 - l_minus as i64, sat);
    sat16(dl as i64 * eta_mant as i64, sat)
}

/// Stochastic rounding of `v >> shift` with dither `r` (the rounding generator's state; its
/// low `shift` bits are used): `q = (|v| + r) >> shift`, the sign of `v` restored.
#[inline]
pub fn sround(v: i32, shift: u8, r: u32) -> i64 {
    let shift = shift as u32;
    let mask = ((1u64 << shift) - 1) as u32;
    let q = ((v.unsigned_abs() as u64 + (r & mask) as u64) >> shift) as i64;
    if v < 0 {
        -q
    } else {
        q
    }
}

/// The velocity an apply leaves in an accumulator holding `a`: `a - (a >> m)` (arithmetic
/// shift) with momentum `m`, else 0.
#[inline]
pub fn velocity(a: i32, m: u8) -> i32 {
    if m > 0 {
        a - (a >> m)
    } else {
        0
    }
}
