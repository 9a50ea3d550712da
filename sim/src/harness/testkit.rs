//! Stepping a rust-hdl block directly, the one way every harness and block test here does it
//! (FIELD-NOTES: two `simulate` calls per clock run ~100x faster than rust-hdl's threaded
//! `Simulation`): settle the combinational logic after each change of an input or the clock.

use rust_hdl::prelude::{simulate, Block};

/// Delta iterations [`settle`] allows before it declares a combinational loop.
pub const SETTLE_ITERS: usize = 1000;

/// Propagates `uut`'s combinational logic until it is stable. Panics, naming `what`, when it
/// does not settle: a combinational loop in the design, never a property of the inputs.
pub fn settle<B: Block>(uut: &mut B, what: &str) {
    assert!(simulate(uut, SETTLE_ITERS), "{what} did not settle");
}

/// Sets the clock to `level` and settles: half a clock period. Inputs set before a call with
/// `level = true` are sampled at that rising edge; outputs read after it are the new register
/// values. The two periods below are made of it; a harness that must act between the halves
/// (answer a synchronous read, check outputs before the edge) calls it directly.
pub fn clock_to<B: Block>(uut: &mut B, what: &str, set_clock: impl Fn(&mut B, bool), level: bool) {
    set_clock(uut, level);
    settle(uut, what);
}

/// One clock period that ends on the rising edge: clock low, settle, clock high, settle.
/// Inputs set before the call are sampled at the edge; outputs read after it are the new
/// register values.
pub fn rising_edge<B: Block>(uut: &mut B, what: &str, set_clock: impl Fn(&mut B, bool)) {
    clock_to(uut, what, &set_clock, false);
    clock_to(uut, what, &set_clock, true);
}

/// One clock period that starts on the rising edge: clock high, settle, clock low, settle.
pub fn high_then_low<B: Block>(uut: &mut B, what: &str, set_clock: impl Fn(&mut B, bool)) {
    clock_to(uut, what, &set_clock, true);
    clock_to(uut, what, &set_clock, false);
}
