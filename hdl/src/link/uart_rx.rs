//! 8N1 serial receiver with a majority-voting sampler and frame-error recovery.
//!
//! Contract (one clock domain, `clock`; reference: `zo_sim::harness::uart::LineDecoder`, which it
//! matches cycle for cycle with a latency of [`RX_LATENCY`]):
//! - `rxd` is the asynchronous pin. It passes a two-flip-flop synchroniser (power-on value:
//!   line high). Sample `n` below is the pin level captured at rising edge `n`; the FSM acts
//!   on it in the cycle after edge `n + 1`.
//! - Let `c = clocks_per_bit` (>= 4) and `m = (c - 1) / 2`, the mid-bit offset. A low sample
//!   `L` while idle is taken as a start edge. Bit `k` (0 start, 1..=8 data LSB first, 9 stop)
//!   is decided by the majority of samples `L + k c + m - 1`, `L + k c + m`, `L + k c + m + 1`:
//!   every bit is timed from the start edge of its own frame, never from the previous frame.
//! - Start bit not low by majority: a glitch; back to idle with no output (so an idle-line
//!   pulse of up to `m` clocks, about half a bit, is ignored).
//! - Stop bit high: `valid` pulses for one cycle and `data` shows the byte from that cycle
//!   until the next `valid`. Stop bit low: `frame_error` pulses for one cycle, the byte is
//!   discarded (`data` keeps the previous byte), and the receiver waits until it has seen `c`
//!   consecutive high samples before it hunts for a start edge again (recovery from breaks
//!   and from starting in mid-frame).
//! - Latency: `valid` / `frame_error` is high in the cycle after rising edge
//!   `L + 9 c + m + 1 + RX_LATENCY`, three edges after the one that captured the middle sample
//!   of the stop bit, about half a bit before the stop bit ends. The next
//!   start edge is recognised from sample `L + 9 c + m + 2` on, so frames may follow each
//!   other with no idle time.
//! - `busy` is high from rising edge `L + 2` (the frame timer running) until the edge that
//!   raises `valid`, or after a frame error until recovery ends; a rejected glitch makes it
//!   high for `m + 1` clocks.
//! - Proved: once the line has been high for 11 bit times and 4 clocks, `busy` is low
//!   (uart_rx_formal.sv; tests/formal.rs, k-induction depth 60).
//!
//! Baud tolerance. Let the transmitter's bit time be `c (1 + d)` clocks and its start edge fall
//! anywhere in the clock period before sample `L`. With a clean line every byte of a
//! continuous (back-to-back) stream is received when
//! `-(c - m - 2) / (10 c) <= d <= m / (9 c)`: the fast limit makes the receiver return to idle
//! before the next start edge, the slow limit keeps two of the three stop-bit samples inside
//! the stop bit. That is -4.2 % .. +4.6 % at `c = 12`, -4.4 % .. +4.9 % at `c = 16`, and only
//! -2.5 % .. +2.8 % at the minimum `c = 4`. With every one of the three samples inside its bit
//! (one sample of margin for noise) the slow limit falls to `(m - 1) / (9 c)`: +3.7 % at 12,
//! +4.2 % at 16. A baud-rate error of ±3 % (bit time -2.9 % .. +3.1 %) is therefore met, with
//! that margin, at `c >= 12`, but not at `c = 4`. A synchroniser flip-flop that resolves
//! metastability late moves the seen edge one clock later, shrinking the fast limit by
//! `1 / (10 c)`. The limits are `zo_sim::harness::uart::bit_time_tolerance`; the test
//! `documented_baud_tolerance_is_exact` checks that they are tight on both sides.
use rust_hdl::prelude::*;

/// Rising edges from the one that captures a pin sample to the one that registers the output
/// decided on it: an event completed by sample `n` (a `LineDecoder` event at index `n`) is
/// visible after rising edge `n + RX_LATENCY`.
pub const RX_LATENCY: usize = 2;

/// The mid-bit sample offset `m = (clocks_per_bit - 1) / 2` from the start edge.
pub const fn mid_offset(clocks_per_bit: usize) -> usize {
    (clocks_per_bit - 1) / 2
}

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum RxState {
    /// Hunting for a start edge.
    Idle,
    /// Timing the bits of a frame.
    Frame,
    /// After a frame error: waiting for a bit time of idle line.
    Recover,
}

