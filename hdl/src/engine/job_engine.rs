//! Job engine: runs TRAIN and EVALUATE jobs in the background (docs/PROTOCOL.md 4.2): every
//! sample `first..first + count` in order, `epochs` times, one learner operation per sample
//! (train, or infer for an evaluation), the mini-batch's APPLY at the end of each training
//! epoch when samples are pending; STOP and RESET end it between samples. It also holds the
//! STATUS `state` and `epoch` fields and tells the status file what each operation counted.
//! Reference: `zo_sim::device::reference::Device::step` (one sample per call) and its
//! `status`.
//!
//! Contract (clock `clock`; inputs are levels sampled at the rising edge):
//! - `start` (one clock) begins a job: `eval` (EVALUATE, else TRAIN) and `epochs` are taken at
//!   that edge, `count` and `first_base` (the first sample's byte address, `first * record`)
//!   at the next one; `state` becomes 1 (training) or 2 (evaluating) at once, `active` rises
//!   and `epoch` becomes 0 a clock later, and `file_start` is high during that clock (the
//!   status file's `start`, with `evaluating`; `file_total` = `count * epochs` holds from the
//!   next clock on, while the file's sweep reaches it). Only while `active` is low.
//! - Per sample: the label is read at `sample_address` = the slot's base (sample buffer read
//!   data `sample_data` one clock later) once the status file is not `file_busy`, it becomes
//!   `target`, then `learner_start` is high for one clock with `learner_op` = train or infer;
//!   `learner_done` ends the operation. Outside the label read `sample_address` is the
//!   feature the learner asks for (`x_addr`): base + `x_addr` + 1.
//! - After an epoch's last sample: APPLY (`learner_op` = apply) when training and
//!   `batch_open` (the learner holds unapplied samples), then `epoch` += 1; after the last
//!   epoch `active` falls and `state` becomes 0.
//! - `stop` (one clock): the job ends when it next reaches a sample's label read (`active`
//!   falls): an operation in flight, or one whose label is being read, completes first, with
//!   its epoch's APPLY when due. A stop while no job runs is forgotten.
//! - `idle_state`: `state` becomes 0 (STOP's and RESET's answer); `clear_epoch`: `epoch`
//!   becomes 0 (RESET). `infer` (no job running): the slot at `inline_base` becomes the one the
//!   learner reads, with `target` = `infer_label` (INFER's inline sample).
//! - `flush` (a finished operation goes to the status file): `flush_done` / `flush_eval` are
//!   registered at that edge: high when the operation was a job sample / an evaluation sample.
//!
//! Parameters (checked at elaboration): the record size `n_in + 1` and the byte address of
//! the inline slot must fit `SA` bits.
use crate::config::{Op, Shape};
use rust_hdl::prelude::*;

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum Phase {
    Idle,
    Label,
    LabelWait,
    Start,
    Wait,
    Bookkeep,
    Apply,
    ApplyWait,
}

#[derive(LogicBlock)]
pub struct JobEngine<const SA: usize> {
    pub clock: Signal<In, Clock>,
    pub start: Signal<In, bool>,
    pub eval: Signal<In, bool>,
    pub epochs: Signal<In, Bits<16>>,
    pub count: Signal<In, Bits<16>>,
    pub first_base: Signal<In, Bits<SA>>,
    pub stop: Signal<In, bool>,
    pub idle_state: Signal<In, bool>,
    pub clear_epoch: Signal<In, bool>,
    pub infer: Signal<In, bool>,
    pub infer_label: Signal<In, Bits<8>>,
    pub x_addr: Signal<In, Bits<8>>,
    pub sample_data: Signal<In, Bits<8>>,
    pub learner_done: Signal<In, bool>,
    pub batch_open: Signal<In, bool>,
    pub file_busy: Signal<In, bool>,
    pub flush: Signal<In, bool>,
    pub active: Signal<Out, bool>,
    pub state: Signal<Out, Bits<8>>,
    pub epoch: Signal<Out, Bits<16>>,
    pub target: Signal<Out, Bits<8>>,
    pub sample_address: Signal<Out, Bits<SA>>,
    pub learner_start: Signal<Out, bool>,
    pub learner_op: Signal<Out, Bits<2>>,
    pub file_start: Signal<Out, bool>,
    pub file_total: Signal<Out, Bits<32>>,
    pub evaluating: Signal<Out, bool>,
    pub flush_done: Signal<Out, bool>,
    pub flush_eval: Signal<Out, bool>,

    record: Constant<Bits<SA>>,
    inline_base: Constant<Bits<SA>>,
    op_train: Constant<Bits<2>>,
    op_infer: Constant<Bits<2>>,
    op_apply: Constant<Bits<2>>,

