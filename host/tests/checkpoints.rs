//! A run killed, failing to write (a full disk) or signalled at each step of a checkpoint,
//! and runs that compete for one directory: the run directory stays resumable, and resuming
//! ends with exactly the weights of an undisturbed run.

mod common;

use common::*;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const SMALL: &[&str] = &["--shape", "4-4-3", "--seed", "3"];

fn train_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["train"];
    v.extend_from_slice(SMALL);
    v.extend_from_slice(extra);
    v
}

/// The weights_sha256 of an undisturbed run of `epochs` epochs.
fn reference(dir: &Path, epochs: u32) -> String {
    let out = format!("ref-{epochs}");
    let e = epochs.to_string();
    let mut args = train_args(&["--epochs", &e, "--out", &out]);
    args.remove(0);
    train_json(dir, &args)["weights_sha256"]
        .as_str()
        .unwrap()
        .to_string()
}

fn resume_sha(dir: &Path, run: &str, epochs: u32) -> String {
    let e = epochs.to_string();
    train_json(dir, &["--resume", run, "--epochs", &e])["weights_sha256"]
        .as_str()
        .unwrap()
        .to_string()
}

fn one_error_line(o: &std::process::Output) -> String {
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "not one line: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    lines[0].to_string()
}

#[test]
fn kill_or_full_disk_at_each_checkpoint_step_resumes_to_the_same_weights() {
    let dir = TempDir::new("ckpt");
    let want = reference(dir.path(), 4);
    let steps = ["line", "half-line", "npy", "json", "readable", "done"];
    for action in ["kill", "fail"] {
        for step in steps {
            if action == "fail" && step == "done" {
                continue;
            }
            let name = format!("{action}-{step}");
            let fault = format!("{action}:{step}:3");
            let o = zo()
                .args(train_args(&["--epochs", "4", "--out", &name]))
                .env("ZO_FAULT", &fault)
                .current_dir(dir.path())
                .output()
                .unwrap();
            let partial = format!(".{name}.partial");
            if action == "kill" {
                use std::os::unix::process::ExitStatusExt;
                assert_eq!(o.status.signal(), Some(9), "{fault}: {}", stderr(&o));
            } else {
                assert_eq!(o.status.code(), Some(1), "{fault}");
                let line = one_error_line(&o);
                for f in [
                    "No space left on device",
                    "saved up to epoch 2",
                    &format!("--resume {partial}"),
                ] {
                    assert!(line.contains(f), "{fault}: `{f}` missing from {line}");
                }
            }
            assert!(dir.join(&partial).is_dir(), "{fault}: no {partial}");
            assert!(!dir.join(&name).exists(), "{fault}: the target exists");
            let got = resume_sha(dir.path(), &partial, 4);
            assert_eq!(got, want, "{fault}: resumed weights differ");
            let left: Vec<String> = entries(&dir.join(&name))
                .into_iter()
                .filter(|e| e.ends_with(".tmp"))
                .collect();
            assert!(left.is_empty(), "{fault}: left {left:?}");
            let log = std::fs::read_to_string(dir.join(&name).join("epochs.jsonl")).unwrap();
            assert_eq!(log.lines().count(), 4, "{fault}: {log}");
        }
    }
    // Killed before the first epoch was committed: nothing to resume, and a new run into
    // the same directory starts over.
    let o = zo()
        .args(train_args(&["--epochs", "4", "--out", "first"]))
        .env("ZO_FAULT", "kill:line:1")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.code().is_none());
    let o = run_in(dir.path(), &["train", "--resume", ".first.partial"]);
    assert!(one_error_line(&o).contains("no completed epoch"));
    let mut args = train_args(&["--epochs", "4", "--out", "first"]);
    args.remove(0);
    assert_eq!(
        train_json(dir.path(), &args)["weights_sha256"],
        want.as_str()
    );
}

#[test]
fn resume_tolerates_duplicate_and_cut_lines_and_checks_the_config() {
    let dir = TempDir::new("ckpt-log");
    let want = reference(dir.path(), 5);
    reference(dir.path(), 3);
    let log = dir.join("ref-3/epochs.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Epoch 2 twice and a line cut short at the end.
    let edited = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        lines[0],
        lines[1],
        lines[1],
        lines[2],
        lines[2],
        &lines[2][..20]
    );
    std::fs::write(&log, edited).unwrap();
    assert_eq!(resume_sha(dir.path(), "ref-3", 5), want);
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 5, "{text}");

    // A config edited to values the flags refuse.
    for (key, bad, fragment) in [
        ("sigma", "0", "sigma 0 is outside 1..=32767"),
        ("eta_shift", "40", "eta_shift 40 is outside 0..=31"),
        ("batch", "0", "batch 0 is outside"),
    ] {
        let cfg = dir.join("ref-5/config.json");
        let text = std::fs::read_to_string(&cfg).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v[key] = serde_json::Value::Number(bad.parse::<u64>().unwrap().into());
        std::fs::write(&cfg, v.to_string()).unwrap();
        let o = run_in(dir.path(), &["train", "--resume", "ref-5", "--epochs", "6"]);
        assert_eq!(o.status.code(), Some(1));
        let line = one_error_line(&o);
        assert!(line.contains(fragment), "{line}");
        std::fs::write(&cfg, text).unwrap();
    }
    assert!(!dir.join(".ref-5.partial").exists());
}

