package io.te4j.transport.rdma.soft;

import java.util.ArrayDeque;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/** The emulated verbs objects: memory regions, completion queues, queue pairs. */
final class SoftObjects {
  private SoftObjects() {}

  /** A registered range; its lock is held (shared) while the "NIC" touches the memory. */
  static final class Mr {
    final long pd;
    final long address;
    final long length;
    final int access;
    final int lkey;
    final int rkey;
    final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    volatile boolean valid = true;

    Mr(long pd, long address, long length, int access, int lkey, int rkey) {
      this.pd = pd;
      this.address = address;
      this.length = length;
      this.access = access;
      this.lkey = lkey;
      this.rkey = rkey;
    }

    boolean covers(long start, long len) {
      return len >= 0 && start - address >= 0 && Long.compareUnsigned(start - address, length) <= 0
          && Long.compareUnsigned(len, length - (start - address)) <= 0;
    }
  }

  /** A completion, as the device writes it. */
  record Wc(long wrId, int status, int opcode, int byteLength, int qpNum) {}

  /** A completion queue; overrunning it breaks it for good, as ibv_poll_cq(3) says. */
  static final class Cq {
    final int capacity;
    final ArrayDeque<Wc> entries = new ArrayDeque<>();
    boolean overrun;

    Cq(int capacity) {
      this.capacity = capacity;
    }

    synchronized void push(Wc wc) {
      if (entries.size() >= capacity) {
        overrun = true;
        return;
      }
      entries.add(wc);
    }
  }

  /** An RC queue pair. */
  static final class Qp {
    final SoftDevice device;
    final long pd;
    final Cq cq;
    final int qpNum;
    final int maxWr;
    volatile int state;
    volatile int destQpNum;
    volatile byte[] destGid = new byte[16];
    volatile int pathMtu;
    volatile int retryCount = 7;
    /** Posted and not completed. */
    int outstanding;
    /** Work requests this QP executed (requester side). */
    volatile long executed;

    Qp(SoftDevice device, long pd, Cq cq, int qpNum, int maxWr) {
      this.device = device;
      this.pd = pd;
      this.cq = cq;
      this.qpNum = qpNum;
      this.maxWr = maxWr;
    }
  }

  /** One posted work request, copied out of the caller's native array. */
  record Work(Qp qp, long wrId, int opcode, long localAddress, int length, int lkey,
      long remoteAddress, int rkey) {}
}
