//! `zo flash`: the programmer command per board, and clear errors.
use std::process::Command;

fn zo(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zo"))
        .args(args)
        .output()
        .expect("run zo");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn dry_run_prints_each_boards_programmer_command() {
    for (board, want) in [
        ("icebreaker", "iceprog build/icebreaker/top.bin"),
        ("alchitry-cu", "iceprog build/alchitry-cu/top.bin"),
        ("ulx3s", "openFPGALoader -b ulx3s build/ulx3s/top.bit"),
    ] {
        let (code, out, _) = zo(&["flash", "--board", board, "--dry-run"]);
        assert_eq!((code, out.trim()), (0, want));
    }
    let (code, out, _) = zo(&[
        "flash",
        "--board",
        "icebreaker",
        "--bitstream",
        "x.bin",
        "--dry-run",
    ]);
    assert_eq!((code, out.trim()), (0, "iceprog x.bin"));
}

#[test]
fn bad_board_and_missing_bitstream_are_explained() {
    let (code, _, err) = zo(&["flash", "--board", "nexys"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("unknown board 'nexys'") && err.contains("icebreaker"),
        "{err}"
    );
    let (code, _, err) = zo(&[
        "flash",
        "--board",
        "icebreaker",
        "--bitstream",
        "/nonexistent/top.bin",
    ]);
    assert_ne!(code, 0);
    assert!(
        err.contains("no bitstream") && err.contains("cargo xtask synth"),
        "{err}"
    );
}
