//! Request checks: the verdict on a received request before anything executes, in the order of
//! `zo_proto::Request::decode` and then `zo_sim::device::reference::Device::execute`: unknown
//! type, lengths, field values (the *field* verdict), then BUSY and the device's limits (the
//! *limit* verdict). The engine answers the first failing check with ERROR (docs/PROTOCOL.md
//! 4.3) and executes the request only when both verdicts pass.
//!
//! Contract (clock `clock`). Inputs are the request as the frame receiver holds it: `kind`,
//! payload length `len`, payload bytes `p0`.. (`pK` = payload byte K, 0 past the payload) and
//! the little-endian words `p01` = bytes 0-1, `p23`, `p45`, `p67`; `job_active` is high while a
//! training or evaluation job runs.
//! - Field verdict, combinational from the inputs of the cycle: `field_bad` high when
//!   `Request::decode(kind, payload, n_in)` fails, with its ERROR `field_code` (1 unknown type,
//!   2 bad length, 5 bad value) and `field_detail` (the offending field's payload offset for
//!   code 5, else 0). When `field_bad` is low, code and detail are don't-care.
//! - Limit verdict, combinational from `kind`, `job_active`, the payload bytes and two range
//!   checks (`start + count` against the weight count and the sample capacity) registered from
//!   the previous cycle's `p01` and `p23`: the request fields must hold for one cycle before
//!   `limit_bad` is read. `limit_bad` high means BUSY (code 4, detail 0: a job runs and the
//!   request is not IDENTIFY, STOP, STATUS or RESET) or OUT_OF_RANGE (code 3, detail the
//!   limit: weights, capacity, `n_out` for an INFER label, the largest batch, momentum or
//!   estimator of a build without accumulators or exact output layer). Read only when the
//!   field verdict passed. LOAD_SAMPLES labels sit in the packet buffer, past the fields: the
//!   executor scans them after this verdict.
//! - `write_len` = 4 + 2 * `p23` (WRITE_WEIGHTS' payload length, also READ_WEIGHTS' response
//!   length) and `load_bytes` = `p23` * (`n_in` + 1) (LOAD_SAMPLES' record bytes), both
//!   combinational, for the executor.
//!
//! Parameters (checked at elaboration): the shape (`n_in`, `n_out`, weight count), the sample
//! capacity, and whether the build has mini-batch accumulators and the exact output layer.
use crate::config::Shape;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct RequestCheck {
    pub clock: Signal<In, Clock>,
    pub kind: Signal<In, Bits<8>>,
    pub len: Signal<In, Bits<16>>,
    pub p0: Signal<In, Bits<8>>,
    pub p1: Signal<In, Bits<8>>,
    pub p5: Signal<In, Bits<8>>,
    pub p8: Signal<In, Bits<8>>,
    pub p13: Signal<In, Bits<8>>,
    pub p14: Signal<In, Bits<8>>,
    pub p01: Signal<In, Bits<16>>,
    pub p23: Signal<In, Bits<16>>,
    pub p45: Signal<In, Bits<16>>,
    pub p67: Signal<In, Bits<16>>,
    pub job_active: Signal<In, bool>,
    pub field_bad: Signal<Out, bool>,
    pub field_code: Signal<Out, Bits<8>>,
    pub field_detail: Signal<Out, Bits<16>>,
    pub limit_bad: Signal<Out, bool>,
    pub limit_code: Signal<Out, Bits<8>>,
    pub limit_detail: Signal<Out, Bits<16>>,
    pub write_len: Signal<Out, Bits<16>>,
    pub load_bytes: Signal<Out, Bits<32>>,

    n_in: Constant<Bits<16>>,
    n_out: Constant<Bits<16>>,
    record: Constant<Bits<16>>,
    n_weights: Constant<Bits<16>>,
    capacity: Constant<Bits<16>>,
    batch_limited: Constant<bool>,
    hybrid_limited: Constant<bool>,

    // Range checks, registered: the request fields hold from one cycle to the next.
    over_weights: DFF<bool>,
    over_capacity: DFF<bool>,

    len_minus4: Signal<Local, Bits<16>>,
    len32: Signal<Local, Bits<32>>,
    range_end: Signal<Local, Bits<17>>,
    start_wide: Signal<Local, Bits<17>>,
    count_wide: Signal<Local, Bits<17>>,
    weights_wide: Signal<Local, Bits<17>>,
    capacity_wide: Signal<Local, Bits<17>>,
    // The verdicts before they reach their ports.
    field_bad_v: Signal<Local, bool>,
    field_code_v: Signal<Local, Bits<8>>,
    field_detail_v: Signal<Local, Bits<16>>,
    limit_bad_v: Signal<Local, bool>,
    limit_code_v: Signal<Local, Bits<8>>,
    limit_detail_v: Signal<Local, Bits<16>>,
}

