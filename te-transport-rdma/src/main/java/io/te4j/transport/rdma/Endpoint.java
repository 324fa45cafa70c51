package io.te4j.transport.rdma;

import static io.te4j.transport.rdma.verbs.VerbsLayout.*;

import io.te4j.transport.rdma.verbs.QpAttributes;
import io.te4j.transport.rdma.verbs.WorkRequests;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * The RC queue pairs between one local NIC and one peer NIC ({@code MC_NUM_QP_PER_EP} of them, QP
 * {@code i} paired with the peer's QP {@code i}), and the connection state the handshake moves
 * through (RDMA.md 2.3). An endpoint that was connected is never reset: when its peer restarts or
 * a QP fails it is retired (its QPs moved to ERR, so the NIC flushes what was posted) and a new
 * one takes its place.
 */
final class Endpoint {
  enum State {
    /** QPs created, not connected: nothing may be posted. */
    NEW,
    /** Passive side at RTS, waiting for the active side's ready-ACK before it may post. */
    WAIT_READY_ACK,
    CONNECTED,
    /** QPs in ERR; destroyed once nothing is posted on them. */
    RETIRED
  }

  final Nic nic;
  final String peerNicPath;
  final long[] qps;
  final int[] qpNums;
  /** Work requests posted and not completed, per QP. */
  final AtomicIntegerArray depth;
  /** Per QP, the batch the poster fills (poster thread only). */
  final WorkRequests[] batches;
  final int[] batched;
  private int[] peerQpNums;
  private volatile State state = State.NEW;
  /** When the passive side began waiting for the ready-ACK ({@link System#nanoTime}). */
  volatile long waitingSinceNanos;
  /** The peer and its device this endpoint reaches, for rail bookkeeping (set by the poster). */
  volatile PeerSegment rail;
  volatile int railDevice = -1;
  /** Used since the eviction hand last passed (SIEVE). */
  volatile boolean visited;
  private int nextQp;

  Endpoint(Nic nic, String peerNicPath, int qpCount) {
    this.nic = nic;
    this.peerNicPath = peerNicPath;
    this.qps = new long[qpCount];
    this.qpNums = new int[qpCount];
    this.depth = new AtomicIntegerArray(qpCount);
    this.batches = new WorkRequests[qpCount];
    this.batched = new int[qpCount];
    int created = 0;
    try {
      for (; created < qpCount; created++) {
        qps[created] = nic.verbs.createQp(nic.pd, nic.cq, nic.maxWr, nic.maxSge, nic.maxInline);
        qpNums[created] = nic.verbs.qpNum(qps[created]);
        batches[created] = new WorkRequests(nic.maxWr);
      }
    } catch (RuntimeException e) {
      for (int i = 0; i < created; i++) {
        nic.verbs.destroyQp(qps[i]);
      }
      throw e;
    }
  }

  State state() {
    return state;
  }

  boolean canPost() {
    return state == State.CONNECTED;
  }

  synchronized int[] peerQpNums() {
    return peerQpNums == null ? null : peerQpNums.clone();
  }

  /**
   * Pairs the QPs with the peer's and moves them RESET, INIT, RTR, RTS with the reference's
   * attributes, unless they already are paired with exactly these QPs.
   *
   * @return 0, or the errno of the transition that failed (the endpoint is then unusable)
   */
  synchronized int connect(byte[] peerGid, int peerLid, int[] peerQps, State then) {
    if (state == State.RETIRED) {
      return 22; // EINVAL: a retired endpoint is never reconnected
    }
    if (peerQpNums != null && Arrays.equals(peerQpNums, peerQps)) {
      if (then == State.CONNECTED || state == State.NEW) {
        state = then;
      }
      return 0;
    }
    if (peerQpNums != null) {
      return 22; // paired with other QPs: the caller retires this endpoint
    }
    QpAttributes a = new QpAttributes();
    for (int i = 0; i < qps.length; i++) {
      int rc = nic.verbs.modifyQp(qps[i], a.state(QPS_RESET).address(), QP_STATE);
      if (rc == 0) {
        rc = nic.verbs.modifyQp(qps[i], a.init(nic.port, 0).address(), MASK_INIT);
      }
      if (rc == 0) {
        rc = nic.verbs.modifyQp(qps[i], a.readyToReceive(nic.pathMtu, peerGid, peerLid, nic.gidIndex,
            nic.trafficClass, nic.serviceLevel, nic.port, peerQps[i], nic.maxRdAtomic).address(),
            MASK_RTR);
      }
      if (rc == 0) {
        rc = nic.verbs.modifyQp(qps[i], a.readyToSend(nic.maxRdAtomic).address(), MASK_RTS);
      }
      if (rc != 0) {
        return rc;
      }
    }
    peerQpNums = peerQps.clone();
    if (then == State.WAIT_READY_ACK) {
      waitingSinceNanos = System.nanoTime();
    }
    state = then;
    return 0;
  }

  /** The ready-ACK came: true when it names the QPs this endpoint is paired with. */
  synchronized boolean confirm(int[] peerQps) {
    if (state == State.RETIRED || peerQpNums == null || !Arrays.equals(peerQpNums, peerQps)) {
      return false;
    }
    state = State.CONNECTED;
    return true;
  }

  /** The QP the next work request goes on (poster thread only). */
  int nextQp() {
    int q = nextQp;
    nextQp = q + 1 == qps.length ? 0 : q + 1;
    return q;
  }

  /**
   * Moves every QP to ERR, so that what is posted completes with a flush error, and no longer
   * connects. Idempotent; the NIC destroys the QPs once nothing is posted on them.
   */
  void retire() {
    synchronized (this) {
      if (state == State.RETIRED) {
        return;
      }
      state = State.RETIRED;
    }
    QpAttributes a = new QpAttributes();
    for (long qp : qps) {
      nic.verbs.modifyQp(qp, a.state(QPS_ERR).address(), QP_STATE);
    }
    nic.retired(this);
  }

  /** True when nothing is posted on any QP. */
  boolean drained() {
    for (int i = 0; i < qps.length; i++) {
      if (depth.get(i) > 0) {
        return false;
      }
    }
    return true;
  }

  void destroy() {
    for (long qp : qps) {
      nic.verbs.destroyQp(qp);
    }
  }

  @Override
  public String toString() {
    return nic.nicPath + " -> " + peerNicPath + " " + state + " qps " + Arrays.toString(qpNums);
  }
}
