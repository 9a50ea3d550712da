//! The test vectors of `docs/PROTOCOL.md` section 2, checked against the encoder, the decoder
//! and the table in the document itself.

use zo_proto::{
    crc16, decode_packet, encode_frame, frame_raw, kind, ErrorCode, Identity, NakReason, Packet,
    Params, Request, Response,
};

fn hex(s: &str) -> Vec<u8> {
    zo_proto::examples::hex(s).expect("hex bytes")
}

use zo_proto::examples::VECTORS;

/// The packets the vectors describe, built through the message API.
fn messages() -> Vec<Packet> {
    vec![
        Request::Identify.to_packet(0),
        Request::Status.to_packet(7),
        Request::ReadWeights { start: 0, count: 4 }.to_packet(1),
        Request::SetParams(Params {
            reseed: true,
            ..Params::default()
        })
        .to_packet(2),
        Response::Done {
            request: kind::TRAIN,
        }
        .to_packet(3),
        Response::Error {
            request: kind::READ_WEIGHTS,
            code: ErrorCode::BadValue,
            detail: 2,
        }
        .to_packet(1),
        Response::Nak(NakReason::Crc).to_packet(0),
    ]
}

#[test]
fn crc_check_value() {
    assert_eq!(crc16(b"123456789"), 0x29B1);
    assert_eq!(crc16(b""), 0xFFFF);
}

#[test]
fn vectors_encode_and_decode() {
    for ((name, packet, wire), msg) in VECTORS.iter().zip(messages()) {
        let packet = hex(packet);
        let wire = hex(wire);
        let frame = encode_frame(&msg);
        assert_eq!(frame, wire, "{name}: encoder");
        assert_eq!(
            zo_proto::packet_bytes(&msg).unwrap(),
            packet,
            "{name}: packet"
        );
        let body = &packet[..packet.len() - 2];
        assert_eq!(
            crc16(body).to_be_bytes(),
            packet[packet.len() - 2..],
            "{name}: crc"
        );
        let decoded = decode_packet(&wire[..wire.len() - 1]).expect(name);
        assert_eq!(decoded, msg, "{name}: decoder");
    }
}

#[test]
fn vectors_decode_as_messages() {
    let p = messages();
    assert_eq!(
        Request::decode(p[0].kind, &p[0].payload, 16),
        Ok(Request::Identify)
    );
    assert_eq!(
        Request::decode(p[3].kind, &p[3].payload, 16),
        Ok(Request::SetParams(Params {
            reseed: true,
            ..Params::default()
        }))
    );
    assert_eq!(
        Response::decode(p[4].kind, &p[4].payload),
        Ok(Response::Done { request: 0x06 })
    );
    assert_eq!(
        Response::decode(p[6].kind, &p[6].payload),
        Ok(Response::Nak(NakReason::Crc))
    );
}

/// The table in `docs/PROTOCOL.md` holds exactly these vectors.
#[test]
fn vectors_match_the_document() {
    let doc = include_str!("../../docs/PROTOCOL.md");
    let section = doc
        .split("### Test vectors")
        .nth(1)
        .expect("PROTOCOL.md has a Test vectors section");
    let section = section.split("\n#").next().unwrap();
    let rows: Vec<(String, Vec<u8>, Vec<u8>)> = section
        .lines()
        .filter(|l| l.starts_with('|') && l.contains('`'))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            assert_eq!(cells.len(), 3, "row {l:?}");
            let unquote = |c: &str| hex(c.trim_matches('`'));
            (cells[0].to_string(), unquote(cells[1]), unquote(cells[2]))
        })
        .collect();
    assert_eq!(
        rows.len(),
        VECTORS.len(),
        "number of vectors in the document"
    );
    for ((dname, dpacket, dwire), (name, packet, wire)) in rows.iter().zip(VECTORS) {
        assert_eq!(dname, name);
        assert_eq!(*dpacket, hex(packet), "{name}: packet in the document");
        assert_eq!(*dwire, hex(wire), "{name}: wire in the document");
    }
}

