//! Zeroth-order learner hardware, described in rust-hdl. One folder per layer, from the
//! learning datapath up to the board; every block has its contract in its module's doc comment.
//!
//! Shared by every layer (and by the reference model):
//! - [`formats`]: the fixed-point formats and lookup tables.
//! - [`config`]: network shape and register encodings.
//!
//! [`learner`]: the learning datapath.
//! - [`learner`] (`Learner`): the pipelined learner: memories, six-stage pipeline, sequencer.
//! - [`learner::lfsr`]: maximal-length Galois LFSR, the noise and rounding source.
//! - [`learner::loss`]: loss unit: squared error or cross-entropy of the logits, and the class.
//!
//! [`link`]: the serial line and the frames of docs/PROTOCOL.md.
//! - [`link::uart_rx`], [`link::uart_tx`]: 8N1 serial receiver and transmitter.
//! - [`link::cobs_decoder`]: streaming COBS decoder.
//! - [`link::crc16`]: byte-parallel CRC-16, the frame check.
//! - [`link::frame_rx`]: frame receiver: decodes, checks and captures a request packet.
//! - [`link::frame_tx`]: frame transmitter: holds, COBS-encodes and sends the response; NAKs.
//!
//! [`engine`]: the protocol engine.
//! - [`engine::controller`]: executes the requests on the learner and runs the jobs.
//! - [`engine::status_file`]: the STATUS counters in one block RAM with one adder.
//!
//! [`mem`]: memories of any depth.
//! - [`mem::sized_ram`]: simple dual-port RAM (block RAM).
//! - [`mem::single_port_ram`]: single-port RAM (UP5K SPRAM), the sample buffer.
//!
//! [`device`]: the engine and the learner behind two UARTs: everything a board needs except its
//! clock, pins and LEDs.
//!
//! [`board`]: where a device runs.
//! - [`board::top`]: boards as data (`BOARDS`) and the board top-level `BoardTop`.
//! - [`board::ice40_pll`]: the iCE40 PLL that makes the fabric clock.
pub mod board;
pub mod config;
pub mod device;
pub mod engine;
pub mod formats;
pub mod learner;
pub mod link;
pub mod mem;
