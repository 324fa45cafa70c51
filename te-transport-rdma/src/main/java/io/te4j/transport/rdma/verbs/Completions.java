package io.te4j.transport.rdma.verbs;

import static io.te4j.transport.rdma.verbs.VerbsLayout.*;

/**
 * Completions in native layout, {@code struct ibv_wc[capacity]}, polled into by {@link
 * Verbs#pollCq}. On an error status only the id, status, vendor error and QP number are valid
 * (ibv_poll_cq(3)). Not thread-safe: one per polling thread.
 */
public final class Completions extends NativeArray {
  private final int capacity;

  public Completions(int capacity) {
    super(capacity * WC_BYTES);
    this.capacity = capacity;
  }

  public int capacity() {
    return capacity;
  }

  public long wrId(int i) {
    return bytes.getLong(i * WC_BYTES + WC_ID);
  }

  public int status(int i) {
    return bytes.getInt(i * WC_BYTES + WC_STATUS);
  }

  public int opcode(int i) {
    return bytes.getInt(i * WC_BYTES + WC_OPCODE);
  }

  public int vendorError(int i) {
    return bytes.getInt(i * WC_BYTES + WC_VENDOR_ERR);
  }

  public int byteLength(int i) {
    return bytes.getInt(i * WC_BYTES + WC_BYTE_LEN);
  }

  public int qpNum(int i) {
    return bytes.getInt(i * WC_BYTES + WC_QP_NUM);
  }

  /** Writes completion {@code i}, as a device would (for implementations in Java). */
  public void put(int i, long wrId, int status, int opcode, int byteLength, int qpNum) {
    int w = i * WC_BYTES;
    for (int b = 0; b < WC_BYTES; b += 8) {
      bytes.putLong(w + b, 0);
    }
    bytes.putLong(w + WC_ID, wrId);
    bytes.putInt(w + WC_STATUS, status);
    bytes.putInt(w + WC_OPCODE, opcode);
    bytes.putInt(w + WC_BYTE_LEN, byteLength);
    bytes.putInt(w + WC_QP_NUM, qpNum);
  }
}
