//! A request/response link to a device.
//!
//! Every request gets a sequence number; an attempt waits as long as the request and the
//! largest response take on the wire at the link's baud, plus a margin. On a timeout or a NAK
//! the request is sent again with the same sequence number (the device replays its stored
//! response instead of executing twice), at most [`MAX_ATTEMPTS`] times. Garbage on the line is
//! skipped by the frame decoder; a leading delimiter flushes any partial frame at the device.

use serialport::SerialPort;
use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};
use zo_proto::{
    encode_frame, kind, ErrorCode, FrameDecoder, Identity, Request, Response, Status, COBS_MAX,
    MAX_PAYLOAD, PROTOCOL_VERSION,
};

/// Attempts per request before the device is declared silent.
pub const MAX_ATTEMPTS: u32 = 12;
/// Smallest payload the bulk transfers shrink to on a noisy line.
pub const MIN_BULK: usize = 32;
/// Added to the wire time of each attempt (device processing, OS and USB latency).
pub const MARGIN: Duration = Duration::from_millis(100);

/// What went wrong on the link, each with the fix in its message.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("cannot open serial port {path}: {source}; check the path (`zo ports` lists ports) and that no other program holds it")]
    Open {
        path: String,
        source: serialport::Error,
    },
    #[error("the device on {path} did not answer {request} after {attempts} attempts; check the cable, the baud rate ({baud}) and that the board is programmed")]
    Silent {
        path: String,
        request: &'static str,
        attempts: u32,
        baud: u32,
    },
    #[error("serial I/O error on {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the device speaks protocol version {got}; this host speaks version {PROTOCOL_VERSION}: update the host or the bitstream")]
    Version { got: u8 },
    #[error("the device rejected {request}: {code} (detail {detail})")]
    Device {
        request: &'static str,
        code: ErrorCode,
        detail: u16,
    },
    #[error("the device answered {request} with an unexpected {got}; is this a zo device?")]
    Unexpected {
        request: &'static str,
        got: &'static str,
    },
}

/// Link statistics, for benchmarks and diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub requests: u64,
    pub retransmissions: u64,
    pub naks: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// STATUS exchanges, and their wire bytes in both directions (also in `bytes_*`): a host
    /// polls while a job runs, so this traffic overlaps the device's work and depends on the
    /// host's polling, not on the job.
    pub status_requests: u64,
    pub status_bytes: u64,
}

impl LinkStats {
    /// Wire bytes in both directions.
    pub fn wire_bytes(&self) -> u64 {
        self.bytes_sent + self.bytes_received
    }

    /// Wire bytes in both directions that are not STATUS polls: the traffic a run needs.
    pub fn payload_traffic(&self) -> u64 {
        self.wire_bytes() - self.status_bytes
    }
}

/// A link to one device.
pub struct Link {
    port: Box<dyn SerialPort>,
    path: String,
    baud: u32,
    decoder: FrameDecoder,
    seq: u8,
    margin: Duration,
    /// Payload bytes per bulk frame: halves when a request needed retransmission (a long frame
    /// on a noisy line rarely survives), doubles back after a run of clean requests.
    bulk: usize,
    clean_run: u32,
    pub stats: LinkStats,
}

impl Link {
    /// Opens `path` at `baud` (8N1, no flow control) and drops whatever is still queued in
    /// either direction (late answers to a previous link's requests).
    pub fn open(path: &str, baud: u32) -> Result<Self, LinkError> {
        let port = serialport::new(path, baud)
            .timeout(Duration::from_millis(10))
            .open()
            .map_err(|source| LinkError::Open {
                path: path.to_string(),
                source,
            })?;
        let _ = port.clear(serialport::ClearBuffer::All);
        Ok(Self::from_port(port, path, baud))
    }

