package io.te4j.transport.tcp;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.PeerAuth;
import io.te4j.api.spi.TransferSlice;
import io.te4j.api.spi.inflight.InFlightTable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.UnresolvedAddressException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A lane's sender thread: takes slices (resubmissions first, then the queue), claims each a ticket
 * of the lane's table, connects lazily, waits for room in the in-flight FIFO, pushes the ticket
 * and writes the request. Fields below are its own.
 */
final class LaneSender {
  /** Longest wait of a sender for room, a connection state or its slice's deadline. */
  private static final long POLL_MILLIS = 100;
  /** How often an idle sender wakes (close() interrupts it; this is only a safety net). */
  private static final long IDLE_POLL_MILLIS = 1_000;
  /** How often an idle sender of a retired lane checks whether it may close. */
  private static final long RETIRED_POLL_MILLIS = 20;
  /** Requests up to this size are staged (copied) and sent several per write. */
  static final int SMALL_REQUEST_BYTES = 16 * 1024;
  /** Bytes staged at most before they are written. */
  static final int STAGE_BYTES = 64 * 1024;
  /** A v2 sender whose write failed waits this long for the receiver to read a rejection. */
  private static final long SEND_FAILURE_GRACE_NANOS = 200_000_000L;

  private final TcpLane lane;
  private final InFlightTable table;
  private final Object lock;
  private final Thread thread;
  /** The connection (and its generation) the last admitted ticket is to be written on. */
  private GatheringByteChannel sendChannel;
  private long sendGeneration;
  private final ByteBuffer header = TcpWire.newHeaderBuffer();
  private final ByteBuffer[] gather = new ByteBuffer[2];
  private final ChunkViews views;
  /** This thread's pinned slot of the table: the range it reads while it writes a payload. */
  private int pin = -1;
  /**
   * Small requests (header and payload copied) waiting to leave together in one write: sent when
   * no more work is queued (a lone request leaves at once), when the next does not fit, and before
   * this thread waits for anything. Allocated at the first small request.
   */
  private ByteBuffer stage;
  /** The connection generation the staged requests were admitted on. */
  private long stagedGeneration;
  /** The sequence number of the last staged request, or -1 when nothing is staged. */
  private long stagedSeq = -1;

