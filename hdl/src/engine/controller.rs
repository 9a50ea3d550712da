//! Protocol engine: executes the requests of docs/PROTOCOL.md on the learner and the sample
//! buffer, and runs training and evaluation jobs in the background. Reference:
//! `zo_sim::device::reference::Device`, which answers every request with the same bytes.
//!
//! Composition: the frame receiver and transmitter (link/), the learner, the sample buffer,
//! and the engine's own blocks, each with its contract and block test: request checks
//! (request_check.rs), response writer (response_writer.rs), job engine (job_engine.rs),
//! identity ROM (identity.rs) and status file (status_file.rs). What stays here is the
//! executor: the state machine that takes a frame, registers the checks' verdict, runs the
//! request (weights, samples, parameters, INFER, STOP, RESET, the power-on clear) and feeds the
//! response writer its payload bytes.
//!
//! Why this file is over 600 lines (about 950): the executor is one state machine whose
//! states each drive several of the blocks above (learner host port, packet buffers, sample
//! buffer, writer, job engine) at once; as a block of its own it would need all of those
//! ports forwarded through it, so the lines would move, not shrink, and it has no model of
//! its own below the whole engine (device_vs_model compares the engine with the reference
//! device byte for byte). Splitting it (e.g. the payload formatting of IDENTIFY, STATUS,
//! READ_WEIGHTS, INFER and ERROR) is open work of issue 11.
//!
//! Contract (clock `clock`): received bytes arrive on `in_data` / `in_valid` (from a UART
//! receiver); response bytes leave on `tx_data` / `tx_send` while `tx_ready` (to a UART
//! transmitter). `job_running` and `error_seen` drive status LEDs. After power-on the engine
//! runs RESET by itself.
//!
//! Request handling follows `zo_proto::Request::decode` and then `Device::execute`, in their
//! order of checks: unknown type, lengths, field values, BUSY, device limits. The last response
//! is kept with its sequence number and replayed for a repeated one. While a request executes,
//! new frames are dropped (the host retransmits). Sample slot `i` sits at byte
//! `i * (n_in + 1)` of the sample buffer (label, then features); slot `capacity` is reserved for
//! INFER.
use crate::config::{Op, Shape, DEFAULT_OUT_SHIFT};
pub use crate::engine::identity::{identity, ControllerInfo};
use crate::engine::identity::{identity_bytes, IdentityRom};
use crate::engine::job_engine::JobEngine;
use crate::engine::request_check::RequestCheck;
use crate::engine::response_writer::ResponseWriter;
use crate::engine::status_file::StatusFile;
use crate::learner::Learner;
use crate::link::frame_rx::FrameRx;
use crate::link::frame_tx::FrameTx;
use crate::mem::single_port_ram::SinglePortRam;
use rust_hdl::prelude::*;

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum Exec {
    Boot,
    BootClear,
    Idle,
    Check,
    Dispatch,
    Error,
    Header,
    PayIdentity,
    PayStatus,
    PayWeightsHead,
    PayWordAddr,
    PayWordLo,
    PayWordHi,
    PayError,
    PayInfer,
    CrcHi,
    CrcLo,
    Send,
    SendSettle,
    SendWait,
    Nak,
    NakWait,
    WriteIssueLo,
    WriteIssueHi,
    WriteStore,
    ScanIssue,
    ScanCheck,
    CopyIssue,
    CopyStore,
    InferStart,
    InferWait,
    StopWait,
    ResetWait,
    ResetClear,
    ResetClearWait,
}

#[derive(LogicBlock)]
pub struct Controller<const AW: usize, const SA: usize> {
    pub clock: Signal<In, Clock>,
    pub in_data: Signal<In, Bits<8>>,
    pub in_valid: Signal<In, bool>,
    pub tx_data: Signal<Out, Bits<8>>,
    pub tx_send: Signal<Out, bool>,
    pub tx_ready: Signal<In, bool>,
    pub job_running: Signal<Out, bool>,
    pub error_seen: Signal<Out, bool>,
    /// No request pending or executing and nothing being sent (for simulation harnesses).
    pub link_idle: Signal<Out, bool>,

    // Elaboration constants.
    n_in: Constant<Bits<16>>,
    n_out: Constant<Bits<16>>,
    record: Constant<Bits<16>>,
    inline_base: Constant<Bits<SA>>,
    last_sample_byte: Constant<Bits<SA>>,
    id_len: Constant<Bits<16>>,
    infer_len: Constant<Bits<16>>,
    op_infer: Constant<Bits<2>>,
    op_clear: Constant<Bits<2>>,
    reset_out_shift: Constant<Bits<5>>,

    rx: FrameRx,
    tx: FrameTx,
    learner: Learner<AW>,
    samples: SinglePortRam<Bits<8>, SA>,
    id_rom: IdentityRom,
    checks: RequestCheck,

