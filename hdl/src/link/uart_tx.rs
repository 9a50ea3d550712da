//! 8N1 serial transmitter.
//!
//! Contract (one clock domain, `clock`; reference: `zo_sim::harness::uart::waveform`):
//! - `clocks_per_bit` (4..=65535, fixed at elaboration) clocks per bit: 12 for 1 Mbaud at
//!   12 MHz, 16 for 3 Mbaud at 48 MHz.
//! - `ready` is high when the next rising edge that sees `send` high accepts `data`. It is
//!   high while idle, and also in the last clock of a stop bit, so a byte offered as soon as
//!   `ready` rises follows the stop bit with no gap (continuous streaming at full rate).
//!   `send` without `ready` is ignored; `data` is sampled only at the accepting edge.
//! - Frame: start bit (low), data bits LSB first, stop bit (high), each exactly
//!   `clocks_per_bit` clocks. The start bit begins at the accepting edge: `txd` is low from
//!   the cycle after it, and `ready` rises `10 * clocks_per_bit - 1` cycles later.
//! - `txd` comes straight from a flip-flop (a `DFFWithInit`, whose power-on-high encoding puts
//!   only a single-input inverter after the register, which cannot glitch) and is high at
//!   power-on and while idle. There is no reset; the power-on state is idle.
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct UartTx {
    pub clock: Signal<In, Clock>,
    pub data: Signal<In, Bits<8>>,
    pub send: Signal<In, bool>,
    pub ready: Signal<Out, bool>,
    pub txd: Signal<Out, bool>,
    /// `clocks_per_bit - 1`: the last value of the bit-time counter.
    last_count: Constant<Bits<16>>,
    /// Line level, power-on high.
    line: DFFWithInit<bool>,
    /// Data bits still to send, next one in bit 0.
    shift: DFF<Bits<8>>,
    /// Bit being sent: 0 start, 1..=8 data, 9 stop.
    bit_index: DFF<Bits<4>>,
    /// Clocks elapsed in the current bit, 0..clocks_per_bit.
    count: DFF<Bits<16>>,
    /// A frame is in progress.
    active: DFF<bool>,
    // Combinational intermediates.
    bit_done: Signal<Local, bool>,
    frame_done: Signal<Local, bool>,
    accept: Signal<Local, bool>,
}

impl UartTx {
    /// A transmitter sending one bit every `clocks_per_bit` clocks (4..=65535).
    pub fn new(clocks_per_bit: usize) -> Self {
        assert!(
            (4..=65535).contains(&clocks_per_bit),
            "the UART transmitter needs 4..=65535 clocks per bit, got {clocks_per_bit}"
        );
        Self {
            clock: Default::default(),
            data: Default::default(),
            send: Default::default(),
            ready: Default::default(),
            txd: Default::default(),
            last_count: Constant::new((clocks_per_bit - 1).to_bits()),
            line: DFFWithInit::new(true),
            shift: Default::default(),
            bit_index: Default::default(),
            count: Default::default(),
            active: Default::default(),
            bit_done: Default::default(),
            frame_done: Default::default(),
            accept: Default::default(),
        }
    }
}

impl Logic for UartTx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, line, shift, bit_index, count, active);
        self.bit_done.next = self.count.q.val() == self.last_count.val();
        self.frame_done.next = self.bit_done.val() & (self.bit_index.q.val() == 9);
        self.ready.next = !self.active.q.val() | self.frame_done.val();
        self.accept.next = self.send.val() & (!self.active.q.val() | self.frame_done.val());

        if self.active.q.val() {
            if self.bit_done.val() {
                self.count.d.next = 0.into();
                self.bit_index.d.next = self.bit_index.q.val() + 1;
                self.shift.d.next = self.shift.q.val() >> 1;
                if self.bit_index.q.val() < 8 {
                    // Start bit or data bit done: the next data bit.
                    self.line.d.next = self.shift.q.val().get_bit(0);
                } else {
                    // Last data bit done: the stop bit; stop bit done: idle. Both high.
                    self.line.d.next = true;
                }
                if self.frame_done.val() {
                    self.active.d.next = false;
                }
            } else {
                self.count.d.next = self.count.q.val() + 1;
            }
        }
        // Accepting a byte starts its start bit (overrides the end of the previous frame).
        if self.accept.val() {
            self.line.d.next = false;
            self.shift.d.next = self.data.val();
            self.bit_index.d.next = 0.into();
            self.count.d.next = 0.into();
            self.active.d.next = true;
        }
        self.txd.next = self.line.q.val();
    }
}
