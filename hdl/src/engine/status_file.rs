//! Status file: the 32-bit counters of the STATUS payload (docs/PROTOCOL.md 4.2) held in one
//! small block RAM and updated by one shared adder, instead of a register and an adder per
//! counter and a 16-way multiplexer in front of the transmitter. On the iCE40 UP5K this saves
//! about a fifth of the logic cells of the whole device.
//!
//! Contract (clock `clock`). Word `k` of the file is STATUS word `k`:
//! 1 job_done, 2 job_total, 3 samples, 4 updates, 5 saturations, 6 zero_updates, 7 loss_sum,
//! 8 last_loss, 9 eval_count, 10 eval_correct, 11 eval_loss_sum, 14/15 device_cycles (low/high).
//! Words 0, 12 and 13 live in registers elsewhere and stay 0 here. All words are 0 at power-on.
//!
//! Commands are strobes; each sweeps the 16 words (`busy` is high for the next 17 cycles) and
//! its operands must be held stable until `busy` falls. `start` and `flush` are taken only
//! while `busy` is low; `zero` is always taken and restarts a running sweep. With several
//! strobes at once, `zero` wins over `start`, `start` over `flush`.
//! - `zero`: every word becomes 0 (RESET).
//! - `start`: job_done = 0, job_total = `total`; with `clear_eval` also the three eval words.
//! - `flush`: adds one finished learner operation: job_done += `add_done`, samples +=
//!   `add_sample`, updates += `add_update`, saturations += `saturations`, zero_updates +=
//!   `zero_updates`; with `trained` loss_sum += `loss` and last_loss = `loss`; with `evaluated`
//!   eval_count += 1, eval_correct += `correct`, eval_loss_sum += `loss`; device_cycles +=
//!   `cycles` (64-bit). Every sum wraps modulo 2^32 (2^64 for the cycles), as in the model.
//!
//! Read port: present `read_word`; one cycle later `read_data` holds that word and `read_hit`
//! is high when the word read is the one presented now and the file was idle when it was read
//! (so a reader that holds `read_word` and waits for `read_hit` never sees a stale word).
use crate::mem::sized_ram::SizedRam;
use rust_hdl::prelude::*;

/// Word indices of the file (STATUS payload words).
pub mod word {
    pub const JOB_DONE: usize = 1;
    pub const JOB_TOTAL: usize = 2;
    pub const SAMPLES: usize = 3;
    pub const UPDATES: usize = 4;
    pub const SATURATIONS: usize = 5;
    pub const ZERO_UPDATES: usize = 6;
    pub const LOSS_SUM: usize = 7;
    pub const LAST_LOSS: usize = 8;
    pub const EVAL_COUNT: usize = 9;
    pub const EVAL_CORRECT: usize = 10;
    pub const EVAL_LOSS: usize = 11;
    pub const CYCLES_LO: usize = 14;
    pub const CYCLES_HI: usize = 15;
}

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum Command {
    Zero,
    Start,
    Flush,
}

#[derive(LogicBlock, Default)]
pub struct StatusFile {
    pub clock: Signal<In, Clock>,
    pub zero: Signal<In, bool>,
    pub start: Signal<In, bool>,
    pub flush: Signal<In, bool>,
    pub total: Signal<In, Bits<32>>,
    pub clear_eval: Signal<In, bool>,
    pub add_done: Signal<In, bool>,
    pub add_sample: Signal<In, bool>,
    pub add_update: Signal<In, bool>,
    pub saturations: Signal<In, Bits<16>>,
    pub zero_updates: Signal<In, Bits<16>>,
    pub trained: Signal<In, bool>,
    pub evaluated: Signal<In, bool>,
    pub correct: Signal<In, bool>,
    pub loss: Signal<In, Bits<32>>,
    pub cycles: Signal<In, Bits<16>>,
    pub read_word: Signal<In, Bits<4>>,
    pub read_data: Signal<Out, Bits<32>>,
    pub read_hit: Signal<Out, bool>,
    pub busy: Signal<Out, bool>,

    words: SizedRam<Bits<32>, 4>,
    command: DFF<Command>,
    sweeping: DFF<bool>,
    sweep: DFF<Bits<4>>,
    writing: DFF<bool>,
    write_word: DFF<Bits<4>>,
    carry: DFF<bool>,
    last_word: DFF<Bits<4>>,
    last_idle: DFF<bool>,

