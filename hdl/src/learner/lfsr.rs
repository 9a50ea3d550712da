//! Maximal-length Galois LFSR: the learner's noise and rounding source.
//!
//! Contract (one clock domain, `clock`):
//! - `lsb` is bit 0 of the state and `state` the whole state, both combinational from the
//!   register: a consumer reads `lsb` in the cycle it asserts `advance`.
//! - `advance` steps once at the next edge: `state = (state >> 1) ^ (lsb ? mask : 0)`.
//! - `load` (takes priority over `advance`) loads `seed`, or 1 when `seed` is zero, so the state
//!   is never zero; power-on state is 1.
//! - `mask` is the Galois mask of a primitive polynomial of degree `N`
//!   ([`crate::formats::lfsr_mask`]); the elaboration check rejects a width without one.
//! - Proved: the state is never zero (lfsr_formal.sv; tests/formal.rs, k-induction depth 4).
//!
//! Successive output bits form an m-sequence of period `2^N - 1`: pairwise correlation
//! `-1/(2^N - 1)` at every lag, which is what the perturbation signs need. The reference model is
//! `zo_sim::model::lfsr::Lfsr`.
use crate::formats::{lfsr_mask, ZERO_SEED_REPLACEMENT};
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct Lfsr<const N: usize> {
    pub clock: Signal<In, Clock>,
    pub load: Signal<In, bool>,
    pub seed: Signal<In, Bits<N>>,
    pub advance: Signal<In, bool>,
    pub lsb: Signal<Out, bool>,
    pub state: Signal<Out, Bits<N>>,
    mask: Constant<Bits<N>>,
    replacement: Constant<Bits<N>>,
    shift_reg: DFFWithInit<Bits<N>>,
}

impl<const N: usize> Default for Lfsr<N> {
    fn default() -> Self {
        let mask = lfsr_mask(N);
        assert!(
            mask != 0,
            "no primitive polynomial is tabulated for a {N}-bit LFSR"
        );
        Self {
            clock: Default::default(),
            load: Default::default(),
            seed: Default::default(),
            advance: Default::default(),
            lsb: Default::default(),
            state: Default::default(),
            mask: Constant::new(bits::<N>(mask as u128 as LiteralType)),
            replacement: Constant::new(bits::<N>(ZERO_SEED_REPLACEMENT as LiteralType)),
            shift_reg: DFFWithInit::new(bits::<N>(ZERO_SEED_REPLACEMENT as LiteralType)),
        }
    }
}

impl<const N: usize> Logic for Lfsr<N> {
    #[hdl_gen]
    fn update(&mut self) {
        self.shift_reg.clock.next = self.clock.val();
        self.shift_reg.d.next = self.shift_reg.q.val();
        if self.load.val() {
            if self.seed.val() == 0 {
                self.shift_reg.d.next = self.replacement.val();
            } else {
                self.shift_reg.d.next = self.seed.val();
            }
        } else if self.advance.val() {
            if self.shift_reg.q.val().get_bit(0) {
                self.shift_reg.d.next = (self.shift_reg.q.val() >> 1) ^ self.mask.val();
            } else {
                self.shift_reg.d.next = self.shift_reg.q.val() >> 1;
            }
        }
        self.lsb.next = self.shift_reg.q.val().get_bit(0);
        self.state.next = self.shift_reg.q.val();
    }
}
