//! Reference model of the 8N1 serial link: ideal line waveforms (with optional baud error and
//! edge phase) and a software receiver that decodes a per-clock line exactly as the RTL
//! receiver `zo_hdl::link::uart_rx::UartRx` does.
//!
//! Conventions: one `bool` per clock, `true` = line high (idle / mark). A frame is a start bit
//! (low), eight data bits LSB first and a stop bit (high).

use zo_hdl::link::uart_rx::mid_offset;

/// The ten line levels of the frame of `byte`: start, data LSB first, stop.
pub fn frame(byte: u8) -> [bool; 10] {
    let mut f = [true; 10];
    f[0] = false;
    for (i, level) in f[1..9].iter_mut().enumerate() {
        *level = byte >> i & 1 == 1;
    }
    f
}

/// Line levels, one per clock, of `bits` sent back to back at `clocks_per_bit` clocks per bit
/// (fractional values model a transmitter whose baud rate differs from the receiver's), with
/// `idle_clocks` of high line before and after.
///
/// Bit `j` occupies the continuous interval `[idle + phase + j T, idle + phase + (j + 1) T)`
/// (`T = clocks_per_bit`) and clock `n` carries the level at time `n`, so the first clock of
/// bit `j` is `idle + ceil(phase + j T)`. `phase` in `[0, 1)` places the first edge inside a
/// clock period, as an asynchronous transmitter would.
pub fn bits_waveform(
    bits: &[bool],
    clocks_per_bit: f64,
    phase: f64,
    idle_clocks: usize,
) -> Vec<bool> {
    assert!(clocks_per_bit >= 1.0, "a bit must last at least one clock");
    assert!((0.0..1.0).contains(&phase), "phase must lie in [0, 1)");
    let span = (phase + bits.len() as f64 * clocks_per_bit).ceil() as usize;
    let mut line = vec![true; idle_clocks];
    line.extend((0..span).map(|n| {
        let t = n as f64 - phase;
        if t < 0.0 {
            true
        } else {
            bits[((t / clocks_per_bit).floor() as usize).min(bits.len() - 1)]
        }
    }));
    line.resize(line.len() + idle_clocks, true);
    line
}

/// Ideal 8N1 line, one level per clock: `idle_clocks` high, the frames of `bytes` back to back
/// at `clocks_per_bit` clocks per bit, `idle_clocks` high. With an integer `clocks_per_bit`
/// this is exactly what `zo_hdl::link::uart_tx::UartTx` sends, from the clock after the edge that
/// accepts the first byte, when every byte is offered as soon as `ready` rises.
pub fn waveform(bytes: &[u8], clocks_per_bit: f64, idle_clocks: usize) -> Vec<bool> {
    let bits: Vec<bool> = bytes.iter().flat_map(|&b| frame(b)).collect();
    bits_waveform(&bits, clocks_per_bit, 0.0, idle_clocks)
}

/// The range of transmitter bit times, as a fraction of `clocks_per_bit` (`T = c (1 + d)`,
/// returned as `(d_min, d_max)`), over which the receiver decodes a clean back-to-back stream
/// for every edge phase: `-(c - m - 2) / (10 c) ..= m / (9 c)` with `m = (c - 1) / 2`.
pub fn bit_time_tolerance(clocks_per_bit: usize) -> (f64, f64) {
    let c = clocks_per_bit as f64;
    let m = mid_offset(clocks_per_bit) as f64;
    (-(c - m - 2.0) / (10.0 * c), m / (9.0 * c))
}

/// Majority of three.
pub fn majority(a: bool, b: bool, c: bool) -> bool {
    (a & b) | (a & c) | (b & c)
}

/// What the receiver reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxEvent {
    /// A byte with a high stop bit (`valid`).
    Byte(u8),
    /// A frame whose stop bit was low (`frame_error`); its byte is discarded.
    FrameError,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DecoderState {
    Idle,
    Frame,
    Recover,
}

/// Software 8N1 receiver, the executable specification of `UartRx` (see its contract): start
/// edge = first low sample while idle; bit `k` = majority of samples `L + k c + m - 1 ..= + 1`;
/// a start bit that is not low is a glitch; a low stop bit is a frame error, after which `c`
/// consecutive high samples are required before the next start edge. Every event is reported
/// at the index of the sample that completed its vote (the RTL raises its output
/// `zo_hdl::link::uart_rx::RX_LATENCY` edges later).
#[derive(Clone, Debug)]
pub struct LineDecoder {
    clocks_per_bit: usize,
    decide: usize,
    state: DecoderState,
    count: usize,
    bit_index: usize,
    shift: u8,
    /// The previous two samples, most recent first (power-on: high).
    history: [bool; 2],
    samples: usize,
}

impl LineDecoder {
    pub fn new(clocks_per_bit: usize) -> Self {
        assert!(
            clocks_per_bit >= 4,
            "the receiver needs >= 4 clocks per bit"
        );
        Self {
            clocks_per_bit,
            decide: mid_offset(clocks_per_bit) + 1,
            state: DecoderState::Idle,
            count: 0,
            bit_index: 0,
            shift: 0,
            history: [true; 2],
            samples: 0,
        }
    }

    /// Samples consumed so far (the index the next `push` gets).
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// Whether a frame (or a recovery) is in progress.
    pub fn busy(&self) -> bool {
        self.state != DecoderState::Idle
    }

    /// Consumes one line sample; returns the event this sample completed, if any.
    pub fn push(&mut self, level: bool) -> Option<RxEvent> {
        let vote = majority(level, self.history[0], self.history[1]);
        self.history = [level, self.history[0]];
        self.samples += 1;
        let last = self.clocks_per_bit - 1;
        let mut event = None;
        match self.state {
            DecoderState::Idle => {
                if !level {
                    self.state = DecoderState::Frame;
                    self.count = 1;
                    self.bit_index = 0;
                }
            }
            DecoderState::Frame => {
                let decide = self.count == self.decide;
                let bit = self.bit_index;
                if self.count == last {
                    self.count = 0;
                    self.bit_index += 1;
                } else {
                    self.count += 1;
                }
                if decide {
                    match bit {
                        0 => {
                            if vote {
                                self.state = DecoderState::Idle;
                            }
                        }
                        9 => {
                            if vote {
                                event = Some(RxEvent::Byte(self.shift));
                                self.state = DecoderState::Idle;
                            } else {
                                event = Some(RxEvent::FrameError);
                                self.state = DecoderState::Recover;
                                self.count = 0;
                            }
                        }
                        _ => self.shift = self.shift >> 1 | (vote as u8) << 7,
                    }
                }
            }
            DecoderState::Recover => {
                if !level {
                    self.count = 0;
                } else if self.count == last {
                    self.state = DecoderState::Idle;
                } else {
                    self.count += 1;
                }
            }
        }
        event
    }

    /// Decodes a whole line from power-on: `(sample index, event)` in order.
    pub fn decode(clocks_per_bit: usize, line: &[bool]) -> Vec<(usize, RxEvent)> {
        let mut d = Self::new(clocks_per_bit);
        line.iter()
            .enumerate()
            .filter_map(|(n, &level)| d.push(level).map(|e| (n, e)))
            .collect()
    }
}

/// The bytes among `events`, or `Err` with the index of the first frame error.
pub fn bytes_of(events: &[(usize, RxEvent)]) -> Result<Vec<u8>, usize> {
    events
        .iter()
        .map(|&(n, e)| match e {
            RxEvent::Byte(b) => Ok(b),
            RxEvent::FrameError => Err(n),
        })
        .collect()
}