    keep: Signal<Local, bool>,
    addend: Signal<Local, Bits<32>>,
    base: Signal<Local, Bits<32>>,
    base_wide: Signal<Local, Bits<33>>,
    addend_wide: Signal<Local, Bits<33>>,
    sum: Signal<Local, Bits<33>>,
    idle: Signal<Local, bool>,
}

// `#[hdl_gen]` has no match guards.
#[allow(clippy::collapsible_match)]
impl Logic for StatusFile {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, command, sweeping, sweep, writing, write_word, carry, last_word, last_idle
        );
        self.words.read_clock.next = self.clock.val();
        self.words.write_clock.next = self.clock.val();
        self.idle.next = !self.sweeping.q.val() & !self.writing.q.val();

        // Sweep: read word k in one cycle, write its new value in the next.
        if self.sweeping.q.val() {
            self.sweep.d.next = self.sweep.q.val() + 1;
            if self.sweep.q.val() == 15 {
                self.sweeping.d.next = false;
            }
            self.words.read_address.next = self.sweep.q.val();
        } else {
            self.words.read_address.next = self.read_word.val();
        }
        if self.zero.val() {
            // A zeroing sweep restarts even over a running one.
            self.command.d.next = Command::Zero;
            self.sweeping.d.next = true;
            self.sweep.d.next = 0.into();
        } else if self.idle.val() {
            if self.start.val() {
                self.command.d.next = Command::Start;
                self.sweeping.d.next = true;
            } else if self.flush.val() {
                self.command.d.next = Command::Flush;
                self.sweeping.d.next = true;
            }
        }
        self.writing.d.next = self.sweeping.q.val();
        self.write_word.d.next = self.sweep.q.val();

        // New value of the word being written: (keep ? old : 0) + addend.
        self.keep.next = true;
        self.addend.next = 0.into();
        match self.command.q.val() {
            Command::Zero => self.keep.next = false,
            Command::Start => match self.write_word.q.val().index() {
                1 => self.keep.next = false,
                2 => {
                    self.keep.next = false;
                    self.addend.next = self.total.val();
                }
                9 => self.keep.next = !self.clear_eval.val(),
                10 => self.keep.next = !self.clear_eval.val(),
                11 => self.keep.next = !self.clear_eval.val(),
                _ => {}
            },
            _ => match self.write_word.q.val().index() {
                1 => {
                    if self.add_done.val() {
                        self.addend.next = 1.into();
                    }
                }
                3 => {
                    if self.add_sample.val() {
                        self.addend.next = 1.into();
                    }
                }
                4 => {
                    if self.add_update.val() {
                        self.addend.next = 1.into();
                    }
                }
                5 => self.addend.next = bit_cast::<32, 16>(self.saturations.val()),
                6 => self.addend.next = bit_cast::<32, 16>(self.zero_updates.val()),
                7 => {
                    if self.trained.val() {
                        self.addend.next = self.loss.val();
                    }
                }
                8 => {
                    if self.trained.val() {
                        self.keep.next = false;
                        self.addend.next = self.loss.val();
                    }
                }
                9 => {
                    if self.evaluated.val() {
                        self.addend.next = 1.into();
                    }
                }
                10 => {
                    if self.evaluated.val() & self.correct.val() {
                        self.addend.next = 1.into();
                    }
                }
                11 => {
                    if self.evaluated.val() {
                        self.addend.next = self.loss.val();
                    }
                }
                14 => self.addend.next = bit_cast::<32, 16>(self.cycles.val()),
                15 => {
                    if self.carry.q.val() {
                        self.addend.next = 1.into();
                    }
                }
                _ => {}
            },
        }
        if self.keep.val() {
            self.base.next = self.words.read_data.val();
        } else {
            self.base.next = 0.into();
        }
        self.base_wide.next = bit_cast::<33, 32>(self.base.val());
        self.addend_wide.next = bit_cast::<33, 32>(self.addend.val());
        self.sum.next = self.base_wide.val() + self.addend_wide.val();
        self.words.write_address.next = self.write_word.q.val();
        self.words.write_data.next = bit_cast::<32, 33>(self.sum.val());
        self.words.write_enable.next = self.writing.q.val();
        if self.writing.q.val() {
            self.carry.d.next = self.sum.val().get_bit(32);
        }

        self.last_word.d.next = self.read_word.val();
        self.last_idle.d.next = self.idle.val();
        self.read_data.next = self.words.read_data.val();
        self.read_hit.next =
            self.last_idle.q.val() & (self.last_word.q.val() == self.read_word.val());
        self.busy.next = !self.idle.val();
    }
}