/// A packet whose last zero-free run is exactly 254 bytes ends with the 0xFF block, without
/// a trailing 0x01 block (cross-checked with an independent implementation).
#[test]
fn cobs_full_run_at_end() {
    let payload: Vec<u8> = (0..252).map(|i| (i % 255) as u8 + 1).collect();
    let p = Packet {
        kind: kind::WRITE_WEIGHTS,
        seq: 0,
        payload,
    };
    let wire = encode_frame(&p);
    assert_eq!(wire.len(), 260);
    assert_eq!(wire[..6], [0x02, 0x03, 0x02, 0xfc, 0xff, 0x01]);
    assert_eq!(wire[wire.len() - 5..], [0xfb, 0xfc, 0xf3, 0x4b, 0x00]);
    assert_eq!(decode_packet(&wire[..wire.len() - 1]), Ok(p.clone()));
    // The longer form with the trailing 0x01 block decodes to the same packet.
    let mut long = wire[..wire.len() - 1].to_vec();
    long.push(0x01);
    assert_eq!(decode_packet(&long), Ok(p));
}

// ---------------------------------------------------------------------------------------------
// The document's machine-readable parts, checked against the codec: the error and NAK tables,
// and the `frame` blocks (request and response packets of example exchanges). The exact
// answers of a device to those exchanges are checked in `sim/tests/device_vs_model.rs`, on the
// reference device and the rust-hdl engine.

const DOC: &str = include_str!("../../docs/PROTOCOL.md");

/// The rows of the first table after `heading` whose first cell is a number: (number, cells).
fn numbered_rows(heading: &str, skip_to: &str) -> Vec<(u8, Vec<String>)> {
    let section = DOC
        .split(heading)
        .nth(1)
        .unwrap_or_else(|| panic!("PROTOCOL.md has a {heading:?} section"));
    let section = section
        .split(skip_to)
        .nth(1)
        .unwrap_or_else(|| panic!("{heading:?} mentions {skip_to:?}"));
    section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| {
            let cells: Vec<String> = l
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect();
            let n = cells[0].parse::<u8>().ok()?;
            Some((n, cells))
        })
        .collect()
}

/// The device of the examples (section 4.4): `n_in` 5, `n_hid` 4, `n_out` 3, `C` 16.
const EXAMPLE_N_IN: usize = 5;
const EXAMPLE_W: u16 = 39;
const EXAMPLE_C: u16 = 16;
const EXAMPLE_N_OUT: u16 = 3;

/// The error table of section 4.3: `(code, name, detail cell)` rows.
fn error_table() -> Vec<(u8, String, String)> {
    let rows = numbered_rows("### 4.3 Errors", "| code | name | detail | meaning |");
    rows.into_iter()
        .map(|(n, cells)| {
            assert_eq!(cells.len(), 4, "error table row {cells:?}");
            (n, cells[1].clone(), cells[2].clone())
        })
        .collect()
}

/// The numbers `what (N)` names in `cell`, for each `what`.
fn limit_in(cell: &str, what: &str) -> u16 {
    let after = cell
        .split(&format!("{what} ("))
        .nth(1)
        .unwrap_or_else(|| panic!("the OUT_OF_RANGE detail names the largest {what}: {cell:?}"));
    after
        .split(')')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a number after {what:?} in {cell:?}"))
}

