//! Protocol engine: executes the requests of docs/PROTOCOL.md on the learner and the sample
//!
//! Why one file over 600 lines: it is one rust-hdl block, and `#[hdl_gen]` turns one `update`
//! function into one Verilog process, so its request checks, executor, response writer and job
//! engine cannot move to other files without becoming sub-blocks with ports of their own. That
//! split is open work of issue 11.
//! buffer, and runs training and evaluation jobs in the background. Reference:
//! `zo_sim::device::reference::Device`, which answers every request with the same bytes.
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
use crate::engine::status_file::StatusFile;
use crate::formats::{IN_FRAC, W_FRAC, Z_FRAC};
use crate::learner::Learner;
use crate::link::frame_rx::FrameRx;
use crate::link::frame_tx::FrameTx;
use crate::mem::single_port_ram::SinglePortRam;
use rust_hdl::prelude::*;
use zo_proto::{Identity, MAX_PAYLOAD, PROTOCOL_VERSION};

/// What a device reports in IDENTIFY besides the shape (used by the RTL engine and by the
/// reference device alike). The default describes the model-backed virtual board
/// (`virtual-model`, build 1; docs/PROTOCOL.md 4.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControllerInfo {
    pub name: String,
    pub clock_hz: u32,
    pub baud: u32,
    pub build_id: u32,
    pub sample_capacity: u16,
    /// Whether the learner has its mini-batch accumulators (one 32-bit word per weight);
    /// builds without them take batch 1 only (IDENTIFY `limits`, docs/PROTOCOL.md 4.1).
    pub batch_accumulators: bool,
    /// Whether the learner has the hybrid estimator's exact output layer (the loss unit's
    /// derivative sweep); builds without it take estimators 0 and 1 only (IDENTIFY `limits`).
    pub exact_output: bool,
}

impl Default for ControllerInfo {
    fn default() -> Self {
        Self {
            name: "virtual-model".into(),
            clock_hz: 12_000_000,
            baud: 1_000_000,
            build_id: 1,
            sample_capacity: 2048,
            batch_accumulators: true,
            exact_output: true,
        }
    }
}

