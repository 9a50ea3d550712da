//! Waveforms of the directly stepped rust-hdl harnesses ([`crate::harness::rtl::RtlLearner`],
//! [`crate::device::uart_device::UartDevice`]) as a VCD file: the signals under the selected hierarchy
//! prefixes, sampled once per clock cycle inside a cycle window.
//!
//! rust-hdl's own VCD probe records every signal of the design at every step of its threaded
//! simulator and panics on write errors; this writer visits the same `Probe` hierarchy but
//! keeps only what was asked for, so a file of a long run stays small. One time unit is one
//! clock cycle (`$timescale 1ns`: cycle n is at n ns). The file is written under a temporary
//! name and renamed when the recording ends, so an interrupted run leaves no half-written file
//! at the requested path.
use rust_hdl::prelude::{Atom, Block, Probe, VCDValue};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// What to record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VcdSpec {
    pub path: PathBuf,
    /// First and last clock cycle recorded (inclusive; `None`: to the end).
    pub from: u64,
    pub to: Option<u64>,
    /// Hierarchy prefixes (dotted scope paths such as `learner` or `loss.exp2`, matched at any
    /// depth on whole names); empty records everything.
    pub signals: Vec<String>,
}

/// The waveform flags, shared by `zo-virtual-board` and `zo`.
#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Waveforms (RTL boards only)")]
pub struct VcdArgs {
    /// Write the RTL's signals to this VCD file (GTKWave opens it; one time unit is one clock
    /// cycle).
    #[arg(long, value_name = "FILE")]
    pub vcd: Option<PathBuf>,
    /// First clock cycle recorded [default: 0].
    #[arg(long, value_name = "CYCLE")]
    pub vcd_from: Option<u64>,
    /// Last clock cycle recorded [default: the end of the run].
    #[arg(long, value_name = "CYCLE")]
    pub vcd_to: Option<u64>,
    /// Record only the signals under these hierarchy prefixes, comma-separated (for example
    /// `learner.sequencer.phase,loss`); matched on whole names at any depth [default: all].
    #[arg(long, value_name = "PREFIXES")]
    pub vcd_signals: Option<String>,
}

impl VcdArgs {
    /// The recording the flags ask for, or `None`; a window or prefix without `--vcd`, or a
    /// window that ends before it starts, is an error.
    pub fn spec(&self) -> Result<Option<VcdSpec>, VcdError> {
        let Some(path) = &self.vcd else {
            if self.vcd_from.is_some() || self.vcd_to.is_some() || self.vcd_signals.is_some() {
                return Err(VcdError::NoFile);
            }
            return Ok(None);
        };
        let spec = VcdSpec {
            path: path.clone(),
            from: self.vcd_from.unwrap_or(0),
            to: self.vcd_to,
            signals: self
                .vcd_signals
                .as_deref()
                .map(VcdSpec::parse_signals)
                .unwrap_or_default(),
        };
        spec.check()?;
        Ok(Some(spec))
    }
}

/// Why a recording cannot start.
#[derive(Debug, thiserror::Error)]
pub enum VcdError {
    #[error("--vcd-from {from} is after --vcd-to {to}")]
    Window { from: u64, to: u64 },
    #[error("cannot write the waveform file {path}: {reason}")]
    Io {
        path: String,
        reason: std::io::Error,
    },
    #[error("--vcd-from, --vcd-to and --vcd-signals need --vcd FILE")]
    NoFile,
    #[error("--vcd-signals {0}: no signal of the design is under these prefixes")]
    NoSignals(String),
}

impl VcdSpec {
    /// Checks the window; the path is checked when the file is created.
    pub fn check(&self) -> Result<(), VcdError> {
        match self.to {
            Some(to) if to < self.from => Err(VcdError::Window {
                from: self.from,
                to,
            }),
            _ => Ok(()),
        }
    }

    /// Parses a comma-separated list of prefixes.
    pub fn parse_signals(list: &str) -> Vec<String> {
        list.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }

