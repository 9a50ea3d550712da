//! The virtual board: a [`Device`] served on a real pseudo-terminal, so that any serial client
//! (the `zo` CLI, a script with pyserial, a terminal) talks to it exactly as to a board.
//!
//! PTY facts this relies on (FIELD-NOTES): bytes pass unchanged, any baud is accepted, and the
//! master side reports errors while no slave handle is open, so the board keeps one open for
//! its whole life.

use crate::device::reference::{Backend, Device};

/// Address width of a virtual board's weight memory (8192 words: 196-32-10, Fashion-MNIST
/// pooled to 14x14, fits; the learner's per-operation counters allow at most 13 bits).
pub const VIRTUAL_AW: usize = 13;

/// A device as a virtual board serves it: bytes in, bytes out, and background work between
/// requests.
pub trait SerialDevice {
    /// Takes received bytes; returns the bytes to send back.
    fn receive(&mut self, bytes: &[u8]) -> Vec<u8>;
    /// Whether background work (a training or evaluation job) is under way.
    fn busy(&self) -> bool;
    /// Advances the background work a little.
    fn step(&mut self);
}

impl<B: Backend> SerialDevice for Device<B> {
    fn receive(&mut self, bytes: &[u8]) -> Vec<u8> {
        Device::receive(self, bytes)
    }
    fn busy(&self) -> bool {
        Device::busy(self)
    }
    fn step(&mut self) {
        Device::step(self);
    }
}
use serialport::{SerialPort, TTYPort};
use std::io::{ErrorKind, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A running virtual board. Dropping it stops the board.
pub struct VirtualBoard<D: SerialDevice + Send + 'static> {
    path: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<D>>,
    _slave: TTYPort,
}

/// Why a virtual board could not start.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    #[error("could not create a pseudo-terminal for the virtual board: {0}")]
    Pty(#[from] serialport::Error),
    #[error("could not start the virtual board's thread: {0}")]
    Thread(#[from] std::io::Error),
}

impl<D: SerialDevice + Send + 'static> VirtualBoard<D> {
    /// Serves `device` on a new PTY in a background thread.
    pub fn spawn(device: D) -> Result<Self, BoardError> {
        let (mut master, slave) = TTYPort::pair()?;
        let path = slave.name().ok_or_else(|| {
            serialport::Error::new(serialport::ErrorKind::Unknown, "PTY has no name")
        })?;
        master.set_timeout(Duration::from_millis(5))?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("virtual-board".into())
            .spawn(move || serve(device, &mut master, &flag))?;
        Ok(Self {
            path,
            stop,
            thread: Some(thread),
            _slave: slave,
        })
    }

    /// The serial port path a client opens (for example `/dev/pts/3`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Stops the board and returns its device (for inspection by tests).
    pub fn stop(mut self) -> D {
        self.stop.store(true, Ordering::SeqCst);
        self.thread
            .take()
            .expect("the board thread runs until stopped")
            .join()
            .expect("the virtual board thread panicked")
    }
}

impl<D: SerialDevice + Send + 'static> Drop for VirtualBoard<D> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The board's loop: answer every request as it arrives; between requests run the job for at
/// most a few milliseconds at a time so that status queries are answered promptly.
fn serve<D: SerialDevice>(mut device: D, master: &mut TTYPort, stop: &AtomicBool) -> D {
    let mut buf = [0u8; 1024];
    while !stop.load(Ordering::SeqCst) {
        let timeout = if device.busy() {
            Duration::ZERO
        } else {
            Duration::from_millis(5)
        };
        let _ = master.set_timeout(timeout);
        match master.read(&mut buf) {
            Ok(0) => {}
            Ok(n) => {
                let out = device.receive(&buf[..n]);
                if !out.is_empty() && master.write_all(&out).is_err() {
                    // The client went away mid-answer; it will retransmit if it returns.
                }
                continue;
            }
            Err(e) if e.kind() == ErrorKind::TimedOut || e.kind() == ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            // No client has the slave open, or it just closed it: wait for the next one.
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
        let start = Instant::now();
        while device.busy() && start.elapsed() < Duration::from_millis(2) {
            device.step();
        }
    }
    device
}
