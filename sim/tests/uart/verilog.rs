//! The generated Verilog of the 8N1 UART is complete, compiles with iverilog and, co-simulated
//! there, behaves like the model (the rust-hdl blocks are tested in `main.rs`). Needs iverilog:
//! listed as ignored without it, failing under CI (`zo_sim::harness::tools`).

use super::{first_mismatch, random_bytes, CPBS};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use std::path::PathBuf;
use std::process::Command;
use zo_hdl::link::uart_rx::{UartRx, RX_LATENCY};
use zo_hdl::link::uart_tx::UartTx;
use zo_sim::harness::uart::{bits_waveform, frame, waveform, LineDecoder, RxEvent};

fn tx_verilog(cpb: usize) -> String {
    let mut uut = UartTx::new(cpb);
    uut.connect_all();
    generate_verilog(&uut)
}

fn rx_verilog(cpb: usize) -> String {
    let mut uut = UartRx::new(cpb);
    uut.connect_all();
    generate_verilog(&uut)
}

fn work_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("zo_uart_{}_{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Whether iverilog is there (`zo_sim::harness::tools`): when it is not, the Verilog tests
/// are listed as ignored, say so if run anyway, and fail under CI (`CI` set).
fn have_iverilog() -> bool {
    zo_sim::harness::tools::require_tool("iverilog", "apt-get install iverilog")
}

/// Compiles `sources` with `iverilog -g2012`; runs the result with vvp if `run`.
fn iverilog(dir: &std::path::Path, sources: &[(&str, &str)], run: bool) -> String {
    let mut files = Vec::new();
    for (name, text) in sources {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        files.push(p);
    }
    let vvp = dir.join("sim.vvp");
    let out = Command::new("iverilog")
        .arg("-g2012")
        .arg("-o")
        .arg(&vvp)
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "iverilog rejected {:?}:\n{}",
        files,
        String::from_utf8_lossy(&out.stderr)
    );
    if !run {
        return String::new();
    }
    let out = Command::new("vvp")
        .arg("-n")
        .arg(&vvp)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "vvp failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `generate_verilog` succeeds (it panics on unconnected signals) and iverilog compiles it.
#[test]
#[cfg_attr(
    not(tool_iverilog),
    ignore = "needs iverilog (apt-get install iverilog)"
)]
fn verilog_is_complete_and_compiles() {
    for cpb in CPBS {
        let tx = tx_verilog(cpb);
        let rx = rx_verilog(cpb);
        assert!(tx.contains("module top"), "cpb {cpb}: UartTx Verilog");
        assert!(rx.contains("module top"), "cpb {cpb}: UartRx Verilog");
        if have_iverilog() {
            let dir = work_dir(&format!("compile_{cpb}"));
            iverilog(&dir, &[("uart_tx.v", &tx)], false);
            iverilog(&dir, &[("uart_rx.v", &rx)], false);
            std::fs::remove_dir_all(&dir).ok();
        }
    }
}

