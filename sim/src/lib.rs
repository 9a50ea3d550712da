//! Reference model and simulation harnesses of the zeroth-order learner.
//!
//! - [`model`]: the bit-exact reference model (the executable specification).
//! - [`lfsr`]: the model of the noise generator.
//! - [`dataset`]: built-in datasets, stratified splits and input quantisation.
pub mod board;
pub mod compare;
pub mod dataset;
pub mod fixtures;
pub mod lfsr;

pub mod model;
pub mod rtl;
pub mod rtl_device;
pub mod scaling;
pub mod testkit;
pub mod train;
pub mod tune;
pub mod uart;
pub mod uart_board;
pub mod vboard;
pub mod vcd;
