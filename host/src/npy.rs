//! The NumPy `.npy` format, version 1.0, for int16 arrays: what `numpy.save` writes and
//! `numpy.load` reads. Reading also accepts versions 2.0 and 3.0 and big-endian int16.

use std::fmt::Write as _;

const MAGIC: &[u8] = b"\x93NUMPY";

/// Why a file is not an int16 `.npy` array.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NpyError {
    #[error("not a .npy file (no \\x93NUMPY magic); pass a file written by `zo weights pull`, `zo train` or numpy.save")]
    Magic,
    #[error(".npy version {0}.{1} is not supported (1.0, 2.0 and 3.0 are)")]
    Version(u8, u8),
    #[error("the .npy header is cut short or malformed: {0}")]
    Header(String),
    #[error("the array has dtype {0}, not int16 ('<i2'); convert it with numpy: a.astype('<i2')")]
    Dtype(String),
    #[error("the array is in Fortran order; save it in C order (numpy.ascontiguousarray)")]
    Fortran,
    #[error("the header announces {expected} values but the file holds {found} bytes of data")]
    Length { expected: usize, found: usize },
}

/// Encodes `data` with the given `shape` (the product of `shape` must be `data.len()`).
pub fn encode_i16(data: &[i16], shape: &[usize]) -> Vec<u8> {
    let mut dims = String::from("(");
    for (i, d) in shape.iter().enumerate() {
        if i > 0 {
            dims.push_str(", ");
        }
        let _ = write!(dims, "{d}");
    }
    if shape.len() == 1 {
        dims.push(',');
    }
    dims.push(')');
    let mut header = format!("{{'descr': '<i2', 'fortran_order': False, 'shape': {dims}, }}");
    // Pad with spaces so that magic + version + length + header (ending in \n) is a multiple of 64.
    let unpadded = MAGIC.len() + 2 + 2 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + 2 * data.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Decodes an int16 array: its shape and its values in C order.
pub fn decode_i16(bytes: &[u8]) -> Result<(Vec<usize>, Vec<i16>), NpyError> {
    if bytes.len() < 8 || &bytes[..6] != MAGIC {
        return Err(NpyError::Magic);
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let (len, start): (usize, usize) = match major {
        1 if bytes.len() >= 10 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        1..=3 => return Err(NpyError::Header("no header length".into())),
        _ => return Err(NpyError::Version(major, minor)),
    };
    let end = start
        .checked_add(len)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| NpyError::Header("the header runs past the end of the file".into()))?;
    let header = std::str::from_utf8(&bytes[start..end])
        .map_err(|_| NpyError::Header("the header is not text".into()))?;
    let descr =
        dict_value(header, "descr").ok_or_else(|| NpyError::Header("no 'descr' key".into()))?;
    let descr = descr.trim().trim_matches(|c| c == '\'' || c == '"');
    let big_endian = match descr {
        "<i2" => false,
        ">i2" => true,
        other => return Err(NpyError::Dtype(other.to_string())),
    };
    if let Some(f) = dict_value(header, "fortran_order") {
        if f.trim() == "True" {
            return Err(NpyError::Fortran);
        }
    }
    let shape_text =
        dict_value(header, "shape").ok_or_else(|| NpyError::Header("no 'shape' key".into()))?;
    let shape: Vec<usize> = shape_text
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.trim_end_matches('L')
                .parse::<usize>()
                .map_err(|_| NpyError::Header(format!("bad shape {shape_text}")))
        })
        .collect::<Result<_, _>>()?;
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| NpyError::Header(format!("shape {shape_text} overflows")))?;
    let data = &bytes[end..];
    if data.len() != count * 2 {
        return Err(NpyError::Length {
            expected: count,
            found: data.len(),
        });
    }
    let values = data
        .chunks_exact(2)
        .map(|c| {
            if big_endian {
                i16::from_be_bytes([c[0], c[1]])
            } else {
                i16::from_le_bytes([c[0], c[1]])
            }
        })
        .collect();
    Ok((shape, values))
}

/// The text of `key`'s value in a Python dict literal such as the .npy header: up to the next
/// top-level comma (parentheses nest).
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let pos = header
        .find(&format!("'{key}'"))
        .or_else(|| header.find(&format!("\"{key}\"")))?;
    let rest = &header[pos + key.len() + 2..];
    let rest = rest.trim_start().strip_prefix(':')?;
    let mut depth = 0i32;
    for (i, c) in rest.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' | '}' if depth == 0 => return Some(&rest[..i]),
            _ => {}
        }
    }
    Some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_alignment() {
        let w: Vec<i16> = (-5..1000).collect();
        let bytes = encode_i16(&w, &[w.len()]);
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + header_len) % 64, 0);
        assert_eq!(bytes[10 + header_len - 1], b'\n');
        assert_eq!(decode_i16(&bytes).unwrap(), (vec![w.len()], w));
        let two = encode_i16(&[1, 2, 3, 4, 5, 6], &[2, 3]);
        assert_eq!(decode_i16(&two).unwrap().0, vec![2, 3]);
    }

    #[test]
    fn header_matches_numpy() {
        let bytes = encode_i16(&[7], &[1]);
        let text = std::str::from_utf8(&bytes[10..]).unwrap_or("");
        assert!(text.starts_with("{'descr': '<i2', 'fortran_order': False, 'shape': (1,), }"));
    }

    #[test]
    fn refusals() {
        assert_eq!(decode_i16(b"hello world"), Err(NpyError::Magic));
        let mut f4 = encode_i16(&[1, 2], &[2]);
        let at = f4.windows(3).position(|w| w == b"<i2").unwrap_or(0);
        f4[at + 1..at + 3].copy_from_slice(b"f4");
        assert!(matches!(decode_i16(&f4), Err(NpyError::Dtype(d)) if d == "<f4"));
        let mut short = encode_i16(&[1, 2, 3], &[3]);
        short.pop();
        assert!(matches!(decode_i16(&short), Err(NpyError::Length { .. })));
    }
}
