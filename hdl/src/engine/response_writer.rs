//! Response writer: builds a response packet `type seq len:u16le payload crc:u16be`
//! (docs/PROTOCOL.md 2) in the frame transmitter's packet buffer, one byte per clock, keeping
//! its length and CRC-16/IBM-3740, and remembers the length of the last response sent for a
//! replay. Reference: `zo_proto::packet_bytes`.
//!
//! Contract (clock `clock`). Commands are levels sampled at the rising edge, at most one per
//! clock:
//! - `clear`: a new packet: position 0, CRC restarted.
//! - `header`: writes header byte `k` at position `k` (`k` = 0..=3: `kind`, `seq`, `len` low,
//!   `len` high; `kind`, `seq` and `len` are inputs held while the header is written).
//! - `emit`: writes `payload_byte` (not named `byte`: a SystemVerilog keyword, which Verilator
//!   and iverilog reject in the generated Verilog).
//! - `crc_hi`, `crc_lo`: writes the CRC's high, then low byte; the CRC covers every byte
//!   written by `header` and `emit` since `clear`, and reads it one clock after the last one.
//! - `save`: the current length becomes the stored response's length.
//! - `replay`: the position returns to the stored length (the stored packet is still in the
//!   buffer: nothing was written since it was sent), so `length` is that packet's again.
//!
//! A write drives `we` with `waddr` = the position and `wdata` combinationally in the same
//! clock, and advances the position by one. `length` is the position (the number of bytes
//! written), for the transmitter's `len`. Positions wrap at 2^10, past the largest packet
//! (518 bytes).
use crate::link::crc16::Crc16;
use rust_hdl::prelude::*;

#[derive(LogicBlock, Default)]
pub struct ResponseWriter {
    pub clock: Signal<In, Clock>,
    pub clear: Signal<In, bool>,
    pub header: Signal<In, bool>,
    pub kind: Signal<In, Bits<8>>,
    pub seq: Signal<In, Bits<8>>,
    pub len: Signal<In, Bits<16>>,
    pub emit: Signal<In, bool>,
    pub payload_byte: Signal<In, Bits<8>>,
    pub crc_hi: Signal<In, bool>,
    pub crc_lo: Signal<In, bool>,
    pub save: Signal<In, bool>,
    pub replay: Signal<In, bool>,
    pub we: Signal<Out, bool>,
    pub waddr: Signal<Out, Bits<10>>,
    pub wdata: Signal<Out, Bits<8>>,
    pub length: Signal<Out, Bits<10>>,

    position: DFF<Bits<10>>,
    stored: DFF<Bits<10>>,
    crc: Crc16,
    position_low2: Signal<Local, Bits<10>>,
    upper_len: Signal<Local, Bits<16>>,
    upper_crc: Signal<Local, Bits<16>>,
}

impl Logic for ResponseWriter {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, position, stored);
        self.crc.clock.next = self.clock.val();
        self.position_low2.next = self.position.q.val() & 3;
        self.upper_len.next = self.len.val() >> 8;
        self.upper_crc.next = self.crc.crc.val() >> 8;
        // Byte selects are multiplexers on the command and the position's low bits. Each
        // output is assigned once per evaluation (an if/else chain, no default then
        // override): the controller reads `wdata` in the block that drives `header`, and a
        // port that toggles while its block runs sends iverilog into a zero-delay loop
        // between the two blocks (engine/mod.rs).
        if self.crc_lo.val() {
            self.wdata.next = bit_cast::<8, 16>(self.crc.crc.val());
        } else if self.crc_hi.val() {
            self.wdata.next = bit_cast::<8, 16>(self.upper_crc.val());
        } else if self.header.val() {
            match self.position_low2.val().index() {
                0 => self.wdata.next = self.kind.val(),
                1 => self.wdata.next = self.seq.val(),
                2 => self.wdata.next = bit_cast::<8, 16>(self.len.val()),
                _ => self.wdata.next = bit_cast::<8, 16>(self.upper_len.val()),
            }
        } else {
            self.wdata.next = self.payload_byte.val();
        }
        self.we.next = self.header.val() | self.emit.val() | self.crc_hi.val() | self.crc_lo.val();
        self.waddr.next = self.position.q.val();
        self.length.next = self.position.q.val();
        self.crc.clear.next = self.clear.val();
        self.crc.strobe.next = self.header.val() | self.emit.val();
        self.crc.data.next = self.wdata.val();
        if self.clear.val() {
            self.position.d.next = 0.into();
        }
        if self.replay.val() {
            self.position.d.next = self.stored.q.val();
        }
        if self.we.val() {
            self.position.d.next = self.position.q.val() + 1;
        }
        if self.save.val() {
            self.stored.d.next = self.position.q.val();
        }
    }
}
