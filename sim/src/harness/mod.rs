//! What the equality tests drive and compare with.
//!
//! - [`rtl`]: the rust-hdl learner stepped directly, with the model's API.
//! - [`testkit`]: stepping any rust-hdl block by its clock.
//! - [`tools`]: whether an external tool a test needs (yosys, iverilog, Verilator) is there.
//! - [`uart`]: the model of the 8N1 serial line.
//! - [`fixtures`]: the stimulus the equality tests share.
//! - [`compare`]: where two views' answers differ.
//! - [`vcd`]: waveforms of the directly stepped harnesses.
pub mod compare;
pub mod fixtures;
pub mod rtl;
pub mod testkit;
pub mod tools;
pub mod uart;
pub mod vcd;
