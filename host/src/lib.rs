//! Host side of zo: [`link::Link`] speaks the framed protocol (docs/PROTOCOL.md) to a board or
//! a virtual board over a serial port, with timeouts, retransmission and clear errors; the other
//! modules are the `zo` command-line tool's library: connections ([`connect`]), datasets
//! ([`data`]), device training with recovery ([`session`]), run directories ([`rundir`]),
//! weight files ([`weights`], [`npy`]), plots ([`plot`]) and the float baseline ([`baseline`]).
//! The library never prints; `main.rs` does.
pub mod link;
pub mod lock;

pub mod autotune;
pub mod baseline;
pub mod cli;
pub mod connect;
pub mod data;
pub mod defaults;
pub mod infer;
pub mod npy;
pub mod plot;
pub mod rundir;
pub mod session;
pub mod util;
pub mod weights;
