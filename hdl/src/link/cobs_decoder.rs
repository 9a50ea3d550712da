//! Streaming COBS decoder (Cheshire and Baker): one encoded byte in, at most one decoded byte
//! out. Reference: the `cobs` crate as used by `zo_proto::decode_packet`.
//!
//! Contract: on a rising edge with `in_valid`:
//! - a non-zero code byte starts a block (`remaining = code - 1`) and, unless it is the first of
//!   the frame or the previous code was 0xFF, first emits the zero the previous block implied;
//! - a non-zero data byte is emitted and counts down `remaining`;
//! - `0x00` ends the frame: `frame_end` pulses with `frame_ok` high when the last block was
//!   complete (`remaining == 0`) and the frame was not empty, and the decoder restarts.
//!
//! Outputs are registered: `out_valid` / `out_data` and `frame_end` / `frame_ok` appear in the
//! cycle after the input byte. `clear` restarts the decoder (takes priority). Tested against
//! `zo_proto`'s decoding in sim/tests/block_cobs_decoder.rs.
use rust_hdl::prelude::*;

#[derive(LogicBlock, Default)]
pub struct CobsDecoder {
    pub clock: Signal<In, Clock>,
    pub clear: Signal<In, bool>,
    pub in_data: Signal<In, Bits<8>>,
    pub in_valid: Signal<In, bool>,
    pub out_data: Signal<Out, Bits<8>>,
    pub out_valid: Signal<Out, bool>,
    pub frame_end: Signal<Out, bool>,
    pub frame_ok: Signal<Out, bool>,
    remaining: DFF<Bits<8>>,
    started: DFF<bool>,
    zero_pending: DFF<bool>,
    data_reg: DFF<Bits<8>>,
    valid_reg: DFF<bool>,
    end_reg: DFF<bool>,
    ok_reg: DFF<bool>,
}

impl Logic for CobsDecoder {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            remaining,
            started,
            zero_pending,
            data_reg,
            valid_reg,
            end_reg,
            ok_reg
        );
        self.valid_reg.d.next = false;
        self.end_reg.d.next = false;
        if self.clear.val() {
            self.remaining.d.next = 0.into();
            self.started.d.next = false;
            self.zero_pending.d.next = false;
        } else if self.in_valid.val() {
            if self.in_data.val() == 0 {
                self.end_reg.d.next = true;
                self.ok_reg.d.next = self.started.q.val() & (self.remaining.q.val() == 0);
                self.remaining.d.next = 0.into();
                self.started.d.next = false;
                self.zero_pending.d.next = false;
            } else if self.remaining.q.val() == 0 {
                // A code byte.
                self.started.d.next = true;
                self.remaining.d.next = self.in_data.val() - 1;
                self.zero_pending.d.next = self.in_data.val() != 0xFF;
                if self.zero_pending.q.val() {
                    self.data_reg.d.next = 0.into();
                    self.valid_reg.d.next = true;
                }
            } else {
                self.remaining.d.next = self.remaining.q.val() - 1;
                self.data_reg.d.next = self.in_data.val();
                self.valid_reg.d.next = true;
            }
        }
        self.out_data.next = self.data_reg.q.val();
        self.out_valid.next = self.valid_reg.q.val();
        self.frame_end.next = self.end_reg.q.val();
        self.frame_ok.next = self.ok_reg.q.val();
    }
}