/// The generated Verilog, simulated by iverilog, matches the model (rust-hdl and Verilog can
/// disagree on widths, which only a co-simulation catches): the transmitter streams 64 bytes
/// back to back exactly as the model waveform, and the receiver gives the model decoder's
/// events on the same cycles for a noisy line with glitches and framing errors.
#[test]
#[cfg_attr(
    not(tool_iverilog),
    ignore = "needs iverilog (apt-get install iverilog)"
)]
fn verilog_cosimulation_matches_the_model() {
    if !have_iverilog() {
        return;
    }
    for cpb in [12, 4] {
        let dir = work_dir(&format!("cosim_{cpb}"));

        let bytes = random_bytes(64, 300 + cpb as u64);
        let hex: String = bytes.iter().map(|b| format!("{b:02x}\n")).collect();
        std::fs::write(dir.join("bytes.hex"), hex).unwrap();
        let n_clocks = (64 * 10 + 2) * cpb;
        let tb = format!(
            "module tb;
  reg clock = 0;
  reg [7:0] mem [0:63];
  integer k = 0;
  integer i;
  wire ready, txd;
  reg send;
  reg [7:0] data;
  top dut(.clock(clock), .data(data), .send(send), .ready(ready), .txd(txd));
  initial begin
    $readmemh(\"bytes.hex\", mem);
    for (i = 0; i < {n_clocks}; i = i + 1) begin
      send = k < 64;
      data = (k < 64) ? mem[k] : 8'h00;
      #1;
      if (send && ready) k = k + 1;
      clock = 1;
      #1 clock = 0;
      #1 $write(\"%0d\", txd);
    end
    $display(\"\");
    $finish;
  end
endmodule
"
        );
        let out = iverilog(
            &dir,
            &[("uart_tx.v", &tx_verilog(cpb)), ("tb.v", &tb)],
            true,
        );
        let got: Vec<bool> = out.trim().chars().map(|ch| ch == '1').collect();
        let expected = waveform(&bytes, cpb as f64, 2 * cpb);
        assert_eq!(got.len(), n_clocks);
        if let Some(i) = first_mismatch(&got, &expected[2 * cpb..]) {
            panic!("cpb {cpb}: Verilog UartTx differs from the model at clock {i}");
        }

        // Receiver: good frames at a baud error, bad stop bits, glitches, random runs.
        let mut rng = ChaCha8Rng::seed_from_u64(400 + cpb as u64);
        let mut line = vec![true; 2 * cpb];
        while line.len() < 20_000 {
            match rng.gen_range(0..4) {
                0 => {
                    let n = rng.gen_range(1..2 * cpb);
                    let level = !line[line.len() - 1];
                    line.resize(line.len() + n, level);
                }
                1 => {
                    let mut f = frame(rng.gen());
                    f[9] = false;
                    line.extend(bits_waveform(&f, cpb as f64, 0.0, cpb));
                }
                _ => {
                    let t = cpb as f64 * rng.gen_range(0.98..1.02);
                    line.extend(waveform(
                        &random_bytes(3, rng.gen()),
                        t,
                        rng.gen_range(0..cpb),
                    ));
                }
            }
        }
        let bin: String = line
            .iter()
            .map(|&l| if l { "1\n" } else { "0\n" })
            .collect();
        std::fs::write(dir.join("line.bin"), bin).unwrap();
        let tb = format!(
            "module tb;
  reg clock = 0;
  reg rxd = 1;
  reg mem [0:{last}];
  integer i;
  wire [7:0] data;
  wire valid, frame_error, busy;
  top dut(.clock(clock), .rxd(rxd), .data(data), .valid(valid), .frame_error(frame_error),
          .busy(busy));
  initial begin
    $readmemb(\"line.bin\", mem);
    for (i = 0; i < {n}; i = i + 1) begin
      rxd = mem[i];
      #1 clock = 1;
      #1 clock = 0;
      #1;
      if (valid) $display(\"V %0d %0d\", i, data);
      if (frame_error) $display(\"E %0d\", i);
    end
    $finish;
  end
endmodule
",
            last = line.len() - 1,
            n = line.len()
        );
        let out = iverilog(
            &dir,
            &[("uart_rx.v", &rx_verilog(cpb)), ("tb.v", &tb)],
            true,
        );
        let got: Vec<(usize, RxEvent)> = out
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let edge: usize = f[1].parse().unwrap();
                let e = match f[0] {
                    "V" => RxEvent::Byte(f[2].parse().unwrap()),
                    "E" => RxEvent::FrameError,
                    other => panic!("unexpected simulator output {other:?}"),
                };
                (edge - RX_LATENCY, e)
            })
            .collect();
        let mut model = LineDecoder::decode(cpb, &line);
        // Events decided in the last RX_LATENCY samples are not yet visible in the Verilog run.
        model.retain(|&(n, _)| n + RX_LATENCY < line.len());
        assert!(model.len() > 50, "cpb {cpb}: the line should give events");
        assert_eq!(
            got, model,
            "cpb {cpb}: Verilog UartRx differs from the model"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