/// The error table of section 4.3 names exactly the codes of [`ErrorCode`], with their names
/// and details: `0` exactly where [`ErrorCode::fixed_detail`] is 0 (and the decoder's
/// [`zo_proto::ProtoError::error_code`] agrees), the byte offset for `BAD_VALUE`, and for
/// `OUT_OF_RANGE` the sizes `W`, `C`, `n_out` and the largest batch, momentum and estimator of
/// a build without accumulators and exact output layer ([`Identity`]'s limits).
#[test]
fn error_table_matches_the_codec() {
    let rows = error_table();
    let codes: Vec<u8> = rows.iter().map(|(n, ..)| *n).collect();
    assert_eq!(codes, [1, 2, 3, 4, 5], "codes in the error table");
    for (n, name, detail) in &rows {
        let code = ErrorCode::from_u8(*n).expect("a code of the table");
        assert_eq!(code as u8, *n);
        assert_eq!(name, code.name(), "name of code {n}");
        match code.fixed_detail() {
            Some(d) => assert_eq!(*detail, d.to_string(), "detail of {name}"),
            None => assert!(detail.parse::<u16>().is_err(), "{name}: detail {detail:?}"),
        }
    }
    assert_eq!(ErrorCode::from_u8(0), None);
    assert_eq!(ErrorCode::from_u8(6), None);
    // The decoder's errors carry the table's fixed details.
    for (kind, payload) in [(0x20, vec![]), (kind::STATUS, vec![0])] {
        let (code, detail) = Request::decode(kind, &payload, EXAMPLE_N_IN)
            .expect_err("refused")
            .error_code();
        assert_eq!(Some(detail), code.fixed_detail(), "{code:?}");
    }
    let (code, detail) = Request::decode(kind::SET_PARAMS, &[0; 15], EXAMPLE_N_IN)
        .expect_err("batch 0 is refused")
        .error_code();
    assert_eq!(
        (code, detail),
        (ErrorCode::BadValue, 6),
        "BAD_VALUE: offset"
    );
    assert!(rows[4].2.contains("byte offset"), "BAD_VALUE detail");
    // OUT_OF_RANGE: the sizes and the limits of a reduced build.
    let out_of_range = &rows[2].2;
    for size in ["`W`", "`C`", "`n_out`"] {
        assert!(
            out_of_range.contains(size),
            "OUT_OF_RANGE detail names {size}"
        );
    }
    let reduced = Identity {
        limits: Identity::NO_BATCH | Identity::NO_HYBRID,
        ..example_identity()
    };
    assert_eq!(limit_in(out_of_range, "batch"), reduced.max_batch());
    assert_eq!(
        limit_in(out_of_range, "momentum"),
        u16::from(reduced.max_momentum())
    );
    assert_eq!(
        limit_in(out_of_range, "estimator"),
        u16::from(reduced.max_estimator())
    );
}

/// An identity of the examples' device (only the limits matter here).
fn example_identity() -> Identity {
    Identity {
        version: zo_proto::PROTOCOL_VERSION,
        n_in: EXAMPLE_N_IN as u8,
        n_hid: 4,
        n_out: EXAMPLE_N_OUT as u8,
        n_weights: EXAMPLE_W,
        sample_capacity: EXAMPLE_C,
        max_payload: zo_proto::MAX_PAYLOAD as u16,
        w_frac: 12,
        x_frac: 7,
        z_frac: 8,
        limits: 0,
        clock_hz: 12_000_000,
        baud: 1_000_000,
        build_id: 1,
        cycles_per_sample: 0,
        name: "virtual-model".into(),
    }
}

/// The NAK table of section 4.3 gives exactly the reasons of [`NakReason`], with their text.
#[test]
fn nak_table_matches_the_codec() {
    let rows = numbered_rows("### 4.3 Errors", "| reason | meaning |");
    let reasons: Vec<u8> = rows.iter().map(|(n, _)| *n).collect();
    assert_eq!(reasons, [1, 2, 3], "reasons in the NAK table");
    for (n, cells) in &rows {
        let reason = NakReason::from_u8(*n).expect("a reason of the table");
        assert_eq!(cells[1], reason.to_string(), "text of reason {n}");
    }
    assert_eq!(NakReason::from_u8(4), None);
}

fn frame_blocks() -> Vec<Vec<zo_proto::examples::Exchange>> {
    zo_proto::examples::frame_blocks(DOC).unwrap_or_else(|e| panic!("PROTOCOL.md: {e}"))
}

