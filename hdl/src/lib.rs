//! Zeroth-order learner hardware, described in rust-hdl.
//!
//! Blocks, one per module, each with its contract in its doc comment:
//! - [`lfsr`]: maximal-length Galois LFSR, the noise and rounding source.
//! - [`formats`]: the fixed-point formats and lookup tables (shared with the reference model).
//! - [`config`]: network shape and register encodings.
pub mod config;
pub mod formats;
pub mod learner;
pub mod lfsr;
pub mod loss;