/// The IDENTIFY answer of a device with `shape` and `info` (docs/PROTOCOL.md 4.1).
pub fn identity(shape: Shape, info: &ControllerInfo) -> Identity {
    Identity {
        version: PROTOCOL_VERSION,
        n_in: shape.n_in as u8,
        n_hid: shape.n_hid as u8,
        n_out: shape.n_out as u8,
        n_weights: shape.n_weights() as u16,
        sample_capacity: info.sample_capacity,
        max_payload: MAX_PAYLOAD as u16,
        w_frac: W_FRAC as u8,
        x_frac: IN_FRAC as u8,
        z_frac: Z_FRAC as u8,
        limits: if info.batch_accumulators {
            0
        } else {
            Identity::NO_BATCH
        } | if info.exact_output {
            0
        } else {
            Identity::NO_HYBRID
        },
        clock_hz: info.clock_hz,
        baud: info.baud,
        build_id: info.build_id,
        cycles_per_sample: shape.train_cycles() as u32,
        name: info.name.clone(),
    }
}

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

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum JobPhase {
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
    n_weights: Constant<Bits<16>>,
    capacity: Constant<Bits<16>>,
    inline_base: Constant<Bits<SA>>,
    last_sample_byte: Constant<Bits<SA>>,
    id_len: Constant<Bits<16>>,
    infer_len: Constant<Bits<16>>,
    op_train: Constant<Bits<2>>,
    op_infer: Constant<Bits<2>>,
    op_apply: Constant<Bits<2>>,
    op_clear: Constant<Bits<2>>,
    batch_limited: Constant<bool>,
    hybrid_limited: Constant<bool>,
    reset_out_shift: Constant<Bits<5>>,

    rx: FrameRx,
    tx: FrameTx,
    learner: Learner<AW>,
    samples: SinglePortRam<Bits<8>, SA>,
    id_rom: SyncROM<Bits<8>, 8>,

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
    tx_w: DFF<Bits<10>>,
    tx_crc: crate::link::crc16::Crc16,
    have_last: DFF<bool>,
    last_seq: DFF<Bits<8>>,
    last_len: DFF<Bits<10>>,
    low_byte: DFF<Bits<8>>,
    src_off: DFF<Bits<16>>,
    dst_base: DFF<Bits<SA>>,
    copy_len: DFF<Bits<16>>,
    copy_then: DFF<Exec>,
    error_flag: DFF<bool>,
    words_are_logits: DFF<bool>,
    frame_pending: DFF<bool>,
    field_bad: DFF<bool>,
    // Range checks and job-loop ends, registered a cycle before they are used: the request
    // fields hold from Idle through Dispatch, a job's counters from one sample to the next.
    over_weights: DFF<bool>,
    over_capacity: DFF<bool>,
    last_sample: DFF<bool>,
    last_epoch: DFF<bool>,
    /// TRAIN / EVALUATE accepted in the previous cycle (Dispatch decides, the job starts a
    /// cycle later, while the request fields still hold).
    job_starting: DFF<bool>,
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
    // Job engine.
    job: DFF<JobPhase>,
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
    counters: StatusFile,
    op_cycles: DFF<Bits<16>>,
    flush_done: DFF<bool>,
    flush_eval: DFF<bool>,

    // Combinational.
    p23: Signal<Local, Bits<16>>,
    p01: Signal<Local, Bits<16>>,
    p45: Signal<Local, Bits<16>>,
    p67: Signal<Local, Bits<16>>,
    seed_word: Signal<Local, Bits<32>>,
    len_minus4: Signal<Local, Bits<16>>,
    len32: Signal<Local, Bits<32>>,
    load_bytes: Signal<Local, Bits<32>>,
    write_len: Signal<Local, Bits<16>>,
    range_end: Signal<Local, Bits<17>>,
    start_wide: Signal<Local, Bits<17>>,
    count_wide: Signal<Local, Bits<17>>,
    weights_wide: Signal<Local, Bits<17>>,
    capacity_wide: Signal<Local, Bits<17>>,
    base_product: Signal<Local, Bits<32>>,
    emit: Signal<Local, bool>,
    emit_crc: Signal<Local, bool>,
    emit_byte: Signal<Local, Bits<8>>,
    header_byte: Signal<Local, Bits<8>>,
    status_word: Signal<Local, Bits<32>>,
    status_byte: Signal<Local, Bits<8>>,
    loss_byte: Signal<Local, Bits<8>>,
    idx_low2: Signal<Local, Bits<16>>,
    idx_word: Signal<Local, Bits<16>>,
    weight_addr: Signal<Local, Bits<16>>,
    rx_addr: Signal<Local, Bits<16>>,
    copy_dst: Signal<Local, Bits<SA>>,
    sample_read_address: Signal<Local, Bits<SA>>,
    idx_sa: Signal<Local, Bits<SA>>,
    feature_addr: Signal<Local, Bits<SA>>,
    x_wide: Signal<Local, Bits<SA>>,
    learner_start: Signal<Local, bool>,
    learner_op: Signal<Local, Bits<2>>,
    exec_start: Signal<Local, bool>,
    exec_op: Signal<Local, Bits<2>>,
    job_start: Signal<Local, bool>,
    job_op: Signal<Local, Bits<2>>,
    job_next1: Signal<Local, Bits<16>>,
    epoch1: Signal<Local, Bits<16>>,
    flush: Signal<Local, bool>,
    status_from_registers: Signal<Local, bool>,
    job_total: Signal<Local, Bits<32>>,
    infer_loss_word: Signal<Local, Bits<32>>,
    word_data: Signal<Local, Bits<16>>,
    upper_byte: Signal<Local, Bits<16>>,
    start_job: Signal<Local, bool>,
}

