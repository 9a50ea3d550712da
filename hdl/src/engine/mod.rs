//! The protocol engine: executes the requests of docs/PROTOCOL.md on the learner and runs the
//! jobs, with its status counters.
pub mod controller;
pub mod identity;
pub mod job_engine;
pub mod request_check;
pub mod response_writer;
pub mod status_file;