    /// Wraps an already open port.
    pub fn from_port(port: Box<dyn SerialPort>, path: &str, baud: u32) -> Self {
        Self {
            port,
            path: path.to_string(),
            baud,
            decoder: FrameDecoder::new(),
            seq: 0,
            margin: MARGIN,
            bulk: MAX_PAYLOAD,
            clean_run: 0,
            stats: LinkStats::default(),
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// Sets the time added to each attempt's wire time (default [`MARGIN`]); a slow device,
    /// such as a simulated one, needs more.
    pub fn set_margin(&mut self, margin: Duration) {
        self.margin = margin;
    }

    /// Payload bytes a bulk frame may carry now.
    pub fn bulk_payload(&self) -> usize {
        self.bulk
    }

    fn adapt(&mut self, attempts: u32) {
        if attempts > 1 {
            self.bulk = (self.bulk / 2).max(MIN_BULK);
            self.clean_run = 0;
        } else {
            self.clean_run += 1;
            if self.clean_run >= 16 {
                self.bulk = (self.bulk * 2).min(MAX_PAYLOAD);
                self.clean_run = 0;
            }
        }
    }

    /// Time one attempt may take: request plus the largest response on the wire, plus margin.
    pub fn attempt_timeout(&self, request_wire_bytes: usize) -> Duration {
        let bytes = request_wire_bytes + COBS_MAX + 1;
        let wire = Duration::from_secs_f64(bytes as f64 * 10.0 / self.baud.max(1) as f64);
        wire + self.margin
    }

    /// Sends `request` and returns the device's answer; device errors become [`LinkError::Device`].
    pub fn request(&mut self, request: &Request) -> Result<Response, LinkError> {
        let name = kind::name(request.kind());
        self.seq = self.seq.wrapping_add(1);
        let mut wire = vec![0u8];
        wire.extend(encode_frame(&request.to_packet(self.seq)));
        let timeout = self.attempt_timeout(wire.len());
        self.stats.requests += 1;
        for attempt in 0..MAX_ATTEMPTS {
            if attempt > 0 {
                self.stats.retransmissions += 1;
            }
            self.send(&wire)?;
            match self.wait(timeout)? {
                Some(Response::Nak(_)) => {
                    self.stats.naks += 1;
                }
                Some(Response::Error {
                    request: _,
                    code,
                    detail,
                }) => {
                    self.adapt(attempt + 1);
                    return Err(LinkError::Device {
                        request: name,
                        code,
                        detail,
                    });
                }
                Some(r) => {
                    self.adapt(attempt + 1);
                    return Ok(r);
                }
                None => {}
            }
        }
        Err(LinkError::Silent {
            path: self.path.clone(),
            request: name,
            attempts: MAX_ATTEMPTS,
            baud: self.baud,
        })
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        self.stats.bytes_sent += bytes.len() as u64;
        self.port
            .write_all(bytes)
            .and_then(|_| self.port.flush())
            .map_err(|source| LinkError::Io {
                path: self.path.clone(),
                source,
            })
    }

    /// Waits for a response to the current seq (or a NAK); None on timeout.
    fn wait(&mut self, timeout: Duration) -> Result<Option<Response>, LinkError> {
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 1024];
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let _ = self
                .port
                .set_timeout((deadline - now).min(Duration::from_millis(20)));
            let n = match self.port.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::TimedOut || e.kind() == ErrorKind::Interrupted => {
                    0
                }
                Err(source) => {
                    return Err(LinkError::Io {
                        path: self.path.clone(),
                        source,
                    })
                }
            };
            self.stats.bytes_received += n as u64;
            for &b in &buf[..n] {
                let Some(Ok(packet)) = self.decoder.push(b) else {
                    continue;
                };
                if packet.kind == kind::NAK {
                    if let Ok(r) = Response::decode(packet.kind, &packet.payload) {
                        return Ok(Some(r));
                    }
                    continue;
                }
                if packet.seq != self.seq {
                    continue; // a late answer to an earlier attempt or request
                }
                if let Ok(r) = Response::decode(packet.kind, &packet.payload) {
                    return Ok(Some(r));
                }
            }
        }
    }

    /// IDENTIFY, refusing a device of another protocol version.
    pub fn identify(&mut self) -> Result<Identity, LinkError> {
        match self.request(&Request::Identify)? {
            Response::Identity(id) if id.version != PROTOCOL_VERSION => {
                Err(LinkError::Version { got: id.version })
            }
            Response::Identity(id) => Ok(id),
            other => Err(self.unexpected("IDENTIFY", &other)),
        }
    }

    pub fn status(&mut self) -> Result<Status, LinkError> {
        let before = self.stats.wire_bytes();
        let answer = self.request(&Request::Status);
        self.stats.status_requests += 1;
        self.stats.status_bytes += self.stats.wire_bytes() - before;
        match answer? {
            Response::Status(s) => Ok(s),
            other => Err(self.unexpected("STATUS", &other)),
        }
    }

    /// Sends a request whose answer carries no data.
    pub fn command(&mut self, request: &Request) -> Result<(), LinkError> {
        let name = kind::name(request.kind());
        match self.request(request)? {
            Response::Done { .. } => Ok(()),
            other => Err(self.unexpected(name, &other)),
        }
    }

    /// Reads all `n` weights in blocks.
    pub fn read_weights(&mut self, n: usize) -> Result<Vec<i16>, LinkError> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let per_frame = ((self.bulk - 4) / 2).min(zo_proto::MAX_READ_COUNT as usize);
            let count = (n - out.len()).min(per_frame) as u16;
            let start = out.len() as u16;
            match self.request(&Request::ReadWeights { start, count })? {
                Response::Weights { values, .. } if values.len() == count as usize => {
                    out.extend(values)
                }
                other => return Err(self.unexpected("READ_WEIGHTS", &other)),
            }
        }
        Ok(out)
    }

    /// Writes all weights in blocks.
    pub fn write_weights(&mut self, w: &[i16]) -> Result<(), LinkError> {
        let mut start = 0;
        while start < w.len() {
            let per_frame = ((self.bulk - 4) / 2).min(zo_proto::MAX_WRITE_COUNT as usize);
            let end = (start + per_frame).min(w.len());
            self.command(&Request::WriteWeights {
                start: start as u16,
                values: w[start..end].to_vec(),
            })?;
            start = end;
        }
        Ok(())
    }

    /// Loads samples into the buffer from index `start`, as many per frame as fit.
    pub fn load_samples(
        &mut self,
        start: usize,
        samples: &[zo_proto::Sample],
    ) -> Result<(), LinkError> {
        let record = 1 + samples.first().map_or(0, |s| s.features.len());
        let mut done = 0;
        while done < samples.len() {
            let per_frame = ((self.bulk - 4) / record.max(1)).max(1);
            let end = (done + per_frame).min(samples.len());
            self.command(&Request::LoadSamples {
                start: (start + done) as u16,
                samples: samples[done..end].to_vec(),
            })?;
            done = end;
        }
        Ok(())
    }

    fn unexpected(&self, request: &'static str, got: &Response) -> LinkError {
        LinkError::Unexpected {
            request,
            got: kind::name(got.kind()),
        }
    }
}
