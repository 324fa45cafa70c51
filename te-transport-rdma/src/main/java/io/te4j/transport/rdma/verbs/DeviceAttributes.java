package io.te4j.transport.rdma.verbs;

import static io.te4j.transport.rdma.verbs.VerbsLayout.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * What the transport reads of {@code struct ibv_device_attr}: the limits it clamps its settings to.
 *
 * @param maxMrSize the largest memory region; bigger buffers are registered in chunks
 */
public record DeviceAttributes(long maxMrSize, int maxQp, int maxQpWr, int maxSge, int maxCqe,
    int maxQpRdAtom, int physPortCount) {

  /** Queries {@code context}. */
  public static DeviceAttributes query(Verbs verbs, long context) {
    ByteBuffer b = ByteBuffer.allocateDirect(DEVICE_ATTR_BYTES).order(ByteOrder.nativeOrder());
    verbs.queryDevice(context, io.te4j.nativelib.NativeMemory.addressOf(b));
    return new DeviceAttributes(b.getLong(DA_MAX_MR_SIZE), b.getInt(DA_MAX_QP),
        b.getInt(DA_MAX_QP_WR), b.getInt(DA_MAX_SGE), b.getInt(DA_MAX_CQE),
        b.getInt(DA_MAX_QP_RD_ATOM), Byte.toUnsignedInt(b.get(DA_PHYS_PORT_CNT)));
  }

  /** Writes these values where {@code ibv_query_device} would (for implementations in Java). */
  public void writeTo(ByteBuffer b) {
    b.putLong(DA_MAX_MR_SIZE, maxMrSize).putInt(DA_MAX_QP, maxQp).putInt(DA_MAX_QP_WR, maxQpWr)
        .putInt(DA_MAX_SGE, maxSge).putInt(DA_MAX_CQE, maxCqe)
        .putInt(DA_MAX_QP_RD_ATOM, maxQpRdAtom).put(DA_PHYS_PORT_CNT, (byte) physPortCount);
  }
}
