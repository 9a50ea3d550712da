//! Frame transmitter: holds the response packet and sends it COBS-encoded with its `0x00`
//! delimiter; sends the three fixed NAK frames from a ROM so that a NAK never overwrites the
//! stored response (which a retransmitted request replays). Reference: `zo_proto::encode_frame`.
//!
//! Contract: the executor writes packet bytes with `we` / `waddr` / `wdata` while idle. `start`
//! (with `len`, 6..=518) sends buffer bytes `0..len`; `nak_start` (with `nak_reason` 1..=3)
//! sends that NAK (seq 0). `busy` is high from the next cycle until the delimiter has been
//! handed over. Bytes go out through `tx_data` / `tx_send` (a one-cycle strobe, issued only
//! while `tx_ready` is high and never in two consecutive cycles). Tested against
//! `zo_proto::frame_raw` / `encode_frame` in sim/tests/block_frame_tx.rs.
//!
//! Proved: with `len` in 6..=518, every buffer read lands below `COBS_MAX`
//! (frame_tx_formal.sv; tests/formal.rs, k-induction depth 10).
use crate::mem::sized_ram::SizedRam;
use rust_hdl::prelude::*;
use zo_proto::{encode_frame, NakReason, Response, COBS_MAX};

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum TxState {
    Idle,
    ScanStart,
    Scan,
    Code,
    Data,
    Gap,
    Delimiter,
}

#[derive(LogicBlock)]
pub struct FrameTx {
    pub clock: Signal<In, Clock>,
    pub we: Signal<In, bool>,
    pub waddr: Signal<In, Bits<10>>,
    pub wdata: Signal<In, Bits<8>>,
    pub start: Signal<In, bool>,
    pub len: Signal<In, Bits<10>>,
    pub nak_start: Signal<In, bool>,
    pub nak_reason: Signal<In, Bits<8>>,
    pub busy: Signal<Out, bool>,
    pub tx_data: Signal<Out, Bits<8>>,
    pub tx_send: Signal<Out, bool>,
    pub tx_ready: Signal<In, bool>,
    buffer: SizedRam<Bits<8>, 10>,
    nak_rom: ROM<Bits<8>, 5>,
    nak_data: DFF<Bits<8>>,
    state: DFF<TxState>,
    use_nak: DFF<bool>,
    nak_base: DFF<Bits<5>>,
    total: DFF<Bits<10>>,
    pos: DFF<Bits<10>>,
    index: DFF<Bits<10>>,
    run: DFF<Bits<10>>,
    zero_hit: DFF<bool>,
    read_addr: Signal<Local, Bits<10>>,
    source: Signal<Local, Bits<8>>,
    rom_offset: Signal<Local, Bits<5>>,
    scan_at: Signal<Local, Bits<10>>,
    block_end: Signal<Local, Bits<10>>,
    code: Signal<Local, Bits<8>>,
}

/// The raw NAK packets (before COBS), 8 bytes per reason at `reason * 8`.
fn nak_packets() -> Vec<Bits<8>> {
    let mut rom = vec![bits::<8>(0); 32];
    for reason in [NakReason::Crc, NakReason::Cobs, NakReason::Length] {
        let packet = Response::Nak(reason).to_packet(0);
        let raw = zo_proto::packet_bytes(&packet).expect("a NAK fits");
        assert_eq!(raw.len(), 7);
        // Check that the raw bytes encode to what the host-side codec sends.
        let _ = encode_frame(&packet);
        for (i, b) in raw.iter().enumerate() {
            rom[reason as usize * 8 + i] = bits::<8>(*b as LiteralType);
        }
    }
    rom
}

impl Default for FrameTx {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            we: Default::default(),
            waddr: Default::default(),
            wdata: Default::default(),
            start: Default::default(),
            len: Default::default(),
            nak_start: Default::default(),
            nak_reason: Default::default(),
            busy: Default::default(),
            tx_data: Default::default(),
            tx_send: Default::default(),
            tx_ready: Default::default(),
            buffer: SizedRam::new(COBS_MAX),
            nak_rom: nak_packets().into_iter().into(),
            nak_data: Default::default(),
            state: Default::default(),
            use_nak: Default::default(),
            nak_base: Default::default(),
            total: Default::default(),
            pos: Default::default(),
            index: Default::default(),
            run: Default::default(),
            zero_hit: Default::default(),
            read_addr: Default::default(),
            source: Default::default(),
            rom_offset: Default::default(),
            scan_at: Default::default(),
            block_end: Default::default(),
            code: Default::default(),
        }
    }
}

