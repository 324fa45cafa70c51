package io.te4j.transport.rdma.verbs;

import static io.te4j.transport.rdma.verbs.VerbsLayout.*;

/**
 * A batch of RDMA READ/WRITE work requests in native layout: {@code struct ibv_send_wr[capacity]}
 * and, after it, one {@code struct ibv_sge} per request. Filled in place and posted in one call
 * ({@link Verbs#postSend}); {@code next} and {@code sg_list} are linked by the poster. Not
 * thread-safe: one per posting thread and QP.
 */
public final class WorkRequests extends NativeArray {
  private final int capacity;
  private final int sges;

  public WorkRequests(int capacity) {
    super(capacity * (SEND_WR_BYTES + SGE_BYTES));
    this.capacity = capacity;
    this.sges = capacity * SEND_WR_BYTES;
  }

  public int capacity() {
    return capacity;
  }

  /** Address of the SGE array. */
  public long sgeAddress() {
    return address + sges;
  }

  /**
   * Sets request {@code i}: one SGE, signaled.
   *
   * @param opcode {@link VerbsLayout#WR_RDMA_WRITE} or {@link VerbsLayout#WR_RDMA_READ}
   */
  public void set(int i, long wrId, int opcode, long localAddress, int length, int lkey,
      long remoteAddress, int rkey) {
    int w = i * SEND_WR_BYTES;
    bytes.putLong(w + WR_ID, wrId);
    bytes.putInt(w + WR_NUM_SGE, 1);
    bytes.putInt(w + WR_OPCODE, opcode);
    bytes.putInt(w + WR_SEND_FLAGS, SEND_SIGNALED);
    bytes.putLong(w + WR_REMOTE_ADDR, remoteAddress);
    bytes.putInt(w + WR_RKEY, rkey);
    int s = sges + i * SGE_BYTES;
    bytes.putLong(s + SGE_ADDR, localAddress);
    bytes.putInt(s + SGE_LENGTH, length);
    bytes.putInt(s + SGE_LKEY, lkey);
  }

  public long wrId(int i) {
    return bytes.getLong(i * SEND_WR_BYTES + WR_ID);
  }

  public int opcode(int i) {
    return bytes.getInt(i * SEND_WR_BYTES + WR_OPCODE);
  }

  public int sendFlags(int i) {
    return bytes.getInt(i * SEND_WR_BYTES + WR_SEND_FLAGS);
  }

  public int numSge(int i) {
    return bytes.getInt(i * SEND_WR_BYTES + WR_NUM_SGE);
  }

  public long remoteAddress(int i) {
    return bytes.getLong(i * SEND_WR_BYTES + WR_REMOTE_ADDR);
  }

  public int rkey(int i) {
    return bytes.getInt(i * SEND_WR_BYTES + WR_RKEY);
  }

  public long localAddress(int i) {
    return bytes.getLong(sges + i * SGE_BYTES + SGE_ADDR);
  }

  public int length(int i) {
    return bytes.getInt(sges + i * SGE_BYTES + SGE_LENGTH);
  }

  public int lkey(int i) {
    return bytes.getInt(sges + i * SGE_BYTES + SGE_LKEY);
  }

  /** The {@code next} pointer of request {@code i}, as the poster linked it (0 for the last). */
  public long next(int i) {
    return bytes.getLong(i * SEND_WR_BYTES + WR_NEXT);
  }

  /** The {@code sg_list} pointer of request {@code i}, as the poster linked it. */
  public long sgList(int i) {
    return bytes.getLong(i * SEND_WR_BYTES + WR_SG_LIST);
  }

  /** Links {@code next} and {@code sg_list} as libte4jrdma does, for implementations in Java. */
  public void link(int count) {
    for (int i = 0; i < count; i++) {
      int w = i * SEND_WR_BYTES;
      bytes.putLong(w + WR_SG_LIST, sgeAddress() + (long) i * SGE_BYTES);
      bytes.putLong(w + WR_NEXT, i + 1 < count ? address + (long) (i + 1) * SEND_WR_BYTES : 0);
    }
  }
}