impl RequestCheck {
    /// The checks of a device with `shape`, `capacity` sample slots, and (when false) no
    /// mini-batch accumulators or no exact output layer. Panics (at elaboration) when a limit
    /// does not fit its 16-bit field.
    pub fn new(
        shape: Shape,
        capacity: usize,
        batch_accumulators: bool,
        exact_output: bool,
    ) -> Self {
        assert!(
            shape.n_in < (1 << 16) - 1 && shape.n_out < 1 << 16,
            "n_in + 1 and n_out must fit 16 bits"
        );
        assert!(
            shape.n_weights() < 1 << 16,
            "the weight count must fit 16 bits"
        );
        assert!(capacity < 1 << 16, "the sample capacity must fit 16 bits");
        Self {
            clock: Default::default(),
            kind: Default::default(),
            len: Default::default(),
            p0: Default::default(),
            p1: Default::default(),
            p5: Default::default(),
            p8: Default::default(),
            p13: Default::default(),
            p14: Default::default(),
            p01: Default::default(),
            p23: Default::default(),
            p45: Default::default(),
            p67: Default::default(),
            job_active: Default::default(),
            field_bad: Default::default(),
            field_code: Default::default(),
            field_detail: Default::default(),
            limit_bad: Default::default(),
            limit_code: Default::default(),
            limit_detail: Default::default(),
            write_len: Default::default(),
            load_bytes: Default::default(),
            n_in: Constant::new(shape.n_in.to_bits()),
            n_out: Constant::new(shape.n_out.to_bits()),
            record: Constant::new((shape.n_in + 1).to_bits()),
            n_weights: Constant::new(shape.n_weights().to_bits()),
            capacity: Constant::new(capacity.to_bits()),
            batch_limited: Constant::new(!batch_accumulators),
            hybrid_limited: Constant::new(!exact_output),
            over_weights: Default::default(),
            over_capacity: Default::default(),
            len_minus4: Default::default(),
            len32: Default::default(),
            range_end: Default::default(),
            start_wide: Default::default(),
            count_wide: Default::default(),
            weights_wide: Default::default(),
            capacity_wide: Default::default(),
            field_bad_v: Default::default(),
            field_code_v: Default::default(),
            field_detail_v: Default::default(),
            limit_bad_v: Default::default(),
            limit_code_v: Default::default(),
            limit_detail_v: Default::default(),
        }
    }
}