    phase: DFF<Phase>,
    job_active: DFF<bool>,
    job_eval: DFF<bool>,
    job_stop: DFF<bool>,
    job_count: DFF<Bits<16>>,
    job_epochs: DFF<Bits<16>>,
    job_next: DFF<Bits<16>>,
    job_first_base: DFF<Bits<SA>>,
    job_base: DFF<Bits<SA>>,
    job_target: DFF<Bits<8>>,
    st_state: DFF<Bits<8>>,
    st_epoch: DFF<Bits<16>>,
    /// `start` seen in the previous clock: the job begins now, `count` and `first_base` hold.
    job_starting: DFF<bool>,
    // Loop ends, registered a clock before they are used: the counters hold from one sample
    // to the next.
    last_sample: DFF<bool>,
    last_epoch: DFF<bool>,
    done_reg: DFF<bool>,
    eval_reg: DFF<bool>,

    job_next1: Signal<Local, Bits<16>>,
    epoch1: Signal<Local, Bits<16>>,
    x_wide: Signal<Local, Bits<SA>>,
    feature_addr: Signal<Local, Bits<SA>>,
}

impl<const SA: usize> JobEngine<SA> {
    /// The job engine of a device with `shape` whose inline (INFER) slot starts at byte
    /// `capacity * (n_in + 1)` of the sample buffer; panics (at elaboration) when that or a
    /// record does not fit `SA` bits.
    pub fn new(shape: Shape, capacity: usize) -> Self {
        let record = shape.n_in + 1;
        let inline_base = capacity * record;
        assert!(
            record < 1 << SA && inline_base < 1 << SA,
            "the inline slot at byte {inline_base} must fit {SA} address bits"
        );
        Self {
            clock: Default::default(),
            start: Default::default(),
            eval: Default::default(),
            epochs: Default::default(),
            count: Default::default(),
            first_base: Default::default(),
            stop: Default::default(),
            idle_state: Default::default(),
            clear_epoch: Default::default(),
            infer: Default::default(),
            infer_label: Default::default(),
            x_addr: Default::default(),
            sample_data: Default::default(),
            learner_done: Default::default(),
            batch_open: Default::default(),
            file_busy: Default::default(),
            flush: Default::default(),
            active: Default::default(),
            state: Default::default(),
            epoch: Default::default(),
            target: Default::default(),
            sample_address: Default::default(),
            learner_start: Default::default(),
            learner_op: Default::default(),
            file_start: Default::default(),
            file_total: Default::default(),
            evaluating: Default::default(),
            flush_done: Default::default(),
            flush_eval: Default::default(),
            record: Constant::new(record.to_bits()),
            inline_base: Constant::new(inline_base.to_bits()),
            op_train: Constant::new((Op::Train as usize).to_bits()),
            op_infer: Constant::new((Op::Infer as usize).to_bits()),
            op_apply: Constant::new((Op::Apply as usize).to_bits()),
            phase: Default::default(),
            job_active: Default::default(),
            job_eval: Default::default(),
            job_stop: Default::default(),
            job_count: Default::default(),
            job_epochs: Default::default(),
            job_next: Default::default(),
            job_first_base: Default::default(),
            job_base: Default::default(),
            job_target: Default::default(),
            st_state: Default::default(),
            st_epoch: Default::default(),
            job_starting: Default::default(),
            last_sample: Default::default(),
            last_epoch: Default::default(),
            done_reg: Default::default(),
            eval_reg: Default::default(),
            job_next1: Default::default(),
            epoch1: Default::default(),
            x_wide: Default::default(),
            feature_addr: Default::default(),
        }
    }
}

