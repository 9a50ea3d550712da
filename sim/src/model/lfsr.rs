//! Reference model of the hardware LFSR (`zo_hdl::learner::lfsr::Lfsr`).

use zo_hdl::formats::lfsr_mask;

/// A Galois LFSR in right-shift form: the output bit is the state's bit 0, then
/// `state = (state >> 1) ^ (out ? mask : 0)`. Never holds zero when seeded non-zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lfsr {
    state: u64,
    mask: u64,
}

impl Lfsr {
    /// A generator of `width` bits with the project's maximal polynomial for that width.
    pub fn new(width: usize, seed: u64) -> Self {
        Self::with_mask(lfsr_mask(width), seed)
    }

    /// A generator with an explicit Galois mask (bit `width-1` must be set).
    pub fn with_mask(mask: u64, seed: u64) -> Self {
        assert!(
            mask != 0,
            "no maximal-length polynomial is tabulated for this width"
        );
        Self { state: seed, mask }
    }

    pub fn state(&self) -> u64 {
        self.state
    }

    pub fn set_state(&mut self, state: u64) {
        self.state = state;
    }

    /// Returns the output bit and advances one step.
    #[inline]
    pub fn next_bit(&mut self) -> bool {
        let out = self.state & 1 == 1;
        self.state >>= 1;
        if out {
            self.state ^= self.mask;
        }
        out
    }
}
