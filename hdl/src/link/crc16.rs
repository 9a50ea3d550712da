//! Byte-parallel CRC-16/IBM-3740 (polynomial 0x1021, initial 0xFFFF, not reflected, no final
//! XOR): the protocol's frame check. Reference: `zo_proto::crc16` (the `crc` crate).
//!
//! Contract. Ports: `clear`, `strobe` (bool) and `data` (8 bits) in, `crc` (16 bits) out;
//! `crc` is the register itself (0xFFFF at power-on), so it shows a byte's fold right after
//! the rising edge that took it, one byte per clock at most. At a rising edge with `clear`
//! the register restarts from 0xFFFF; with `strobe`, byte `data` is folded in (after the
//! clear when both are set); with neither it holds. Over a whole packet including its
//! big-endian CRC the register ends at 0 when the packet is intact. Tested against
//! `zo_proto::crc16` in sim/tests/block_crc16.rs.
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct Crc16 {
    pub clock: Signal<In, Clock>,
    pub clear: Signal<In, bool>,
    pub strobe: Signal<In, bool>,
    pub data: Signal<In, Bits<8>>,
    pub crc: Signal<Out, Bits<16>>,
    value: DFFWithInit<Bits<16>>,
    base: Signal<Local, Bits<16>>,
    data_wide: Signal<Local, Bits<16>>,
    x_low: Signal<Local, Bits<16>>,
    x_mixed: Signal<Local, Bits<16>>,
    folded: Signal<Local, Bits<16>>,
}

impl Default for Crc16 {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            clear: Default::default(),
            strobe: Default::default(),
            data: Default::default(),
            crc: Default::default(),
            // Power-on value: the initial value, so the first frame needs no clear.
            value: DFFWithInit::new(bits::<16>(0xFFFF)),
            base: Default::default(),
            data_wide: Default::default(),
            x_low: Default::default(),
            x_mixed: Default::default(),
            folded: Default::default(),
        }
    }
}

impl Logic for Crc16 {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, value);
        if self.clear.val() {
            self.base.next = 0xFFFF.into();
        } else {
            self.base.next = self.value.q.val();
        }
        // x = ((crc >> 8) ^ byte) & 0xFF; x ^= x >> 4; crc = (crc << 8) ^ (x << 12) ^ (x << 5) ^ x
        self.data_wide.next = bit_cast::<16, 8>(self.data.val());
        self.x_low.next = ((self.base.val() >> 8) ^ self.data_wide.val()) & 0xFF;
        self.x_mixed.next = self.x_low.val() ^ (self.x_low.val() >> 4);
        self.folded.next = (self.base.val() << 8)
            ^ (self.x_mixed.val() << 12)
            ^ (self.x_mixed.val() << 5)
            ^ self.x_mixed.val();
        if self.strobe.val() {
            self.value.d.next = self.folded.val();
        } else if self.clear.val() {
            self.value.d.next = 0xFFFF.into();
        }
        self.crc.next = self.value.q.val();
    }
}