impl<const SA: usize> Logic for JobEngine<SA> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            phase,
            job_active,
            job_eval,
            job_stop,
            job_count,
            job_epochs,
            job_next,
            job_first_base,
            job_base,
            job_target,
            st_state,
            st_epoch,
            job_starting,
            last_sample,
            last_epoch,
            done_reg,
            eval_reg
        );
        self.x_wide.next = bit_cast::<SA, 8>(self.x_addr.val());
        self.feature_addr.next = self.job_base.q.val() + self.x_wide.val() + 1;

        // Commands of the executor (in its order of precedence: the job's own updates below
        // come later and win).
        if self.start.val() {
            self.job_eval.d.next = self.eval.val();
            self.job_epochs.d.next = self.epochs.val();
            if self.eval.val() {
                self.st_state.d.next = 2.into();
            } else {
                self.st_state.d.next = 1.into();
            }
        }
        if self.stop.val() {
            self.job_stop.d.next = true;
        }
        if self.idle_state.val() {
            self.st_state.d.next = 0.into();
        }
        if self.clear_epoch.val() {
            self.st_epoch.d.next = 0.into();
        }
        if self.infer.val() {
            self.job_base.d.next = self.inline_base.val();
            self.job_target.d.next = self.infer_label.val();
        }

        // A job starts over samples first..first+count.
        self.job_starting.d.next = self.start.val();
        if self.job_starting.q.val() {
            self.job_active.d.next = true;
            self.job_stop.d.next = false;
            self.job_count.d.next = self.count.val();
            self.job_next.d.next = 0.into();
            self.job_first_base.d.next = self.first_base.val();
            self.job_base.d.next = self.first_base.val();
            self.phase.d.next = Phase::Label;
            self.st_epoch.d.next = 0.into();
        }

        self.job_next1.next = self.job_next.q.val() + 1;
        self.epoch1.next = self.st_epoch.q.val() + 1;
        self.last_sample.d.next = self.job_next1.val() == self.job_count.q.val();
        self.last_epoch.d.next = self.epoch1.val() == self.job_epochs.q.val();
        match self.phase.q.val() {
            Phase::Idle => {}
            Phase::Label => {
                // The next operation waits until the file has taken this one's results.
                if !self.file_busy.val() {
                    self.phase.d.next = Phase::LabelWait;
                }
            }
            Phase::LabelWait => {
                self.job_target.d.next = self.sample_data.val();
                self.phase.d.next = Phase::Start;
            }
            Phase::Start => {
                self.phase.d.next = Phase::Wait;
            }
            Phase::Wait => {
                if self.learner_done.val() {
                    self.phase.d.next = Phase::Bookkeep;
                }
            }
            Phase::Bookkeep => {
                if self.last_sample.q.val() {
                    self.job_next.d.next = 0.into();
                    self.job_base.d.next = self.job_first_base.q.val();
                    if !self.job_eval.q.val() & self.batch_open.val() {
                        self.phase.d.next = Phase::Apply;
                    } else {
                        self.st_epoch.d.next = self.epoch1.val();
                        if self.last_epoch.q.val() {
                            self.job_active.d.next = false;
                            self.st_state.d.next = 0.into();
                            self.phase.d.next = Phase::Idle;
                        } else {
                            self.phase.d.next = Phase::Label;
                        }
                    }
                } else {
                    self.job_next.d.next = self.job_next1.val();
                    self.job_base.d.next = self.job_base.q.val() + self.record.val();
                    self.phase.d.next = Phase::Label;
                }
            }
            Phase::Apply => {
                if !self.file_busy.val() {
                    self.phase.d.next = Phase::ApplyWait;
                }
            }
            Phase::ApplyWait => {
                if self.learner_done.val() {
                    self.st_epoch.d.next = self.epoch1.val();
                    if self.last_epoch.q.val() {
                        self.job_active.d.next = false;
                        self.st_state.d.next = 0.into();
                        self.phase.d.next = Phase::Idle;
                    } else {
                        self.phase.d.next = Phase::Label;
                    }
                }
            }
            _ => {
                self.phase.d.next = Phase::Idle;
            }
        }

        // The learner's command and the sample buffer's address, each assigned once per
        // evaluation (no default then override): the controller reads them in the block that
        // drives this one's inputs, and a port that toggles while its block runs sends
        // iverilog into a zero-delay loop between the two blocks (engine/mod.rs).
        self.learner_start.next = (self.phase.q.val() == Phase::Start)
            | ((self.phase.q.val() == Phase::Apply) & !self.file_busy.val());
        if self.phase.q.val() == Phase::Start {
            if self.job_eval.q.val() {
                self.learner_op.next = self.op_infer.val();
            } else {
                self.learner_op.next = self.op_train.val();
            }
        } else if (self.phase.q.val() == Phase::Apply) & !self.file_busy.val() {
            self.learner_op.next = self.op_apply.val();
        } else {
            self.learner_op.next = 0.into();
        }
        if self.phase.q.val() == Phase::Label {
            self.sample_address.next = self.job_base.q.val();
        } else {
            self.sample_address.next = self.feature_addr.val();
        }

        // STOP and RESET end a job between samples.
        if self.job_stop.q.val() & (self.phase.q.val() == Phase::Label) {
            self.job_active.d.next = false;
            self.phase.d.next = Phase::Idle;
        }
        if !self.job_active.q.val() {
            self.job_stop.d.next = false;
        }

        // What the status file counts of a finished operation.
        if self.flush.val() {
            self.done_reg.d.next = self.phase.q.val() == Phase::Wait;
            self.eval_reg.d.next = (self.phase.q.val() == Phase::Wait) & self.job_eval.q.val();
        }
        self.file_start.next = self.job_starting.q.val();
        self.file_total.next = self.job_count.q.val() * self.job_epochs.q.val();
        self.evaluating.next = self.job_eval.q.val();
        self.flush_done.next = self.done_reg.q.val();
        self.flush_eval.next = self.eval_reg.q.val();
        self.active.next = self.job_active.q.val();
        self.state.next = self.st_state.q.val();
        self.epoch.next = self.st_epoch.q.val();
        self.target.next = self.job_target.q.val();
    }
}
