//! Through a relay that flips, drops and inserts bytes at 1e-3 per byte each, in both
//! directions, a training session ends with the same weights as a clean run and the device
//! executes every request exactly once.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serialport::{SerialPort, TTYPort};
use std::io::ErrorKind;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use zo_hdl::config::Shape;
use zo_host::link::Link;
use zo_proto::{Params, Request, Sample};
use zo_sim::data::schedule::init_weights;
use zo_sim::device::reference::{Device, DeviceInfo};
use zo_sim::device::vboard::VirtualBoard;
use zo_sim::model::Model;

const P: f64 = 1e-3;

/// Copies `from` to `to`, corrupting bytes; counts the faults it made.
fn pump(
    from: &mut dyn SerialPort,
    to: &mut dyn SerialPort,
    rng: &mut ChaCha8Rng,
    faults: &AtomicU64,
) -> bool {
    let mut buf = [0u8; 512];
    let n = match from.read(&mut buf) {
        Ok(n) => n,
        Err(e) if e.kind() == ErrorKind::TimedOut => return true,
        Err(_) => return false,
    };
    let mut out = Vec::with_capacity(n + 4);
    for &b in &buf[..n] {
        let r: f64 = rng.gen();
        if r < P {
            out.push(b ^ (1 << rng.gen_range(0..8)));
            faults.fetch_add(1, Ordering::Relaxed);
        } else if r < 2.0 * P {
            faults.fetch_add(1, Ordering::Relaxed); // dropped
        } else if r < 3.0 * P {
            out.push(b);
            out.push(rng.gen());
            faults.fetch_add(1, Ordering::Relaxed);
        } else {
            out.push(b);
        }
    }
    to.write_all(&out).is_ok()
}

struct Relay {
    path: String,
    stop: Arc<AtomicBool>,
    faults: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
    _slave: TTYPort,
}

impl Relay {
    fn new(device_path: &str, seed: u64) -> Self {
        let (mut master, slave) = TTYPort::pair().unwrap();
        master.set_timeout(Duration::from_millis(2)).unwrap();
        let mut device = serialport::new(device_path, 1_000_000)
            .timeout(Duration::from_millis(2))
            .open()
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let faults = Arc::new(AtomicU64::new(0));
        let (s, f) = (stop.clone(), faults.clone());
        let thread = std::thread::spawn(move || {
            let mut up = ChaCha8Rng::seed_from_u64(seed);
            let mut down = ChaCha8Rng::seed_from_u64(seed + 1);
            while !s.load(Ordering::SeqCst) {
                pump(&mut master, &mut *device, &mut up, &f);
                pump(&mut *device, &mut master, &mut down, &f);
            }
        });
        Self {
            path: slave.name().unwrap(),
            stop,
            faults,
            thread: Some(thread),
            _slave: slave,
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The training session; returns the final weights and the number of requests made.
fn session(link: &mut Link, shape: Shape) -> (Vec<i16>, u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let data: Vec<Sample> = (0..120)
        .map(|_| Sample {
            label: rng.gen_range(0..shape.n_out) as u8,
            features: (0..shape.n_in).map(|_| rng.gen()).collect(),
        })
        .collect();
    link.identify().unwrap();
    link.write_weights(&init_weights(shape, 4)).unwrap();
    link.load_samples(0, &data).unwrap();
    link.command(&Request::SetParams(Params {
        estimator: 0,
        loss: 1,
        sigma: 64,
        eta_mant: 1,
        eta_shift: 8,
        batch: 2,
        reseed: true,
        seed: 77,
        out_shift: 12,
        momentum: 0,
    }))
    .unwrap();
    for _ in 0..3 {
        link.command(&Request::Train {
            first: 0,
            count: 120,
            epochs: 2,
        })
        .unwrap();
        while link.status().unwrap().state != 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let w = link.read_weights(shape.n_weights()).unwrap();
    (w, link.stats.requests)
}

#[test]
fn faulty_line_gives_the_clean_result_and_no_double_execution() {
    let shape = Shape::new(64, 32, 10);
    let clean_board =
        VirtualBoard::spawn(Device::new(Model::new(shape, 1), DeviceInfo::default())).unwrap();
    let mut clean = Link::open(clean_board.path(), 1_000_000).unwrap();
    let (w_clean, _) = session(&mut clean, shape);
    drop(clean);
    clean_board.stop();

    let board =
        VirtualBoard::spawn(Device::new(Model::new(shape, 1), DeviceInfo::default())).unwrap();
    let relay = Relay::new(board.path(), 5);
    let mut link = Link::open(&relay.path, 1_000_000).unwrap();
    let (w, requests) = session(&mut link, shape);
    let stats = link.stats;
    drop(link);
    let faults = relay.faults.load(Ordering::Relaxed);
    drop(relay);
    let device = board.stop();
    println!("faults injected {faults}, link {stats:?}");
    assert!(faults > 20, "the relay injected only {faults} faults");
    assert!(
        stats.retransmissions > 0,
        "no retransmission was needed: faults too rare"
    );
    assert_eq!(w, w_clean, "weights differ from the clean run");
    assert_eq!(
        device.executed.len() as u64,
        requests,
        "requests executed != requests made"
    );
    assert!(
        device.executed.windows(2).all(|p| p[0].1 != p[1].1),
        "a request was executed twice"
    );
}
