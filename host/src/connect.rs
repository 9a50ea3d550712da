//! Opening a device: a serial port (a path or `auto`), or a virtual board started in-process
//! on a pseudo-terminal (model- or RTL-backed). The [`Connection`] keeps the board alive and can
//! reopen the link after a failure.

use crate::cli::{BoardKind, ConnectArgs};
use crate::link::{Link, LinkError};
use anyhow::{anyhow, bail, Result};
use serialport::{SerialPortInfo, SerialPortType};
use std::time::Duration;
use zo_hdl::config::Shape;
use zo_proto::Identity;
use zo_sim::device::reference::{Device, DeviceInfo};
use zo_sim::device::vboard::VirtualBoard;
use zo_sim::harness::rtl::RtlLearner;
use zo_sim::model::Model;

/// USB id of the FT2232H on iCEBreaker-style boards; the UART is channel B, interface 1.
pub const FTDI_VID: u16 = 0x0403;
pub const FT2232H_PID: u16 = 0x6010;
pub const UART_INTERFACE: u8 = 1;
/// Shape of a virtual board when none is given: one build serves every built-in dataset.
pub const DEFAULT_SHAPE: Shape = Shape::new(64, 32, 10);
/// Link margin for the RTL-backed board, whose samples take ~0.2 s each.
pub const RTL_MARGIN: Duration = Duration::from_secs(30);

pub use zo_sim::device::vboard::VIRTUAL_AW;

enum Board {
    Model(VirtualBoard<Device<Model>>),
    Rtl(VirtualBoard<Device<RtlLearner<VIRTUAL_AW>>>),
}

/// What kind of device a connection talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    Virtual,
    Rtl,
    Serial,
}

impl DeviceKind {
    pub fn name(&self) -> &'static str {
        match self {
            DeviceKind::Virtual => "virtual",
            DeviceKind::Rtl => "rtl",
            DeviceKind::Serial => "serial",
        }
    }
}

/// An open link to an identified device.
pub struct Connection {
    link: Option<Link>,
    _board: Option<Board>,
    kind: DeviceKind,
    /// `auto` to rediscover the port on reconnect.
    auto: bool,
    path: String,
    baud: u32,
    pub identity: Identity,
}

impl Connection {
    /// Opens the device that `args` names; `default_shape` sizes a virtual board when
    /// `--shape` is absent.
    pub fn open(args: &ConnectArgs, default_shape: Shape) -> Result<Self> {
        let explicit_port = args.port.is_some() && !args.port_from_env;
        if args.board.is_some() && explicit_port {
            bail!(
                "--port talks to a board and --board starts a virtual one; pass only one of them"
            );
        }
        let vcd = args.vcd.spec()?;
        if vcd.is_some() && args.board != Some(BoardKind::Rtl) {
            bail!("--vcd records the RTL's signals: it needs --board rtl");
        }
        let port = if args.board.is_some() {
            None // --board wins over ZO_PORT from the environment
        } else {
            args.port.clone()
        };
        match port {
            Some(port) => {
                if args.shape.is_some() {
                    bail!("--shape sizes a virtual board; a real board reports its own shape (see `zo info`), so drop --shape or --port");
                }
                if args.capacity.is_some() {
                    bail!("--capacity sizes a virtual board's buffer; drop it or --port");
                }
                if args.no_batch || args.no_hybrid {
                    let flag = if args.no_batch {
                        "--no-batch"
                    } else {
                        "--no-hybrid"
                    };
                    bail!("{flag} shapes a virtual board; a real board reports its own limits (see `zo info`), so drop {flag} or --port");
                }
                let auto = port == "auto";
                let path = if auto { find_board()? } else { port };
                let link = open_link(&path, args.baud)?;
                Self::finish(link, None, DeviceKind::Serial, auto, path, args.baud)
            }
            None => {
                let shape = args.shape.unwrap_or(default_shape);
                shape
                    .check(VIRTUAL_AW)
                    .map_err(|e| anyhow!("--shape {shape}: {e}"))?;
                let kind = match args.board.unwrap_or(BoardKind::Virtual) {
                    BoardKind::Virtual => DeviceKind::Virtual,
                    BoardKind::Rtl => DeviceKind::Rtl,
                };
                let info = DeviceInfo {
                    name: match kind {
                        DeviceKind::Rtl => "virtual-rtl".into(),
                        _ => "virtual-model".into(),
                    },
                    sample_capacity: args.capacity.unwrap_or(2048),
                    baud: args.baud,
                    batch_accumulators: !args.no_batch,
                    exact_output: !args.no_hybrid,
                    ..DeviceInfo::default()
                };
                let spawn_err = |e| anyhow!("cannot start the virtual board: {e}");
                let board = match kind {
                    DeviceKind::Rtl => {
                        let mut learner = RtlLearner::<VIRTUAL_AW>::new(shape);
                        if let Some(spec) = &vcd {
                            learner.record_vcd(spec)?;
                        }
                        Board::Rtl(
                            VirtualBoard::spawn(Device::new(learner, info)).map_err(spawn_err)?,
                        )
                    }
                    _ => Board::Model(
                        VirtualBoard::spawn(Device::new(Model::new(shape, 1), info))
                            .map_err(spawn_err)?,
                    ),
                };
                let path = match &board {
                    Board::Model(b) => b.path().to_string(),
                    Board::Rtl(b) => b.path().to_string(),
                };
                let link = open_link(&path, args.baud)?;
                Self::finish(link, Some(board), kind, false, path, args.baud)
            }
        }
    }