    exec: DFF<Exec>,
    after_header: DFF<Exec>,
    resp_kind: DFF<Bits<8>>,
    resp_len: DFF<Bits<16>>,
    cur_kind: DFF<Bits<8>>,
    cur_seq: DFF<Bits<8>>,
    err_code: DFF<Bits<8>>,
    err_detail: DFF<Bits<16>>,
    idx: DFF<Bits<16>>,
    count: DFF<Bits<16>>,
    start_at: DFF<Bits<16>>,
    writer: ResponseWriter,
    have_last: DFF<bool>,
    last_seq: DFF<Bits<8>>,
    low_byte: DFF<Bits<8>>,
    src_off: DFF<Bits<16>>,
    dst_base: DFF<Bits<SA>>,
    copy_len: DFF<Bits<16>>,
    copy_then: DFF<Exec>,
    error_flag: DFF<bool>,
    words_are_logits: DFF<bool>,
    frame_pending: DFF<bool>,
    field_bad: DFF<bool>,
    /// SET_PARAMS asked for a seed load: done a cycle later (the seed still holds in the
    /// request fields), off the dispatch logic's path.
    seed_pending: DFF<bool>,
    pending_nak: DFF<bool>,
    // Parameters.
    p_wp: DFF<bool>,
    p_hybrid: DFF<bool>,
    p_out_shift: DFF<Bits<5>>,
    p_momentum: DFF<Bits<3>>,
    p_ce: DFF<bool>,
    p_sigma: DFF<Bits<16>>,
    p_mant: DFF<Bits<8>>,
    p_shift: DFF<Bits<5>>,
    p_batch: DFF<Bits<16>>,
    jobs: JobEngine<SA>,
    counters: StatusFile,
    op_cycles: DFF<Bits<16>>,

    // Combinational.
    p23: Signal<Local, Bits<16>>,
    p01: Signal<Local, Bits<16>>,
    p45: Signal<Local, Bits<16>>,
    p67: Signal<Local, Bits<16>>,
    seed_word: Signal<Local, Bits<32>>,
    base_product: Signal<Local, Bits<32>>,
    emit: Signal<Local, bool>,
    emit_byte: Signal<Local, Bits<8>>,
    status_word: Signal<Local, Bits<32>>,
    status_byte: Signal<Local, Bits<8>>,
    loss_byte: Signal<Local, Bits<8>>,
    idx_low2: Signal<Local, Bits<16>>,
    idx_word: Signal<Local, Bits<16>>,
    weight_addr: Signal<Local, Bits<16>>,
    rx_addr: Signal<Local, Bits<16>>,
    copy_dst: Signal<Local, Bits<SA>>,
    idx_sa: Signal<Local, Bits<SA>>,
    learner_start: Signal<Local, bool>,
    learner_op: Signal<Local, Bits<2>>,
    exec_start: Signal<Local, bool>,
    exec_op: Signal<Local, Bits<2>>,
    flush: Signal<Local, bool>,
    status_from_registers: Signal<Local, bool>,
    infer_loss_word: Signal<Local, Bits<32>>,
    word_data: Signal<Local, Bits<16>>,
    upper_byte: Signal<Local, Bits<16>>,
}

impl<const AW: usize, const SA: usize> Controller<AW, SA> {
    /// An engine for `shape` with `info.sample_capacity` sample slots; panics (at elaboration)
    /// when the slots do not fit `2^SA` bytes or the identity is longer than 256 bytes.
    pub fn new(shape: Shape, info: &ControllerInfo) -> Self {
        let record = shape.n_in + 1;
        let needed = (info.sample_capacity as usize + 1) * record + 1;
        assert!(
            needed <= 1 << SA,
            "{} samples of {record} bytes need {needed} bytes, more than 2^{SA}",
            info.sample_capacity
        );
        let id_len = identity_bytes(shape, info).len();
        Self {
            clock: Default::default(),
            in_data: Default::default(),
            in_valid: Default::default(),
            tx_data: Default::default(),
            tx_send: Default::default(),
            tx_ready: Default::default(),
            job_running: Default::default(),
            error_seen: Default::default(),
            link_idle: Default::default(),
            n_in: Constant::new(shape.n_in.to_bits()),
            n_out: Constant::new(shape.n_out.to_bits()),
            record: Constant::new(record.to_bits()),
            inline_base: Constant::new((info.sample_capacity as usize * record).to_bits()),
            last_sample_byte: Constant::new((needed - 1).to_bits()),
            id_len: Constant::new(id_len.to_bits()),
            infer_len: Constant::new((5 + 2 * shape.n_out).to_bits()),
            op_infer: Constant::new((Op::Infer as usize).to_bits()),
            op_clear: Constant::new((Op::ClearAccumulators as usize).to_bits()),
            rx: Default::default(),
            tx: Default::default(),
            learner: Learner::with_features(shape, info.batch_accumulators, info.exact_output),
            reset_out_shift: Constant::new((DEFAULT_OUT_SHIFT as u64).to_bits()),
            samples: SinglePortRam::new(needed),
            id_rom: IdentityRom::new(shape, info),
            checks: RequestCheck::new(
                shape,
                info.sample_capacity as usize,
                info.batch_accumulators,
                info.exact_output,
            ),
            exec: Default::default(),
            after_header: Default::default(),
            resp_kind: Default::default(),
            resp_len: Default::default(),
            cur_kind: Default::default(),
            cur_seq: Default::default(),
            err_code: Default::default(),
            err_detail: Default::default(),
            idx: Default::default(),
            count: Default::default(),
            start_at: Default::default(),
            writer: Default::default(),
            have_last: Default::default(),
            last_seq: Default::default(),
            low_byte: Default::default(),
            src_off: Default::default(),
            dst_base: Default::default(),
            copy_len: Default::default(),
            copy_then: Default::default(),
            error_flag: Default::default(),
            words_are_logits: Default::default(),
            frame_pending: Default::default(),
            field_bad: Default::default(),
            seed_pending: Default::default(),
            pending_nak: Default::default(),
            p_wp: Default::default(),
            p_hybrid: Default::default(),
            p_out_shift: Default::default(),
            p_momentum: Default::default(),
            p_ce: Default::default(),
            p_sigma: Default::default(),
            p_mant: Default::default(),
            p_shift: Default::default(),
            p_batch: Default::default(),
            jobs: JobEngine::new(shape, info.sample_capacity as usize),
            counters: Default::default(),
            op_cycles: Default::default(),
            p23: Default::default(),
            p01: Default::default(),
            p45: Default::default(),
            p67: Default::default(),
            seed_word: Default::default(),
            base_product: Default::default(),
            emit: Default::default(),
            emit_byte: Default::default(),
            status_word: Default::default(),
            status_byte: Default::default(),
            loss_byte: Default::default(),
            idx_low2: Default::default(),
            idx_word: Default::default(),
            weight_addr: Default::default(),
            rx_addr: Default::default(),
            copy_dst: Default::default(),
            idx_sa: Default::default(),
            learner_start: Default::default(),
            learner_op: Default::default(),
            exec_start: Default::default(),
            exec_op: Default::default(),
            flush: Default::default(),
            status_from_registers: Default::default(),
            infer_loss_word: Default::default(),
            word_data: Default::default(),
            upper_byte: Default::default(),
        }
    }
}

