//! A whole session over a real pseudo-terminal: identify, write and read back weights, load
//! samples, train while reading counters, evaluate and infer. The same scripted session against
//! the model-backed and the RTL-backed virtual board gives byte-identical responses.

use zo_hdl::config::Shape;
use zo_host::link::{Link, LinkError};
use zo_proto::{ErrorCode, Params, Request, Response};
use zo_sim::data::schedule::init_weights;
use zo_sim::device::reference::{Device, DeviceInfo};
use zo_sim::device::uart_device::UartDevice;
use zo_sim::device::vboard::{SerialDevice, VirtualBoard};
use zo_sim::harness::fixtures::{random_samples as samples, test_params};
use zo_sim::model::Model;

fn params(estimator: u8, loss: u8, batch: u16) -> Params {
    test_params(estimator, loss, batch, 42)
}

/// Runs the job to completion, polling status; returns every status seen.
fn wait_idle(link: &mut Link) -> Vec<zo_proto::Status> {
    let mut seen = Vec::new();
    loop {
        let s = link.status().expect("status during a job");
        let idle = s.state == 0;
        seen.push(s);
        if idle {
            return seen;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// The scripted session; returns the deterministic responses, encoded.
fn session(link: &mut Link, shape: Shape) -> Vec<Vec<u8>> {
    let mut log = Vec::new();
    let mut record = |r: &Response| {
        let mut b = vec![r.kind()];
        b.extend(r.encode_payload());
        log.push(b);
    };
    let id = link.identify().expect("identify");
    assert_eq!(
        (id.n_in as usize, id.n_hid as usize, id.n_out as usize),
        (shape.n_in, shape.n_hid, shape.n_out)
    );
    record(&Response::Identity(id));
    let w0 = init_weights(shape, 3);
    link.write_weights(&w0).expect("write weights");
    assert_eq!(
        link.read_weights(w0.len()).unwrap(),
        w0,
        "weights read back"
    );
    let data = samples(shape, 30, 5);
    link.load_samples(0, &data).expect("load samples");
    for (estimator, loss, batch) in [(0, 1, 1), (1, 0, 4)] {
        link.command(&Request::SetParams(params(estimator, loss, batch)))
            .unwrap();
        link.command(&Request::Train {
            first: 0,
            count: 30,
            epochs: 2,
        })
        .unwrap();
        let statuses = wait_idle(link);
        let last = *statuses.last().unwrap();
        assert!(last.samples >= 60 && last.job_done == 60 && last.epoch == 2);
        record(&Response::Status(last));
        record(&Response::Weights {
            start: 0,
            values: link.read_weights(shape.n_weights()).unwrap(),
        });
    }
    link.command(&Request::Evaluate {
        first: 0,
        count: 30,
    })
    .unwrap();
    let last = *wait_idle(link).last().unwrap();
    assert_eq!(last.eval_count, 30);
    record(&Response::Status(last));
    for s in &data[..5] {
        record(&link.request(&Request::Infer(s.clone())).unwrap());
    }
    log
}

fn with_board<D: SerialDevice + Send + 'static>(device: D, f: impl FnOnce(&mut Link)) -> D {
    let board = VirtualBoard::spawn(device).unwrap();
    let mut link = Link::open(board.path(), 1_000_000).unwrap();
    // A simulated device answers slowly: allow it time before retransmitting.
    link.set_margin(std::time::Duration::from_secs(60));
    f(&mut link);
    drop(link);
    board.stop()
}

fn model_board(shape: Shape) -> Device<Model> {
    Device::new(Model::new(shape, 1), DeviceInfo::default())
}

#[test]
fn model_and_rtl_boards_answer_byte_identically() {
    let shape = Shape::new(5, 4, 3);
    let mut from_model = Vec::new();
    let model_dev = with_board(model_board(shape), |l| from_model = session(l, shape));
    // The complete rust-hdl device, driven through its UART pins (4 clocks per bit).
    let info = DeviceInfo::default();
    let rtl = UartDevice::<6, 14>::new(shape, &info, 4);
    let mut from_rtl = Vec::new();
    let rtl = with_board(rtl, |l| from_rtl = session(l, shape));
    assert_eq!(rtl.tx_frame_errors, 0);
    assert_eq!(from_model.len(), from_rtl.len());
    for (i, (m, r)) in from_model.iter().zip(&from_rtl).enumerate() {
        assert_eq!(
            m, r,
            "response {i} differs between the model and the RTL board"
        );
    }
    // Every request executed exactly once: no sequence number repeats in the device log.
    let mut seqs: Vec<u8> = model_dev.executed.iter().map(|&(_, s)| s).collect();
    let n = seqs.len();
    seqs.dedup();
    assert_eq!(seqs.len(), n, "a request was executed twice");
}

#[test]
fn status_is_answered_during_training_and_errors_are_clear() {
    let shape = Shape::new(64, 32, 10);
    with_board(model_board(shape), |link| {
        link.write_weights(&init_weights(shape, 1)).unwrap();
        link.load_samples(0, &samples(shape, 200, 9)).unwrap();
        link.command(&Request::SetParams(params(0, 1, 1))).unwrap();
        link.command(&Request::Train {
            first: 0,
            count: 200,
            epochs: 200,
        })
        .unwrap();
        // Requests that would disturb the job are refused while it runs.
        match link.request(&Request::ReadWeights { start: 0, count: 4 }) {
            Err(LinkError::Device { code, .. }) => assert_eq!(code, ErrorCode::Busy),
            other => panic!("expected BUSY during training, got {other:?}"),
        }
        let statuses = wait_idle(link);
        let during: Vec<_> = statuses.iter().filter(|s| s.state == 1).collect();
        assert!(
            during.len() >= 3,
            "status was polled {} times during training",
            during.len()
        );
        assert!(during.windows(2).all(|w| w[0].job_done <= w[1].job_done));
        assert_eq!(statuses.last().unwrap().samples, 40_000);
        // Out-of-range requests name the limit.
        match link.request(&Request::ReadWeights {
            start: shape.n_weights() as u16,
            count: 1,
        }) {
            Err(LinkError::Device { code, detail, .. }) => {
                assert_eq!(
                    (code, detail as usize),
                    (ErrorCode::OutOfRange, shape.n_weights())
                )
            }
            other => panic!("expected OUT_OF_RANGE, got {other:?}"),
        }
    });
}