/// Every example exchange is well-formed for the codec: responses decode as messages and
/// re-encode to the same bytes with the request's seq (0 for NAK); a request either decodes
/// and re-encodes, or is the bad packet its NAK says; a request the decoder refuses gets the
/// ERROR the decoder names.
#[test]
fn frame_blocks_agree_with_the_codec() {
    let blocks = frame_blocks();
    assert!(blocks.len() >= 3, "frame blocks in PROTOCOL.md");
    let mut codes = std::collections::BTreeSet::new();
    let mut naks = std::collections::BTreeSet::new();
    for ex in blocks.iter().flatten() {
        let what = &ex.what;
        let wire = frame_raw(&ex.response);
        let packet = decode_packet(&wire[..wire.len() - 1]);
        let packet = packet.unwrap_or_else(|e| panic!("{what}: response packet: {e:?}"));
        assert_eq!(
            zo_proto::packet_bytes(&packet).unwrap(),
            ex.response,
            "{what}: response re-encoded"
        );
        let response = Response::decode(packet.kind, &packet.payload)
            .unwrap_or_else(|e| panic!("{what}: response: {e}"));
        assert_eq!(response.to_packet(packet.seq), packet, "{what}");
        let wire = frame_raw(&ex.request);
        let request = decode_packet(&wire[..wire.len() - 1]);
        match (&response, request) {
            (Response::Nak(reason), Err(e)) => {
                assert_eq!(packet.seq, 0, "{what}: NAK carries seq 0");
                assert_eq!(e.nak_reason(), *reason, "{what}: NAK reason");
                naks.insert(*reason as u8);
            }
            (_, Ok(req)) => {
                assert_eq!(encode_frame(&req), wire, "{what}: request re-encoded");
                assert_eq!(packet.seq, req.seq, "{what}: the response carries the seq");
                if let Response::Error { code, detail, .. } = response {
                    codes.insert(code as u8);
                    match code {
                        ErrorCode::OutOfRange => assert!(
                            [EXAMPLE_W, EXAMPLE_C, EXAMPLE_N_OUT].contains(&detail),
                            "{what}: OUT_OF_RANGE detail {detail} is W, C or n_out"
                        ),
                        // Its offset is the decoder's, checked below.
                        ErrorCode::BadValue => {}
                        _ => assert_eq!(Some(detail), code.fixed_detail(), "{what}: detail"),
                    }
                }
                if let Err(e) = Request::decode(req.kind, &req.payload, EXAMPLE_N_IN) {
                    let (code, detail) = e.error_code();
                    assert_eq!(
                        response,
                        Response::Error {
                            request: req.kind,
                            code,
                            detail
                        },
                        "{what}: the decoder's error"
                    );
                }
            }
            (r, q) => panic!("{what}: response {r:?} to request {q:?}"),
        }
    }
    assert_eq!(
        codes.into_iter().collect::<Vec<_>>(),
        [1, 2, 3, 4, 5],
        "every error code has an example"
    );
    assert_eq!(
        naks.into_iter().collect::<Vec<_>>(),
        [1, 2, 3],
        "every NAK reason has an example"
    );
}

/// The ERROR responses of section 4.3, one per code, encode to the bytes the document's
/// examples give.
#[test]
fn error_vectors() {
    let cases = [
        (
            0x20,
            ErrorCode::UnknownType,
            0,
            1,
            "7f 01 04 00 20 01 00 00 e6 4e",
        ),
        (
            kind::STATUS,
            ErrorCode::BadLength,
            0,
            2,
            "7f 02 04 00 09 02 00 00 a3 a5",
        ),
        (
            kind::READ_WEIGHTS,
            ErrorCode::OutOfRange,
            39,
            7,
            "7f 07 04 00 02 03 27 00 6c 5c",
        ),
        (
            kind::READ_WEIGHTS,
            ErrorCode::Busy,
            0,
            2,
            "7f 02 04 00 02 04 00 00 0f 1a",
        ),
        (
            kind::READ_WEIGHTS,
            ErrorCode::BadValue,
            2,
            3,
            "7f 03 04 00 02 05 02 00 e6 29",
        ),
    ];
    for (request, code, detail, seq, want) in cases {
        let r = Response::Error {
            request,
            code,
            detail,
        };
        let bytes = zo_proto::packet_bytes(&r.to_packet(seq)).unwrap();
        assert_eq!(bytes, hex(want), "{code:?}");
        assert_eq!(
            Response::decode(bytes[0], &bytes[4..bytes.len() - 2]),
            Ok(r)
        );
    }
}