    fn selects(&self, path: &str) -> bool {
        self.signals.is_empty()
            || self.signals.iter().any(|p| {
                let at_start = path == p || path.starts_with(&format!("{p}."));
                let inside = path.ends_with(&format!(".{p}")) || path.contains(&format!(".{p}."));
                at_start || inside
            })
    }
}

/// The learner's key signals, grouped, relative to its scope: what the GTKWave save file
/// written next to a recording shows (those that were recorded).
pub const KEY_SIGNALS: &[(&str, &[&str])] = &[
    (
        "Control",
        &[
            "start",
            "op",
            "busy",
            "done",
            "sequencer.phase.q",
            "sequencer.pass_minus",
            "sequencer.mode_update",
            "sequencer.mode_apply",
        ],
    ),
    (
        "Sweep (S0)",
        &[
            "sequencer.s0_layer",
            "sequencer.s0_row",
            "sequencer.s0_col",
            "sequencer.s0_addr",
            "sequencer.s0_sign",
        ],
    ),
    (
        "Datapath (S1-S5)",
        &[
            "pipeline.mult_a.q",
            "pipeline.mult_b.q",
            "pipeline.product",
            "pipeline.acc.q",
            "pipeline.pre_act.q",
            "pipeline.h_value",
            "pipeline.z_value",
            "step.w_we",
            "step.w_wdata",
        ],
    ),
    (
        "Losses and step",
        &["loss_plus", "loss_minus", "step.step", "op_loss"],
    ),
    (
        "Generators",
        &[
            "probe_seed",
            "sequencer.noise.state",
            "step.rounding.state",
            "step.dither",
        ],
    ),
    (
        "Counters",
        &["op_saturations", "op_zero_updates", "batch_pos"],
    ),
];

/// A GTKWave save file for `vcd` showing the [`KEY_SIGNALS`] among `recorded` (path, bits,
/// whether a string), starting at cycle `from`.
fn gtkw(vcd: &Path, from: u64, recorded: &[(String, usize, bool)]) -> String {
    let dump = std::fs::canonicalize(vcd).unwrap_or_else(|_| vcd.to_path_buf());
    let mut out = format!(
        "[*] zo: the learner's key signals (one time unit is one clock cycle)\n\
         [dumpfile] \"{}\"\n[timestart] {from}\n",
        dump.display()
    );
    for (group, names) in KEY_SIGNALS {
        let found: Vec<&(String, usize, bool)> = names
            .iter()
            .filter_map(|n| {
                recorded.iter().find(|(p, ..)| {
                    p.ends_with(&format!("learner.{n}")) && !p.contains(&format!("learner.{n}."))
                })
            })
            .collect();
        if found.is_empty() {
            continue;
        }
        out.push_str(&format!("@800200\n-{group}\n"));
        for (path, bits, string) in found {
            // Display: binary for single bits, hex for vectors; GTKWave names a vector
            // `name[msb:0]`.
            match (bits, string) {
                (_, true) => out.push_str(&format!("@28\n{path}\n")),
                (1, _) => out.push_str(&format!("@28\n{path}\n")),
                (b, _) => out.push_str(&format!("@22\n{path}[{}:0]\n", b - 1)),
            }
        }
        out.push_str(&format!("@1000200\n-{group}\n"));
    }
    out
}

/// One recorded signal.
struct Var {
    code: String,
    last: Option<String>,
}

/// A recording in progress.
pub struct VcdRecorder {
    spec: VcdSpec,
    tmp: PathBuf,
    out: Option<BufWriter<File>>,
    vars: HashMap<usize, Var>,
    /// (path, bits, string) of every recorded signal, for the save file.
    recorded: Vec<(String, usize, bool)>,
    error: Option<std::io::Error>,
}

/// Walks the hierarchy with dotted paths.
struct Walk<'a, F: FnMut(&str, &dyn Atom)> {
    scope: Vec<String>,
    on_atom: &'a mut F,
}

