package io.te4j.transport.rdma.verbs;

/**
 * Sizes, offsets and constants of {@code <infiniband/verbs.h>} (rdma-core, x86_64, LP64) that the
 * Java side reads and writes: the work-request, SGE and completion arrays of the data path, the
 * QP attributes of the connection, and what is queried of a device and a port. {@code
 * VerbsLayoutTest} compiles a probe against the installed header and checks every value here.
 */
public final class VerbsLayout {
  private VerbsLayout() {}

  /** {@code sizeof(struct ibv_send_wr)}. */
  public static final int SEND_WR_BYTES = 128;
  public static final int WR_ID = 0;
  public static final int WR_NEXT = 8;
  public static final int WR_SG_LIST = 16;
  public static final int WR_NUM_SGE = 24;
  public static final int WR_OPCODE = 28;
  public static final int WR_SEND_FLAGS = 32;
  public static final int WR_REMOTE_ADDR = 40;
  public static final int WR_RKEY = 48;

  /** {@code sizeof(struct ibv_sge)}. */
  public static final int SGE_BYTES = 16;
  public static final int SGE_ADDR = 0;
  public static final int SGE_LENGTH = 8;
  public static final int SGE_LKEY = 12;

  /** {@code sizeof(struct ibv_wc)}. */
  public static final int WC_BYTES = 48;
  public static final int WC_ID = 0;
  public static final int WC_STATUS = 8;
  public static final int WC_OPCODE = 12;
  public static final int WC_VENDOR_ERR = 16;
  public static final int WC_BYTE_LEN = 20;
  public static final int WC_QP_NUM = 28;

  /** {@code sizeof(struct ibv_qp_attr)}. */
  public static final int QP_ATTR_BYTES = 144;
  public static final int QPA_STATE = 0;
  public static final int QPA_PATH_MTU = 8;
  public static final int QPA_RQ_PSN = 20;
  public static final int QPA_SQ_PSN = 24;
  public static final int QPA_DEST_QP_NUM = 28;
  public static final int QPA_ACCESS_FLAGS = 32;
  public static final int QPA_AH_DGID = 56;
  public static final int QPA_AH_FLOW_LABEL = 72;
  public static final int QPA_AH_SGID_INDEX = 76;
  public static final int QPA_AH_HOP_LIMIT = 77;
  public static final int QPA_AH_TRAFFIC_CLASS = 78;
  public static final int QPA_AH_DLID = 80;
  public static final int QPA_AH_SL = 82;
  public static final int QPA_AH_IS_GLOBAL = 85;
  public static final int QPA_AH_PORT_NUM = 86;
  public static final int QPA_PKEY_INDEX = 120;
  public static final int QPA_MAX_RD_ATOMIC = 126;
  public static final int QPA_MAX_DEST_RD_ATOMIC = 127;
  public static final int QPA_MIN_RNR_TIMER = 128;
  public static final int QPA_PORT_NUM = 129;
  public static final int QPA_TIMEOUT = 130;
  public static final int QPA_RETRY_CNT = 131;
  public static final int QPA_RNR_RETRY = 132;

  /** {@code sizeof(struct ibv_device_attr)}. */
  public static final int DEVICE_ATTR_BYTES = 232;
  public static final int DA_MAX_MR_SIZE = 80;
  public static final int DA_MAX_QP = 108;
  public static final int DA_MAX_QP_WR = 112;
  public static final int DA_MAX_SGE = 120;
  public static final int DA_MAX_CQE = 132;
  public static final int DA_MAX_QP_RD_ATOM = 144;
  public static final int DA_PHYS_PORT_CNT = 227;

  /**
   * Bytes given to {@code ibv_query_port}: more than {@code sizeof(struct ibv_port_attr)} (52 in
   * rdma-core 44), since newer headers append fields.
   */
  public static final int PORT_ATTR_BYTES = 64;
  public static final int PA_STATE = 0;
  public static final int PA_ACTIVE_MTU = 8;
  public static final int PA_GID_TBL_LEN = 12;
  public static final int PA_LID = 34;
  public static final int PA_LINK_LAYER = 46;

  /** {@code sizeof(union ibv_gid)}. */
  public static final int GID_BYTES = 16;

