//! The protocol engine: executes the requests of docs/PROTOCOL.md on the learner and runs the
//! jobs, with its status counters.
//!
//! Wiring rule for the blocks the controller composes: **a port the controller reads must be
//! assigned once per evaluation of its block** (an if/else chain or a final copy from a
//! local, never a default then an override). rust-hdl writes each block as one `always @(*)`
//! with blocking assignments, so a default-then-override port toggles while its block runs.
//! When the controller's block, which drives the child's inputs the same way, reads such a
//! port, each block's toggles wake the other forever at one instant: iverilog's time stops
//! (a zero-delay loop) although no bit depends on itself, so yosys `check` finds no loop and
//! Verilator and rust-hdl's simulation, which evaluate in order, pass. Seen in this split's
//! first cut between the controller and the response writer (`header` in, `wdata` out).
pub mod controller;
pub mod identity;
pub mod job_engine;
pub mod request_check;
pub mod response_writer;
pub mod status_file;
