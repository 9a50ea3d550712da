//! `zo_hdl::engine::job_engine::JobEngine` driven directly through its ports, against the job
//! loop of the reference device (`zo_sim::device::reference::Device::step`: every sample of
//! `first..first + count` in order, `epochs` times, the mini-batch applied at each training
//! epoch's end, `epoch` counted up, `state` back to 0 at the end).
//!
//! The harness plays the engine's neighbours: a sample buffer with a synchronous read port
//! (random bytes), a learner that answers `done` after a random number of clocks while it
//! reads its features through `x_addr` (and whose mini-batch position advances per trained
//! sample), and a status file that is busy for 17 clocks after each start or flush. Every
//! learner operation is recorded with its label (`target`) and the sample its features came
//! from, and must match the model's sequence exactly; `file_start` / `file_total` /
//! `evaluating`, `flush_done` / `flush_eval` per operation, `state` and `epoch` along the way,
//! STOP (no sample starts after it), INFER's inline slot, `idle_state` and `clear_epoch` are
//! checked as well. Jobs: seeded random first/count/epochs/batch sizes, training and
//! evaluation, with and without a STOP.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use zo_hdl::config::{Op, Shape};
use zo_hdl::engine::job_engine::JobEngine;

const SA: usize = 9;
const SHAPE: Shape = Shape::new(5, 4, 3);
const CAPACITY: usize = 16;
const RECORD: usize = SHAPE.n_in + 1;

/// A learner operation as the engine started it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Operation {
    op: u64,
    target: u8,
    /// The sample slot its features were read from (`CAPACITY` = the inline slot), `None` for
    /// APPLY (reads no features).
    slot: Option<usize>,
    /// `epoch` when it started.
    epoch: u16,
}

#[derive(Default, Clone, Copy)]
struct Commands {
    start: bool,
    eval: bool,
    epochs: u16,
    count: u16,
    first: u16,
    stop: bool,
    idle_state: bool,
    clear_epoch: bool,
    infer: bool,
    infer_label: u8,
}

struct Harness {
    uut: Box<JobEngine<SA>>,
    rng: ChaCha8Rng,
    memory: Vec<u8>,
    read_data: u8,
    /// The running operation: clocks left, and the feature index it reads next.
    running: Option<(u32, usize)>,
    current: Option<Operation>,
    batch: u16,
    batch_pos: u16,
    file_busy: u32,
    done: bool,
    ops: Vec<Operation>,
    flushes: Vec<(bool, bool)>,
    file_starts: Vec<(u32, bool)>,
}

impl Harness {
    fn new(seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let memory = (0..1 << SA).map(|_| rng.gen()).collect();
        let mut uut = Box::new(JobEngine::<SA>::new(SHAPE, CAPACITY));
        uut.connect_all();
        zo_sim::harness::testkit::settle(&mut *uut, "JobEngine");
        Self {
            uut,
            rng,
            memory,
            read_data: 0,
            running: None,
            current: None,
            batch: 1,
            batch_pos: 0,
            file_busy: 0,
            done: false,
            ops: Vec::new(),
            flushes: Vec::new(),
            file_starts: Vec::new(),
        }
    }