impl<F: FnMut(&str, &dyn Atom)> Probe for Walk<'_, F> {
    fn visit_start_scope(&mut self, name: &str, _node: &dyn Block) {
        self.scope.push(name.to_string());
    }
    fn visit_start_namespace(&mut self, name: &str, _node: &dyn Block) {
        self.scope.push(name.to_string());
    }
    fn visit_atom(&mut self, name: &str, signal: &dyn Atom) {
        let path = format!("{}.{name}", self.scope.join("."));
        (self.on_atom)(&path, signal);
    }
    fn visit_end_namespace(&mut self, _name: &str, _node: &dyn Block) {
        self.scope.pop();
    }
    fn visit_end_scope(&mut self, _name: &str, _node: &dyn Block) {
        self.scope.pop();
    }
}

fn walk(uut: &dyn Block, top: &str, mut on_atom: impl FnMut(&str, &dyn Atom)) {
    let mut w = Walk {
        scope: Vec::new(),
        on_atom: &mut on_atom,
    };
    uut.accept(top, &mut w);
}

/// The VCD identifier of the n-th variable (printable ASCII, base 94).
fn code(mut n: usize) -> String {
    let mut s = String::new();
    loop {
        s.push((b'!' + (n % 94) as u8) as char);
        n /= 94;
        if n == 0 {
            return s;
        }
    }
}

