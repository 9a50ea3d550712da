//! The machine-readable examples of docs/PROTOCOL.md: fenced blocks tagged `frame`, each a
//! session from power-on written as `# what it shows`, `> request packet` and `< response
//! packet` lines (raw packet bytes in hex, CRC included, without COBS). The protocol's tests
//! check them against this codec and against the devices, so the document cannot drift.

/// One exchange of a `frame` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// The `#` comment above it.
    pub what: String,
    /// The request packet's bytes.
    pub request: Vec<u8>,
    /// The response packet's bytes.
    pub response: Vec<u8>,
}

/// Bytes of a line of space-separated hex pairs; `None` when a pair is not hex.
pub fn hex(s: &str) -> Option<Vec<u8>> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).ok())
        .collect()
}

/// Every `frame` block of `doc`, in order, each a list of exchanges. An error names the first
/// malformed line (a response without a request, two requests in a row, bad hex, another
/// kind of line, a block that ends on a request or has no exchange).
pub fn frame_blocks(doc: &str) -> Result<Vec<Vec<Exchange>>, String> {
    let mut blocks = Vec::new();
    for block in doc.split("```frame\n").skip(1) {
        let body = block.split("```").next().unwrap_or_default();
        let mut exchanges = Vec::new();
        let mut what = String::new();
        let mut request: Option<Vec<u8>> = None;
        for line in body.lines() {
            let bytes = |h: &str| hex(h).ok_or_else(|| format!("{what}: bad hex in {line:?}"));
            if let Some(c) = line.strip_prefix("# ") {
                what = c.to_string();
            } else if let Some(h) = line.strip_prefix("> ") {
                if request.is_some() {
                    return Err(format!("{what}: two requests in a row"));
                }
                request = Some(bytes(h)?);
            } else if let Some(h) = line.strip_prefix("< ") {
                let response = bytes(h)?;
                let request = request
                    .take()
                    .ok_or_else(|| format!("{what}: a response without a request"))?;
                exchanges.push(Exchange {
                    what: what.clone(),
                    request,
                    response,
                });
            } else if !line.trim().is_empty() {
                return Err(format!("unexpected line in a frame block: {line:?}"));
            }
        }
        if request.is_some() {
            return Err(format!("{what}: a request without a response"));
        }
        if exchanges.is_empty() {
            return Err("a frame block without an exchange".into());
        }
        blocks.push(exchanges);
    }
    Ok(blocks)
}

/// Every packet docs/PROTOCOL.md shows, raw (CRC included, without COBS): the packets of
/// [`VECTORS`], then the requests and responses of the `frame` blocks of `doc` in order. Some
/// are bad packets on purpose (a wrong CRC, a short packet), as their NAK examples say. The
/// link blocks' tests feed them to the rust-hdl blocks against this codec.
pub fn doc_packets(doc: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut packets: Vec<Vec<u8>> = VECTORS
        .iter()
        .map(|(what, packet, _)| hex(packet).ok_or_else(|| format!("{what}: bad hex")))
        .collect::<Result<_, _>>()?;
    for ex in frame_blocks(doc)?.into_iter().flatten() {
        packets.push(ex.request);
        packets.push(ex.response);
    }
    Ok(packets)
}

/// The test vectors of docs/PROTOCOL.md section 2: (description, raw packet, COBS frame on the
/// wire), exactly as in the document's table (proto/tests/vectors.rs checks both ways).
pub const VECTORS: &[(&str, &str, &str)] = &[
    (
        "IDENTIFY, seq 0",
        "01 00 00 00 f2 74",
        "02 01 01 01 03 f2 74 00",
    ),
    (
        "STATUS, seq 7",
        "09 07 00 00 f2 27",
        "03 09 07 01 03 f2 27 00",
    ),
    (
        "READ_WEIGHTS start 0 count 4, seq 1",
        "02 01 04 00 00 00 04 00 cc 9c",
        "04 02 01 04 01 01 02 04 03 cc 9c 00",
    ),
    (
        "SET_PARAMS reset defaults with reseed, seed 1, seq 2",
        "05 02 0f 00 00 01 00 01 01 08 01 00 01 01 00 00 00 0f 00 cc 56",
        "04 05 02 0f 01 02 01 05 01 01 08 01 03 01 01 01 01 02 0f 03 cc 56 00",
    ),
    (
        "TRAIN response (done), seq 3",
        "86 03 00 00 27 31",
        "03 86 03 01 03 27 31 00",
    ),
    (
        "ERROR to READ_WEIGHTS, BAD_VALUE, detail 2, seq 1",
        "7f 01 04 00 02 05 02 00 86 ca",
        "04 7f 01 04 04 02 05 02 03 86 ca 00",
    ),
    (
        "NAK bad CRC, seq 0",
        "7e 00 01 00 01 e4 33",
        "02 7e 02 01 04 01 e4 33 00",
    ),
];
