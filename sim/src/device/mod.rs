//! Devices: what answers the serial protocol of docs/PROTOCOL.md.
//!
//! - [`reference`]: the reference device, the specification of every answer, over a learner
//!   backend (the model or the rust-hdl learner).
//! - [`vboard`]: the virtual board, a device served on a pseudo-terminal.
//! - [`rtl_device`]: the rust-hdl protocol engine, bytes in and bytes out, stepped directly.
//! - [`uart_device`]: the complete rust-hdl device driven through its serial pins.
pub mod reference;
pub mod rtl_device;
pub mod uart_device;
pub mod vboard;
