//! The commands of `zo`, one module each, over the library `zo_host`. This module holds what
//! they share: output that never panics, the interrupt flag (Ctrl-C, SIGTERM, SIGHUP, a
//! closed stdout) and the progress bar.

pub mod baseline;
pub mod flash;
pub mod infer;
pub mod info;
pub mod train;
pub mod train_loop;
pub mod weights;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Once, OnceLock};

/// Set when stdout is gone (a closed pipe): output stops and a run ends as on Ctrl-C.
static STDOUT_GONE: AtomicBool = AtomicBool::new(false);
/// The first signal that asked the command to stop.
static SIGNAL: AtomicI32 = AtomicI32::new(0);
static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// Writes a line to stdout; never panics. A closed stdout stops the command like Ctrl-C.
pub fn out(line: &str) {
    use std::io::Write;
    if STDOUT_GONE.load(Ordering::SeqCst) {
        return;
    }
    let mut so = std::io::stdout().lock();
    if writeln!(so, "{line}").and_then(|_| so.flush()).is_err() {
        STDOUT_GONE.store(true, Ordering::SeqCst);
        interrupt_flag().store(true, Ordering::SeqCst);
    }
}

/// Writes a line to stderr; never panics.
pub fn err(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

#[macro_export]
macro_rules! outln {
    ($($t:tt)*) => { $crate::cmd::out(&format!($($t)*)) };
}

#[macro_export]
macro_rules! errln {
    ($($t:tt)*) => { $crate::cmd::err(&format!($($t)*)) };
}

/// What stopped a command: a signal or a closed stdout.
pub fn interrupt_cause() -> &'static str {
    if STDOUT_GONE.load(Ordering::SeqCst) {
        return "stdout was closed";
    }
    match SIGNAL.load(Ordering::SeqCst) {
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP",
        _ => "Ctrl-C",
    }
}

extern "C" fn on_signal(sig: libc::c_int) {
    if SIGNAL.swap(sig, Ordering::SeqCst) != 0 {
        // A second signal ends at once.
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(130) };
    }
    if let Some(f) = FLAG.get() {
        f.store(true, Ordering::SeqCst);
    }
}

/// A flag that Ctrl-C, SIGTERM and SIGHUP set; the first call installs the handlers. Long
/// commands check it, stop the device's job and leave nothing half-written.
pub fn interrupt_flag() -> Arc<AtomicBool> {
    static INSTALL: Once = Once::new();
    let flag = FLAG
        .get_or_init(|| Arc::new(AtomicBool::new(false)))
        .clone();
    INSTALL.call_once(|| {
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            // SAFETY: the handler only touches atomics and calls _exit.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(sig, &action, std::ptr::null_mut());
            }
        }
    });
    flag
}

/// A progress bar on stderr, hidden when stdout is not a terminal.
pub fn progress_bar(len: u64, unit: &str) -> ProgressBar {
    if !std::io::stdout().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let template = format!("{{prefix}} [{{bar:32}}] {{pos}}/{{len}} {unit} {{msg}} ({{eta}} left)");
    bar.set_style(
        ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}
