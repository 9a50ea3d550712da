//! The protocol engine: executes the requests of docs/PROTOCOL.md on the learner and runs the
//! jobs, with its status counters.
pub mod controller;
pub mod status_file;