    /// One clock with `c`.
    fn tick(&mut self, c: Commands) {
        let x_index = self.running.map(|(_, k)| k).unwrap_or(0);
        let u = &mut self.uut;
        u.start.next = c.start;
        u.eval.next = c.eval;
        u.epochs.next = (c.epochs as u64).to_bits();
        u.count.next = (c.count as u64).to_bits();
        u.first_base.next = ((c.first as usize * RECORD) as u64).to_bits();
        u.stop.next = c.stop;
        u.idle_state.next = c.idle_state;
        u.clear_epoch.next = c.clear_epoch;
        u.infer.next = c.infer;
        u.infer_label.next = (c.infer_label as u64).to_bits();
        u.x_addr.next = (x_index as u64).to_bits();
        u.sample_data.next = (self.read_data as u64).to_bits();
        u.learner_done.next = self.done;
        u.batch_open.next = self.batch_pos != 0;
        u.file_busy.next = self.file_busy > 0;
        u.flush.next = self.done;
        let set_clock = |u: &mut JobEngine<SA>, c: bool| u.clock.next = c.into();
        zo_sim::harness::testkit::clock_to(&mut **u, "JobEngine", set_clock, false);

        // What the neighbours see before the edge.
        let address = u.sample_address.val().index();
        if let Some((_, k)) = self.running {
            if let Some(op) = self.current.as_mut() {
                if op.op != Op::Apply as u64 {
                    // The slot the feature address points into.
                    let base = address - 1 - k;
                    assert_eq!(
                        base % RECORD,
                        0,
                        "feature address {address} for feature {k}"
                    );
                    let slot = base / RECORD;
                    assert!(op.slot.is_none() || op.slot == Some(slot), "slot changed");
                    op.slot = Some(slot);
                }
            }
        }
        let start = u.learner_start.val();
        let op = u.learner_op.val().index() as u64;
        let target = u.target.val().index() as u8;
        let epoch = u.epoch.val().index() as u16;
        if u.file_start.val() {
            self.file_starts
                .push((u.file_total.val().index() as u32, u.evaluating.val()));
            self.file_busy = 18;
        }
        if self.done {
            self.file_busy = 18;
        }
        self.read_data = self.memory[address];
        zo_sim::harness::testkit::clock_to(&mut **u, "JobEngine", set_clock, true);

        // After the edge.
        if self.done {
            self.flushes
                .push((self.uut.flush_done.val(), self.uut.flush_eval.val()));
        }
        self.file_busy = self.file_busy.saturating_sub(1);
        self.done = false;
        if let Some((left, k)) = self.running {
            if left == 0 {
                self.done = true;
                self.running = None;
                self.ops.push(self.current.take().expect("an operation"));
            } else {
                self.running = Some((left - 1, (k + 1) % SHAPE.n_in));
            }
        }
        if start {
            assert!(self.running.is_none() && !self.done, "a start while busy");
            if op == Op::Train as u64 {
                self.batch_pos = (self.batch_pos + 1) % self.batch;
            }
            if op == Op::Apply as u64 {
                self.batch_pos = 0;
            }
            let clocks = self.rng.gen_range(1..12);
            self.running = Some((clocks, 0));
            self.current = Some(Operation {
                op,
                target,
                slot: None,
                epoch,
            });
        }
    }

    fn idle(&mut self, n: usize) {
        for _ in 0..n {
            self.tick(Commands::default());
        }
    }
}

/// The operations of a job as `Device::step` runs them (APPLY where the learner holds samples
/// at a training epoch's end).
fn model_ops(
    memory: &[u8],
    eval: bool,
    first: usize,
    count: usize,
    epochs: u16,
    batch: u16,
) -> Vec<Operation> {
    let mut ops = Vec::new();
    let mut pos = 0;
    for e in 0..epochs {
        for i in 0..count {
            let slot = first + i;
            ops.push(Operation {
                op: if eval { Op::Infer } else { Op::Train } as u64,
                target: memory[slot * RECORD],
                slot: Some(slot),
                epoch: e,
            });
            if !eval {
                pos = (pos + 1) % batch;
            }
        }
        if !eval && pos != 0 {
            pos = 0;
            // The label register still holds the epoch's last label.
            ops.push(Operation {
                op: Op::Apply as u64,
                target: memory[(first + count - 1) * RECORD],
                slot: None,
                epoch: e,
            });
        }
    }
    ops
}

