//! Stepping a rust-hdl block directly, the way every harness and block test here does it
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

/// One clock period that ends on the rising edge: clock low, settle, clock high, settle.
/// Inputs set before the call are sampled at the edge; outputs read after it are the new
/// register values.
pub fn rising_edge<B: Block>(uut: &mut B, what: &str, set_clock: impl Fn(&mut B, bool)) {
    set_clock(uut, false);
    settle(uut, what);
    set_clock(uut, true);
    settle(uut, what);
}

/// One clock period that starts on the rising edge: clock high, settle, clock low, settle.
pub fn high_then_low<B: Block>(uut: &mut B, what: &str, set_clock: impl Fn(&mut B, bool)) {
    set_clock(uut, true);
    settle(uut, what);
    set_clock(uut, false);
    settle(uut, what);
}