fn identity_bytes(shape: Shape, info: &ControllerInfo) -> Vec<u8> {
    zo_proto::Response::Identity(identity(shape, info)).encode_payload()
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
        let id = identity_bytes(shape, info);
        assert!(id.len() <= 256, "the identity payload must fit 256 bytes");
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
            n_weights: Constant::new(shape.n_weights().to_bits()),
            capacity: Constant::new((info.sample_capacity as usize).to_bits()),
            inline_base: Constant::new((info.sample_capacity as usize * record).to_bits()),
            last_sample_byte: Constant::new((needed - 1).to_bits()),
            id_len: Constant::new(id.len().to_bits()),
            infer_len: Constant::new((5 + 2 * shape.n_out).to_bits()),
            op_train: Constant::new((Op::Train as usize).to_bits()),
            op_infer: Constant::new((Op::Infer as usize).to_bits()),
            op_apply: Constant::new((Op::Apply as usize).to_bits()),
            op_clear: Constant::new((Op::ClearAccumulators as usize).to_bits()),
            rx: Default::default(),
            tx: Default::default(),
            learner: Learner::with_features(shape, info.batch_accumulators, info.exact_output),
            batch_limited: Constant::new(!info.batch_accumulators),
            hybrid_limited: Constant::new(!info.exact_output),
            reset_out_shift: Constant::new((DEFAULT_OUT_SHIFT as u64).to_bits()),
            samples: SinglePortRam::new(needed),
            id_rom: id.into_iter().map(|b| bits::<8>(b as LiteralType)).into(),
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
            tx_w: Default::default(),
            tx_crc: Default::default(),
            have_last: Default::default(),
            last_seq: Default::default(),
            last_len: Default::default(),
            low_byte: Default::default(),
            src_off: Default::default(),
            dst_base: Default::default(),
            copy_len: Default::default(),
            copy_then: Default::default(),
            error_flag: Default::default(),
            words_are_logits: Default::default(),
            frame_pending: Default::default(),
            field_bad: Default::default(),
            over_weights: Default::default(),
            over_capacity: Default::default(),
            last_sample: Default::default(),
            last_epoch: Default::default(),
            job_starting: Default::default(),
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
            job: Default::default(),
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
            counters: Default::default(),
            op_cycles: Default::default(),
            flush_done: Default::default(),
            flush_eval: Default::default(),
            p23: Default::default(),
            p01: Default::default(),
            p45: Default::default(),
            p67: Default::default(),
            seed_word: Default::default(),
            len32: Default::default(),
            load_bytes: Default::default(),
            len_minus4: Default::default(),
            write_len: Default::default(),
            range_end: Default::default(),
            start_wide: Default::default(),
            count_wide: Default::default(),
            weights_wide: Default::default(),
            capacity_wide: Default::default(),
            base_product: Default::default(),
            emit: Default::default(),
            emit_crc: Default::default(),
            emit_byte: Default::default(),
            header_byte: Default::default(),
            status_word: Default::default(),
            status_byte: Default::default(),
            loss_byte: Default::default(),
            idx_low2: Default::default(),
            idx_word: Default::default(),
            weight_addr: Default::default(),
            rx_addr: Default::default(),
            copy_dst: Default::default(),
            sample_read_address: Default::default(),
            idx_sa: Default::default(),
            feature_addr: Default::default(),
            x_wide: Default::default(),
            learner_start: Default::default(),
            learner_op: Default::default(),
            exec_start: Default::default(),
            exec_op: Default::default(),
            job_start: Default::default(),
            job_op: Default::default(),
            job_next1: Default::default(),
            epoch1: Default::default(),
            flush: Default::default(),
            status_from_registers: Default::default(),
            job_total: Default::default(),
            infer_loss_word: Default::default(),
            word_data: Default::default(),
            upper_byte: Default::default(),
            start_job: Default::default(),
        }
    }
}

