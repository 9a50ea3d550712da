//! Waveforms on demand: `zo train --board rtl --vcd FILE` writes a VCD file GTKWave opens
//! (checked by parsing it: header, timescale, scopes, the selected signals only, value changes
//! inside the cycle window, well-formed values) and a GTKWave save file whose signals are in
//! it.
mod common;

use common::*;
use std::collections::HashMap;

/// A parsed VCD file.
#[derive(Debug, Default)]
struct Vcd {
    timescale: String,
    /// Full dotted path -> (code, width, kind).
    vars: HashMap<String, (String, usize, String)>,
    /// (time, code, value).
    changes: Vec<(u64, String, String)>,
}

/// Parses the subset of VCD that simulators write; panics with the line on anything else.
fn parse(text: &str) -> Vcd {
    let mut v = Vcd::default();
    let mut scope: Vec<String> = Vec::new();
    let mut lines = text.lines();
    let mut ended = false;
    for line in lines.by_ref() {
        let t: Vec<&str> = line.split_whitespace().collect();
        match t.first().copied() {
            Some("$timescale") => v.timescale = t[1..t.len() - 1].join(" "),
            Some("$scope") => scope.push(t[2].to_string()),
            Some("$upscope") => {
                scope.pop().expect("balanced scopes");
            }
            Some("$var") => {
                assert_eq!(t.len(), 6, "bad $var: {line}");
                let path = format!("{}.{}", scope.join("."), t[4]);
                v.vars
                    .insert(path, (t[3].to_string(), t[2].parse().unwrap(), t[1].into()));
            }
            Some("$enddefinitions") => {
                ended = true;
                break;
            }
            Some("$date" | "$version" | "$comment") | None => {}
            _ => panic!("unexpected header line {line:?}"),
        }
    }
    assert!(ended && scope.is_empty(), "header not closed");
    let mut time = None;
    for line in lines {
        if let Some(t) = line.strip_prefix('#') {
            time = Some(t.parse::<u64>().expect("a time"));
            continue;
        }
        let time = time.expect("a value before the first time");
        let (value, code) = match line.as_bytes()[0] {
            b'b' | b's' => {
                let (val, code) = line.split_once(' ').expect("vector value and code");
                (val.to_string(), code.to_string())
            }
            _ => (line[..1].to_string(), line[1..].to_string()),
        };
        v.changes.push((time, code, value));
    }
    v
}

#[test]
fn train_on_the_rtl_board_writes_a_vcd_of_the_selected_signals_in_the_window() {
    let dir = TempDir::new("vcd");
    let (from, to) = (2000u64, 6000u64);
    let o = run_in(
        dir.path(),
        &[
            "train",
            "--board",
            "rtl",
            "--shape",
            "5-4-3",
            "--epochs",
            "1",
            "--vcd",
            "run.vcd",
            "--vcd-from",
            &from.to_string(),
            "--vcd-to",
            &to.to_string(),
            "--vcd-signals",
            "learner.sequencer.phase,loss,loss_plus",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(dir.join("run.vcd")).expect("run.vcd written");
    let v = parse(&text);
    assert_eq!(v.timescale, "1ns");
    // Only the selected signals, and the key ones among them.
    for path in v.vars.keys() {
        assert!(
            path.starts_with("learner.sequencer.phase.")
                || path.starts_with("learner.loss.")
                || path == "learner.loss_plus"
                // The sequencer's port of the same name (it keeps `L+`).
                || path == "learner.sequencer.loss_plus",
            "{path} was not selected"
        );
    }
    for key in [
        "learner.sequencer.phase.q",
        "learner.loss.loss",
        "learner.loss_plus",
    ] {
        assert!(v.vars.contains_key(key), "{key} missing");
    }
    // Values: inside the window, of declared signals, as wide as declared.
    let by_code: HashMap<&str, &(String, usize, String)> =
        v.vars.values().map(|var| (var.0.as_str(), var)).collect();
    assert!(v.changes.len() > 100, "{} changes", v.changes.len());
    assert_eq!(v.changes[0].0, from, "the window opens with every value");
    for (time, code, value) in &v.changes {
        assert!((from..=to).contains(time), "change at {time}");
        let (_, width, kind) = by_code.get(code.as_str()).expect("a declared code");
        match kind.as_str() {
            "string" => assert!(value.starts_with('s'), "{value}"),
            _ if *width == 1 => assert!(["0", "1", "x", "z"].contains(&value.as_str())),
            _ => assert_eq!(value.len(), 1 + width, "{code} {value}"),
        }
    }
    // The learner moves through its phases inside the window.
    let phase = &v.vars["learner.sequencer.phase.q"].0;
    let phases: std::collections::BTreeSet<&str> = v
        .changes
        .iter()
        .filter(|c| &c.1 == phase)
        .map(|c| c.2.as_str())
        .collect();
    assert!(phases.len() >= 3, "phases seen: {phases:?}");

    // The save file names signals of the dump (vectors with their range).
    let save = std::fs::read_to_string(dir.join("run.gtkw")).expect("run.gtkw written");
    assert!(save.contains("[dumpfile]") && save.contains("run.vcd"));
    let shown: Vec<&str> = save
        .lines()
        .filter(|l| !l.starts_with(['[', '@', '-']))
        .collect();
    assert!(shown.contains(&"learner.sequencer.phase.q"), "{save}");
    for s in shown {
        let name = s.split('[').next().unwrap();
        assert!(v.vars.contains_key(name), "{s} is not in the dump");
    }
    assert!(
        entries(dir.path()).iter().all(|e| !e.ends_with(".part")),
        "a temporary file was left"
    );
}
