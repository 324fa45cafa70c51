package io.te4j.transport.rdma;

import static io.te4j.transport.rdma.verbs.VerbsLayout.*;

import io.te4j.api.BufferDescriptor;
import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.TransferState;
import io.te4j.api.spi.TransferSlice;
import io.te4j.api.spi.inflight.InFlightTable;
import io.te4j.transport.rdma.verbs.Completions;
import io.te4j.transport.rdma.verbs.VerbsLayout;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The two threads of one NIC (RDMA.md 2.6, 5.4): the poster turns queued tickets into work
 * requests, connecting endpoints when needed, and posts each QP's chain in one call, never more
 * than the QP's depth or the CQ's room; the poller polls 64 completions at a time, ends slices and
 * sends failed ones to another path. A ticket of the transport's {@link InFlightTable} is each
 * work request's {@code wr_id}: nothing is allocated per slice.
 *
 * <p>A slot's tag holds the attempt (high bits) and the QP index (low 8 bits); its attachment the
 * endpoint the request was posted on.
 */
final class NicWorker implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NicWorker.class);
  private static final int POLL_BATCH = 64;
  /** Local completion errors in a row after which a NIC is taken out of service (the reference's 32). */
  private static final int LOCAL_FAILURES_TO_DEACTIVATE = 32;
  /** How long a peer that did not answer a handshake is left alone. */
  private static final long CONNECT_BACKOFF_NANOS = 20_000_000;

  private final Nic nic;
  private final RdmaTransport transport;
  private final InFlightTable table;
  private final TicketQueue queue;
  private final Thread poster;
  private final Thread poller;
  private final long[] drained;
  private final Completions completions = new Completions(POLL_BATCH);
  private final Endpoint[] touched;
  /** Local completion errors in a row (poller thread only). */
  private int consecutiveLocalFailures;
  /** The peer of the last slice placed: most slices follow one of the same peer. */
  private PeerSegment lastPeer;
  /** Tickets put back this round because their peer is backing off. */
  private int waiting;
  private volatile boolean closed;
  /** The poller is parked with nothing outstanding: the poster wakes it after posting. */
  private volatile boolean pollerSleeps;

  NicWorker(Nic nic, RdmaTransport transport, InFlightTable table, ThreadFactory threads) {
    this.nic = nic;
    this.transport = transport;
    this.table = table;
    this.queue = new TicketQueue(table.capacity());
    this.drained = new long[Math.max(POLL_BATCH, nic.maxWr)];
    this.touched = new Endpoint[drained.length];
    this.poster = threads.newThread(this::postLoop);
    this.poller = threads.newThread(this::pollLoop);
    poster.setName(poster.getName() + "-post-" + nic.name);
    poller.setName(poller.getName() + "-poll-" + nic.name);
  }

  NicWorker start() {
    poster.start();
    poller.start();
    return this;
  }

  Nic nic() {
    return nic;
  }

  void submit(long[] tickets, int count) {
    queue.offer(tickets, count);
  }

  // ------------------------------------------------------------------------------ posting

  private void postLoop() {
    while (!closed) {
      try {
        int n = queue.drain(drained, TicketQueue.millis(100));
        int endpoints = 0;
        waiting = 0;
        for (int i = 0; i < n && !closed; i++) {
          Endpoint e = place(drained[i]);
          if (e != null && !isTouched(e, endpoints)) {
            touched[endpoints++] = e;
          }
        }
        for (int i = 0; i < endpoints; i++) {
          post(touched[i]);
          touched[i] = null;
        }
        if (n > 0 && waiting == n) {
          LockSupport.parkNanos(1_000_000); // all of it waits for peers backing off
        }
        if (nic.hasRetired()) {
          nic.reap(false);
        }
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        LOG.error("RDMA poster of {} failed; it goes on", nic, e);
      }
    }
  }

  /** True when {@code e} is among the first {@code n} endpoints touched this round. */
  private boolean isTouched(Endpoint e, int n) {
    for (int i = 0; i < n; i++) {
      if (touched[i] == e) {
        return true;
      }
    }
    return false;
  }

  /**
   * Adds a ticket's work request to its endpoint's batch: peer device by attempt, endpoint
   * connected if needed. Returns the endpoint, or null when the ticket ended or waits.
   */
  private Endpoint place(long ticket) {
    if (!table.isActive(ticket)) {
      table.release(ticket); // ended by a deadline or a close while queued
      return null;
    }
    if (!nic.active) {
      handOff(ticket);
      return null;
    }
    TransferSlice slice = table.slice(ticket);
    int attempt = table.tag(ticket) >>> 8;
    PeerSegment peer = lastPeer;
    if (peer == null || peer.descriptor != slice.target()) {
      peer = transport.peer(slice.target());
      lastPeer = peer;
    }
    long remote = table.targetOffset(ticket);
    long length = table.length(ticket);
    int bufferIndex = peer.buffer(remote, length);
    if (bufferIndex < 0) {
      table.fail(ticket, TransferState.FAILED, ErrorCode.INVALID_ARGUMENT, "RDMA: ["
          + Long.toUnsignedString(remote) + ", +" + length + ") is in no buffer of "
          + peer.descriptor.name());
      return null;
    }
    int device = peer.device(bufferIndex, (int) (ticket ^ (ticket >>> 32)), attempt);
    BufferDescriptor buffer = peer.descriptor.buffers().get(bufferIndex);
    if (device < 0) {
      table.fail(ticket, TransferState.FAILED, ErrorCode.DEVICE_NOT_FOUND, "RDMA: "
          + peer.descriptor.name() + " publishes no reachable device with a key for buffer "
          + buffer.name());
      return null;
    }
    if (System.nanoTime() - peer.retryAfterNanos < 0) {
      queue.offer(ticket); // the peer did not answer a moment ago
      waiting++;
      return null;
    }
    Endpoint endpoint;
    try {
      endpoint = peer.endpoint(nic, device, transport.qpCount());
      if (!endpoint.canPost()) {
        transport.handshakes().connect(endpoint, peer, device);
      }
    } catch (TransferException e) {
      if (e.errorCode() == ErrorCode.SOCKET_FAIL || e.errorCode() == ErrorCode.TRANSFER_TIMEOUT) {
        // a dead or stalled peer: its other paths would fail alike this instant
        peer.retryAfterNanos = System.nanoTime() + CONNECT_BACKOFF_NANOS;
      }
      retryOrFail(ticket, attempt, e.errorCode(), e.getMessage());
      return null;
    } catch (RuntimeException e) {
      retryOrFail(ticket, attempt, ErrorCode.ENDPOINT, "RDMA endpoint to " + peer.nicPaths[device]
          + ": " + e);
      return null;
    }
    int qp = endpoint.nextQp();
    if (endpoint.batched[qp] == endpoint.batches[qp].capacity()) {
      queue.offer(ticket); // this QP's batch is full for this round
      return endpoint;
    }
    RegionKeys keys = (RegionKeys) table.region(ticket).attachment(transport.slot());
    long local = table.localAddress(ticket);
    endpoint.depth.incrementAndGet(qp); // counted from now: a retired endpoint is not destroyed under it
    endpoint.batches[qp].set(endpoint.batched[qp]++, ticket,
        table.isRead(ticket) ? WR_RDMA_READ : WR_RDMA_WRITE, local, (int) length,
        keys.lkeys[nic.index], remote, buffer.remoteKeys().get(device).intValue());
    table.attach(ticket, endpoint);
    table.setTag(ticket, attempt << 8 | qp);
    return endpoint;
  }

  /** Posts each QP's batch, as far as the QP's depth and the CQ's room allow; the rest waits. */
  private void post(Endpoint e) {
    for (int qp = 0; qp < e.qps.length; qp++) {
      int count = e.batched[qp];
      if (count == 0) {
        continue;
      }
      e.batched[qp] = 0;
      // depth already counts this batch (place()): room is what the QP holds beyond it
      int room = Math.min(nic.maxWr - (e.depth.get(qp) - count),
          nic.cqCapacity - nic.outstanding.get());
      int n = Math.min(count, Math.max(room, 0));
      int posted = 0;
      if (n > 0) {
        nic.outstanding.addAndGet(n);
        int rc;
        try {
          rc = nic.verbs.postSend(e.qps[qp], e.batches[qp], n);
        } catch (RuntimeException ex) {
          LOG.warn("posting on {} failed; its work requests go to the queue again", e, ex);
          rc = -(5 << 16); // EIO, none posted
        }
        posted = rc >= 0 ? rc : (-rc) & 0xffff;
        nic.posted += posted; // the poster is the only writer
        if (posted < n) {
          nic.outstanding.addAndGet(posted - n);
          LOG.debug("{} QP {} took {} of {} work requests (errno {})", e, qp, posted, n, (-rc) >>> 16);
        }
      }
      e.depth.addAndGet(qp, posted - count);
      if (posted > 0 && pollerSleeps) {
        LockSupport.unpark(poller);
      }
      for (int i = posted; i < count; i++) {
        queue.offer(e.batches[qp].wrId(i)); // waits for room (or retries after a post error)
      }
      if (posted < count) {
        LockSupport.parkNanos(20_000); // let completions make room
      }
    }
  }

  // ------------------------------------------------------------------------------ polling

  private void pollLoop() {
    int idle = 0;
    while (!closed) {
      try {
        int n = nic.verbs.pollCq(nic.cq, completions, POLL_BATCH);
        if (n < 0) {
          LOG.error("polling the CQ of {} failed ({}); its work fails over", nic, n);
          LockSupport.parkNanos(1_000_000);
          continue;
        }
        for (int i = 0; i < n; i++) {
          complete(i);
        }
        if (n > 0 || nic.outstanding.get() > 0) {
          idle = n > 0 ? 0 : idle + 1;
          if (idle > 1000) {
            LockSupport.parkNanos(50_000);
          } else {
            Thread.onSpinWait();
          }
        } else {
          // Nothing posted: sleep until the poster posts (it unparks a sleeping poller).
          pollerSleeps = true;
          if (nic.outstanding.get() == 0 && !closed) {
            LockSupport.parkNanos(10_000_000);
          }
          pollerSleeps = false;
        }
      } catch (RuntimeException e) {
        LOG.error("RDMA poller of {} failed; it goes on", nic, e);
      }
    }
  }

  private void complete(int i) {
    long ticket = completions.wrId(i);
    int status = completions.status(i);
    Endpoint e = (Endpoint) table.attachment(ticket);
    int tag = table.tag(ticket);
    if (e != null) {
      e.depth.decrementAndGet(tag & 0xff);
    }
    nic.outstanding.decrementAndGet();
    if (status == WC_SUCCESS) {
      consecutiveLocalFailures = 0;
      if (e != null && e.rail != null) {
        e.rail.railWorks(e.railDevice);
      }
      table.complete(ticket);
      return;
    }
    boolean local = VerbsLayout.isLocalFailure(status);
    if (local && ++consecutiveLocalFailures == LOCAL_FAILURES_TO_DEACTIVATE) {
      LOG.warn("{}: {} local failures in a row; its work moves to the other NICs", nic,
          LOCAL_FAILURES_TO_DEACTIVATE);
      nic.deactivate();
    }
    if (e != null && status != WC_WR_FLUSH_ERR) {
      e.retire(); // its QP is in ERR: what else was posted on it flushes
      if (!local && e.rail != null) {
        e.rail.pauseRail(e.railDevice, transport.railPauseNanos());
      }
    }
    String what = "RDMA " + (table.isRead(ticket) ? "READ" : "WRITE") + " on " + (e == null ? nic
        : e) + ": " + VerbsLayout.statusName(status) + " (vendor error "
        + completions.vendorError(i) + ")";
    if (local && table.isActive(ticket) && System.nanoTime() - table.deadlineNanos(ticket) < 0
        && (tag >>> 8) + 1 < transport.retryCount()) {
      table.setTag(ticket, ((tag >>> 8) + 1) << 8);
      handOff(ticket); // a local fault: another local NIC, same peer path (RDMA.md 2.6)
      return;
    }
    if (status == WC_WR_FLUSH_ERR && table.isActive(ticket) && !closed
        && System.nanoTime() - table.deadlineNanos(ticket) < 0) {
      // flushed because its endpoint went away: it did not fail, so it costs no attempt
      table.setTag(ticket, tag & ~0xff);
      if (nic.active) {
        queue.offer(ticket);
      } else {
        handOff(ticket);
      }
      return;
    }
    retryOrFail(ticket, tag >>> 8, code(status), what);
  }

  /**
   * Sends a failed slice to its next path while attempts remain. A peer that accepts the
   * handshake connection but does not answer (stalled, not dead) is tried until the slice's
   * deadline whatever the count: the deadline, not the budget, ends transfers to it.
   */
  private void retryOrFail(long ticket, int attempt, ErrorCode code, String message) {
    boolean silent = code == ErrorCode.TRANSFER_TIMEOUT;
    if (!table.isActive(ticket)) {
      table.release(ticket);
    } else if ((attempt + 1 < transport.retryCount() || silent) && !closed
        && System.nanoTime() - table.deadlineNanos(ticket) < 0) {
      table.setTag(ticket, Math.min(attempt + 1, 1 << 20) << 8);
      if (nic.active) {
        queue.offer(ticket);
      } else {
        handOff(ticket);
      }
    } else if (System.nanoTime() - table.deadlineNanos(ticket) >= 0) {
      table.fail(ticket, TransferState.TIMEOUT, ErrorCode.TRANSFER_TIMEOUT, "RDMA transfer passed "
          + "its deadline; last attempt: " + message);
    } else {
      LOG.debug("slice failed after {} attempts: {} {}", attempt + 1, code, message);
      table.fail(ticket, TransferState.FAILED, code, message + " (attempt " + (attempt + 1) + ")");
    }
  }

  /**
   * The ticket goes to another active NIC (this one stopped taking work, or failed it locally), or
   * back to this one: when no NIC is active it waits here for one to come back, until its deadline
   * ends it (a port flapping on every NIC at once is not a reason to fail a transfer early).
   */
  private void handOff(long ticket) {
    NicWorker other = transport.activeWorker(nic.index + 1, this);
    if (other == null) {
      other = this;
      if (Thread.currentThread() == poster) {
        waiting++;
      }
    }
    other.queue.offer(ticket);
  }

  private static ErrorCode code(int status) {
    switch (status) {
      case WC_REM_ACCESS_ERR:
        return ErrorCode.PEER_ACCESS_DENIED;
      case WC_RETRY_EXC_ERR:
        return ErrorCode.SOCKET_FAIL;
      default:
        return ErrorCode.TRANSFER_FAILED;
    }
  }

  /** Stops both threads; the caller then fails what is left and closes the NIC. */
  @Override
  public void close() {
    closed = true;
    queue.wake();
    for (Thread t : new Thread[] {poster, poller}) {
      LockSupport.unpark(t);
      try {
        t.join(5_000);
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
