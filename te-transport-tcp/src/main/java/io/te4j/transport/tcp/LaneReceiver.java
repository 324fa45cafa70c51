package io.te4j.transport.tcp;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.TransferSlice;
import io.te4j.api.spi.inflight.InFlightTable;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A lane's receiver thread: reads each request's v2 status (and a READ's data, straight into local
 * memory) in FIFO order and ends its ticket; after the connection broke it drains the FIFO, ending
 * or resubmitting each ticket by why it broke. Fields below are its own.
 */
final class LaneReceiver {
  private final TcpLane lane;
  private final InFlightTable table;
  private final Object lock;
  private final Thread thread;
  private final ByteBuffer status = TcpWire.newStatusBuffer();
  private final ChunkViews views;
  /** The connection's answers: many status frames per read. */
  private final ReadAhead input = new ReadAhead(RECEIVE_AHEAD_BYTES);
  /** The connection generation {@link #input} reads; -1 before the first. */
  private long inputGeneration = -1;
  /** Bytes one read of the answers may take. */
  static final int RECEIVE_AHEAD_BYTES = 4096;
  /** Tickets a drain fails, and queued slices it fails with them; reused. */
  private final long[] failedTickets;
  private final List<TransferSlice> failedQueued = new ArrayList<>();

  LaneReceiver(TcpLane lane, MemoryViews memoryViews, ThreadFactory threads,
      String suffix) {
    this.lane = lane;
    this.table = lane.table;
    this.lock = lane.lock;
    this.views = new ChunkViews(memoryViews);
    this.failedTickets = new long[2 * (lane.mask + 1)];
    this.thread = threads.newThread(this::run);
    thread.setName(thread.getName() + suffix);
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /** Waits until {@code deadlineNanos}; then interrupts it as a last resort. */
  void join(long deadlineNanos) {
    if (thread.isAlive() && System.nanoTime() - deadlineNanos < 0) {
      TcpTarget.join(thread, deadlineNanos);
    }
    if (thread.isAlive()) {
      thread.interrupt();
      TcpTarget.join(thread, System.nanoTime() + 100_000_000L);
    }
  }

  private void run() {
    try {
      while (true) {
        ReadableByteChannel ch;
        long gen;
        boolean drain = false;
        synchronized (lock) {
          while (true) {
            if (lane.state == TcpLane.BROKEN) {
              drain = true;
              break;
            }
            if (lane.state == TcpLane.IDLE && lane.closed) {
              return;
            }
            // A v2 receiver reads even when idle: a status can only follow a request, and an EOF
            // tells us at once that the peer went away.
            if (lane.state == TcpLane.CONNECTED
                && (lane.version >= 2 || lane.pushed > lane.popped)) {
              break;
            }
            lock.wait(200);
          }
          ch = lane.connection.in();
          gen = lane.generation;
        }
        if (drain) {
          drainBroken();
          continue;
        }
        if (gen != inputGeneration) { // a new connection: nothing staged belongs to it
          input.reset(ch);
          inputGeneration = gen;
        }
        try {
          if (lane.version >= 2) {
            receiveV2(gen);
          } else {
            receiveV1(gen);
          }
        } catch (IOException e) {
          lane.breakConnection(gen, TcpLane.PEER_LOST, lostMessage(e));
        }
      }
    } catch (InterruptedException e) {
      lane.close(TcpLane.CLOSED); // join() interrupts as a last resort
    } catch (RuntimeException | Error e) {
      TcpLane.LOG.error("tcp lane to {}: receiver failed", lane.peerName, e);
      lane.close(TcpLane.CLOSED);
    } finally {
      lane.failLeftovers();
      views.clear();
      lane.threadExited();
    }
  }

  private String lostMessage(IOException e) {
    if (e instanceof EOFException) {
      return "tcp peer " + lane.peerName + " closed the connection";
    }
    return "connection to tcp peer " + lane.peerName + " lost: " + e;
  }

  private void receiveV2(long gen) throws IOException, InterruptedException {
    status.clear();
    input.readFully(status);
    long frame = status.getLong(0);
    long seq;
    long head;
    synchronized (lock) {
      if (lane.pushed == lane.popped) {
        if (lane.state == TcpLane.CONNECTED && lane.generation == gen) {
          lane.breakLocked(TcpLane.PROTOCOL, "tcp peer " + lane.peerName
              + " sent a status frame with no request in flight");
        }
        return;
      }
      seq = lane.popped;
      head = lane.ring[(int) seq & lane.mask];
    }
    if (!TcpWire.hasStatusMagic(frame)) {
      lane.breakConnection(gen, TcpLane.PROTOCOL,
          "protocol error: tcp peer " + lane.peerName + " sent status frame 0x"
              + Long.toHexString(frame) + " without the MCTV magic");
      return;
    }
    int code = TcpWire.statusCode(frame);
    if (code == TcpWire.STATUS_REJECTED) {
      rejectHead(gen, seq, head);
      return;
    }
    if (code != TcpWire.STATUS_OK) {
      lane.breakConnection(gen, TcpLane.PROTOCOL,
          "protocol error: tcp peer " + lane.peerName + " sent unknown status code " + code);
      return;
    }
    if (table.isRead(head)) {
      input.readIntoRegion(views, table.region(head), table.localAddress(head),
          table.length(head));
    }
    finishHead(seq, head);
  }

  private void receiveV1(long gen) throws IOException, InterruptedException {
    long seq;
    long head;
    synchronized (lock) {
      seq = lane.popped;
      head = lane.ring[(int) seq & lane.mask];
    }
    if (!table.isRead(head)) {
      // v1 has no acknowledgement: a WRITE is done once its bytes are in the socket.
      synchronized (lock) {
        while (lane.sent <= seq && lane.state == TcpLane.CONNECTED && lane.generation == gen) {
          lock.wait(200);
        }
        if (lane.sent <= seq) {
          return; // broken before it was written; the loop drains
        }
      }
    } else {
      input.readIntoRegion(views, table.region(head), table.localAddress(head),
          table.length(head));
    }
    finishHead(seq, head);
  }

  private void finishHead(long seq, long head) {
    synchronized (lock) {
      if (lane.popped != seq) {
        return; // failed meanwhile by close()
      }
      lane.popped = seq + 1;
      lock.notifyAll(); // the sender may wait for a free entry
    }
    table.complete(head);
  }

  /** Status 1: the head fails; the target closes, the rest is resubmitted by the drain. */
  private void rejectHead(long gen, long seq, long head) throws InterruptedException {
    String message =
        "tcp target " + lane.peerName + " rejected " + (table.isRead(head) ? "READ" : "WRITE")
            + " of " + Long.toUnsignedString(table.length(head)) + " bytes at 0x"
            + Long.toHexString(table.targetOffset(head))
            + " (not inside one remote-accessible registered buffer)";
    synchronized (lock) {
      if (lane.popped != seq) {
        return;
      }
      if (lane.state == TcpLane.CONNECTED && lane.generation == gen) {
        lane.breakLocked(TcpLane.REJECTED, message);
      }
      lane.awaitSenderOutLocked();
      lane.popped = seq + 1;
    }
    TcpLane.WARNINGS.log("{}", message);
    table.fail(head, TransferState.FAILED, ErrorCode.TRANSFER_FAILED, message);
  }

  /** BROKEN -> IDLE: ends or resubmits every in-flight ticket, by why the connection broke. */
  private void drainBroken() throws InterruptedException {
    long[] failures = failedTickets;
    int n = 0;
    int kind;
    String reason;
    boolean failWaiting;
    synchronized (lock) {
      lane.awaitSenderOutLocked();
      kind = lane.breakKind;
      reason = lane.breakReason;
      boolean hadInFlight = lane.pushed > lane.popped;
      for (long s = lane.popped; s < lane.pushed; s++) {
        long t = lane.ring[(int) s & lane.mask];
        int resubmits = table.tag(t);
        // Behind a rejected request nothing was processed: send again on a fresh connection.
        if (kind == TcpLane.REJECTED && resubmits < TcpLane.MAX_RESUBMITS
            && lane.addRetryLocked(t)) {
          table.setTag(t, resubmits + 1);
        } else {
          failures[n++] = t;
        }
      }
      lane.popped = lane.pushed;
      lane.sent = lane.pushed;
      // A peer that died with work outstanding will not take the waiting slices either.
      failWaiting = (kind == TcpLane.PEER_LOST && hadInFlight) || kind == TcpLane.CLOSED;
      if (failWaiting) {
        n = lane.takeRetriesLocked(failures, n);
      }
      lane.state = TcpLane.IDLE;
      lane.connection = null;
      lock.notifyAll();
      if (lane.retrySize > 0) {
        // The sender may be parked in queue.poll; if the queue is full it is busy anyway.
        lane.queue.offer(TcpLane.WAKE);
      }
    }
    if (failWaiting) {
      lane.queue.drainTo(failedQueued);
    }
    if ((kind == TcpLane.PEER_LOST && n + failedQueued.size() > 0) || kind == TcpLane.PROTOCOL) {
      TcpLane.WARNINGS.log("{}; failing {} slices", reason, n + failedQueued.size());
    }
    long now = System.nanoTime();
    // The lane-mates of a slice that timed out: one whose own deadline falls before the watchdog's
    // next look would have timed out there too (the peer made no progress), so it ends TIMEOUT,
    // as a stalled target's transfers must, even when the first deadline came microseconds
    // earlier; one with time left ends FAILED at once, free to be retried elsewhere.
    long endsAsTimeout = kind == TcpLane.TIMED_OUT ? now + TcpLane.TIMEOUT_SLACK_NANOS : now;
    ErrorCode code = kind == TcpLane.CLOSED ? ErrorCode.ENGINE_CLOSED : ErrorCode.TRANSFER_FAILED;
    String message = breakMessage(kind, reason);
    for (int i = 0; i < n; i++) {
      lane.fail(failures[i], endsAsTimeout, TransferState.FAILED, code, message);
    }
    for (TransferSlice s : failedQueued) {
      if (s != TcpLane.WAKE) {
        lane.fail(s, endsAsTimeout, TransferState.FAILED, code, message);
      }
    }
    failedQueued.clear();
  }

  private String breakMessage(int kind, String reason) {
    switch (kind) {
      case TcpLane.CLOSED:
        return "tcp transport closed";
      case TcpLane.REJECTED:
        return "tcp target " + lane.peerName + " closed the connection after rejecting an earlier"
            + " request (resubmitted " + TcpLane.MAX_RESUBMITS + " times already)";
      case TcpLane.UNREGISTERED:
        return reason;
      case TcpLane.TIMED_OUT:
        return "connection to tcp peer " + lane.peerName
            + " was closed because another slice on it timed out";
      default:
        return reason == null ? "connection to tcp peer " + lane.peerName + " closed" : reason;
    }
  }
}
