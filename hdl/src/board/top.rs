//! Board top-levels. Boards are data ([`Board`]: FPGA, clock, pins, toolchain flags, default
//! build, LED polarity, programmer): adding a board is adding one record to [`BOARDS`].
//! [`BoardTop`] is the one top-level every board uses, with ports named as in the pin files of
//! `constraints/` (`clk`, `rx`, `tx`, `led_train`, `led_status`).
//!
//! Clock: iCE40 boards whose fabric runs faster than the oscillator get a PLL ([`Ice40Pll`]).
//!
//! LEDs: `led_train` lights while a job runs; `led_status` lights for 2^20 clocks (~44 ms at 24 MHz) after
//! each received byte and stays lit once an error or NAK has been sent.
use crate::board::ice40_pll::{Ice40Pll, PllInput, PllSettings};
use crate::config::Shape;
use crate::device::ZoDevice;
use crate::engine::controller::ControllerInfo;
use rust_hdl::prelude::*;

/// FPGA family, which picks the toolchain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Ice40,
    Ecp5,
}

/// What `cargo xtask synth` builds for a board when asked for nothing else: the largest
/// network (and sample buffer) measured to fit and meet timing (docs/BOARDS.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DefaultBuild {
    pub shape: Shape,
    /// Sample slots in the on-chip buffer.
    pub capacity: u16,
    /// Mini-batch accumulators (without them the device takes batch 1 only).
    pub batch_accumulators: bool,
    /// The hybrid estimator's exact output layer (without it: estimators np and wp only).
    pub exact_output: bool,
}

/// One board, as data.
#[derive(Clone, Copy, Debug)]
pub struct Board {
    /// The name used on the command line.
    pub name: &'static str,
    pub family: Family,
    /// nextpnr device flags (`--up5k --package sg48`, ...).
    pub pnr_flags: &'static [&'static str],
    /// yosys commands run before the design is read (`scratchpad -set ...; `, or empty).
    pub synth_setup: &'static str,
    /// Options appended to the family's synthesis command (`synth_ice40 -top top`,
    /// `synth_ecp5 -top top`), each with a leading space.
    pub synth_options: &'static str,
    /// Oscillator frequency on the `clk` pin.
    pub clock_hz: u32,
    /// Frequency the design runs at: the oscillator's, or an iCE40 PLL's output made from it.
    pub fabric_hz: u32,
    /// Hard multipliers of the FPGA (UP5K: 8 SB_MAC16; HX8K: none, multipliers are built
    /// from logic; ECP5 85F: 156 18x18): the physical limit the learner's speed is
    /// measured against (docs/BENCHMARKS.md).
    pub hard_multipliers: u32,
    /// How the PLL (if any) takes the oscillator.
    pub pll_input: PllInput,
    /// Serial baud of the build.
    pub baud: u32,
    /// Pin file in `constraints/`.
    pub constraints: &'static str,
    /// Whether the LEDs light when the pin is low.
    pub leds_active_low: bool,
    /// Programmer command (the bitstream path is appended).
    pub programmer: &'static [&'static str],
    /// How to install the programmer.
    pub programmer_install: &'static str,
    pub default_build: DefaultBuild,
}

impl Board {
    /// Clocks per serial bit; the UARTs need at least 4.
    pub const fn clocks_per_bit(&self) -> usize {
        (self.fabric_hz / self.baud) as usize
    }

    /// The PLL dividers of this board (`None` when the fabric runs at the oscillator's
    /// frequency); panics when no exact setting exists (a board-table error).
    pub fn pll(&self) -> Option<(PllSettings, PllInput)> {
        if self.fabric_hz == self.clock_hz {
            return None;
        }
        assert_eq!(
            self.family,
            Family::Ice40,
            "{}: only iCE40 PLLs are supported",
            self.name
        );
        let settings = PllSettings::find(self.clock_hz, self.fabric_hz).unwrap_or_else(|| {
            panic!(
                "{}: no PLL setting makes {} Hz from {} Hz",
                self.name, self.fabric_hz, self.clock_hz
            )
        });
        Some((settings, self.pll_input))
    }
}

