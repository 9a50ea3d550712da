//! Memories of any depth: simple dual-port block RAM and single-port RAM (UP5K SPRAM).
pub mod single_port_ram;
pub mod sized_ram;