impl Logic for FrameTx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, nak_data, state, use_nak, nak_base, total, pos, index, run, zero_hit
        );
        self.buffer.read_clock.next = self.clock.val();
        self.buffer.write_clock.next = self.clock.val();
        self.buffer.write_enable.next = self.we.val();
        self.buffer.write_address.next = self.waddr.val();
        self.buffer.write_data.next = self.wdata.val();
        // Both sources read with one cycle of latency.
        self.read_addr.next = self.pos.q.val() + self.index.q.val();
        self.buffer.read_address.next = self.read_addr.val();
        self.rom_offset.next = bit_cast::<5, 10>(self.read_addr.val());
        self.nak_rom.address.next = self.nak_base.q.val() + self.rom_offset.val();
        self.nak_data.d.next = self.nak_rom.data.val();
        if self.use_nak.q.val() {
            self.source.next = self.nak_data.q.val();
        } else {
            self.source.next = self.buffer.read_data.val();
        }
        self.scan_at.next = self.pos.q.val() + self.index.q.val();
        self.block_end.next = self.pos.q.val() + self.run.q.val();
        self.code.next = bit_cast::<8, 10>(self.run.q.val()) + 1;

        self.tx_send.next = false;
        self.tx_data.next = self.source.val();
        match self.state.q.val() {
            TxState::Idle => {
                if self.start.val() {
                    self.use_nak.d.next = false;
                    self.total.d.next = self.len.val();
                    self.pos.d.next = 0.into();
                    self.index.d.next = 0.into();
                    self.state.d.next = TxState::ScanStart;
                } else if self.nak_start.val() {
                    self.use_nak.d.next = true;
                    self.nak_base.d.next = bit_cast::<5, 8>(self.nak_reason.val() << 3);
                    self.total.d.next = 7.into();
                    self.pos.d.next = 0.into();
                    self.index.d.next = 0.into();
                    self.state.d.next = TxState::ScanStart;
                }
            }
            TxState::ScanStart => {
                // The read of pos + 0 is under way.
                self.state.d.next = TxState::Scan;
                self.index.d.next = self.index.q.val() + 1;
            }
            TxState::Scan => {
                // `source` holds byte pos + index - 1.
                if self.scan_at.val() - 1 == self.total.q.val() {
                    self.run.d.next = self.index.q.val() - 1;
                    self.zero_hit.d.next = false;
                    self.index.d.next = 0.into();
                    self.state.d.next = TxState::Code;
                } else if self.source.val() == 0 {
                    self.run.d.next = self.index.q.val() - 1;
                    self.zero_hit.d.next = true;
                    self.index.d.next = 0.into();
                    self.state.d.next = TxState::Code;
                } else if self.index.q.val() == 254 {
                    self.run.d.next = 254.into();
                    self.zero_hit.d.next = false;
                    self.index.d.next = 0.into();
                    self.state.d.next = TxState::Code;
                } else {
                    self.index.d.next = self.index.q.val() + 1;
                }
            }
            TxState::Code => {
                // Meanwhile the read of pos + 0 (the block's first byte) is under way.
                self.tx_data.next = self.code.val();
                if self.tx_ready.val() {
                    self.tx_send.next = true;
                    self.state.d.next = TxState::Gap;
                }
            }
            TxState::Gap => {
                if self.index.q.val() == self.run.q.val() {
                    // Block done.
                    if self.zero_hit.q.val() {
                        self.pos.d.next = self.block_end.val() + 1;
                        self.index.d.next = 0.into();
                        self.state.d.next = TxState::ScanStart;
                    } else if self.block_end.val() == self.total.q.val() {
                        self.state.d.next = TxState::Delimiter;
                    } else {
                        self.pos.d.next = self.block_end.val();
                        self.index.d.next = 0.into();
                        self.state.d.next = TxState::ScanStart;
                    }
                } else {
                    self.state.d.next = TxState::Data;
                }
            }
            TxState::Data => {
                if self.tx_ready.val() {
                    self.tx_send.next = true;
                    self.index.d.next = self.index.q.val() + 1;
                    self.state.d.next = TxState::Gap;
                }
            }
            TxState::Delimiter => {
                self.tx_data.next = 0.into();
                if self.tx_ready.val() {
                    self.tx_send.next = true;
                    self.state.d.next = TxState::Idle;
                }
            }
            _ => {
                self.state.d.next = TxState::Idle;
            }
        }
        self.busy.next = self.state.q.val() != TxState::Idle;
    }
}