// Each arm of the check chains is one check, kept apart in the documented order.
#[allow(clippy::if_same_then_else)]
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
            tx_w,
            have_last,
            last_seq,
            last_len,
            low_byte,
            src_off,
            dst_base,
            copy_len,
            copy_then,
            error_flag,
            words_are_logits,
            frame_pending,
            field_bad,
            over_weights,
            over_capacity,
            last_sample,
            last_epoch,
            job_starting,
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
            job,
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
            op_cycles,
            flush_done,
            flush_eval
        );
        self.rx.clock.next = self.clock.val();
        self.tx.clock.next = self.clock.val();
        self.learner.clock.next = self.clock.val();
        self.tx_crc.clock.next = self.clock.val();
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
        self.tx.len.next = self.tx_w.q.val();
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
        // LOAD_SAMPLES length check as `len - 4 == count * record` (len >= 4 is checked
        // first), which needs no 32-bit adder.
        self.len_minus4.next = self.rx.len.val() - 4;
        self.len32.next = bit_cast::<32, 16>(self.len_minus4.val());
        self.load_bytes.next = self.p23.val() * self.record.val();
        self.write_len.next = (self.p23.val() << 1) + 4;
        // Ranges end at most at 2^17 - 2: 17 bits hold start + count.
        self.start_wide.next = bit_cast::<17, 16>(self.p01.val());
        self.count_wide.next = bit_cast::<17, 16>(self.p23.val());
        self.range_end.next = self.start_wide.val() + self.count_wide.val();
        self.weights_wide.next = bit_cast::<17, 16>(self.n_weights.val());
        self.capacity_wide.next = bit_cast::<17, 16>(self.capacity.val());
        self.base_product.next = self.p01.val() * self.record.val();
        self.over_weights.d.next = self.range_end.val() > self.weights_wide.val();
        self.over_capacity.d.next = self.range_end.val() > self.capacity_wide.val();

        // ---- Sample buffer ----
        self.samples.write_enable.next = false;
        self.samples.write_data.next = self.rx.rdata.val();
        self.idx_sa.next = bit_cast::<SA, 16>(self.idx.q.val());
        self.copy_dst.next = self.dst_base.q.val() + self.idx_sa.val();
        self.x_wide.next = bit_cast::<SA, 8>(self.learner.x_addr.val());
        self.feature_addr.next = self.job_base.q.val() + self.x_wide.val() + 1;
        self.sample_read_address.next = self.feature_addr.val();
        self.learner.x_data.next = self.samples.read_data.val();
        self.rx_addr.next = self.src_off.q.val() + self.idx.q.val();

        // ---- Response writer ----
        self.emit.next = false;
        self.emit_crc.next = true;
        self.emit_byte.next = 0.into();
        self.tx_crc.clear.next = false;
        self.idx_low2.next = self.idx.q.val() & 3;
        self.idx_word.next = self.idx.q.val() >> 2;
        self.header_byte.next = self.resp_kind.q.val();
        if self.idx.q.val() == 1 {
            self.header_byte.next = self.cur_seq.q.val();
        }
        if self.idx.q.val() == 2 {
            self.header_byte.next = bit_cast::<8, 16>(self.resp_len.q.val());
        }
        if self.idx.q.val() == 3 {
            self.upper_byte.next = self.resp_len.q.val() >> 8;
            self.header_byte.next = bit_cast::<8, 16>(self.upper_byte.val());
        } else {
            self.upper_byte.next = 0.into();
        }
        self.id_rom.clock.next = self.clock.val();
        self.id_rom.address.next = bit_cast::<8, 16>(self.idx.q.val());
        // Status words, little-endian, in the order of docs/PROTOCOL.md 4.2: three from
        // registers, the rest from the status file (read one cycle after it is addressed).
        self.counters.read_word.next = bit_cast::<4, 16>(self.idx_word.val());
        self.status_from_registers.next = true;
        match self.idx_word.val().index() {
            0 => {
                self.status_word.next = bit_cast::<32, 8>(self.st_state.q.val())
                    | (bit_cast::<32, 16>(self.st_epoch.q.val()) << 16);
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

        // ---- Learner start arbitration: the job engine, or the executor when no job runs ----
        self.exec_start.next = false;
        self.exec_op.next = 0.into();
        self.job_start.next = false;
        self.job_op.next = 0.into();
        self.learner.target.next = self.job_target.q.val();

        // ---- Executor ----
        self.start_job.next = false;
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
                        self.tx_w.d.next = self.last_len.q.val();
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
            // Field checks of docs/PROTOCOL.md (lengths and values, in `Request::decode`'s
            // order) for the request's type alone: checks of different types never both apply,
            // so one short chain per type replaces one long chain (the UP5K's critical path).
            // The first failing check is registered for Dispatch.
            Exec::Check => {
                self.field_bad.d.next = true;
                self.err_code.d.next = 2.into();
                self.err_detail.d.next = 0.into();
                self.exec.d.next = Exec::Dispatch;
                match self.cur_kind.q.val().index() {
                    1 => self.field_bad.d.next = self.rx.len.val() != 0,
                    8 => self.field_bad.d.next = self.rx.len.val() != 0,
                    9 => self.field_bad.d.next = self.rx.len.val() != 0,
                    11 => self.field_bad.d.next = self.rx.len.val() != 0,
                    2 => {
                        if self.rx.len.val() == 4 {
                            if (self.p23.val() == 0) | (self.p23.val() > 254) {
                                self.err_code.d.next = 5.into();
                                self.err_detail.d.next = 2.into();
                            } else {
                                self.field_bad.d.next = false;
                            }
                        }
                    }
                    3 => {
                        if self.rx.len.val() >= 4 {
                            if (self.p23.val() == 0) | (self.p23.val() > 252) {
                                self.err_code.d.next = 5.into();
                                self.err_detail.d.next = 2.into();
                            } else {
                                self.field_bad.d.next = self.rx.len.val() != self.write_len.val();
                            }
                        }
                    }
                    4 => {
                        if self.rx.len.val() >= 4 {
                            self.field_bad.d.next = self.len32.val() != self.load_bytes.val();
                        }
                    }
                    5 => {
                        if self.rx.len.val() == 15 {
                            self.err_code.d.next = 5.into();
                            if self.rx.p0.val() > 2 {
                                self.err_detail.d.next = 0.into();
                            } else if self.rx.p1.val() > 1 {
                                self.err_detail.d.next = 1.into();
                            } else if self.p23.val() > 0x7FFF {
                                self.err_detail.d.next = 2.into();
                            } else if self.rx.p5.val() > 31 {
                                self.err_detail.d.next = 5.into();
                            } else if self.p67.val() == 0 {
                                self.err_detail.d.next = 6.into();
                            } else if (self.rx.p8.val() & 0xFE) != 0 {
                                self.err_detail.d.next = 8.into();
                            } else if self.rx.p13.val() > 31 {
                                self.err_detail.d.next = 13.into();
                            } else if self.rx.p14.val() > 7 {
                                self.err_detail.d.next = 14.into();
                            } else {
                                self.field_bad.d.next = false;
                            }
                        }
                    }
                    6 => {
                        if self.rx.len.val() == 6 {
                            if self.p23.val() == 0 {
                                self.err_code.d.next = 5.into();
                                self.err_detail.d.next = 2.into();
                            } else if self.p45.val() == 0 {
                                self.err_code.d.next = 5.into();
                                self.err_detail.d.next = 4.into();
                            } else {
                                self.field_bad.d.next = false;
                            }
                        }
                    }
                    7 => {
                        if self.rx.len.val() == 4 {
                            if self.p23.val() == 0 {
                                self.err_code.d.next = 5.into();
                                self.err_detail.d.next = 2.into();
                            } else {
                                self.field_bad.d.next = false;
                            }
                        }
                    }
                    10 => self.field_bad.d.next = self.rx.len.val() != self.n_in.val() + 1,
                    _ => self.err_code.d.next = 1.into(),
                }
            }
            Exec::Dispatch => {
                // Defaults: a reply with no payload, straight after the header.
                self.resp_kind.d.next = self.cur_kind.q.val() | 0x80;
                self.resp_len.d.next = 0.into();
                self.after_header.d.next = Exec::CrcHi;
                self.idx.d.next = 0.into();
                self.tx_w.d.next = 0.into();
                self.tx_crc.clear.next = true;
                self.exec.d.next = Exec::Header;
                self.start_at.d.next = self.p01.val();
                self.count.d.next = self.p23.val();
                if self.field_bad.q.val() {
                    self.exec.d.next = Exec::Error;
                } else if self.job_active.q.val()
                    & !((self.cur_kind.q.val() == 1)
                        | (self.cur_kind.q.val() == 8)
                        | (self.cur_kind.q.val() == 9)
                        | (self.cur_kind.q.val() == 11))
                {
                    self.err_code.d.next = 4.into();
                    self.err_detail.d.next = 0.into();
                    self.exec.d.next = Exec::Error;
                } else {
                    match self.cur_kind.q.val().index() {
                        1 => {
                            self.resp_len.d.next = self.id_len.val();
                            self.after_header.d.next = Exec::PayIdentity;
                        }
                        2 => {
                            if self.over_weights.q.val() {
                                self.err_code.d.next = 3.into();
                                self.err_detail.d.next = self.n_weights.val();
                                self.exec.d.next = Exec::Error;
                            } else {
                                self.resp_len.d.next = self.write_len.val();
                                self.after_header.d.next = Exec::PayWeightsHead;
                            }
                        }
                        3 => {
                            if self.over_weights.q.val() {
                                self.err_code.d.next = 3.into();
                                self.err_detail.d.next = self.n_weights.val();
                                self.exec.d.next = Exec::Error;
                            } else {
                                self.exec.d.next = Exec::WriteIssueLo;
                            }
                        }
                        4 => {
                            if self.over_capacity.q.val() {
                                self.err_code.d.next = 3.into();
                                self.err_detail.d.next = self.capacity.val();
                                self.exec.d.next = Exec::Error;
                            } else {
                                // Scan the labels first: nothing is written unless all are valid.
                                self.src_off.d.next = 8.into();
                                self.exec.d.next = Exec::ScanIssue;
                            }
                        }
                        5 => {
                            if self.batch_limited.val() & (self.p67.val() > 1) {
                                // A build without mini-batch accumulators.
                                self.err_code.d.next = 3.into();
                                self.err_detail.d.next = 1.into();
                                self.exec.d.next = Exec::Error;
                            } else if self.batch_limited.val() & (self.rx.p14.val() != 0) {
                                // Momentum keeps its velocity in the accumulators.
                                self.err_code.d.next = 3.into();
                                self.err_detail.d.next = 0.into();
                                self.exec.d.next = Exec::Error;
                            } else if self.hybrid_limited.val() & (self.rx.p0.val() == 2) {
                                // A build without the exact output layer.
                                self.err_code.d.next = 3.into();
                                self.err_detail.d.next = 1.into();
                                self.exec.d.next = Exec::Error;
                            } else {
                                self.p_wp.d.next = self.rx.p0.val() == 1;
                                self.p_hybrid.d.next = self.rx.p0.val() == 2;
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
                        }
                        6 => {
                            if self.over_capacity.q.val() {
                                self.err_code.d.next = 3.into();
                                self.err_detail.d.next = self.capacity.val();
                                self.exec.d.next = Exec::Error;
                            } else {
                                self.start_job.next = true;
                                self.job_eval.d.next = false;
                                self.job_epochs.d.next = self.p45.val();
                                self.st_state.d.next = 1.into();
                            }
                        }
                        7 => {
                            if self.over_capacity.q.val() {
                                self.err_code.d.next = 3.into();
                                self.err_detail.d.next = self.capacity.val();
                                self.exec.d.next = Exec::Error;
                            } else {
                                self.start_job.next = true;
                                self.job_eval.d.next = true;
                                self.job_epochs.d.next = 1.into();
                                self.st_state.d.next = 2.into();
                            }
                        }
                        8 => {
                            self.job_stop.d.next = true;
                            self.exec.d.next = Exec::StopWait;
                        }
                        9 => {
                            self.resp_len.d.next = 64.into();
                            self.after_header.d.next = Exec::PayStatus;
                        }
                        10 => {
                            if bit_cast::<16, 8>(self.rx.p0.val()) >= self.n_out.val() {
                                self.err_code.d.next = 3.into();
                                self.err_detail.d.next = self.n_out.val();
                                self.exec.d.next = Exec::Error;
                            } else {
                                self.src_off.d.next = 4.into();
                                self.dst_base.d.next = self.inline_base.val();
                                self.copy_len.d.next = self.n_in.val() + 1;
                                self.copy_then.d.next = Exec::InferStart;
                                self.exec.d.next = Exec::CopyIssue;
                            }
                        }
                        _ => {
                            self.job_stop.d.next = true;
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
                self.tx_w.d.next = 0.into();
                self.tx_crc.clear.next = true;
                self.error_flag.d.next = true;
                self.exec.d.next = Exec::Header;
            }
            Exec::Header => {
                self.emit.next = true;
                self.emit_byte.next = self.header_byte.val();
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
                self.emit.next = true;
                self.emit_crc.next = false;
                self.upper_byte.next = self.tx_crc.crc.val() >> 8;
                self.emit_byte.next = bit_cast::<8, 16>(self.upper_byte.val());
                self.exec.d.next = Exec::CrcLo;
            }
            Exec::CrcLo => {
                self.emit.next = true;
                self.emit_crc.next = false;
                self.emit_byte.next = bit_cast::<8, 16>(self.tx_crc.crc.val());
                self.last_seq.d.next = self.cur_seq.q.val();
                // RESET forgets the stored response (docs/PROTOCOL.md 3).
                self.have_last.d.next = self.resp_kind.q.val() != 0x8B;
                self.exec.d.next = Exec::Send;
            }
            Exec::Send => {
                self.tx.start.next = true;
                self.last_len.d.next = self.tx_w.q.val();
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
                    self.copy_len.d.next = bit_cast::<16, 32>(self.load_bytes.val());
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
                self.job_base.d.next = self.inline_base.val();
                self.job_target.d.next = self.rx.p0.val();
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
                if !self.job_active.q.val() {
                    self.st_state.d.next = 0.into();
                    self.exec.d.next = Exec::Header;
                }
            }
            Exec::ResetWait => {
                if !self.job_active.q.val() & !self.learner.busy.val() {
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
                    self.st_state.d.next = 0.into();
                    self.st_epoch.d.next = 0.into();
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
        // TRAIN and EVALUATE start a job over samples first..first+count.
        self.job_starting.d.next = self.start_job.val();
        if self.job_starting.q.val() {
            self.job_active.d.next = true;
            self.job_stop.d.next = false;
            self.job_count.d.next = self.p23.val();
            self.job_next.d.next = 0.into();
            self.job_first_base.d.next = bit_cast::<SA, 32>(self.base_product.val());
            self.job_base.d.next = bit_cast::<SA, 32>(self.base_product.val());
            self.job.d.next = JobPhase::Label;
            self.st_epoch.d.next = 0.into();
        }
        self.learner.seed.next = self.seed_word.val();
        if self.exec.q.val() == Exec::ResetWait {
            self.learner.seed.next = 1.into();
        }

        // Response writer: every emitted byte goes to the packet buffer (and the CRC).
        self.tx.we.next = self.emit.val();
        self.tx.waddr.next = self.tx_w.q.val();
        self.tx.wdata.next = self.emit_byte.val();
        self.tx_crc.data.next = self.emit_byte.val();
        self.tx_crc.strobe.next = self.emit.val() & self.emit_crc.val();
        if self.emit.val() {
            self.tx_w.d.next = self.tx_w.q.val() + 1;
        }

        // ---- Job engine ----
        self.job_next1.next = self.job_next.q.val() + 1;
        self.epoch1.next = self.st_epoch.q.val() + 1;
        self.last_sample.d.next = self.job_next1.val() == self.job_count.q.val();
        self.last_epoch.d.next = self.epoch1.val() == self.job_epochs.q.val();
        match self.job.q.val() {
            JobPhase::Idle => {}
            JobPhase::Label => {
                // The next operation waits until the file has taken this one's results.
                self.sample_read_address.next = self.job_base.q.val();
                if !self.counters.busy.val() {
                    self.job.d.next = JobPhase::LabelWait;
                }
            }
            JobPhase::LabelWait => {
                self.job_target.d.next = self.samples.read_data.val();
                self.job.d.next = JobPhase::Start;
            }
            JobPhase::Start => {
                self.job_start.next = true;
                if self.job_eval.q.val() {
                    self.job_op.next = self.op_infer.val();
                } else {
                    self.job_op.next = self.op_train.val();
                }
                self.job.d.next = JobPhase::Wait;
            }
            JobPhase::Wait => {
                if self.learner.done.val() {
                    self.job.d.next = JobPhase::Bookkeep;
                }
            }
            JobPhase::Bookkeep => {
                if self.last_sample.q.val() {
                    self.job_next.d.next = 0.into();
                    self.job_base.d.next = self.job_first_base.q.val();
                    if !self.job_eval.q.val() & (self.learner.batch_pos.val() != 0) {
                        self.job.d.next = JobPhase::Apply;
                    } else {
                        self.st_epoch.d.next = self.epoch1.val();
                        if self.last_epoch.q.val() {
                            self.job_active.d.next = false;
                            self.st_state.d.next = 0.into();
                            self.job.d.next = JobPhase::Idle;
                        } else {
                            self.job.d.next = JobPhase::Label;
                        }
                    }
                } else {
                    self.job_next.d.next = self.job_next1.val();
                    self.job_base.d.next =
                        self.job_base.q.val() + bit_cast::<SA, 16>(self.record.val());
                    self.job.d.next = JobPhase::Label;
                }
            }
            JobPhase::Apply => {
                if !self.counters.busy.val() {
                    self.job_start.next = true;
                    self.job_op.next = self.op_apply.val();
                    self.job.d.next = JobPhase::ApplyWait;
                }
            }
            JobPhase::ApplyWait => {
                if self.learner.done.val() {
                    self.st_epoch.d.next = self.epoch1.val();
                    if self.last_epoch.q.val() {
                        self.job_active.d.next = false;
                        self.st_state.d.next = 0.into();
                        self.job.d.next = JobPhase::Idle;
                    } else {
                        self.job.d.next = JobPhase::Label;
                    }
                }
            }
            _ => {
                self.job.d.next = JobPhase::Idle;
            }
        }
        // One port: writes (copies, the power-on clear) never coincide with reads.
        if self.samples.write_enable.val() {
            self.samples.address.next = self.copy_dst.val();
        } else {
            self.samples.address.next = self.sample_read_address.val();
        }

        // STOP and RESET end a job between samples.
        if self.job_stop.q.val() & (self.job.q.val() == JobPhase::Label) {
            self.job_active.d.next = false;
            self.job.d.next = JobPhase::Idle;
        }
        if !self.job_active.q.val() {
            self.job_stop.d.next = false;
        }

        self.learner_start.next = self.job_start.val() | self.exec_start.val();
        if self.job_start.val() {
            self.learner_op.next = self.job_op.val();
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
        if self.flush.val() {
            self.flush_done.d.next = self.job.q.val() == JobPhase::Wait;
            self.flush_eval.d.next = (self.job.q.val() == JobPhase::Wait) & self.job_eval.q.val();
        }
        self.counters.start.next = self.job_starting.q.val();
        self.job_total.next = self.job_count.q.val() * self.job_epochs.q.val();
        self.counters.total.next = self.job_total.val();
        self.counters.clear_eval.next = self.job_eval.q.val();
        self.counters.add_done.next = self.flush_done.q.val();
        self.counters.add_sample.next = self.learner.op_trained.val();
        self.counters.add_update.next = self.learner.op_updated.val();
        self.counters.saturations.next = self.learner.op_saturations.val();
        self.counters.zero_updates.next = self.learner.op_zero_updates.val();
        self.counters.trained.next = self.learner.op_trained.val();
        self.counters.evaluated.next = self.flush_eval.q.val();
        self.counters.correct.next = self.learner.infer_class.val() == self.job_target.q.val();
        self.counters.loss.next = self.learner.op_loss.val();
        self.counters.cycles.next = self.op_cycles.q.val();

        self.job_running.next = self.job_active.q.val();
        self.link_idle.next = (self.exec.q.val() == Exec::Idle)
            & !self.frame_pending.q.val()
            & !self.rx.done.val()
            & !self.tx.busy.val();
        self.error_seen.next = self.error_flag.q.val();
    }
}
