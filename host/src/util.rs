//! Small helpers: atomic file writes, hashes and timestamps.

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The temporary file `write_atomic` writes `path` through: `.NAME.tmp` next to it.
pub fn tmp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp"))
}

/// Flushes a directory's entries (a rename or a new file in it) to the disk.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::fs::File::open(dir)?.sync_all()
}

pub fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Writes `bytes` into `.NAME.tmp` and syncs it to the disk. A failed write removes the
/// temporary file.
fn write_tmp(path: &Path, bytes: &[u8], sync: bool) -> std::io::Result<PathBuf> {
    let tmp = tmp_path(path);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        if sync {
            f.sync_all()?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory, synced to the
/// disk, and a rename (then the directory is synced): a kill or a full disk at any instant
/// leaves either the old file or the new one, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_at(path, bytes, None, true)?;
    sync_dir(parent_of(path))
}

/// As [`write_atomic`], with a fault injection point (`ZO_FAULT`, see [`fault`]) between the
/// temporary file and the rename, the temporary file synced only with `sync`, and without
/// syncing the directory (the caller does, once for several files).
pub fn write_atomic_at(
    path: &Path,
    bytes: &[u8],
    point: Option<(&str, u32)>,
    sync: bool,
) -> std::io::Result<()> {
    let tmp = write_tmp(path, bytes, sync)?;
    if let Some((name, epoch)) = point {
        if let Err(e) = fault(name, epoch) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    }
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

/// Writes a new file atomically and refuses (with `AlreadyExists`) when `path` exists, even
/// when another process creates it at the same moment (a hard link never replaces a file).
pub fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = write_tmp(path, bytes, true)?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    linked?;
    sync_dir(parent_of(path))
}

/// Fault injection for the tests of what a kill or a full disk leaves behind:
/// `ZO_FAULT=kill:POINT:EPOCH` sends the process SIGKILL at `POINT` of epoch `EPOCH`'s
/// checkpoint, `ZO_FAULT=fail:POINT:EPOCH` makes that step fail as on a full disk. Without
/// `ZO_FAULT` (or at any other point) it does nothing.
pub fn fault(point: &str, epoch: u32) -> std::io::Result<()> {
    let Ok(spec) = std::env::var("ZO_FAULT") else {
        return Ok(());
    };
    let mut parts = spec.splitn(3, ':');
    let (Some(action), Some(at), Some(e)) = (parts.next(), parts.next(), parts.next()) else {
        return Ok(());
    };
    if at != point || e.parse::<u32>().ok() != Some(epoch) {
        return Ok(());
    }
    match action {
        "kill" => {
            // SAFETY: getpid and kill have no preconditions; SIGKILL ends the process here.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
            Ok(())
        }
        "fail" => Err(std::io::Error::other(format!(
            "No space left on device (ZO_FAULT at {point} of epoch {epoch})"
        ))),
        _ => Ok(()),
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The raw little-endian bytes of int16 weights.
pub fn weights_le_bytes(w: &[i16]) -> Vec<u8> {
    w.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// SHA-256 of the raw little-endian int16 weights (the `weights_sha256` of every report).
pub fn weights_sha256(w: &[i16]) -> String {
    sha256_hex(&weights_le_bytes(w))
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `YYYYMMDD-HHMMSS` in UTC for a Unix time.
pub fn timestamp(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(timestamp(0), "19700101-000000");
        assert_eq!(timestamp(951_782_400), "20000229-000000");
        assert_eq!(timestamp(1_700_000_000), "20231114-221320");
    }

    #[test]
    fn sha_of_weights() {
        // sha256 of the empty string.
        assert_eq!(
            weights_sha256(&[]),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(weights_le_bytes(&[1, -2]), vec![1, 0, 0xfe, 0xff]);
    }
}

/// Serde for a value written by name (`Display`) and read back by name (`FromStr`), such as
/// `zo_hdl::config::Estimator` (`np`) in config.json: `#[serde(with = "crate::util::by_name")]`.
pub mod by_name {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::fmt::Display;
    use std::str::FromStr;

    pub fn serialize<T: Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The reset value of the hybrid estimator's output step shift: the serde default of run
/// files written before `out_shift` existed.
pub fn default_out_shift() -> u8 {
    zo_hdl::config::DEFAULT_OUT_SHIFT
}
