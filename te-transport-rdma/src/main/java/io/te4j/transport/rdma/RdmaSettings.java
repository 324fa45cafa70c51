package io.te4j.transport.rdma;

import io.te4j.api.spi.Setting;
import java.util.List;

/** The RDMA transport's settings: the reference's {@code MC_*} names and defaults (RDMA.md 2.4-2.6), and te4j's own. */
final class RdmaSettings {
  private RdmaSettings() {}

  static final Setting<String> VERBS = Setting.text("te4j.rdma.verbs", "native",
      "native or a class name",
      "Which verbs to call: native (libibverbs through libte4jrdma) or the class name of a "
          + "Verbs implementation (tests use an emulation).");
  static final Setting<Integer> QP_PER_ENDPOINT = Setting.integer("MC_NUM_QP_PER_EP", 2, 1, 16,
      "RC queue pairs per (local NIC, peer NIC) endpoint; must equal the peers' (not negotiated).");
  static final Setting<Long> SLICE_SIZE = Setting.bytes("MC_SLICE_SIZE", 64 << 10, 4 << 10,
      1L << 30, "Bytes per work request: requests are cut into slices of this size.");
  static final Setting<Integer> MAX_WR = Setting.integer("MC_MAX_WR", 256, 1, 1 << 16,
      "Work requests outstanding per QP, clamped to the device's max_qp_wr.");
  static final Setting<Integer> MAX_SGE = Setting.integer("MC_MAX_SGE", 4, 1, 64,
      "Scatter-gather entries per work request a QP is created with, clamped to the device's.");
  static final Setting<Integer> MAX_INLINE = Setting.integer("MC_MAX_INLINE", 64, 0, 4096,
      "Inline bytes a QP is created with.");
  static final Setting<Integer> MAX_CQE = Setting.integer("MC_MAX_CQE_PER_CTX", 4096, 16,
      1 << 22, "Completion queue entries per NIC, clamped to the device's max_cqe; work in "
          + "flight on a NIC never exceeds the CQ's capacity.");
  static final Setting<Integer> MTU = Setting.integer("MC_MTU", 4096, 256, 4096,
      "Path MTU in bytes (256..4096, a power of two), clamped to the port's active MTU.");
  static final Setting<Integer> IB_PORT = Setting.integer("MC_IB_PORT", 1, 1, 255,
      "The device port to use.");
  static final Setting<Integer> GID_INDEX = Setting.integer("MC_GID_INDEX", -1, -1, 1 << 16,
      "The GID table index of the port; -1 picks the first non-zero GID.");
  static final Setting<Integer> TRAFFIC_CLASS = Setting.integer("MC_IB_TC", 0, 0, 255,
      "Traffic class of the QPs' global route.");
  static final Setting<Integer> SERVICE_LEVEL = Setting.integer("MC_IB_SL", 0, 0, 15,
      "Service level of the QPs' address vector.");
  static final Setting<Integer> RETRY_COUNT = Setting.integer("MC_RETRY_CNT", 9, 1, 100,
      "Attempts per slice, each on another path, before the slice fails.");

  static final Setting<Integer> MAX_ENDPOINTS = Setting.integer("MC_MAX_EP_PER_CTX", 65536, 1,
      1 << 20, "Endpoints kept per NIC, clamped to the device's QPs; making one more evicts the "
          + "least recently useful (SIEVE), so peers cannot make the engine hold unbounded QPs.");

  static final Setting<Double> PORT_ACTIVE_DELAY = Setting.seconds("te4j.rdma.portActiveDelay", 30,
      "After a port comes back (PORT_ACTIVE), how long before its NIC takes work again, as the "
          + "reference waits.");

  static final Setting<Double> READY_ACK_TIMEOUT = Setting.seconds("te4j.rdma.readyAckTimeout", 10,
      "How long a passive endpoint waits for the active side's ready-ACK before it is retired "
          + "(the reference's 10 s).");
  static final Setting<Boolean> RELAXED_ORDERING = Setting.flag("MC_IB_PCI_RELAXED_ORDERING",
      true, "Register memory with relaxed PCIe ordering where libibverbs supports it "
          + "(ibv_reg_mr_iova2); false never.");

  static final Setting<Double> RAIL_PAUSE = Setting.seconds("MC_RDMA_RAIL_PAUSE_SECONDS", 30,
      "After a remote error on a path to a peer NIC that has other NICs, how long that rail is "
          + "left alone (doubled for each pause in a row, up to 8x).");

  static final List<Setting<?>> ALL = List.of(VERBS, QP_PER_ENDPOINT, SLICE_SIZE, MAX_WR,
      MAX_SGE, MAX_INLINE, MAX_CQE, MTU, IB_PORT, GID_INDEX, TRAFFIC_CLASS, SERVICE_LEVEL,
      RETRY_COUNT, MAX_ENDPOINTS, PORT_ACTIVE_DELAY, READY_ACK_TIMEOUT, RELAXED_ORDERING,
      RAIL_PAUSE);
}