  // enum ibv_wr_opcode
  public static final int WR_RDMA_WRITE = 0;
  public static final int WR_RDMA_READ = 4;
  // enum ibv_send_flags
  public static final int SEND_SIGNALED = 2;
  // enum ibv_wc_opcode
  public static final int WC_RDMA_WRITE = 1;
  public static final int WC_RDMA_READ = 2;
  // enum ibv_wc_status
  public static final int WC_SUCCESS = 0;
  public static final int WC_LOC_LEN_ERR = 1;
  public static final int WC_LOC_QP_OP_ERR = 2;
  public static final int WC_LOC_PROT_ERR = 4;
  public static final int WC_WR_FLUSH_ERR = 5;
  public static final int WC_LOC_ACCESS_ERR = 8;
  public static final int WC_REM_ACCESS_ERR = 10;
  public static final int WC_REM_OP_ERR = 11;
  public static final int WC_RETRY_EXC_ERR = 12;
  public static final int WC_GENERAL_ERR = 21;
  // enum ibv_qp_state
  public static final int QPS_RESET = 0;
  public static final int QPS_INIT = 1;
  public static final int QPS_RTR = 2;
  public static final int QPS_RTS = 3;
  public static final int QPS_ERR = 6;
  // enum ibv_qp_attr_mask
  public static final int QP_STATE = 0x1;
  public static final int QP_ACCESS_FLAGS = 0x8;
  public static final int QP_PKEY_INDEX = 0x10;
  public static final int QP_PORT = 0x20;
  public static final int QP_AV = 0x80;
  public static final int QP_PATH_MTU = 0x100;
  public static final int QP_TIMEOUT = 0x200;
  public static final int QP_RETRY_CNT = 0x400;
  public static final int QP_RNR_RETRY = 0x800;
  public static final int QP_RQ_PSN = 0x1000;
  public static final int QP_MAX_QP_RD_ATOMIC = 0x2000;
  public static final int QP_MIN_RNR_TIMER = 0x8000;
  public static final int QP_SQ_PSN = 0x10000;
  public static final int QP_MAX_DEST_RD_ATOMIC = 0x20000;
  public static final int QP_DEST_QPN = 0x100000;
  /** The masks the reference (and ibv_modify_qp(3)) give each RC transition. */
  public static final int MASK_INIT = QP_STATE | QP_PKEY_INDEX | QP_PORT | QP_ACCESS_FLAGS;
  public static final int MASK_RTR = QP_STATE | QP_PATH_MTU | QP_MIN_RNR_TIMER | QP_AV
      | QP_MAX_DEST_RD_ATOMIC | QP_DEST_QPN | QP_RQ_PSN;
  public static final int MASK_RTS = QP_STATE | QP_TIMEOUT | QP_RETRY_CNT | QP_RNR_RETRY
      | QP_SQ_PSN | QP_MAX_QP_RD_ATOMIC;
  // enum ibv_access_flags
  public static final int ACCESS_LOCAL_WRITE = 1;
  public static final int ACCESS_REMOTE_WRITE = 2;
  public static final int ACCESS_REMOTE_READ = 4;
  public static final int ACCESS_REMOTE_ATOMIC = 8;
  public static final int ACCESS_RELAXED_ORDERING = 0x100000;
  // enum ibv_event_type
  public static final int EVENT_CQ_ERR = 0;
  public static final int EVENT_QP_FATAL = 1;
  public static final int EVENT_DEVICE_FATAL = 8;
  public static final int EVENT_PORT_ACTIVE = 9;
  public static final int EVENT_PORT_ERR = 10;
  public static final int EVENT_GID_CHANGE = 18;
  // enum ibv_port_state, ibv_mtu, link layer
  public static final int PORT_ACTIVE = 4;
  public static final int MTU_1024 = 3;
  public static final int MTU_4096 = 5;
  public static final int LINK_LAYER_INFINIBAND = 1;
  public static final int LINK_LAYER_ETHERNET = 2;

  /** The reference's MTU setting in bytes ({@code MC_MTU}) as an {@code enum ibv_mtu}. */
  public static int mtuEnum(int bytes) {
    switch (bytes) {
      case 256: return 1;
      case 512: return 2;
      case 1024: return 3;
      case 2048: return 4;
      case 4096: return 5;
      default: throw new IllegalArgumentException("MTU must be 256, 512, 1024, 2048 or 4096: " + bytes);
    }
  }

  /** The name of a completion status, as {@code ibv_wc_status_str} says it (the ones we meet). */
  public static String statusName(int status) {
    switch (status) {
      case WC_SUCCESS: return "success";
      case WC_LOC_LEN_ERR: return "local length error";
      case WC_LOC_QP_OP_ERR: return "local QP operation error";
      case WC_LOC_PROT_ERR: return "local protection error";
      case WC_WR_FLUSH_ERR: return "Work Request Flushed Error";
      case WC_LOC_ACCESS_ERR: return "local access error";
      case WC_REM_ACCESS_ERR: return "remote access error";
      case WC_REM_OP_ERR: return "remote operation error";
      case WC_RETRY_EXC_ERR: return "transport retry counter exceeded";
      case WC_GENERAL_ERR: return "general error";
      default: return "status " + status;
    }
  }

  /** Local faults (RDMA.md 2.6): the local NIC or our request is wrong, not the peer. */
  public static boolean isLocalFailure(int status) {
    return status == WC_LOC_LEN_ERR || status == WC_LOC_QP_OP_ERR || status == WC_LOC_PROT_ERR
        || status == 6 /* MW_BIND_ERR */ || status == WC_LOC_ACCESS_ERR;
  }
}