/// A value in VCD syntax, without the identifier; `None` for composite values.
fn value(v: &VCDValue) -> Option<String> {
    match v {
        VCDValue::Single(s) => Some(s.to_string()),
        VCDValue::Vector(bits) if bits.len() == 1 => Some(bits[0].to_string()),
        VCDValue::Vector(bits) => Some(format!(
            "b{} ",
            bits.iter().map(|b| b.to_string()).collect::<String>()
        )),
        VCDValue::String(t) => Some(format!("s{} ", t.replace(' ', "_"))),
        VCDValue::Composite(_) => None,
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.part", std::process::id()));
    path.with_file_name(name)
}

impl VcdRecorder {
    /// Starts a recording of `uut`, whose top scope is called `top`: checks the window,
    /// creates the temporary file and writes the header.
    pub fn create(spec: &VcdSpec, uut: &dyn Block, top: &str) -> Result<Self, VcdError> {
        spec.check()?;
        let io = |reason| VcdError::Io {
            path: spec.path.display().to_string(),
            reason,
        };
        // Scopes as a tree of (path, signals) in visiting order.
        let mut vars: HashMap<usize, Var> = HashMap::new();
        let mut decls: Vec<(Vec<String>, String, usize, bool, String)> = Vec::new();
        walk(uut, top, |path, atom| {
            if vars.contains_key(&atom.id()) || !spec.selects(path) {
                return;
            }
            let Some(v) = value(&atom.vcd()) else {
                return;
            };
            let c = code(vars.len());
            let mut parts: Vec<String> = path.split('.').map(String::from).collect();
            let name = parts.pop().unwrap_or_default();
            decls.push((parts, name, atom.bits(), v.starts_with('s'), c.clone()));
            vars.insert(
                atom.id(),
                Var {
                    code: c,
                    last: None,
                },
            );
        });
        if vars.is_empty() {
            return Err(VcdError::NoSignals(spec.signals.join(",")));
        }
        let tmp = tmp_path(&spec.path);
        let file = File::create(&tmp).map_err(io)?;
        let mut out = BufWriter::new(file);
        let recorded = decls
            .iter()
            .map(|(scope, name, bits, string, _)| {
                (format!("{}.{name}", scope.join(".")), *bits, *string)
            })
            .collect();
        let mut header = String::new();
        header.push_str("$date zo $end\n$version zo_sim::harness::vcd $end\n");
        header.push_str("$comment one time unit is one clock cycle $end\n$timescale 1ns $end\n");
        let mut open: Vec<String> = Vec::new();
        for (scope, name, bits, string, c) in &decls {
            let common = open.iter().zip(scope).take_while(|(a, b)| a == b).count();
            while open.len() > common {
                header.push_str("$upscope $end\n");
                open.pop();
            }
            for s in &scope[common..] {
                header.push_str(&format!("$scope module {s} $end\n"));
                open.push(s.clone());
            }
            let kind = if *string { "string" } else { "wire" };
            let width = if *string { 1 } else { *bits };
            header.push_str(&format!("$var {kind} {width} {c} {name} $end\n"));
        }
        for _ in &open {
            header.push_str("$upscope $end\n");
        }
        header.push_str("$enddefinitions $end\n");
        if let Err(e) = out.write_all(header.as_bytes()) {
            let _ = std::fs::remove_file(&tmp);
            return Err(io(e));
        }
        Ok(Self {
            spec: spec.clone(),
            tmp,
            out: Some(out),
            vars,
            recorded,
            error: None,
        })
    }

    /// Whether `cycle` lies in the window.
    pub fn wants(&self, cycle: u64) -> bool {
        cycle >= self.spec.from && !matches!(self.spec.to, Some(to) if cycle > to)
    }

    /// Records the values of the selected signals at `cycle` (those that changed).
    pub fn sample(&mut self, cycle: u64, uut: &dyn Block, top: &str) {
        if !self.wants(cycle) || self.error.is_some() {
            return;
        }
        let Some(out) = self.out.as_mut() else {
            return;
        };
        let mut text = String::new();
        let vars = &mut self.vars;
        walk(uut, top, |_, atom| {
            let Some(var) = vars.get_mut(&atom.id()) else {
                return;
            };
            let Some(v) = value(&atom.vcd()) else {
                return;
            };
            if var.last.as_deref() != Some(v.as_str()) {
                text.push_str(&v);
                text.push_str(&var.code);
                text.push('\n');
                var.last = Some(v);
            }
        });
        if !text.is_empty() {
            if let Err(e) = write!(out, "#{cycle}\n{text}") {
                self.error = Some(e);
            }
        }
    }

    /// Ends the recording: flushes the file and moves it to the requested path, and writes
    /// the GTKWave save file next to it (`FILE` with the extension `.gtkw`).
    pub fn finish(mut self) -> Result<PathBuf, VcdError> {
        self.close()
    }

    fn close(&mut self) -> Result<PathBuf, VcdError> {
        let io = |reason| VcdError::Io {
            path: self.spec.path.display().to_string(),
            reason,
        };
        let Some(mut out) = self.out.take() else {
            return Ok(self.spec.path.clone());
        };
        let result = match self.error.take() {
            Some(e) => Err(e),
            None => out
                .flush()
                .and_then(|_| std::fs::rename(&self.tmp, &self.spec.path)),
        };
        if let Err(e) = result {
            let _ = std::fs::remove_file(&self.tmp);
            return Err(io(e));
        }
        let save = self.spec.path.with_extension("gtkw");
        let text = gtkw(&self.spec.path, self.spec.from, &self.recorded);
        let tmp = tmp_path(&save);
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, &save))
            .map_err(|reason| VcdError::Io {
                path: save.display().to_string(),
                reason,
            })?;
        Ok(self.spec.path.clone())
    }
}

impl Drop for VcdRecorder {
    /// A recording dropped with its harness (a virtual board that stops) is completed.
    fn drop(&mut self) {
        if let Err(e) = self.close() {
            eprintln!("error: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_whole_names_at_any_depth() {
        let spec = VcdSpec {
            signals: VcdSpec::parse_signals("learner, loss"),
            ..VcdSpec::default()
        };
        assert!(spec.selects("learner.sequencer.phase.q"));
        assert!(spec.selects("device.engine.learner.busy"));
        assert!(spec.selects("x.loss.state.q"));
        assert!(!spec.selects("x.loss_plus"));
        assert!(!spec.selects("device.engine.status"));
        assert_eq!(code(0), "!");
        assert_eq!(code(94), "!\"");
    }
}
