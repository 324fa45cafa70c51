package io.te4j.transport.rdma.verbs;

import static io.te4j.transport.rdma.verbs.VerbsLayout.*;

import io.te4j.nativelib.NativeMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A {@code struct ibv_qp_attr} in native memory for {@link Verbs#modifyQp}, with the values the
 * reference gives each RC transition (RDMA.md 2.4), and readers for an implementation in Java.
 * Not thread-safe.
 */
public final class QpAttributes extends NativeArray {
  public QpAttributes() {
    super(QP_ATTR_BYTES);
  }

  /** Reads the attributes at {@code address} (an implementation's view of the caller's struct). */
  public static ByteBuffer view(long address) {
    return NativeMemory.view(address, QP_ATTR_BYTES).order(ByteOrder.nativeOrder());
  }

  private QpAttributes clear(int state) {
    for (int i = 0; i < QP_ATTR_BYTES; i += 8) {
      bytes.putLong(i, 0);
    }
    bytes.putInt(QPA_STATE, state);
    return this;
  }

  /** To RESET (mask {@link VerbsLayout#QP_STATE}) or ERR. */
  public QpAttributes state(int state) {
    return clear(state);
  }

  /** To INIT: port, P_Key index, the access a data QP allows. Mask {@link VerbsLayout#MASK_INIT}. */
  public QpAttributes init(int port, int pkeyIndex) {
    clear(QPS_INIT);
    bytes.put(QPA_PORT_NUM, (byte) port);
    bytes.putShort(QPA_PKEY_INDEX, (short) pkeyIndex);
    bytes.putInt(QPA_ACCESS_FLAGS,
        ACCESS_LOCAL_WRITE | ACCESS_REMOTE_READ | ACCESS_REMOTE_WRITE | ACCESS_REMOTE_ATOMIC);
    return this;
  }

  /**
   * To RTR, paired with the peer's QP: a global route to its GID always (as the reference, on IB
   * too), receive PSN 0. Mask {@link VerbsLayout#MASK_RTR}.
   */
  public QpAttributes readyToReceive(int mtu, byte[] peerGid, int peerLid, int sgidIndex,
      int trafficClass, int serviceLevel, int port, int peerQpNum, int maxDestRdAtomic) {
    clear(QPS_RTR);
    bytes.putInt(QPA_PATH_MTU, mtu);
    bytes.put(QPA_AH_DGID, peerGid, 0, GID_BYTES);
    bytes.put(QPA_AH_SGID_INDEX, (byte) sgidIndex);
    bytes.put(QPA_AH_HOP_LIMIT, (byte) 16);
    bytes.put(QPA_AH_TRAFFIC_CLASS, (byte) trafficClass);
    bytes.putShort(QPA_AH_DLID, (short) peerLid);
    bytes.put(QPA_AH_SL, (byte) serviceLevel);
    bytes.put(QPA_AH_IS_GLOBAL, (byte) 1);
    bytes.put(QPA_AH_PORT_NUM, (byte) port);
    bytes.putInt(QPA_DEST_QP_NUM, peerQpNum);
    bytes.putInt(QPA_RQ_PSN, 0);
    bytes.put(QPA_MAX_DEST_RD_ATOMIC, (byte) maxDestRdAtomic);
    bytes.put(QPA_MIN_RNR_TIMER, (byte) 12);
    return this;
  }

  /** To RTS: send PSN 0, timeout 14, 7 retries, RNR retries forever. Mask {@link VerbsLayout#MASK_RTS}. */
  public QpAttributes readyToSend(int maxRdAtomic) {
    clear(QPS_RTS);
    bytes.put(QPA_TIMEOUT, (byte) 14);
    bytes.put(QPA_RETRY_CNT, (byte) 7);
    bytes.put(QPA_RNR_RETRY, (byte) 7);
    bytes.putInt(QPA_SQ_PSN, 0);
    bytes.put(QPA_MAX_RD_ATOMIC, (byte) maxRdAtomic);
    return this;
  }
}