impl<const AW: usize, const SA: usize> Logic for Controller<AW, SA> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            exec,
            after_header,
            resp_kind,
            resp_len,
            cur_kind,
            cur_seq,
            err_code,
            err_detail,
            idx,
            count,
            start_at,
            have_last,
            last_seq,
            low_byte,
            src_off,
            dst_base,
            copy_len,
            copy_then,
            error_flag,
            words_are_logits,
            frame_pending,
            field_bad,
            seed_pending,
            pending_nak,
            p_wp,
            p_hybrid,
            p_out_shift,
            p_momentum,
            p_ce,
            p_sigma,
            p_mant,
            p_shift,
            p_batch,
            op_cycles
        );
        self.rx.clock.next = self.clock.val();
        self.tx.clock.next = self.clock.val();
        self.learner.clock.next = self.clock.val();
        self.writer.clock.next = self.clock.val();
        self.counters.clock.next = self.clock.val();
        self.samples.clock.next = self.clock.val();

        // ---- Link ----
        self.rx.in_data.next = self.in_data.val();
        self.rx.in_valid.next = self.in_valid.val();
        // A new frame may arrive while the previous answer is still going out; it waits in
        // the packet buffer (`frame_pending`) until the executor is idle.
        self.rx.accept.next = ((self.exec.q.val() == Exec::Idle)
            | (self.exec.q.val() == Exec::Send)
            | (self.exec.q.val() == Exec::SendSettle)
            | (self.exec.q.val() == Exec::SendWait)
            | (self.exec.q.val() == Exec::Nak)
            | (self.exec.q.val() == Exec::NakWait))
            & !self.frame_pending.q.val();
        if self.rx.done.val() {
            self.frame_pending.d.next = true;
            self.pending_nak.d.next = self.rx.nak.val();
        }
        self.rx.raddr.next = 0.into();
        self.tx_data.next = self.tx.tx_data.val();
        self.tx_send.next = self.tx.tx_send.val();
        self.tx.tx_ready.next = self.tx_ready.val();
        self.tx.start.next = false;
        self.tx.len.next = self.writer.length.val();
        self.tx.nak_start.next = false;
        self.tx.nak_reason.next = self.rx.nak_reason.val();

        // ---- Learner registers ----
        self.learner.estimator_wp.next = self.p_wp.q.val();
        self.learner.hybrid.next = self.p_hybrid.q.val();
        self.learner.out_shift.next = self.p_out_shift.q.val();
        self.learner.momentum.next = self.p_momentum.q.val();
        self.learner.cross_entropy.next = self.p_ce.q.val();
        self.learner.sigma.next = self.p_sigma.q.val();
        self.learner.eta_mant.next = self.p_mant.q.val();
        self.learner.eta_shift.next = self.p_shift.q.val();
        self.learner.batch.next = self.p_batch.q.val();
        self.learner.seed_load.next = self.seed_pending.q.val();
        self.seed_pending.d.next = false;
        self.learner.host_we.next = false;
        self.learner.host_wdata.next = 0.into();
        self.learner.logit_addr.next = bit_cast::<8, 16>(self.idx.q.val());
        self.weight_addr.next = self.start_at.q.val() + self.idx.q.val();
        self.learner.host_addr.next = bit_cast::<AW, 16>(self.weight_addr.val());

        // ---- Request fields ----
        self.p01.next =
            (bit_cast::<16, 8>(self.rx.p1.val()) << 8) | bit_cast::<16, 8>(self.rx.p0.val());
        self.p23.next =
            (bit_cast::<16, 8>(self.rx.p3.val()) << 8) | bit_cast::<16, 8>(self.rx.p2.val());
        self.p45.next =
            (bit_cast::<16, 8>(self.rx.p5.val()) << 8) | bit_cast::<16, 8>(self.rx.p4.val());
        self.p67.next =
            (bit_cast::<16, 8>(self.rx.p7.val()) << 8) | bit_cast::<16, 8>(self.rx.p6.val());
        self.seed_word.next = (bit_cast::<32, 8>(self.rx.p12.val()) << 24)
            | (bit_cast::<32, 8>(self.rx.p11.val()) << 16)
            | (bit_cast::<32, 8>(self.rx.p10.val()) << 8)
            | bit_cast::<32, 8>(self.rx.p9.val());
        self.checks.clock.next = self.clock.val();
        self.checks.kind.next = self.cur_kind.q.val();
        self.checks.len.next = self.rx.len.val();
        self.checks.p0.next = self.rx.p0.val();
        self.checks.p1.next = self.rx.p1.val();
        self.checks.p5.next = self.rx.p5.val();
        self.checks.p8.next = self.rx.p8.val();
        self.checks.p13.next = self.rx.p13.val();
        self.checks.p14.next = self.rx.p14.val();
        self.checks.p01.next = self.p01.val();
        self.checks.p23.next = self.p23.val();
        self.checks.p45.next = self.p45.val();
        self.checks.p67.next = self.p67.val();
        self.checks.job_active.next = self.jobs.active.val();
        self.base_product.next = self.p01.val() * self.record.val();

        // ---- Sample buffer ----
        self.samples.write_enable.next = false;
        self.samples.write_data.next = self.rx.rdata.val();
        self.idx_sa.next = bit_cast::<SA, 16>(self.idx.q.val());
        self.copy_dst.next = self.dst_base.q.val() + self.idx_sa.val();
        self.learner.x_data.next = self.samples.read_data.val();
        self.rx_addr.next = self.src_off.q.val() + self.idx.q.val();

        // ---- Response writer ----
        self.emit.next = false;
        self.emit_byte.next = 0.into();
        self.upper_byte.next = 0.into();
        self.writer.clear.next = false;
        self.writer.header.next = false;
        self.writer.crc_hi.next = false;
        self.writer.crc_lo.next = false;
        self.writer.save.next = false;
        self.writer.replay.next = false;
        self.writer.kind.next = self.resp_kind.q.val();
        self.writer.seq.next = self.cur_seq.q.val();
        self.writer.len.next = self.resp_len.q.val();
        self.idx_low2.next = self.idx.q.val() & 3;
        self.idx_word.next = self.idx.q.val() >> 2;
        self.id_rom.clock.next = self.clock.val();
        self.id_rom.address.next = bit_cast::<8, 16>(self.idx.q.val());
        // Status words, little-endian, in the order of docs/PROTOCOL.md 4.2: three from
        // registers, the rest from the status file (read one cycle after it is addressed).
        self.counters.read_word.next = bit_cast::<4, 16>(self.idx_word.val());
        self.status_from_registers.next = true;
        match self.idx_word.val().index() {
            0 => {
                self.status_word.next = bit_cast::<32, 8>(self.jobs.state.val())
                    | (bit_cast::<32, 16>(self.jobs.epoch.val()) << 16);
            }
            12 => self.status_word.next = self.learner.probe_seed.val(),
            13 => self.status_word.next = bit_cast::<32, 16>(self.learner.batch_pos.val()),
            _ => {
                self.status_word.next = self.counters.read_data.val();
                self.status_from_registers.next = false;
            }
        }
        // Byte selects are 4:1 multiplexers, not barrel shifters.
        match self.idx_low2.val().index() {
            0 => self.status_byte.next = self.status_word.val().get_bits::<8>(0),
            1 => self.status_byte.next = self.status_word.val().get_bits::<8>(8),
            2 => self.status_byte.next = self.status_word.val().get_bits::<8>(16),
            _ => self.status_byte.next = self.status_word.val().get_bits::<8>(24),
        }
        self.infer_loss_word.next = self.learner.op_loss.val();
        match self.idx.q.val().index() {
            1 => self.loss_byte.next = self.infer_loss_word.val().get_bits::<8>(0),
            2 => self.loss_byte.next = self.infer_loss_word.val().get_bits::<8>(8),
            3 => self.loss_byte.next = self.infer_loss_word.val().get_bits::<8>(16),
            _ => self.loss_byte.next = self.infer_loss_word.val().get_bits::<8>(24),
        }
        if self.words_are_logits.q.val() {
            self.word_data.next = self.learner.logit_data.val();
        } else {
            self.word_data.next = self.learner.host_rdata.val();
        }

        // ---- Job engine: commands of the executor ----
        self.jobs.clock.next = self.clock.val();
        self.jobs.start.next = false;
        self.jobs.eval.next = false;
        self.jobs.epochs.next = self.p45.val();
        self.jobs.count.next = self.p23.val();
        self.jobs.first_base.next = bit_cast::<SA, 32>(self.base_product.val());
        self.jobs.stop.next = false;
        self.jobs.idle_state.next = false;
        self.jobs.clear_epoch.next = false;
        self.jobs.infer.next = false;
        self.jobs.infer_label.next = self.rx.p0.val();

        // ---- Learner start arbitration: the job engine, or the executor when no job runs ----
        self.exec_start.next = false;
        self.exec_op.next = 0.into();
        self.learner.target.next = self.jobs.target.val();

        // ---- Executor ----
        match self.exec.q.val() {
            Exec::Boot => {
                self.dst_base.d.next = 0.into();
                self.idx.d.next = 0.into();
                self.exec.d.next = Exec::BootClear;
                self.cur_kind.d.next = 0.into();
            }
            // The sample buffer may not be initialisable (SPRAM): zero it, then RESET.
            Exec::BootClear => {
                self.samples.write_enable.next = true;
                self.samples.write_data.next = 0.into();
                self.dst_base.d.next = self.dst_base.q.val() + 1;
                if self.dst_base.q.val() == self.last_sample_byte.val() {
                    self.exec.d.next = Exec::ResetWait;
                }
            }
            Exec::Idle => {
                if self.frame_pending.q.val() {
                    self.frame_pending.d.next = false;
                    if self.pending_nak.q.val() {
                        self.exec.d.next = Exec::Nak;
                    } else if self.have_last.q.val() & (self.rx.seq.val() == self.last_seq.q.val())
                    {
                        // A retransmission: replay the stored response.
                        self.writer.replay.next = true;
                        self.exec.d.next = Exec::Send;
                    } else {
                        self.cur_kind.d.next = self.rx.kind.val();
                        self.cur_seq.d.next = self.rx.seq.val();
                        self.exec.d.next = Exec::Check;
                    }
                }
            }
            Exec::Nak => {
                self.tx.nak_start.next = true;
                self.error_flag.d.next = true;
                self.exec.d.next = Exec::NakWait;
            }
            Exec::NakWait => {
                if !self.tx.busy.val() & !self.tx.nak_start.val() {
                    self.exec.d.next = Exec::Idle;
                }
            }
            // The field verdict (request_check.rs) is registered for Dispatch: the first
            // failing length or value check of `Request::decode`.
            Exec::Check => {
                self.field_bad.d.next = self.checks.field_bad.val();
                self.err_code.d.next = self.checks.field_code.val();
                self.err_detail.d.next = self.checks.field_detail.val();
                self.exec.d.next = Exec::Dispatch;
            }
            Exec::Dispatch => {
                // Defaults: a reply with no payload, straight after the header.
                self.resp_kind.d.next = self.cur_kind.q.val() | 0x80;
                self.resp_len.d.next = 0.into();
                self.after_header.d.next = Exec::CrcHi;
                self.idx.d.next = 0.into();
                self.writer.clear.next = true;
                self.exec.d.next = Exec::Header;
                self.start_at.d.next = self.p01.val();
                self.count.d.next = self.p23.val();
                if self.field_bad.q.val() {
                    self.exec.d.next = Exec::Error;
                } else if self.checks.limit_bad.val() {
                    // BUSY or a device limit (request_check.rs).
                    self.err_code.d.next = self.checks.limit_code.val();
                    self.err_detail.d.next = self.checks.limit_detail.val();
                    self.exec.d.next = Exec::Error;
                } else {
                    match self.cur_kind.q.val().index() {
                        1 => {
                            self.resp_len.d.next = self.id_len.val();
                            self.after_header.d.next = Exec::PayIdentity;
                        }
                        2 => {
                            self.resp_len.d.next = self.checks.write_len.val();
                            self.after_header.d.next = Exec::PayWeightsHead;
                        }
                        3 => {
                            self.exec.d.next = Exec::WriteIssueLo;
                        }
                        4 => {
                            // Scan the labels first: nothing is written unless all are valid.
                            self.src_off.d.next = 8.into();
                            self.exec.d.next = Exec::ScanIssue;
                        }
                        5 => {
                            // 0 np, 1 wp, 2 hybrid (np), 3 wp-hybrid.
                            self.p_wp.d.next = (self.rx.p0.val() == 1) | (self.rx.p0.val() == 3);
                            self.p_hybrid.d.next = self.rx.p0.val() >= 2;
                            self.p_out_shift.d.next = bit_cast::<5, 8>(self.rx.p13.val());
                            self.p_momentum.d.next = bit_cast::<3, 8>(self.rx.p14.val());
                            self.p_ce.d.next = self.rx.p1.val() == 1;
                            self.p_sigma.d.next = self.p23.val();
                            self.p_mant.d.next = self.rx.p4.val();
                            self.p_shift.d.next = bit_cast::<5, 8>(self.rx.p5.val());
                            self.p_batch.d.next = self.p67.val();
                            if self.rx.p8.val().get_bit(0) {
                                self.seed_pending.d.next = true;
                            }
                        }
                        6 => {
                            self.jobs.start.next = true;
                        }
                        7 => {
                            self.jobs.start.next = true;
                            self.jobs.eval.next = true;
                            self.jobs.epochs.next = 1.into();
                        }
                        8 => {
                            self.jobs.stop.next = true;
                            self.exec.d.next = Exec::StopWait;
                        }
                        9 => {
                            self.resp_len.d.next = 64.into();
                            self.after_header.d.next = Exec::PayStatus;
                        }
                        10 => {
                            self.src_off.d.next = 4.into();
                            self.dst_base.d.next = self.inline_base.val();
                            self.copy_len.d.next = self.n_in.val() + 1;
                            self.copy_then.d.next = Exec::InferStart;
                            self.exec.d.next = Exec::CopyIssue;
                        }
                        _ => {
                            self.jobs.stop.next = true;
                            self.exec.d.next = Exec::ResetWait;
                        }
                    }
                }
            }
            Exec::Error => {
                self.resp_kind.d.next = 0x7F.into();
                self.resp_len.d.next = 4.into();
                self.after_header.d.next = Exec::PayError;
                self.idx.d.next = 0.into();
                self.writer.clear.next = true;
                self.error_flag.d.next = true;
                self.exec.d.next = Exec::Header;
            }
            Exec::Header => {
                self.writer.header.next = true;
                self.idx.d.next = self.idx.q.val() + 1;
                if self.idx.q.val() == 3 {
                    self.idx.d.next = 0.into();
                    self.exec.d.next = self.after_header.q.val();
                }
            }
            // The identity ROM (block RAM) answers a cycle after it is addressed with `idx`:
            // byte `idx - 1` is emitted, from the second cycle on.
            Exec::PayIdentity => {
                if self.idx.q.val() != 0 {
                    self.emit.next = true;
                    self.emit_byte.next = self.id_rom.data.val();
                }
                self.idx.d.next = self.idx.q.val() + 1;
                if self.idx.q.val() == self.id_len.val() {
                    self.exec.d.next = Exec::CrcHi;
                }
            }
            Exec::PayStatus => {
                // A file word is emitted once the file has read it (it may be mid-update).
                if self.status_from_registers.val() | self.counters.read_hit.val() {
                    self.emit.next = true;
                    self.emit_byte.next = self.status_byte.val();
                    self.idx.d.next = self.idx.q.val() + 1;
                    if self.idx.q.val() == 63 {
                        self.exec.d.next = Exec::CrcHi;
                    }
                }
            }
            Exec::PayError => {
                self.emit.next = true;
                match self.idx.q.val().index() {
                    0 => self.emit_byte.next = self.cur_kind.q.val(),
                    1 => self.emit_byte.next = self.err_code.q.val(),
                    2 => self.emit_byte.next = bit_cast::<8, 16>(self.err_detail.q.val()),
                    _ => {
                        self.upper_byte.next = self.err_detail.q.val() >> 8;
                        self.emit_byte.next = bit_cast::<8, 16>(self.upper_byte.val());
                    }
                }
                self.idx.d.next = self.idx.q.val() + 1;
                if self.idx.q.val() == 3 {
                    self.exec.d.next = Exec::CrcHi;
                }
            }
            Exec::PayWeightsHead => {
                self.emit.next = true;
                match self.idx.q.val().index() {
                    0 => self.emit_byte.next = self.rx.p0.val(),
                    1 => self.emit_byte.next = self.rx.p1.val(),
                    2 => self.emit_byte.next = self.rx.p2.val(),
                    _ => self.emit_byte.next = self.rx.p3.val(),
                }
                self.idx.d.next = self.idx.q.val() + 1;
                if self.idx.q.val() == 3 {
                    self.idx.d.next = 0.into();
                    self.words_are_logits.d.next = false;
                    self.exec.d.next = Exec::PayWordAddr;
                }
            }
            // 16-bit words (weights or logits) read through a port with one cycle of latency.
            Exec::PayWordAddr => {
                self.exec.d.next = Exec::PayWordLo;
            }
            Exec::PayWordLo => {
                self.emit.next = true;
                self.emit_byte.next = bit_cast::<8, 16>(self.word_data.val());
                self.exec.d.next = Exec::PayWordHi;
            }
            Exec::PayWordHi => {
                self.emit.next = true;
                self.upper_byte.next = self.word_data.val() >> 8;
                self.emit_byte.next = bit_cast::<8, 16>(self.upper_byte.val());
                self.idx.d.next = self.idx.q.val() + 1;
                if self.idx.q.val() + 1 == self.count.q.val() {
                    self.exec.d.next = Exec::CrcHi;
                } else {
                    self.exec.d.next = Exec::PayWordAddr;
                }
            }
            Exec::PayInfer => {
                self.emit.next = true;
                if self.idx.q.val() == 0 {
                    self.emit_byte.next = self.learner.infer_class.val();
                } else {
                    self.emit_byte.next = self.loss_byte.val();
                }
                self.idx.d.next = self.idx.q.val() + 1;
                if self.idx.q.val() == 4 {
                    self.idx.d.next = 0.into();
                    self.count.d.next = self.n_out.val();
                    self.words_are_logits.d.next = true;
                    self.exec.d.next = Exec::PayWordAddr;
                }
            }
            Exec::CrcHi => {
                self.writer.crc_hi.next = true;
                self.exec.d.next = Exec::CrcLo;
            }
            Exec::CrcLo => {
                self.writer.crc_lo.next = true;
                self.last_seq.d.next = self.cur_seq.q.val();
                // RESET forgets the stored response (docs/PROTOCOL.md 3).
                self.have_last.d.next = self.resp_kind.q.val() != 0x8B;
                self.exec.d.next = Exec::Send;
            }
            Exec::Send => {
                self.tx.start.next = true;
                self.writer.save.next = true;
                self.exec.d.next = Exec::SendSettle;
            }
            Exec::SendSettle => {
                self.exec.d.next = Exec::SendWait;
            }
            Exec::SendWait => {
                if !self.tx.busy.val() {
                    self.exec.d.next = Exec::Idle;
                }
            }
            // WRITE_WEIGHTS: payload[4 + 2k], payload[5 + 2k] (rx[8 + 2k], rx[9 + 2k]) -> weight
            // start + k. The packet buffer holds the 4 header bytes before the payload.
            Exec::WriteIssueLo => {
                self.rx_addr.next = (self.idx.q.val() << 1) + 8;
                self.rx.raddr.next = bit_cast::<10, 16>(self.rx_addr.val());
                self.exec.d.next = Exec::WriteIssueHi;
            }
            Exec::WriteIssueHi => {
                self.rx_addr.next = (self.idx.q.val() << 1) + 9;
                self.rx.raddr.next = bit_cast::<10, 16>(self.rx_addr.val());
                self.low_byte.d.next = self.rx.rdata.val();
                self.exec.d.next = Exec::WriteStore;
            }
            Exec::WriteStore => {
                self.learner.host_we.next = true;
                self.learner.host_wdata.next = (bit_cast::<16, 8>(self.rx.rdata.val()) << 8)
                    | bit_cast::<16, 8>(self.low_byte.q.val());
                self.idx.d.next = self.idx.q.val() + 1;
                if self.idx.q.val() + 1 == self.count.q.val() {
                    self.idx.d.next = 0.into();
                    self.exec.d.next = Exec::Header;
                } else {
                    self.exec.d.next = Exec::WriteIssueLo;
                }
            }
            // LOAD_SAMPLES label scan: payload[4 + r * record] (rx[8 + ...]) for each record r.
            Exec::ScanIssue => {
                self.rx.raddr.next = bit_cast::<10, 16>(self.src_off.q.val());
                if self.idx.q.val() == self.count.q.val() {
                    // All labels valid: copy the records.
                    self.idx.d.next = 0.into();
                    self.src_off.d.next = 8.into();
                    self.dst_base.d.next = bit_cast::<SA, 32>(self.base_product.val());
                    self.copy_len.d.next = bit_cast::<16, 32>(self.checks.load_bytes.val());
                    self.copy_then.d.next = Exec::Header;
                    if self.count.q.val() == 0 {
                        self.exec.d.next = Exec::Header;
                    } else {
                        self.exec.d.next = Exec::CopyIssue;
                    }
                } else {
                    self.exec.d.next = Exec::ScanCheck;
                }
            }
            Exec::ScanCheck => {
                if bit_cast::<16, 8>(self.rx.rdata.val()) >= self.n_out.val() {
                    self.err_code.d.next = 3.into();
                    self.err_detail.d.next = self.n_out.val();
                    self.exec.d.next = Exec::Error;
                } else {
                    self.idx.d.next = self.idx.q.val() + 1;
                    self.src_off.d.next = self.src_off.q.val() + self.record.val();
                    self.exec.d.next = Exec::ScanIssue;
                }
            }
            // Copy rx[src_off + i] -> samples[dst_base + i], i < copy_len.
            Exec::CopyIssue => {
                self.rx.raddr.next = bit_cast::<10, 16>(self.rx_addr.val());
                self.exec.d.next = Exec::CopyStore;
            }
            Exec::CopyStore => {
                self.samples.write_enable.next = true;
                self.idx.d.next = self.idx.q.val() + 1;
                if self.idx.q.val() + 1 == self.copy_len.q.val() {
                    self.idx.d.next = 0.into();
                    self.exec.d.next = self.copy_then.q.val();
                } else {
                    self.exec.d.next = Exec::CopyIssue;
                }
            }
            Exec::InferStart => {
                self.jobs.infer.next = true;
                self.exec.d.next = Exec::InferWait;
                self.idx.d.next = 0.into();
            }
            Exec::InferWait => {
                if self.idx.q.val() == 0 {
                    self.exec_start.next = true;
                    self.exec_op.next = self.op_infer.val();
                    self.idx.d.next = 1.into();
                } else if self.learner.done.val() {
                    self.resp_len.d.next = self.infer_len.val();
                    self.after_header.d.next = Exec::PayInfer;
                    self.idx.d.next = 0.into();
                    self.exec.d.next = Exec::Header;
                }
            }
            Exec::StopWait => {
                if !self.jobs.active.val() {
                    self.jobs.idle_state.next = true;
                    self.exec.d.next = Exec::Header;
                }
            }
            Exec::ResetWait => {
                if !self.jobs.active.val() & !self.learner.busy.val() {
                    self.p_wp.d.next = false;
                    self.p_hybrid.d.next = false;
                    self.p_out_shift.d.next = self.reset_out_shift.val();
                    self.p_momentum.d.next = 0.into();
                    self.p_ce.d.next = true;
                    self.p_sigma.d.next = 256.into();
                    self.p_mant.d.next = 1.into();
                    self.p_shift.d.next = 8.into();
                    self.p_batch.d.next = 1.into();
                    self.learner.seed_load.next = true;
                    self.exec.d.next = Exec::ResetClear;
                }
            }
            Exec::ResetClear => {
                self.exec_start.next = true;
                self.exec_op.next = self.op_clear.val();
                self.exec.d.next = Exec::ResetClearWait;
            }
            Exec::ResetClearWait => {
                if self.learner.done.val() {
                    self.jobs.idle_state.next = true;
                    self.jobs.clear_epoch.next = true;
                    self.have_last.d.next = false;
                    self.idx.d.next = 0.into();
                    if self.cur_kind.q.val() == 0 {
                        // Power-on reset: no reply.
                        self.exec.d.next = Exec::Idle;
                    } else {
                        self.exec.d.next = Exec::Header;
                    }
                }
            }
            _ => {
                self.exec.d.next = Exec::Idle;
            }
        }
        self.learner.seed.next = self.seed_word.val();
        if self.exec.q.val() == Exec::ResetWait {
            self.learner.seed.next = 1.into();
        }

        // Response writer: its writes go to the packet buffer.
        self.writer.emit.next = self.emit.val();
        self.writer.payload_byte.next = self.emit_byte.val();
        self.tx.we.next = self.writer.we.val();
        self.tx.waddr.next = self.writer.waddr.val();
        self.tx.wdata.next = self.writer.wdata.val();

        // ---- Job engine: what it reads ----
        self.jobs.x_addr.next = self.learner.x_addr.val();
        self.jobs.sample_data.next = self.samples.read_data.val();
        self.jobs.learner_done.next = self.learner.done.val();
        self.jobs.batch_open.next = self.learner.batch_pos.val() != 0;
        self.jobs.file_busy.next = self.counters.busy.val();
        // One port: writes (copies, the power-on clear) never coincide with reads.
        if self.samples.write_enable.val() {
            self.samples.address.next = self.copy_dst.val();
        } else {
            self.samples.address.next = self.jobs.sample_address.val();
        }

        self.learner_start.next = self.jobs.learner_start.val() | self.exec_start.val();
        if self.jobs.learner_start.val() {
            self.learner_op.next = self.jobs.learner_op.val();
        } else {
            self.learner_op.next = self.exec_op.val();
        }
        self.learner.start.next = self.learner_start.val();
        self.learner.op.next = self.learner_op.val();
        // Cycles of the running operation: its start cycle and every busy cycle.
        if self.learner_start.val() {
            self.op_cycles.d.next = 1.into();
        } else if self.learner.busy.val() {
            self.op_cycles.d.next = self.op_cycles.q.val() + 1;
        }

        // ---- Status file ----
        // Every finished operation is added to the counters, except the clear of a RESET,
        // which zeroes them.
        self.flush.next = self.learner.done.val() & (self.exec.q.val() != Exec::ResetClearWait);
        self.counters.zero.next =
            self.learner.done.val() & (self.exec.q.val() == Exec::ResetClearWait);
        self.counters.flush.next = self.flush.val();
        self.jobs.flush.next = self.flush.val();
        self.counters.start.next = self.jobs.file_start.val();
        self.counters.total.next = self.jobs.file_total.val();
        self.counters.clear_eval.next = self.jobs.evaluating.val();
        self.counters.add_done.next = self.jobs.flush_done.val();
        self.counters.add_sample.next = self.learner.op_trained.val();
        self.counters.add_update.next = self.learner.op_updated.val();
        self.counters.saturations.next = self.learner.op_saturations.val();
        self.counters.zero_updates.next = self.learner.op_zero_updates.val();
        self.counters.trained.next = self.learner.op_trained.val();
        self.counters.evaluated.next = self.jobs.flush_eval.val();
        self.counters.correct.next = self.learner.infer_class.val() == self.jobs.target.val();
        self.counters.loss.next = self.learner.op_loss.val();
        self.counters.cycles.next = self.op_cycles.q.val();

        self.job_running.next = self.jobs.active.val();
        self.link_idle.next = (self.exec.q.val() == Exec::Idle)
            & !self.frame_pending.q.val()
            & !self.rx.done.val()
            & !self.tx.busy.val();
        self.error_seen.next = self.error_flag.q.val();
    }
}