    fn finish(
        mut link: Link,
        board: Option<Board>,
        kind: DeviceKind,
        auto: bool,
        path: String,
        baud: u32,
    ) -> Result<Self> {
        if kind == DeviceKind::Rtl {
            link.set_margin(RTL_MARGIN);
        }
        let identity = handshake(&mut link).map_err(|e| identify_error(e, &path))?;
        check_identity(&identity)?;
        Ok(Self {
            link: Some(link),
            _board: board,
            kind,
            auto,
            path,
            baud,
            identity,
        })
    }

    /// The link (always present outside [`Connection::reopen`]).
    pub fn link(&mut self) -> &mut Link {
        self.link.as_mut().expect("the link is open outside reopen")
    }

    pub fn kind(&self) -> DeviceKind {
        self.kind
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// `virtual-model`, `virtual-rtl` or the board's own name.
    pub fn backend(&self) -> &str {
        &self.identity.name
    }

    pub fn shape(&self) -> Shape {
        Shape::new(
            self.identity.n_in as usize,
            self.identity.n_hid as usize,
            self.identity.n_out as usize,
        )
    }

    /// Closes and reopens the link (rediscovering an `auto` port) and identifies the device
    /// again; the device must be the same build.
    pub fn reopen(&mut self) -> Result<(), LinkError> {
        self.link = None;
        if self.auto {
            if let Ok(path) = find_board() {
                self.path = path;
            }
        }
        let mut link = open_port(&self.path, self.baud)?;
        if self.kind == DeviceKind::Rtl {
            link.set_margin(RTL_MARGIN);
        }
        let id = handshake(&mut link);
        self.link = Some(link);
        let id = id?;
        if (id.n_in, id.n_hid, id.n_out, id.sample_capacity)
            != (
                self.identity.n_in,
                self.identity.n_hid,
                self.identity.n_out,
                self.identity.sample_capacity,
            )
        {
            return Err(LinkError::Unexpected {
                request: "IDENTIFY",
                got: "a device of another shape after reconnecting",
            });
        }
        self.identity = id;
        Ok(())
    }
}

fn open_port(path: &str, baud: u32) -> Result<Link, LinkError> {
    Link::open(path, baud)
}

/// Identifies the device on a fresh link. A new link numbers its requests from 1, and the
/// device replays its stored response when a request repeats the seq of the last one it
/// executed (docs/PROTOCOL.md, section 3), which may belong to a previous session. So one
/// read-only STATUS goes first, and its answer is ignored: after it the device's stored seq is
/// this link's, and IDENTIFY executes. A mismatched answer (a late one from an earlier link)
/// gets one more try.
pub fn handshake(link: &mut Link) -> Result<Identity, LinkError> {
    if let Err(e @ (LinkError::Silent { .. } | LinkError::Io { .. })) = link.status() {
        return Err(e);
    }
    match link.identify() {
        Err(LinkError::Unexpected { .. }) => link.identify(),
        other => other,
    }
}

/// A device whose identity does not add up is refused before anything is sent to it.
fn check_identity(id: &Identity) -> Result<()> {
    let shape = Shape::new(id.n_in as usize, id.n_hid as usize, id.n_out as usize);
    if shape.check(16).is_err() || shape.n_weights() != id.n_weights as usize {
        bail!(
            "the device reports shape {shape} with {} weights, which does not add up ({} \
             expected); is this a zo device?",
            id.n_weights,
            shape.n_weights()
        );
    }
    if id.sample_capacity == 0 {
        bail!("the device reports a sample buffer of 0 samples; is this a zo device?");
    }
    Ok(())
}

fn identify_error(e: LinkError, path: &str) -> anyhow::Error {
    match e {
        LinkError::Silent { .. } => anyhow!("{e}"),
        other => anyhow!("identifying the device on {path}: {other}"),
    }
}

/// Opens a serial port with a message that names the fix for each common failure.
pub fn open_link(path: &str, baud: u32) -> Result<Link> {
    open_port(path, baud).map_err(|e| match e {
        LinkError::Open { path, source } => open_error(&path, &source),
        other => anyhow!("{other}"),
    })
}

fn open_error(path: &str, e: &serialport::Error) -> anyhow::Error {
    use serialport::ErrorKind as K;
    use std::io::ErrorKind as IO;
    let desc = e.description.to_lowercase();
    match e.kind() {
        K::NoDevice => anyhow!(
            "serial port {path} is busy: another program holds it (a terminal, ModemManager or \
             another zo); close that program and try again"
        ),
        K::Io(IO::NotFound) => anyhow!(
            "serial port {path} does not exist; `zo ports` lists the serial ports (or drop \
             --port to use a virtual board)"
        ),
        K::Io(IO::PermissionDenied) => anyhow!(
            "no permission to open serial port {path}; add your user to the dialout group \
             (`sudo usermod -aG dialout $USER`, then log in again)"
        ),
        _ if desc.contains("inappropriate ioctl") || desc.contains("not a typewriter") => {
            anyhow!("{path} is not a serial port; `zo ports` lists the serial ports")
        }
        _ if desc.contains("is a directory") => {
            anyhow!("{path} is a directory, not a serial port; `zo ports` lists the serial ports")
        }
        _ => anyhow!(
            "cannot open serial port {path}: {e}; check the path (`zo ports` lists the ports)"
        ),
    }
}

/// One serial port as `zo ports` shows it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PortInfo {
    pub path: String,
    /// `usb`, `pci`, `bluetooth` or `unknown`.
    pub kind: String,
    pub vid: Option<String>,
    pub pid: Option<String>,
    pub serial: Option<String>,
    pub manufacturer: Option<String>,
    pub product: Option<String>,
    pub interface: Option<u8>,
    /// Whether this is the UART channel of an FT2232H (a zo board's port).
    pub zo_board: bool,
}

