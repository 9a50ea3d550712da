//! Helpers for driving the `zo` binary as a user would.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The binary, with the environment cleared of the variables it reads.
pub fn zo() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_zo"));
    c.env_remove("ZO_PORT").env_remove("ZO_BAUD");
    c
}

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "zo-test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }

    /// Writes a file and returns its path as a string.
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).expect("write test file");
        p.display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `zo ARGS` in `cwd`.
pub fn run_in(cwd: &Path, args: &[&str]) -> Output {
    zo().args(args)
        .current_dir(cwd)
        .output()
        .expect("the zo binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs and requires success; returns stdout.
pub fn ok_in(cwd: &Path, args: &[&str]) -> String {
    let o = run_in(cwd, args);
    assert!(
        o.status.success(),
        "zo {} failed ({:?}):\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        o.status.code(),
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

/// The last stdout line as JSON.
pub fn last_json(out: &str) -> serde_json::Value {
    let line = out.lines().last().unwrap_or("");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("last line is not JSON ({e}): {line}"))
}

/// Runs `zo train ... --json` and returns the summary.
pub fn train_json(cwd: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["train"];
    all.extend_from_slice(args);
    all.push("--json");
    last_json(&ok_in(cwd, &all))
}

/// Iris as CSV text with a header and string labels (label column `species`).
pub fn iris_csv(label_first: bool) -> String {
    let ds = zo_sim::data::dataset::builtin("iris").expect("iris");
    let mut s = String::new();
    if label_first {
        s.push_str("species,sepal_length,sepal_width,petal_length,petal_width\n");
    } else {
        s.push_str("sepal_length,sepal_width,petal_length,petal_width,species\n");
    }
    for (x, &y) in ds.features.iter().zip(&ds.labels) {
        let feats: Vec<String> = x.iter().map(|v| v.to_string()).collect();
        let name = &ds.class_names[y];
        if label_first {
            s.push_str(&format!("{name},{}\n", feats.join(",")));
        } else {
            s.push_str(&format!("{},{name}\n", feats.join(",")));
        }
    }
    s
}

/// Entries of `dir` (names), sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}
