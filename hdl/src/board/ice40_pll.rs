//! iCE40 PLL (`SB_PLL40_CORE`, simple feedback) that makes the fabric clock from the board's
//! oscillator, with its dividers chosen at elaboration.
//!
//! Contract: `clock_out` runs at `f_in * (DIVF + 1) / ((DIVR + 1) * 2^DIVQ)`; [`PllSettings::find`]
//! picks dividers that give the requested frequency exactly or refuses (so the UART baud
//! derived from it is exact). `locked` rises once the loop has settled; the design needs no
//! reset (every register has a power-on value) and the UART ignores the line until then.
//! In the rust-hdl simulation `clock_out` follows `clock_in` (frequencies are not modelled);
//! the co-simulations exercise the device below the PLL. Without settings the block is a wire
//! (boards whose fabric runs at the oscillator's frequency).
//!
//! Limits from the iCE40 sysCLOCK PLL guide: phase detector 10..133 MHz, VCO 533..1066 MHz,
//! output 16..275 MHz, DIVR 0..15, DIVF 0..127, DIVQ 1..6.
use rust_hdl::prelude::*;

/// Divider settings of one PLL configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PllSettings {
    pub divr: u32,
    pub divf: u32,
    pub divq: u32,
    /// Loop filter range for the phase-detector frequency.
    pub filter_range: u32,
}

impl PllSettings {
    /// Dividers that turn `f_in_hz` into exactly `f_out_hz`, or `None`.
    pub fn find(f_in_hz: u32, f_out_hz: u32) -> Option<Self> {
        let (f_in, f_out) = (f_in_hz as u64, f_out_hz as u64);
        if !(16_000_000..=275_000_000).contains(&f_out) {
            return None;
        }
        for divr in 0..=15u64 {
            let pfd_num = f_in; // f_pfd = f_in / (divr + 1)
            let pfd = pfd_num / (divr + 1);
            if pfd_num % (divr + 1) != 0 || !(10_000_000..=133_000_000).contains(&pfd) {
                continue;
            }
            for divq in 1..=6u64 {
                let vco = f_out << divq;
                if !(533_000_000..=1_066_000_000).contains(&vco) || vco % pfd != 0 {
                    continue;
                }
                let mult = vco / pfd;
                if (1..=128).contains(&mult) {
                    let filter_range = match pfd {
                        p if p < 17_000_000 => 1,
                        p if p < 26_000_000 => 2,
                        p if p < 44_000_000 => 3,
                        p if p < 66_000_000 => 4,
                        p if p < 101_000_000 => 5,
                        _ => 6,
                    };
                    return Some(Self {
                        divr: divr as u32,
                        divf: (mult - 1) as u32,
                        divq: divq as u32,
                        filter_range,
                    });
                }
            }
        }
        None
    }

    /// The output frequency these dividers give from `f_in_hz`.
    pub fn output_hz(&self, f_in_hz: u32) -> u64 {
        f_in_hz as u64 * (self.divf as u64 + 1) / ((self.divr as u64 + 1) << self.divq)
    }
}

/// Where the PLL takes its reference: straight from the clock pad (`SB_PLL40_PAD`, needed when
/// the oscillator sits on a PLL's own pad, as on the iCEBreaker) or from the global clock net
/// (`SB_PLL40_CORE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PllInput {
    Pad,
    Core,
}

#[derive(LogicBlock)]
pub struct Ice40Pll {
    pub clock_in: Signal<In, Clock>,
    pub clock_out: Signal<Out, Clock>,
    pub locked: Signal<Out, bool>,
    _settings: Option<(PllSettings, PllInput)>,
}

impl Ice40Pll {
    /// A PLL with `settings` (from [`PllSettings::find`]), or a wire with `None`.
    pub fn new(settings: Option<(PllSettings, PllInput)>) -> Self {
        Self {
            clock_in: Default::default(),
            clock_out: Default::default(),
            locked: Default::default(),
            _settings: settings,
        }
    }
}

impl Logic for Ice40Pll {
    fn update(&mut self) {
        self.clock_out.next = self.clock_in.val();
        self.locked.next = true;
    }

    fn connect(&mut self) {
        self.clock_out.connect();
        self.locked.connect();
    }

    fn hdl(&self) -> Verilog {
        let Some((s, input)) = self._settings else {
            return Verilog::Custom("assign clock_out = clock_in;\nassign locked = 1'b1;\n".into());
        };
        let (primitive, reference) = match input {
            PllInput::Pad => ("SB_PLL40_PAD", "PACKAGEPIN"),
            PllInput::Core => ("SB_PLL40_CORE", "REFERENCECLK"),
        };
        Verilog::Wrapper(Wrapper {
            code: format!(
                "\
{primitive} #(
    .FEEDBACK_PATH(\"SIMPLE\"),
    .DIVR(4'd{}),
    .DIVF(7'd{}),
    .DIVQ(3'd{}),
    .FILTER_RANGE(3'd{})
) pll (
    .{reference}(clock_in),
    .PLLOUTGLOBAL(clock_out),
    .LOCK(locked),
    .RESETB(1'b1),
    .BYPASS(1'b0)
);
",
                s.divr, s.divf, s.divq, s.filter_range
            ),
            // Declarations for simulators and lint (only the pins used); yosys maps the
            // instance to its own cell.
            cores: format!(
                "\
(* blackbox *)
module {primitive} (
    {pad}input {reference},
    output PLLOUTGLOBAL,
    output LOCK,
    input BYPASS,
    input RESETB
);
parameter FEEDBACK_PATH = \"SIMPLE\";
parameter DIVR = 4'b0000;
parameter DIVF = 7'b0000000;
parameter DIVQ = 3'b000;
parameter FILTER_RANGE = 3'b000;
`ifdef VERILATOR
// A pass-through stand-in, so that Verilator lints (and could simulate) the top-level.
assign PLLOUTGLOBAL = {reference};
assign LOCK = 1'b1;
wire unused = &{{1'b0, BYPASS, RESETB}};
`endif
endmodule
",
                pad = if input == PllInput::Pad {
                    "(* iopad_external_pin *) "
                } else {
                    ""
                }
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::PllSettings;

    #[test]
    fn icebreaker_24_mhz_from_12() {
        let s = PllSettings::find(12_000_000, 24_000_000).unwrap();
        assert_eq!(s.output_hz(12_000_000), 24_000_000);
        assert_eq!((s.divr, s.divf, s.divq, s.filter_range), (0, 63, 5, 1));
    }

    #[test]
    fn every_setting_found_is_exact_and_in_range() {
        for (fin, fout) in [
            (100_000_000, 50_000_000),
            (100_000_000, 25_000_000),
            (12_000_000, 36_000_000),
        ] {
            let s = PllSettings::find(fin, fout).unwrap();
            assert_eq!(s.output_hz(fin), fout as u64, "{fin} -> {fout}");
            assert!(s.divr <= 15 && s.divf <= 127 && (1..=6).contains(&s.divq));
        }
        assert_eq!(
            PllSettings::find(12_000_000, 10_000_000),
            None,
            "below 16 MHz"
        );
    }
}
