//! An exclusive lock on a run directory for the life of a run: `.NAME.lock` next to the run's
//! target, held with `flock` and holding the owner's pid. The kernel drops the lock when the
//! process ends in any way, so a killed run never leaves a stale lock.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "run directory {target} is in use by another zo (pid {pid}); wait for that run to end, \
         stop it (kill {pid}), or choose another --out"
    )]
    Held { target: String, pid: String },
    #[error("cannot lock run directory {target} through {lock}: {source}; check the permissions of its parent directory")]
    Io {
        target: String,
        lock: String,
        source: std::io::Error,
    },
}

/// A held lock; dropping it removes the lock file and releases the lock.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
    file: File,
}

/// The lock file of a run whose final directory is `target`.
pub fn lock_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    target.with_file_name(format!(".{name}.lock"))
}

impl RunLock {
    /// Takes the lock of `target` or says which process holds it. Never waits.
    pub fn acquire(target: &Path) -> Result<Self, LockError> {
        let path = lock_path(target);
        let io = |source| LockError::Io {
            target: target.display().to_string(),
            lock: path.display().to_string(),
            source,
        };
        loop {
            let mut file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(io)?;
            // SAFETY: flock on a file descriptor this function owns.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc != 0 {
                let e = std::io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                    let mut pid = String::new();
                    let _ = file.read_to_string(&mut pid);
                    let pid = pid.trim();
                    return Err(LockError::Held {
                        target: target.display().to_string(),
                        pid: if pid.is_empty() {
                            "unknown".into()
                        } else {
                            pid.into()
                        },
                    });
                }
                return Err(io(e));
            }
            // The previous holder may have removed the file between our open and our flock:
            // then the lock is on a file nobody else sees, so start again.
            let same = match (file.metadata(), std::fs::metadata(&path)) {
                (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
                _ => false,
            };
            if !same {
                continue;
            }
            file.set_len(0).map_err(io)?;
            file.rewind().map_err(io)?;
            write!(file, "{}", std::process::id()).map_err(io)?;
            file.flush().map_err(io)?;
            return Ok(Self { path, file });
        }
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Removed while still held, so that a waiting process re-checks (see acquire).
        let _ = std::fs::remove_file(&self.path);
        let _ = &self.file;
    }
}