// Each arm of the check chains is one check, kept apart in the documented order; `#[hdl_gen]`
// has no match guards, so limit checks are `if`s inside the arms.
#[allow(clippy::if_same_then_else, clippy::collapsible_match)]
impl Logic for RequestCheck {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, over_weights, over_capacity);
        // LOAD_SAMPLES length check as `len - 4 == count * record` (len >= 4 is checked
        // first), which needs no 32-bit adder.
        self.len_minus4.next = self.len.val() - 4;
        self.len32.next = bit_cast::<32, 16>(self.len_minus4.val());
        self.load_bytes.next = self.p23.val() * self.record.val();
        self.write_len.next = (self.p23.val() << 1) + 4;
        // Ranges end at most at 2^17 - 2: 17 bits hold start + count.
        self.start_wide.next = bit_cast::<17, 16>(self.p01.val());
        self.count_wide.next = bit_cast::<17, 16>(self.p23.val());
        self.range_end.next = self.start_wide.val() + self.count_wide.val();
        self.weights_wide.next = bit_cast::<17, 16>(self.n_weights.val());
        self.capacity_wide.next = bit_cast::<17, 16>(self.capacity.val());
        self.over_weights.d.next = self.range_end.val() > self.weights_wide.val();
        self.over_capacity.d.next = self.range_end.val() > self.capacity_wide.val();

        // Field verdict: the checks of the request's type alone. Checks of different types
        // never both apply, so one short chain per type replaces one long chain (the UP5K's
        // critical path).
        self.field_bad_v.next = true;
        self.field_code_v.next = 2.into();
        self.field_detail_v.next = 0.into();
        match self.kind.val().index() {
            1 => self.field_bad_v.next = self.len.val() != 0,
            8 => self.field_bad_v.next = self.len.val() != 0,
            9 => self.field_bad_v.next = self.len.val() != 0,
            11 => self.field_bad_v.next = self.len.val() != 0,
            2 => {
                if self.len.val() == 4 {
                    if (self.p23.val() == 0) | (self.p23.val() > 254) {
                        self.field_code_v.next = 5.into();
                        self.field_detail_v.next = 2.into();
                    } else {
                        self.field_bad_v.next = false;
                    }
                }
            }
            3 => {
                if self.len.val() >= 4 {
                    if (self.p23.val() == 0) | (self.p23.val() > 252) {
                        self.field_code_v.next = 5.into();
                        self.field_detail_v.next = 2.into();
                    } else {
                        self.field_bad_v.next = self.len.val() != self.write_len.val();
                    }
                }
            }
            4 => {
                if self.len.val() >= 4 {
                    self.field_bad_v.next = self.len32.val() != self.load_bytes.val();
                }
            }
            5 => {
                if self.len.val() == 15 {
                    self.field_code_v.next = 5.into();
                    if self.p0.val() > 3 {
                        self.field_detail_v.next = 0.into();
                    } else if self.p1.val() > 1 {
                        self.field_detail_v.next = 1.into();
                    } else if self.p23.val() > 0x7FFF {
                        self.field_detail_v.next = 2.into();
                    } else if self.p5.val() > 31 {
                        self.field_detail_v.next = 5.into();
                    } else if self.p67.val() == 0 {
                        self.field_detail_v.next = 6.into();
                    } else if (self.p8.val() & 0xFE) != 0 {
                        self.field_detail_v.next = 8.into();
                    } else if self.p13.val() > 31 {
                        self.field_detail_v.next = 13.into();
                    } else if self.p14.val() > 7 {
                        self.field_detail_v.next = 14.into();
                    } else {
                        self.field_bad_v.next = false;
                    }
                }
            }
            6 => {
                if self.len.val() == 6 {
                    if self.p23.val() == 0 {
                        self.field_code_v.next = 5.into();
                        self.field_detail_v.next = 2.into();
                    } else if self.p45.val() == 0 {
                        self.field_code_v.next = 5.into();
                        self.field_detail_v.next = 4.into();
                    } else {
                        self.field_bad_v.next = false;
                    }
                }
            }
            7 => {
                if self.len.val() == 4 {
                    if self.p23.val() == 0 {
                        self.field_code_v.next = 5.into();
                        self.field_detail_v.next = 2.into();
                    } else {
                        self.field_bad_v.next = false;
                    }
                }
            }
            10 => self.field_bad_v.next = self.len.val() != self.n_in.val() + 1,
            _ => self.field_code_v.next = 1.into(),
        }

        // Limit verdict: BUSY, then the limits of the request's type.
        self.limit_bad_v.next = false;
        self.limit_code_v.next = 3.into();
        self.limit_detail_v.next = 0.into();
        if self.job_active.val()
            & !((self.kind.val() == 1)
                | (self.kind.val() == 8)
                | (self.kind.val() == 9)
                | (self.kind.val() == 11))
        {
            self.limit_bad_v.next = true;
            self.limit_code_v.next = 4.into();
        } else {
            match self.kind.val().index() {
                2 => {
                    if self.over_weights.q.val() {
                        self.limit_bad_v.next = true;
                        self.limit_detail_v.next = self.n_weights.val();
                    }
                }
                3 => {
                    if self.over_weights.q.val() {
                        self.limit_bad_v.next = true;
                        self.limit_detail_v.next = self.n_weights.val();
                    }
                }
                4 => {
                    if self.over_capacity.q.val() {
                        self.limit_bad_v.next = true;
                        self.limit_detail_v.next = self.capacity.val();
                    }
                }
                5 => {
                    if self.batch_limited.val() & (self.p67.val() > 1) {
                        // A build without mini-batch accumulators.
                        self.limit_bad_v.next = true;
                        self.limit_detail_v.next = 1.into();
                    } else if self.batch_limited.val() & (self.p14.val() != 0) {
                        // Momentum keeps its velocity in the accumulators.
                        self.limit_bad_v.next = true;
                    } else if self.hybrid_limited.val() & (self.p0.val() >= 2) {
                        // A build without the exact output layer (either hybrid).
                        self.limit_bad_v.next = true;
                        self.limit_detail_v.next = 1.into();
                    }
                }
                6 => {
                    if self.over_capacity.q.val() {
                        self.limit_bad_v.next = true;
                        self.limit_detail_v.next = self.capacity.val();
                    }
                }
                7 => {
                    if self.over_capacity.q.val() {
                        self.limit_bad_v.next = true;
                        self.limit_detail_v.next = self.capacity.val();
                    }
                }
                10 => {
                    if bit_cast::<16, 8>(self.p0.val()) >= self.n_out.val() {
                        self.limit_bad_v.next = true;
                        self.limit_detail_v.next = self.n_out.val();
                    }
                }
                _ => {}
            }
        }

        // Each verdict is worked out in a local and reaches its port in one assignment: the
        // controller reads these ports in the block that drives this one's inputs, and a port
        // that toggles while its block runs sends iverilog into a zero-delay loop between the
        // two blocks (engine/mod.rs).
        self.field_bad.next = self.field_bad_v.val();
        self.field_code.next = self.field_code_v.val();
        self.field_detail.next = self.field_detail_v.val();
        self.limit_bad.next = self.limit_bad_v.val();
        self.limit_code.next = self.limit_code_v.val();
        self.limit_detail.next = self.limit_detail_v.val();
    }
}