  LaneSender(TcpLane lane, MemoryViews memoryViews, ThreadFactory threads, String suffix) {
    this.lane = lane;
    this.table = lane.table;
    this.lock = lane.lock;
    this.views = new ChunkViews(memoryViews);
    this.thread = threads.newThread(this::run);
    thread.setName(thread.getName() + suffix);
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  void interrupt() {
    thread.interrupt();
  }

  void join(long deadlineNanos) {
    TcpTarget.join(thread, deadlineNanos);
  }

  private void run() {
    long ticket = InFlightTable.NONE;
    TransferSlice unclaimed = null;
    try {
      pin = table.pin();
      while (true) {
        synchronized (lock) {
          if (lane.closed) {
            break;
          }
          ticket = lane.takeRetryLocked();
        }
        if (ticket == InFlightTable.NONE) {
          if (lane.queue.isEmpty()) {
            flushStage(); // nothing may wait in the stage while this thread waits
          }
          unclaimed = lane.queue.poll(lane.retired ? RETIRED_POLL_MILLIS : IDLE_POLL_MILLIS,
              TimeUnit.MILLISECONDS);
          if (unclaimed == TcpLane.WAKE) {
            unclaimed = null;
            continue; // resubmissions are waiting, or the lane was retired
          }
          if (unclaimed == null) {
            if (lane.retired && lane.isDrained()) {
              lane.close(TcpLane.FORGOTTEN); // slices that race in are rerouted
            }
            continue;
          }
          // The claim copies what the wire needs and publishes the local range: from here on an
          // unregistration waits for this ticket.
          ticket = claim(unclaimed);
          unclaimed = null;
          if (ticket == InFlightTable.NONE) {
            continue; // the lane closed
          }
        }
        send(ticket); // ends the ticket, or pushes it onto the FIFO (and maybe the stage)
        ticket = InFlightTable.NONE;
        if (stageDue()) {
          flushStage(); // no more work right now (a lone request leaves at once), or full
        }
      }
    } catch (InterruptedException e) {
      // close() interrupts an idle sender; any other interrupt would leave a lane without sender
      lane.close(TcpLane.CLOSED);
    } catch (RuntimeException | Error e) {
      TcpLane.LOG.error("tcp lane to {}: sender failed", lane.peerName, e);
      lane.close(TcpLane.CLOSED);
    } finally {
      stagedSeq = -1; // the lane is closing: its tickets are failed with it
      sendChannel = null;
      synchronized (lock) {
        lane.senderWriting = false;
        lock.notifyAll();
      }
      if (unclaimed != null) {
        lane.failClosed(unclaimed);
      }
      if (ticket != InFlightTable.NONE && table.isActive(ticket) && !lane.inFifo(ticket)) {
        lane.failClosed(ticket); // the sender failed while holding it
      }
      if (lane.closed) {
        lane.failQueued();
      }
      views.clear();
      lane.threadExited();
    }
  }

  /**
   * A ticket for {@code slice}. The table has room for everything the lane holds, so this waits
   * only while the receiver ends tickets it just took off the FIFO.
   *
   * @return the ticket, or NONE when the lane closed (the slice was then handed to failClosed)
   */
  private long claim(TransferSlice slice) {
    while (true) {
      long t = table.claim(slice);
      if (t != InFlightTable.NONE) {
        return t;
      }
      if (lane.closed) {
        lane.failClosed(slice);
        return InFlightTable.NONE;
      }
      LockSupport.parkNanos(50_000L);
    }
  }

  /** Checks, admits and writes one claimed ticket; it is ended or in the FIFO on return. */
  private void send(long t) throws InterruptedException {
    boolean write = !table.isRead(t);
    long length = table.length(t);
    long targetAddress = table.targetOffset(t);
    long deadline = table.deadlineNanos(t);
    MemoryRegion region = table.region(t);
    long localAddress = table.localAddress(t);
    if (System.nanoTime() - deadline >= 0) {
      lane.failExpired(t);
      return;
    }
    boolean small = length <= SMALL_REQUEST_BYTES;
    if (!small || !admitsAtOnce(TcpWire.HEADER_BYTES + (write ? length : 0))) {
      flushStage(); // what is staged must not wait behind a wait of this thread
    }
    // The ticket is ended by the receiver once in the FIFO, possibly before the write returns
    // (a rejection, a broken connection): the pin keeps the range held while this thread reads
    // it. Published before the registry check, as the claim was.
    table.touch(pin, localAddress, length);
    boolean touching = true;
    try {
      if (lane.memory.find(localAddress, length) != region) {
        lane.failUnregistered(t);
        return;
      }
      long seq = admit(t, deadline, region, localAddress, length);
      if (seq < 0) {
        return; // failed
      }
      if (small) {
        try {
          stage(seq, write, targetAddress, region, localAddress, length);
        } catch (IOException e) {
          stagedSeq = -1;
          onSendFailure(sendGeneration, e);
        }
        return;
      }
      GatheringByteChannel ch = sendChannel;
      long gen = sendGeneration;
      try {
        int opcodeByte = TcpWire.opcodeByte(
            write ? TransferOpcode.WRITE : TransferOpcode.READ, lane.version);
        TcpWire.encodeHeader(header, length, targetAddress, opcodeByte);
        if (write) {
          RegionIo.writeFromRegion(ch, views, region, localAddress, length, header, gather);
        } else {
          RegionIo.writeFully(ch, header);
        }
        written(seq);
      } catch (IOException e) {
        written(-1);
        table.exit(pin); // out of the write: no need to hold up an unregistration
        touching = false;
        onSendFailure(gen, e);
      }
    } finally {
      if (touching) {
        table.exit(pin);
      }
    }
  }

  /**
   * True when a request of {@code bytes} joins the stage without this thread waiting: the stage
   * has room, the lane is connected on the staged requests' connection and its FIFO has an entry.
   */
  private boolean admitsAtOnce(long bytes) {
    if (stagedSeq < 0) {
      return true; // nothing staged: waiting holds nothing back
    }
    if (stage.remaining() < bytes) {
      return false;
    }
    synchronized (lock) {
      return lane.state == TcpLane.CONNECTED && lane.generation == stagedGeneration
          && lane.pushed - lane.popped <= lane.mask;
    }
  }

  /**
   * Copies an admitted small request (header, and a WRITE's payload) into the stage; the range is
   * not read again after this, so the pin may go.
   */
  private void stage(long seq, boolean write, long targetAddress, MemoryRegion region,
      long localAddress, long length) throws IOException {
    written(-1); // staging is not writing: close() need not wait for it
    if (stagedSeq >= 0 && sendGeneration != stagedGeneration) {
      stagedSeq = -1; // staged for a connection that broke: those tickets were failed with it
    }
    if (stage == null) {
      stage = ByteBuffer.allocateDirect(STAGE_BYTES).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    }
    if (stagedSeq < 0) {
      stage.clear();
      stagedGeneration = sendGeneration;
    }
    int opcodeByte = TcpWire.opcodeByte(write ? TransferOpcode.WRITE : TransferOpcode.READ,
        lane.version);
    TcpWire.appendHeader(stage, length, targetAddress, opcodeByte);
    if (write) {
      RegionIo.copyFromRegion(views, region, localAddress, length, stage);
    }
    stagedSeq = seq;
  }

  /** Whether the staged requests should leave now: no more work waits, or the stage is full. */
  private boolean stageDue() {
    return stagedSeq >= 0 && (stage.remaining() < TcpWire.HEADER_BYTES + SMALL_REQUEST_BYTES
        || lane.queue.isEmpty() && !lane.hasRetries());
  }

  /**
   * Writes the staged requests in one write, if their connection is still the lane's; else drops
   * them (breaking the connection failed or resubmitted their tickets already).
   */
  private void flushStage() throws InterruptedException {
    if (stagedSeq < 0) {
      return;
    }
    long last = stagedSeq;
    stagedSeq = -1;
    GatheringByteChannel ch;
    synchronized (lock) {
      if (lane.state != TcpLane.CONNECTED || lane.generation != stagedGeneration) {
        return;
      }
      ch = lane.connection.out();
      lane.senderWriting = true;
    }
    try {
      stage.flip();
      RegionIo.writeFully(ch, stage);
      written(last);
    } catch (IOException e) {
      written(-1);
      onSendFailure(stagedGeneration, e);
    }
  }

  /**
   * This thread is out of its write: requests up to {@code lastSeq} are in the socket (a v1
   * receiver counts a WRITE done then), or -1 when the write failed.
   */
  private void written(long lastSeq) {
    synchronized (lock) {
      lane.senderWriting = false;
      if (lastSeq >= 0 && lane.sent < lastSeq + 1) {
        lane.sent = lastSeq + 1;
      }
      lock.notifyAll();
    }
  }

  /**
   * Waits for a connection (connecting when there is none) and a free FIFO entry, then pushes the
   * ticket; the caller then writes it. The ticket is failed here instead when the lane closes, its
   * deadline passes, its memory is unregistered or the connect fails.
   *
   * @return the ticket's sequence number, or -1 when it was failed
   */
  private long admit(long t, long deadline, MemoryRegion region, long localAddress, long length)
      throws InterruptedException {
    boolean waited = false;
    while (true) {
      boolean expired = false;
      boolean isClosed = false;
      boolean unregistered = false;
      synchronized (lock) {
        while (true) {
          if (lane.closed) {
            isClosed = true;
            break;
          }
          // After a wait (or a connect) the region may be gone: unregistered() wakes us for this.
          if (waited && lane.memory.find(localAddress, length) != region) {
            unregistered = true;
            break;
          }
          long now = System.nanoTime();
          if (now - deadline >= 0) {
            expired = true;
            break;
          }
          if (lane.state == TcpLane.CONNECTED && lane.pushed - lane.popped <= lane.mask) {
            long seq = lane.pushed++;
            lane.ring[(int) seq & lane.mask] = t;
            lane.senderWriting = true;
            sendChannel = lane.connection.out();
            sendGeneration = lane.generation;
            lock.notifyAll(); // a v1 receiver waits for entries
            return seq;
          }
          if (lane.state == TcpLane.IDLE) {
            break;
          }
          // BROKEN (the receiver is draining) or the FIFO is full: wait, bounded by the deadline.
          lock.wait(waitMillis(deadline, now));
          waited = true;
        }
      }
      if (isClosed) {
        lane.failClosed(t);
        return -1;
      }
      if (unregistered) {
        lane.failUnregistered(t);
        return -1;
      }
      if (expired) {
        lane.failExpired(t);
        return -1;
      }
      DataConnection c = connect(t, deadline);
      if (c == null) {
        return -1;
      }
      waited = true;
      synchronized (lock) {
        if (lane.closed) {
          TcpTarget.closeQuietly(c.socket());
        } else {
          lane.connection = c;
          lane.generation++;
          lane.state = TcpLane.CONNECTED;
          lane.breakKind = 0;
          lane.breakReason = null;
          lock.notifyAll();
        }
      }
    }
  }

  private static long waitMillis(long deadline, long now) {
    long millis = (deadline - now) / 1_000_000L + 1;
    return Math.max(1, Math.min(millis, POLL_MILLIS));
  }

  /**
   * Opens the connection (bounded by 5 s and by the ticket's deadline). On failure fails the
   * ticket and everything waiting on this lane (the peer is not there) and returns null.
   */
  private DataConnection connect(long t, long deadline) {
    SocketChannel ch = null;
    ErrorCode code;
    String message;
    try {
      InetSocketAddress address = new InetSocketAddress(lane.host, lane.port);
      if (address.isUnresolved()) {
        throw new UnknownHostException(lane.host);
      }
      ch = SocketChannel.open();
      long remainingMillis = (deadline - System.nanoTime()) / 1_000_000L;
      int timeout = (int) Math.max(1, Math.min(remainingMillis, TcpLane.CONNECT_TIMEOUT_MILLIS));
      boolean isClosed;
      synchronized (lock) {
        isClosed = lane.closed;
        if (!isClosed) {
          // close() closes it, which ends a blocked connect; so does the watchdog after timeout
          // (TLS and the cluster secret's exchange read with no timeout of their own).
          lane.connecting = ch;
          lane.connectingUntilNanos = System.nanoTime() + timeout * 1_000_000L;
        }
      }
      if (isClosed) {
        TcpTarget.closeQuietly(ch);
        lane.failClosed(t);
        return null;
      }
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
      if (lane.socketBufferBytes > 0) {
        ch.setOption(StandardSocketOptions.SO_SNDBUF, lane.socketBufferBytes);
        ch.setOption(StandardSocketOptions.SO_RCVBUF, lane.socketBufferBytes);
      }
      ch.socket().connect(address, timeout);
      DataConnection c = lane.security.client(ch, lane.host, lane.port);
      synchronized (lock) {
        lane.connecting = null;
        if (!lane.closed) {
          return c;
        }
      }
      TcpTarget.closeQuietly(ch);
      lane.failClosed(t);
      return null;
    } catch (UnknownHostException | UnresolvedAddressException e) {
      code = ErrorCode.DNS_FAIL;
      message = "cannot resolve tcp peer host '" + lane.host + "'";
    } catch (PeerAuth.AuthenticationException e) {
      code = ErrorCode.REJECT_HANDSHAKE;
      message = "tcp peer " + lane.peerName + ": " + e.getMessage();
    } catch (javax.net.ssl.SSLException e) {
      code = ErrorCode.REJECT_HANDSHAKE;
      message = "TLS with tcp peer " + lane.peerName + " failed: " + e.getMessage();
    } catch (SocketTimeoutException | java.nio.channels.AsynchronousCloseException e) {
      code = ErrorCode.SOCKET_FAIL;
      message = "connect to tcp peer " + lane.peerName + " timed out";
    } catch (IOException e) {
      code = ErrorCode.SOCKET_FAIL;
      message = "cannot connect to tcp peer " + lane.peerName + ": " + e;
    }
    synchronized (lock) {
      lane.connecting = null;
    }
    if (ch != null) {
      TcpTarget.closeQuietly(ch);
    }
    if (lane.closed) {
      lane.failClosed(t);
      return null;
    }
    TcpLane.WARNINGS.log("{}", message);
    long now = System.nanoTime();
    if (code == ErrorCode.SOCKET_FAIL && now - deadline >= 0) {
      // The connect was bounded by this transfer's deadline and ran into it: a timeout, as the
      // watchdog would have said a moment later (the peer may only be stalled).
      lane.fail(t, now, TransferState.TIMEOUT, ErrorCode.TRANSFER_TIMEOUT,
          "transfer passed its deadline while connecting: " + message);
    } else {
      lane.fail(t, now, TransferState.FAILED, code, message);
    }
    // The peer cannot be reached: fail what waits for it now rather than one connect at a time.
    long[] resubmitted = new long[lane.mask + 1];
    int n;
    synchronized (lock) {
      n = lane.takeRetriesLocked(resubmitted, 0);
    }
    for (int i = 0; i < n; i++) {
      lane.fail(resubmitted[i], now, TransferState.FAILED, code, message);
    }
    List<TransferSlice> waiting = new ArrayList<>();
    lane.queue.drainTo(waiting);
    for (TransferSlice s : waiting) {
      if (s != TcpLane.WAKE) {
        lane.fail(s, now, TransferState.FAILED, code, message);
      }
    }
    return null;
  }

  /**
   * A write failed. On v2 the receiver may be about to read a rejection that explains it (the
   * target closes after rejecting), so it gets a moment to classify the break first.
   */
  private void onSendFailure(long gen, IOException e) throws InterruptedException {
    if (lane.version >= 2) {
      long end = System.nanoTime() + SEND_FAILURE_GRACE_NANOS;
      synchronized (lock) {
        long now;
        while (lane.state == TcpLane.CONNECTED && lane.generation == gen && !lane.closed
            && (now = System.nanoTime()) - end < 0) {
          lock.wait(Math.max(1, (end - now) / 1_000_000L));
        }
      }
    }
    lane.breakConnection(gen, TcpLane.PEER_LOST,
        "connection to tcp peer " + lane.peerName + " broke: " + e);
  }
}