#[derive(LogicBlock)]
pub struct UartRx {
    pub clock: Signal<In, Clock>,
    pub rxd: Signal<In, bool>,
    pub data: Signal<Out, Bits<8>>,
    pub valid: Signal<Out, bool>,
    pub frame_error: Signal<Out, bool>,
    pub busy: Signal<Out, bool>,
    /// `m + 1`: the bit-time count at which the three samples are complete.
    decide_count: Constant<Bits<16>>,
    /// `clocks_per_bit - 1`: the last value of the bit-time counter.
    last_count: Constant<Bits<16>>,
    // Synchroniser and sample history hold the *inverted* line, so that the power-on value 0
    // of a plain DFF means "line high" and no logic sits between the synchroniser stages.
    sync_first: DFF<bool>,
    sync_second: DFF<bool>,
    history1: DFF<bool>,
    history2: DFF<bool>,
    state: DFF<RxState>,
    /// Clocks since the start of the current bit (Frame) or consecutive high samples (Recover).
    count: DFF<Bits<16>>,
    /// Bit being timed: 0 start, 1..=8 data, 9 stop.
    bit_index: DFF<Bits<4>>,
    /// Data bits received so far; they enter at bit 7 and move down.
    shift: DFF<Bits<8>>,
    data_reg: DFF<Bits<8>>,
    valid_reg: DFF<bool>,
    error_reg: DFF<bool>,
    // Combinational intermediates.
    line_low: Signal<Local, bool>,
    vote_low: Signal<Local, bool>,
    decide: Signal<Local, bool>,
    bit_end: Signal<Local, bool>,
    shifted: Signal<Local, Bits<8>>,
}

impl UartRx {
    /// A receiver for bits of `clocks_per_bit` clocks (4..=65535).
    pub fn new(clocks_per_bit: usize) -> Self {
        assert!(
            (4..=65535).contains(&clocks_per_bit),
            "the UART receiver needs 4..=65535 clocks per bit, got {clocks_per_bit}"
        );
        let decide = mid_offset(clocks_per_bit) + 1;
        // The decision must come before the bit's last clock, where the counter wraps.
        assert!(decide < clocks_per_bit - 1);
        Self {
            clock: Default::default(),
            rxd: Default::default(),
            data: Default::default(),
            valid: Default::default(),
            frame_error: Default::default(),
            busy: Default::default(),
            decide_count: Constant::new(decide.to_bits()),
            last_count: Constant::new((clocks_per_bit - 1).to_bits()),
            sync_first: Default::default(),
            sync_second: Default::default(),
            history1: Default::default(),
            history2: Default::default(),
            state: Default::default(),
            count: Default::default(),
            bit_index: Default::default(),
            shift: Default::default(),
            data_reg: Default::default(),
            valid_reg: Default::default(),
            error_reg: Default::default(),
            line_low: Default::default(),
            vote_low: Default::default(),
            decide: Default::default(),
            bit_end: Default::default(),
            shifted: Default::default(),
        }
    }
}

impl Logic for UartRx {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            sync_first,
            sync_second,
            history1,
            history2,
            state,
            count,
            bit_index,
            shift,
            data_reg,
            valid_reg,
            error_reg
        );
        // Synchroniser and the two previous samples (all inverted: true = line low).
        self.sync_first.d.next = !self.rxd.val();
        self.sync_second.d.next = self.sync_first.q.val();
        self.history1.d.next = self.sync_second.q.val();
        self.history2.d.next = self.history1.q.val();
        self.line_low.next = self.sync_second.q.val();
        self.vote_low.next = (self.sync_second.q.val() & self.history1.q.val())
            | (self.sync_second.q.val() & self.history2.q.val())
            | (self.history1.q.val() & self.history2.q.val());

        self.decide.next = self.count.q.val() == self.decide_count.val();
        self.bit_end.next = self.count.q.val() == self.last_count.val();
        self.shifted.next = self.shift.q.val() >> 1;

        self.valid_reg.d.next = false;
        self.error_reg.d.next = false;
        match self.state.q.val() {
            RxState::Idle => {
                if self.line_low.val() {
                    // This sample is offset 0 of the start bit; the next is offset 1.
                    self.state.d.next = RxState::Frame;
                    self.count.d.next = 1.into();
                    self.bit_index.d.next = 0.into();
                }
            }
            RxState::Frame => {
                if self.bit_end.val() {
                    self.count.d.next = 0.into();
                    self.bit_index.d.next = self.bit_index.q.val() + 1;
                } else {
                    self.count.d.next = self.count.q.val() + 1;
                }
                if self.decide.val() {
                    if self.bit_index.q.val() == 0 {
                        if !self.vote_low.val() {
                            // Not a start bit: a glitch.
                            self.state.d.next = RxState::Idle;
                        }
                    } else if self.bit_index.q.val() == 9 {
                        if self.vote_low.val() {
                            self.error_reg.d.next = true;
                            self.state.d.next = RxState::Recover;
                            self.count.d.next = 0.into();
                        } else {
                            self.valid_reg.d.next = true;
                            self.data_reg.d.next = self.shift.q.val();
                            self.state.d.next = RxState::Idle;
                        }
                    } else if self.vote_low.val() {
                        self.shift.d.next = self.shifted.val();
                    } else {
                        self.shift.d.next = self.shifted.val() | 0x80;
                    }
                }
            }
            RxState::Recover => {
                if self.line_low.val() {
                    self.count.d.next = 0.into();
                } else if self.bit_end.val() {
                    self.state.d.next = RxState::Idle;
                } else {
                    self.count.d.next = self.count.q.val() + 1;
                }
            }
            _ => {
                self.state.d.next = RxState::Idle;
            }
        }
        self.data.next = self.data_reg.q.val();
        self.valid.next = self.valid_reg.q.val();
        self.frame_error.next = self.error_reg.q.val();
        self.busy.next = self.state.q.val() != RxState::Idle;
    }
}