#[test]
fn jobs_run_the_samples_of_the_model() {
    let mut h = Harness::new(5);
    h.idle(3);
    for job in 0..60 {
        let eval = job % 3 == 2;
        let count = h.rng.gen_range(1..=CAPACITY as u16);
        let first = h.rng.gen_range(0..=CAPACITY as u16 - count);
        let epochs = if eval { 1 } else { h.rng.gen_range(1..=3) };
        h.batch = h.rng.gen_range(1..=4);
        h.batch_pos = 0;
        h.ops.clear();
        h.flushes.clear();
        h.file_starts.clear();
        h.tick(Commands {
            start: true,
            eval,
            epochs,
            count: 0xFFFF, // taken a clock later
            first: 0,
            ..Commands::default()
        });
        assert_eq!(h.uut.state.val().index(), if eval { 2 } else { 1 }, "state");
        assert!(!h.uut.active.val(), "active the clock after start");
        // The request fields hold: count and first are taken now.
        let fields = Commands {
            count,
            first,
            ..Commands::default()
        };
        h.tick(fields);
        assert!(h.uut.active.val(), "active two clocks after start");
        assert_eq!(h.uut.epoch.val().index(), 0);
        let mut clocks = 0;
        while h.uut.active.val() {
            h.tick(Commands::default());
            clocks += 1;
            assert!(clocks < 100_000, "job {job} never ended");
        }
        h.idle(30);
        let want = model_ops(
            &h.memory,
            eval,
            first as usize,
            count as usize,
            epochs,
            h.batch,
        );
        let got = h.ops.clone();
        assert_eq!(
            got, want,
            "job {job}: eval {eval} first {first} count {count} epochs {epochs} batch {}",
            h.batch
        );
        assert_eq!(h.uut.state.val().index(), 0, "state after the job");
        assert_eq!(
            h.uut.epoch.val().index() as u16,
            epochs,
            "epoch after the job"
        );
        // One start of the file; the total holds from the clock after it on.
        assert_eq!(h.file_starts.len(), 1, "file starts");
        assert_eq!(h.file_starts[0].1, eval, "evaluating at the file start");
        assert_eq!(
            h.uut.file_total.val().index() as u32,
            count as u32 * epochs as u32,
            "file total"
        );
        let want_flushes: Vec<(bool, bool)> = want
            .iter()
            .map(|o| {
                let sample = o.op != Op::Apply as u64;
                (sample, sample && eval)
            })
            .collect();
        assert_eq!(h.flushes, want_flushes, "flush_done / flush_eval");
    }
}

#[test]
fn stop_ends_a_job_before_its_next_sample() {
    let mut h = Harness::new(6);
    h.idle(3);
    for job in 0..40 {
        h.batch = 1;
        h.ops.clear();
        let count = CAPACITY as u16;
        let epochs = 3;
        h.tick(Commands {
            start: true,
            epochs,
            ..Commands::default()
        });
        h.tick(Commands {
            count,
            ..Commands::default()
        });
        let wait = h.rng.gen_range(0..400);
        h.idle(wait);
        let started = h.ops.len() + h.current.is_some() as usize;
        h.tick(Commands {
            stop: true,
            ..Commands::default()
        });
        let mut clocks = 0;
        while h.uut.active.val() {
            h.tick(Commands::default());
            clocks += 1;
            assert!(clocks < 1000, "job {job}: STOP never ended it");
        }
        h.idle(20);
        let total = h.ops.len();
        assert!(
            total <= started + 1 && total < (count * epochs) as usize,
            "job {job}: {total} operations after a STOP at {started}"
        );
        // STOP's answer: state 0, and a stop while idle is forgotten by the next job.
        assert_eq!(h.uut.state.val().index(), 1, "state holds until idle_state");
        h.tick(Commands {
            idle_state: true,
            stop: true,
            ..Commands::default()
        });
        assert_eq!(h.uut.state.val().index(), 0);
    }
    // A job after a forgotten STOP runs to its end.
    h.ops.clear();
    h.tick(Commands {
        start: true,
        epochs: 1,
        ..Commands::default()
    });
    h.tick(Commands {
        count: 2,
        first: 3,
        ..Commands::default()
    });
    while h.uut.active.val() {
        h.tick(Commands::default());
    }
    h.idle(20);
    assert_eq!(h.ops.len(), 2, "a STOP given while idle ended a later job");
    h.tick(Commands {
        clear_epoch: true,
        ..Commands::default()
    });
    assert_eq!(h.uut.epoch.val().index(), 0, "clear_epoch");
}

#[test]
fn infer_reads_the_inline_slot_with_its_label() {
    let mut h = Harness::new(7);
    h.idle(3);
    for label in 0..SHAPE.n_out as u8 {
        h.tick(Commands {
            infer: true,
            infer_label: label,
            ..Commands::default()
        });
        assert_eq!(h.uut.target.val().index() as u8, label);
        // The executor starts the learner itself; the engine points the features at the slot.
        for k in 0..SHAPE.n_in {
            h.uut.x_addr.next = (k as u64).to_bits();
            zo_sim::harness::testkit::settle(&mut *h.uut, "JobEngine");
            assert_eq!(
                h.uut.sample_address.val().index(),
                CAPACITY * RECORD + k + 1,
                "feature {k} of the inline slot"
            );
        }
        assert!(!h.uut.active.val() && !h.uut.learner_start.val());
    }
}
