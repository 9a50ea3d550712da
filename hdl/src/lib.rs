//! Zeroth-order learner hardware, described in rust-hdl.
//!
//! Blocks, one per module, each with its contract in its doc comment:
//! - [`lfsr`]: maximal-length Galois LFSR, the noise and rounding source.
//! - [`formats`]: the fixed-point formats and lookup tables (shared with the reference model).
//! - [`config`]: network shape and register encodings.
//! - [`loss`]: loss unit; [`learner`]: the pipelined learner.
//! - [`uart_tx`], [`uart_rx`]: 8N1 serial transmitter and receiver.
pub mod cobs_decoder;
pub mod config;
pub mod controller;
pub mod crc16;
pub mod device;
pub mod formats;
pub mod frame_rx;
pub mod frame_tx;
pub mod ice40_pll;
pub mod learner;
pub mod lfsr;
pub mod loss;
pub mod single_port_ram;
pub mod sized_ram;
pub mod status_file;
pub mod top;
pub mod uart_rx;
pub mod uart_tx;