fn spawn(dir: &Path, args: &[&str]) -> Child {
    zo().args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let t0 = Instant::now();
    while !cond() {
        assert!(t0.elapsed() < Duration::from_secs(60), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn epochs_done(p: &Path) -> usize {
    std::fs::read_to_string(p.join("epochs.jsonl"))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[test]
fn a_live_run_is_locked_and_signals_stop_it_resumably() {
    for (sig, name) in [(libc::SIGTERM, "SIGTERM"), (libc::SIGHUP, "SIGHUP")] {
        let dir = TempDir::new("ckpt-lock");
        let out = format!("live-{name}");
        let partial = format!(".{out}.partial");
        let child = spawn(
            dir.path(),
            &train_args(&["--epochs", "50000", "--out", &out]),
        );
        let pid = child.id();
        wait_for("the first epoch", || epochs_done(&dir.join(&partial)) >= 1);
        // A second writer into the same run, and a resume of the live run, are refused.
        for args in [
            train_args(&["--epochs", "3", "--out", &out]),
            vec!["train", "--resume", &partial, "--epochs", "50001"],
        ] {
            let o = run_in(dir.path(), &args);
            assert_eq!(o.status.code(), Some(1), "{args:?}");
            let line = one_error_line(&o);
            assert!(
                line.contains(&format!("in use by another zo (pid {pid})")),
                "{line}"
            );
        }
        // SAFETY: signalling the child this test started.
        unsafe { libc::kill(pid as i32, sig) };
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(130), "{name}: {}", stderr(&o));
        let line = one_error_line(&o);
        assert!(line.contains(&format!("interrupted ({name})")), "{line}");
        assert!(line.contains(&format!("--resume {partial}")), "{line}");
        let done = epochs_done(&dir.join(&partial)) as u32;
        let want = reference(dir.path(), done + 2);
        assert_eq!(resume_sha(dir.path(), &partial, done + 2), want, "{name}");
    }
}

#[test]
fn runs_started_at_once_into_one_directory_end_with_one_run() {
    let dir = TempDir::new("ckpt-race");
    let want = reference(dir.path(), 6);
    let children: Vec<Child> = (0..3)
        .map(|_| {
            spawn(
                dir.path(),
                &train_args(&["--epochs", "6", "--out", "same", "--json"]),
            )
        })
        .collect();
    let outs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let winners: Vec<_> = outs.iter().filter(|o| o.status.success()).collect();
    assert_eq!(winners.len(), 1, "exactly one run wins");
    assert_eq!(
        last_json(&stdout(winners[0]))["weights_sha256"],
        want.as_str()
    );
    for o in outs.iter().filter(|o| !o.status.success()) {
        assert_eq!(o.status.code(), Some(1));
        let line = one_error_line(o);
        assert!(
            line.contains("in use by another zo") || line.contains("already exists"),
            "{line}"
        );
    }
    assert!(dir.join("same/weights.npy").is_file());
    assert!(!dir.join(".same.partial").exists());
    assert!(!dir.join(".same.lock").exists());
    // --resume NAME of a run that never finished points to its partial directory.
    let o = zo()
        .args(train_args(&["--epochs", "4", "--out", "cut"]))
        .env("ZO_FAULT", "kill:line:2")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.code().is_none());
    let o = run_in(dir.path(), &["train", "--resume", "cut"]);
    let line = one_error_line(&o);
    assert!(line.contains("--resume .cut.partial"), "{line}");
}

#[test]
fn infer_split_refuses_a_changed_dataset_file() {
    let dir = TempDir::new("ckpt-split");
    dir.write("iris.csv", iris_csv(false));
    ok_in(
        dir.path(),
        &[
            "train",
            "--dataset",
            "iris.csv",
            "--shape",
            "4-4-3",
            "--epochs",
            "2",
            "--out",
            "r",
        ],
    );
    ok_in(
        dir.path(),
        &["infer", "--weights", "r", "--split", "test", "--quiet"],
    );
    // One row changed: the run's test rows can no longer be picked.
    let text = iris_csv(false).replacen("5.1,3.5", "5.2,3.5", 1);
    dir.write("iris.csv", text);
    let o = run_in(dir.path(), &["infer", "--weights", "r", "--split", "test"]);
    assert_eq!(o.status.code(), Some(1));
    let line = one_error_line(&o);
    assert!(
        line.contains("sha256 differs") && line.contains("drop --split"),
        "{line}"
    );
}
