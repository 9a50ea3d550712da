//! The link: the serial line and the frames of docs/PROTOCOL.md (UARTs, COBS, CRC, frame
//! receiver and transmitter).
pub mod cobs_decoder;
pub mod crc16;
pub mod frame_rx;
pub mod frame_tx;
pub mod uart_rx;
pub mod uart_tx;