impl PortInfo {
    fn from_serialport(p: &SerialPortInfo) -> Self {
        let mut info = PortInfo {
            path: p.port_name.clone(),
            kind: "unknown".into(),
            vid: None,
            pid: None,
            serial: None,
            manufacturer: None,
            product: None,
            interface: None,
            zo_board: false,
        };
        match &p.port_type {
            SerialPortType::UsbPort(u) => {
                info.kind = "usb".into();
                info.vid = Some(format!("{:04x}", u.vid));
                info.pid = Some(format!("{:04x}", u.pid));
                info.serial = u.serial_number.clone();
                info.manufacturer = u.manufacturer.clone();
                info.product = u.product.clone();
                info.interface = u.interface;
                info.zo_board = u.vid == FTDI_VID
                    && u.pid == FT2232H_PID
                    && u.interface == Some(UART_INTERFACE);
            }
            SerialPortType::PciPort => info.kind = "pci".into(),
            SerialPortType::BluetoothPort => info.kind = "bluetooth".into(),
            SerialPortType::Unknown => {}
        }
        info
    }

    /// `0403:6010 if 1 serial X` or the port kind.
    pub fn describe(&self) -> String {
        match (&self.vid, &self.pid) {
            (Some(v), Some(p)) => {
                let mut s = format!("usb {v}:{p}");
                if let Some(i) = self.interface {
                    s.push_str(&format!(" interface {i}"));
                }
                if let Some(sn) = &self.serial {
                    s.push_str(&format!(" serial {sn}"));
                }
                s
            }
            _ => self.kind.clone(),
        }
    }
}

/// The serial ports of this machine.
pub fn list_ports() -> Result<Vec<PortInfo>> {
    let ports =
        serialport::available_ports().map_err(|e| anyhow!("cannot list serial ports: {e}"))?;
    let mut out: Vec<PortInfo> = ports.iter().map(PortInfo::from_serialport).collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// The port of the one connected zo board (FT2232H 0403:6010, interface 1).
pub fn find_board() -> Result<String> {
    let ports = list_ports()?;
    let boards: Vec<&PortInfo> = ports.iter().filter(|p| p.zo_board).collect();
    match boards.as_slice() {
        [one] => Ok(one.path.clone()),
        [] => {
            let seen = if ports.is_empty() {
                "no serial ports at all".to_string()
            } else {
                ports
                    .iter()
                    .map(|p| format!("{} ({})", p.path, p.describe()))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            bail!(
                "--port auto found no zo board (USB {FTDI_VID:04x}:{FT2232H_PID:04x} interface \
                 {UART_INTERFACE}); saw {seen}; plug the board in or pass --port PATH"
            )
        }
        many => bail!(
            "--port auto found {} zo boards: {}; pick one with --port PATH",
            many.len(),
            many.iter()
                .map(|p| format!("{} ({})", p.path, p.describe()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
