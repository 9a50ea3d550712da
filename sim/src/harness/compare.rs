//! The one place where two views' answers are compared: it returns where they differ (the
//! first byte, and the weight address when both sides sent weights) instead of panicking, so
//! that the mutation tests can assert that a single-bit fault is caught and named.

use std::fmt;
use zo_proto::{decode_packet, encode_frame, Packet, Response};

/// The first difference between two answers on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// Byte offset into the answer.
    pub offset: usize,
    /// The byte there, `None` past the end.
    pub got: Option<u8>,
    pub expected: Option<u8>,
    /// When both frames at that byte decode as weights: `(address, got, expected)` of the
    /// first weight that differs.
    pub weight: Option<(usize, i16, i16)>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let byte = |b: Option<u8>| b.map_or("nothing".to_string(), |b| format!("{b:#04x}"));
        write!(
            f,
            "byte {}: got {}, expected {}",
            self.offset,
            byte(self.got),
            byte(self.expected)
        )?;
        if let Some((a, g, e)) = self.weight {
            write!(f, "; weight {a}: got {g}, expected {e}")?;
        }
        Ok(())
    }
}

/// First index where two weight vectors differ (a length difference counts at the shorter
/// length).
pub fn first_weight_difference(got: &[i16], expected: &[i16]) -> Option<usize> {
    (0..got.len().max(expected.len())).find(|&a| got.get(a) != expected.get(a))
}

fn weights(frame: &[u8]) -> Option<(u16, Vec<i16>)> {
    let p = decode_packet(frame).ok()?;
    match Response::decode(p.kind, &p.payload).ok()? {
        Response::Weights { start, values } => Some((start, values)),
        _ => None,
    }
}

/// Where `got` first differs from `expected` (a stream of 0-delimited COBS frames), or
/// `None` when they are identical.
pub fn difference(got: &[u8], expected: &[u8]) -> Option<Difference> {
    let offset = (0..got.len().max(expected.len())).find(|&i| got.get(i) != expected.get(i))?;
    // The frame around the offset in each stream.
    let frame_at = |s: &[u8]| -> Vec<u8> {
        let begin = s[..offset.min(s.len())]
            .iter()
            .rposition(|&b| b == 0)
            .map_or(0, |p| p + 1);
        let end = s[begin..]
            .iter()
            .position(|&b| b == 0)
            .map_or(s.len(), |p| begin + p);
        s[begin..end].to_vec()
    };
    let weight = match (weights(&frame_at(got)), weights(&frame_at(expected))) {
        (Some((gs, gv)), Some((es, ev))) if gs == es => first_weight_difference(&gv, &ev)
            .and_then(|k| Some((es as usize + k, *gv.get(k)?, *ev.get(k)?))),
        _ => None,
    };
    Some(Difference {
        offset,
        got: got.get(offset).copied(),
        expected: expected.get(offset).copied(),
        weight,
    })
}

/// Test fault: flips bit `bit` of the weight at `index` in the first weights frame of
/// `answer` and re-encodes the frame with a valid CRC, as a device that read back a wrong
/// weight would send it. Returns `false` (leaving `answer` alone) when it holds no weights.
pub fn flip_weight(answer: &mut Vec<u8>, index: usize, bit: u32) -> bool {
    let end = answer.iter().position(|&b| b == 0).unwrap_or(answer.len());
    let Ok(p) = decode_packet(&answer[..end]) else {
        return false;
    };
    let Ok(Response::Weights { start, mut values }) = Response::decode(p.kind, &p.payload) else {
        return false;
    };
    let Some(v) = values.get_mut(index) else {
        return false;
    };
    *v ^= 1 << bit;
    let r = Response::Weights { start, values };
    let frame = encode_frame(&Packet {
        kind: r.kind(),
        seq: p.seq,
        payload: r.encode_payload(),
    });
    answer.splice(..(end + 1).min(answer.len()), frame);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weights_frame(start: u16, values: Vec<i16>) -> Vec<u8> {
        encode_frame(&Response::Weights { start, values }.to_packet(7))
    }

    #[test]
    fn names_the_byte_and_the_weight() {
        let expected = weights_frame(10, vec![1, 2, 3, 4]);
        assert_eq!(difference(&expected, &expected), None);
        let mut got = expected.clone();
        assert!(flip_weight(&mut got, 2, 5));
        let d = difference(&got, &expected).expect("a difference");
        assert_eq!(d.weight, Some((12, 3 ^ 32, 3)));
        assert!(
            d.to_string().contains("weight 12: got 35, expected 3"),
            "{d}"
        );
        let mut short = expected.clone();
        short.pop();
        let d = difference(&short, &expected).unwrap();
        assert_eq!((d.offset, d.got), (expected.len() - 1, None));
    }
}
