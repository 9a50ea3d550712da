//! Host side of the zo link: [`link::Link`] speaks the framed protocol (docs/PROTOCOL.md) to a
//! board or a virtual board over a serial port, with timeouts, retransmission and clear errors.
//! The library never prints.
pub mod link;