pub const ICEBREAKER: Board = Board {
    name: "icebreaker",
    family: Family::Ice40,
    pnr_flags: &["--up5k", "--package", "sg48"],
    // The UP5K has multipliers and single-port RAM (the sample buffer goes there). Its routing
    // costs ~1.8 ns a hop (nextpnr's model), not the 0.75 ns abc9 assumes by default: with the
    // default, abc9 trades LUT depth for area on paths it believes are short, and they come out
    // of routing 40% slower than the clock.
    synth_setup: "scratchpad -set synth_ice40.abc9.W 1800; ",
    synth_options: " -dsp -spram -device u",
    clock_hz: 12_000_000,
    // The oscillator's pin (35) feeds the PLL pad: 12 -> 24 MHz.
    fabric_hz: 24_000_000,
    hard_multipliers: 8,
    pll_input: PllInput::Pad,
    baud: 1_000_000,
    constraints: "constraints/icebreaker.pcf",
    leds_active_low: true,
    programmer: &["iceprog"],
    programmer_install: "apt-get install fpga-icestorm",
    // The block RAM cannot hold a 64-32-10 network's 32-bit accumulators besides its weights:
    // batch 1. The hybrid estimator's derivative sweep (about 200 logic cells and a block RAM)
    // does not fit beside the rest (5321 of 5280 cells): node and weight perturbation only.
    // The sample buffer fills all four SPRAMs: (2015 + 1 inline) x 65 + 1 = 131041 of 131072
    // bytes, so digits' 1797 rows (training and test) stay resident; 49 cells more than one
    // SPRAM's 500 slots (docs/BOARDS.md).
    default_build: DefaultBuild {
        shape: Shape::new(64, 32, 10),
        capacity: 2015,
        batch_accumulators: false,
        exact_output: false,
    },
};

pub const ALCHITRY_CU: Board = Board {
    name: "alchitry-cu",
    family: Family::Ice40,
    pnr_flags: &["--hx8k", "--package", "cb132"],
    synth_setup: "",
    synth_options: "",
    clock_hz: 100_000_000,
    fabric_hz: 25_000_000,
    hard_multipliers: 0,
    pll_input: PllInput::Core,
    baud: 1_000_000,
    constraints: "constraints/alchitry-cu.pcf",
    leds_active_low: false,
    programmer: &["iceprog"],
    programmer_install: "apt-get install fpga-icestorm",
    // Batch 1 and no hybrid estimator as on the iCEBreaker (the derivative store would take a
    // 33rd of 32 block RAMs); the samples get what block RAM is left.
    default_build: DefaultBuild {
        shape: Shape::new(64, 32, 10),
        capacity: 75,
        batch_accumulators: false,
        exact_output: false,
    },
};

pub const ULX3S: Board = Board {
    name: "ulx3s",
    family: Family::Ecp5,
    pnr_flags: &["--85k", "--package", "CABGA381"],
    synth_setup: "",
    synth_options: "",
    clock_hz: 25_000_000,
    fabric_hz: 25_000_000,
    hard_multipliers: 156,
    pll_input: PllInput::Core,
    baud: 1_000_000,
    constraints: "constraints/ulx3s.lpf",
    leds_active_low: false,
    programmer: &["openFPGALoader", "-b", "ulx3s"],
    programmer_install: "apt-get install openfpgaloader",
    // 2015 slots, the most 17 address bits hold (as on the iCEBreaker): 75 of 208 block RAMs.
    default_build: DefaultBuild {
        shape: Shape::new(64, 32, 10),
        capacity: 2015,
        batch_accumulators: true,
        exact_output: true,
    },
};

/// Every supported board.
pub const BOARDS: &[Board] = &[ICEBREAKER, ALCHITRY_CU, ULX3S];

/// Looks a board up by name.
pub fn board(name: &str) -> Option<&'static Board> {
    BOARDS.iter().find(|b| b.name == name)
}

/// The top-level of every board: the device with LED polarity applied.
#[derive(LogicBlock)]
pub struct BoardTop<const AW: usize, const SA: usize> {
    pub clk: Signal<In, Clock>,
    pub rx: Signal<In, bool>,
    pub tx: Signal<Out, bool>,
    pub led_train: Signal<Out, bool>,
    pub led_status: Signal<Out, bool>,
    active_low: Constant<bool>,
    pll: Ice40Pll,
    device: ZoDevice<AW, SA>,
    status: Signal<Local, bool>,
}

impl<const AW: usize, const SA: usize> BoardTop<AW, SA> {
    pub fn new(board: &Board, shape: Shape, info: &ControllerInfo) -> Self {
        assert!(
            board.clocks_per_bit() >= 4,
            "{} cannot run {} baud from {} Hz",
            board.name,
            board.baud,
            board.fabric_hz
        );
        Self {
            clk: Default::default(),
            rx: Default::default(),
            tx: Default::default(),
            led_train: Default::default(),
            led_status: Default::default(),
            active_low: Constant::new(board.leds_active_low),
            pll: Ice40Pll::new(board.pll()),
            device: ZoDevice::new(shape, info, board.clocks_per_bit()),
            status: Default::default(),
        }
    }
}

impl<const AW: usize, const SA: usize> Logic for BoardTop<AW, SA> {
    #[hdl_gen]
    fn update(&mut self) {
        self.pll.clock_in.next = self.clk.val();
        self.device.clock.next = self.pll.clock_out.val();
        self.device.rxd.next = self.rx.val();
        self.tx.next = self.device.txd.val();
        self.status.next = self.device.activity.val() | self.device.error.val();
        self.led_train.next = self.device.training.val() ^ self.active_low.val();
        self.led_status.next = self.status.val() ^ self.active_low.val();
    }
}
