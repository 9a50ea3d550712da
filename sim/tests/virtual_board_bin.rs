//! The standalone `zo-virtual-board` identifies itself by its backend, with the names of
//! docs/PROTOCOL.md 4.1 (`virtual-model`, `virtual-rtl`, `virtual-top`), over a real PTY.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use zo_proto::{encode_frame, FrameDecoder, Request, Response};

/// Kills the board (the child this test started) when the test ends, even on a panic.
struct Board(Child);

impl Drop for Board {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn identify(backend: &str) -> zo_proto::Identity {
    identify_with(backend, &[]).0
}

/// Starts a board with `extra` flags and identifies it; the board keeps running.
fn identify_with(backend: &str, extra: &[&str]) -> (zo_proto::Identity, Board) {
    let child = Command::new(env!("CARGO_BIN_EXE_zo-virtual-board"))
        .args(["--shape", "4-3-2", "--capacity", "8", "--backend", backend])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start zo-virtual-board");
    let mut board = Board(child);
    let mut path = String::new();
    BufReader::new(board.0.stdout.take().unwrap())
        .read_line(&mut path)
        .expect("the board prints its path");
    let path = path.trim();
    let mut port = serialport::new(path, 1_000_000)
        .timeout(Duration::from_millis(100))
        .open_native()
        .unwrap_or_else(|e| panic!("open {path}: {e}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut rx = FrameDecoder::new();
    let mut buf = [0u8; 256];
    // Retransmit (same seq: replay makes that safe) until the answer arrives.
    let mut next_send = Instant::now();
    loop {
        assert!(Instant::now() < deadline, "{backend}: no identity");
        if Instant::now() >= next_send {
            port.write_all(&encode_frame(&Request::Identify.to_packet(5)))
                .expect("write");
            next_send = Instant::now() + Duration::from_secs(5);
        }
        let n = match port.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => continue,
            Err(e) => panic!("read {path}: {e}"),
        };
        for &b in &buf[..n] {
            if let Some(Ok(p)) = rx.push(b) {
                if let Ok(Response::Identity(id)) = Response::decode(p.kind, &p.payload) {
                    return (id, board);
                }
            }
        }
    }
}

#[test]
fn standalone_board_reports_its_backend() {
    for (backend, name) in [
        ("model", "virtual-model"),
        ("rtl", "virtual-rtl"),
        ("top", "virtual-top"),
    ] {
        let id = identify(backend);
        assert_eq!(id.name, name, "--backend {backend}");
        assert_eq!(
            (id.n_in, id.n_hid, id.n_out),
            (4, 3, 2),
            "--backend {backend}"
        );
        assert_eq!(
            id.build_id, 1,
            "--backend {backend}: virtual boards are build 1"
        );
        assert_eq!(id.version, zo_proto::PROTOCOL_VERSION);
    }
}

/// `--vcd` on the complete device: the waveform of the identify exchange is complete once
/// the board is stopped with SIGTERM, and holds the UART's signals only.
#[test]
fn top_backend_writes_a_vcd_when_stopped() {
    let dir = std::env::temp_dir().join(format!("zo-vboard-vcd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("top.vcd");
    let _ = std::fs::remove_file(&file);
    let path = file.display().to_string();
    let (_, mut board) = identify_with(
        "top",
        &["--vcd", &path, "--vcd-signals", "receiver,transmitter"],
    );
    assert!(
        !file.exists(),
        "the file appears only when the recording ends"
    );
    let pid = board.0.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = board.0.wait().expect("the board exits");
    assert!(status.success(), "stopped by SIGTERM: {status}");
    let text = std::fs::read_to_string(&file).expect("the VCD was completed");
    assert!(text.contains("$timescale 1ns $end") && text.contains("$enddefinitions $end"));
    let vars: Vec<&str> = text.lines().filter(|l| l.starts_with("$var")).collect();
    assert!(!vars.is_empty());
    assert!(
        text.contains("$scope module receiver $end")
            && text.contains("$scope module transmitter $end"),
        "{}",
        &text[..2000.min(text.len())]
    );
    assert!(!text.contains("$scope module learner $end"));
    assert!(text.lines().filter(|l| l.starts_with('#')).count() > 10);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn vcd_on_the_model_backend_is_refused() {
    let o = Command::new(env!("CARGO_BIN_EXE_zo-virtual-board"))
        .args(["--backend", "model", "--vcd", "/tmp/zo-never.vcd"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: --vcd records the RTL"), "{err}");
    assert!(!std::path::Path::new("/tmp/zo-never.vcd").exists());
}
