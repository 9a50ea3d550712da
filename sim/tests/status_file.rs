//! The status file (`zo_hdl::engine::status_file`) against its contract: random sequences of zero,
//! start and flush commands with random operands (wrapping sums, the 64-bit cycle carry, a
//! zero that interrupts a sweep), every word read back through the read port after each command
//! and compared with a plain model of the contract. Reads during a sweep must never report a
//! hit.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_hdl::prelude::*;
use zo_hdl::engine::status_file::{word, StatusFile};

/// The contract of docs in `status_file.rs`, as plain integers.
#[derive(Default)]
struct Reference {
    words: [u32; 16],
}

#[derive(Clone, Copy, Debug, Default)]
struct Flush {
    add_done: bool,
    add_sample: bool,
    add_update: bool,
    saturations: u16,
    zero_updates: u16,
    trained: bool,
    evaluated: bool,
    correct: bool,
    loss: u32,
    cycles: u16,
}

impl Reference {
    fn start(&mut self, total: u32, clear_eval: bool) {
        self.words[word::JOB_DONE] = 0;
        self.words[word::JOB_TOTAL] = total;
        if clear_eval {
            for w in [word::EVAL_COUNT, word::EVAL_CORRECT, word::EVAL_LOSS] {
                self.words[w] = 0;
            }
        }
    }

    fn flush(&mut self, f: &Flush) {
        let w = &mut self.words;
        let add = |w: &mut [u32; 16], k: usize, v: u32| w[k] = w[k].wrapping_add(v);
        add(w, word::JOB_DONE, f.add_done as u32);
        add(w, word::SAMPLES, f.add_sample as u32);
        add(w, word::UPDATES, f.add_update as u32);
        add(w, word::SATURATIONS, f.saturations as u32);
        add(w, word::ZERO_UPDATES, f.zero_updates as u32);
        if f.trained {
            add(w, word::LOSS_SUM, f.loss);
            w[word::LAST_LOSS] = f.loss;
        }
        if f.evaluated {
            add(w, word::EVAL_COUNT, 1);
            add(w, word::EVAL_CORRECT, f.correct as u32);
            add(w, word::EVAL_LOSS, f.loss);
        }
        let cycles = ((w[word::CYCLES_HI] as u64) << 32 | w[word::CYCLES_LO] as u64)
            .wrapping_add(f.cycles as u64);
        w[word::CYCLES_LO] = cycles as u32;
        w[word::CYCLES_HI] = (cycles >> 32) as u32;
    }
}

struct Harness {
    uut: Box<StatusFile>,
}

impl Harness {
    fn new() -> Self {
        let mut uut = Box::<StatusFile>::default();
        uut.connect_all();
        let mut h = Self { uut };
        h.settle();
        h
    }

    fn settle(&mut self) {
        zo_sim::harness::testkit::settle(&mut *self.uut, "StatusFile");
    }

    fn tick(&mut self) {
        zo_sim::harness::testkit::high_then_low(&mut *self.uut, "StatusFile", |u, c| {
            u.clock.next = c.into()
        });
        self.uut.zero.next = false;
        self.uut.start.next = false;
        self.uut.flush.next = false;
        self.settle();
    }

    /// Ticks until idle, checking that no read reports a hit meanwhile; returns the cycles.
    fn wait(&mut self, read_word: usize) -> usize {
        let mut n = 0;
        while self.uut.busy.val() {
            self.uut.read_word.next = read_word.to_bits();
            self.tick();
            n += 1;
            assert!(n <= 40, "the file stays busy");
        }
        n
    }

    fn read(&mut self, k: usize) -> u32 {
        self.uut.read_word.next = k.to_bits();
        self.settle();
        self.tick();
        assert!(
            self.uut.read_hit.val(),
            "no hit reading word {k} while idle"
        );
        self.uut.read_data.val().index() as u32
    }

    fn set_flush(&mut self, f: &Flush) {
        let u = &mut self.uut;
        u.add_done.next = f.add_done;
        u.add_sample.next = f.add_sample;
        u.add_update.next = f.add_update;
        u.saturations.next = (f.saturations as u64).to_bits();
        u.zero_updates.next = (f.zero_updates as u64).to_bits();
        u.trained.next = f.trained;
        u.evaluated.next = f.evaluated;
        u.correct.next = f.correct;
        u.loss.next = (f.loss as u64).to_bits();
        u.cycles.next = (f.cycles as u64).to_bits();
    }
}

fn random_flush(rng: &mut ChaCha8Rng) -> Flush {
    Flush {
        add_done: rng.gen(),
        add_sample: rng.gen(),
        add_update: rng.gen(),
        saturations: rng.gen(),
        zero_updates: rng.gen(),
        trained: rng.gen(),
        evaluated: rng.gen(),
        correct: rng.gen(),
        // Large losses make the sums wrap within a short run.
        loss: if rng.gen_bool(0.3) {
            rng.gen()
        } else {
            rng.gen_range(0..4096)
        },
        cycles: rng.gen(),
    }
}

#[test]
fn status_file_follows_its_contract() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut h = Harness::new();
    let mut r = Reference::default();
    for k in 0..16 {
        assert_eq!(h.read(k), 0, "word {k} at power-on");
    }
    // 65 538 operations of 65 535 cycles carry the cycle count past 2^32.
    let f = Flush {
        cycles: u16::MAX,
        ..Flush::default()
    };
    h.set_flush(&f);
    for _ in 0..65_538 {
        h.uut.flush.next = true;
        h.tick();
        h.wait(0);
        r.flush(&f);
    }
    assert_eq!(r.words[word::CYCLES_HI], 1);
    assert_eq!(h.read(word::CYCLES_HI), 1, "carry into the high cycle word");
    assert_eq!(h.read(word::CYCLES_LO), r.words[word::CYCLES_LO]);
    for step in 0..600 {
        let choice = rng.gen_range(0..100);
        if choice < 4 {
            h.uut.zero.next = true;
            h.tick();
            // Sometimes a second zero restarts the sweep half-way.
            if rng.gen_bool(0.5) {
                for _ in 0..rng.gen_range(1..15) {
                    h.tick();
                }
                h.uut.zero.next = true;
                h.tick();
            }
            r = Reference::default();
            assert!(h.uut.busy.val());
        } else if choice < 14 {
            let total: u32 = rng.gen();
            let clear_eval = rng.gen();
            h.uut.total.next = (total as u64).to_bits();
            h.uut.clear_eval.next = clear_eval;
            h.uut.start.next = true;
            h.tick();
            r.start(total, clear_eval);
        } else {
            let f = random_flush(&mut rng);
            h.set_flush(&f);
            h.uut.flush.next = true;
            h.tick();
            r.flush(&f);
            // A start or flush while a sweep runs is ignored.
            if rng.gen_bool(0.2) {
                h.tick();
                h.uut.total.next = 0xDEAD_BEEFu64.to_bits();
                h.uut.start.next = true;
                h.uut.flush.next = true;
                h.tick();
            }
        }
        let busy_cycles = h.wait(rng.gen_range(0..16));
        assert!(busy_cycles >= 13, "a command sweeps all 16 words");
        for k in 0..16 {
            let expected = if [0, 12, 13].contains(&k) {
                0
            } else {
                r.words[k]
            };
            assert_eq!(h.read(k), expected, "word {k} after step {step}");
        }
    }
}
