//! Reference model, reference device and simulation harnesses of the zeroth-order learner.
//! The words board, device, engine, backend and learner mean what the glossary in
//! docs/ARCHITECTURE.md says. Four layers, one folder each:
//!
//! - [`model`]: the bit-exact reference model of the learner (the executable specification),
//!   its noise generator, and the network shape as users name it.
//! - [`device`]: the reference device (the protocol over a learner backend), the virtual board
//!   that serves a device on a pseudo-terminal, and the rust-hdl devices stepped directly.
//! - [`harness`]: what the equality tests drive and compare with: the rust-hdl learner stepped
//!   directly, clock stepping, tool discovery, the serial line model, shared stimulus,
//!   comparison and waveforms.
//! - [`data`]: datasets and file readers, input scaling, the training schedule and self-tuning.
pub mod data;
pub mod device;
pub mod harness;
pub mod model;
