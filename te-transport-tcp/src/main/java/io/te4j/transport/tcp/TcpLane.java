package io.te4j.transport.tcp;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.MemoryRegistry;
import io.te4j.api.spi.TransferSlice;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.channels.UnresolvedAddressException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One persistent connection ("lane") to one peer's data port, with requests pipelined on it.
 *
 * <p>Threads and what they own:
 *
 * <ul>
 *   <li>any application thread: {@link #enqueue} (a non-blocking offer to a bounded queue);
 *   <li>the <b>sender</b> thread: takes slices (resubmissions first, then the queue), connects
 *       lazily, pushes each slice onto the in-flight FIFO, then writes its header (and payload);
 *   <li>the <b>receiver</b> thread: reads, in FIFO order, each slice's v2 status (and a READ's
 *       data, straight into local memory), completes it; it is also the only thread that fails
 *       in-flight slices after the connection broke, so no slice is failed while a socket read
 *       still writes into its memory;
 *   <li>the transport's watchdog thread: {@link #checkDeadlines} fails expired queued slices and
 *       closes the connection when an in-flight slice expired;
 *   <li>the thread running {@link TcpTransport#unregistered} (the engine's, under its
 *       registration lock): {@link #failQueuedOn} fails waiting slices on the region, {@link
 *       #touches} tells whether the sender or the in-flight ring still holds one, and {@link
 *       #abortUsersOf} closes the connection when they outlast the transfer timeout.
 * </ul>
 *
 * <p>Unregistration without locks on the data path: the sender publishes the region of the slice
 * it holds in the volatile {@link #senderRegion} and then looks the slice's range up in the
 * registry again; the engine drops a region from the registry before it calls {@code
 * unregistered}, so either that lookup misses (the slice fails with ADDRESS_NOT_REGISTERED and is
 * never sent) or {@link #touches} sees the region published, and later in the ring, and waits.
 * The receiver, the only thread that reads into a slice's memory, takes a slice out of the ring
 * only once it is done with that memory.
 *
 * <p>State under {@link #lock}: the in-flight ring, the resubmission ring and the connection state
 * machine IDLE -> CONNECTED -> BROKEN -> IDLE (the receiver drains BROKEN). Slices leave the ring
 * only under the lock, checked by sequence number, so each is completed or failed exactly once.
 *
 * <p>A {@linkplain #retire() retired} lane (its peer was forgotten) gets no new slices, finishes
 * what it holds and closes itself once idle; stragglers are handed back to the transport.
 */
final class TcpLane {
  private static final Logger LOG = LoggerFactory.getLogger(TcpLane.class);
  private static final RateLimitedLog WARNINGS = new RateLimitedLog(LOG, 5);

  static final int CONNECT_TIMEOUT_MILLIS = 5_000;
  /**
   * Rounds of resubmission a slice may go through when slices ahead of it are rejected. Each round
   * fails the rejected slice, so a lane always makes progress.
   */
  static final int MAX_RESUBMITS = 4;
  /** Longest wait of a sender for room, a connection state or its slice's deadline. */
  private static final long POLL_MILLIS = 100;
  /** How often an idle sender wakes (close() interrupts it; this is only a safety net). */
  private static final long IDLE_POLL_MILLIS = 1_000;
  /** How often an idle sender of a retired lane checks whether it may close. */
  private static final long RETIRED_POLL_MILLIS = 20;
  /** A v2 sender whose write failed waits this long for the receiver to read a rejection. */
  private static final long SEND_FAILURE_GRACE_NANOS = 200_000_000L;
  /** Bound on waiting for the sender to leave a write on a dead socket. */
  private static final long SENDER_EXIT_WAIT_NANOS = 1_000_000_000L;

  /**
   * Put in the queue to wake a sender parked in {@code poll} (resubmissions waiting, lane
   * retired). Never sent, never ended; every reader of the queue skips it.
   */
  private static final TransferSlice WAKE = new TransferSlice() {
    @Override
    public TransferOpcode opcode() {
      throw new UnsupportedOperationException();
    }

    @Override
    public long localAddress() {
      throw new UnsupportedOperationException();
    }

    @Override
    public MemoryRegion localRegion() {
      throw new UnsupportedOperationException();
    }

    @Override
    public long targetOffset() {
      throw new UnsupportedOperationException();
    }

    @Override
    public long length() {
      throw new UnsupportedOperationException();
    }

    @Override
    public io.te4j.api.SegmentDescriptor target() {
      throw new UnsupportedOperationException();
    }

    @Override
    public long deadlineNanos() {
      throw new UnsupportedOperationException();
    }

    @Override
    public long generation() {
      return 0;
    }

    @Override
    public boolean complete(long generation) {
      return false;
    }

    @Override
    public boolean fail(long generation, TransferState state, ErrorCode code, String message) {
      return false;
    }

    @Override
    public String toString() {
      return "WAKE";
    }
  };

  private static final int IDLE = 0;
  private static final int CONNECTED = 1;
  private static final int BROKEN = 2;

  /** Why a connection was closed; decides how its slices end. */
  static final int PEER_LOST = 1;
  static final int TIMED_OUT = 2;
  static final int REJECTED = 3;
  static final int PROTOCOL = 4;
  static final int FORGOTTEN = 5;
  static final int CLOSED = 6;
  static final int UNREGISTERED = 7;

  final String host;
  final int port;
  /** 1 or 2; a lane speaks one protocol version (the peer key includes it). */
  final int version;
  private final String peerName;
  private final int socketBufferBytes;
  /** The engine's registered memory: the sender checks each slice's range is still in it. */
  private final MemoryRegistry memory;
  private final ArrayBlockingQueue<TransferSlice> queue;
  private final Consumer<TcpLane> onExit;
  /** Hands a slice back to the transport (a retired lane closed under its feet). */
  private final Consumer<TransferSlice> reroute;
  private final AtomicInteger liveThreads = new AtomicInteger();
  private final Thread sender;
  private final Thread receiver;

  private final Object lock = new Object();
  // ---- guarded by lock ----
  private final TransferSlice[] ring;
  private final byte[] ringResubmits;
  private final int mask;
  private long pushed;
  private long popped;
  /** Entries below this sequence are wholly written to the socket. */
  private long sent;
  private final TransferSlice[] retry;
  private final byte[] retryCounts;
  private int retryHead;
  private int retrySize;
  private int state = IDLE;
  private long generation;
  private SocketChannel channel;
  private SocketChannel connecting;
  private int breakKind;
  private String breakReason;
  private boolean senderWriting;
  private int closeKind;
  // ---- end guarded ----
  private volatile boolean closed;
  /** No new slices are routed here; close once the queue and the ring are empty. */
  private volatile boolean retired;
  /**
   * The local region of the slice the sender holds, from just before its registry check until
   * its bytes are written (or it failed), else null. Written only by the sender; read by {@link
   * #touches} and {@link #abortUsersOf}.
   */
  private volatile MemoryRegion senderRegion;

  // Sender-owned.
  /** The connection (and its generation) the last admitted slice is to be written on. */
  private SocketChannel sendChannel;
  private long sendGeneration;
  private final ByteBuffer header = TcpWire.newHeaderBuffer();
  private final ByteBuffer[] gather = new ByteBuffer[2];
  private final ChunkViews senderViews;
  // Receiver-owned.
  private final ByteBuffer status = TcpWire.newStatusBuffer();
  private final ChunkViews receiverViews;
  private final List<TransferSlice> receiverFailures = new ArrayList<>();

  /**
   * @param inFlightDepth requests pipelined at once, a power of two
   * @param queueDepth slices that may wait for the sender
   */
  TcpLane(
      String host,
      int port,
      int version,
      int index,
      int inFlightDepth,
      int queueDepth,
      int socketBufferBytes,
      MemoryRegistry memory,
      AtomicInteger memoryGeneration,
      ThreadFactory senderThreads,
      ThreadFactory receiverThreads,
      Consumer<TcpLane> onExit,
      Consumer<TransferSlice> reroute) {
    if (Integer.bitCount(inFlightDepth) != 1) {
      throw new IllegalArgumentException(
          "in-flight depth must be a power of two: " + inFlightDepth);
    }
    this.host = host;
    this.port = port;
    this.version = version;
    this.peerName = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    this.socketBufferBytes = socketBufferBytes;
    this.memory = memory;
    this.queue = new ArrayBlockingQueue<>(queueDepth);
    this.onExit = onExit;
    this.reroute = reroute;
    this.ring = new TransferSlice[inFlightDepth];
    this.ringResubmits = new byte[inFlightDepth];
    this.retry = new TransferSlice[inFlightDepth];
    this.retryCounts = new byte[inFlightDepth];
    this.mask = inFlightDepth - 1;
    this.senderViews = new ChunkViews(memoryGeneration);
    this.receiverViews = new ChunkViews(memoryGeneration);
    String suffix = " " + peerName + " v" + version + " lane " + index;
    this.sender = senderThreads.newThread(this::runSender);
    this.sender.setName(sender.getName() + suffix);
    this.sender.setDaemon(true);
    this.receiver = receiverThreads.newThread(this::runReceiver);
    this.receiver.setName(receiver.getName() + suffix);
    this.receiver.setDaemon(true);
  }

  void start() {
    liveThreads.set(2);
    sender.start();
    receiver.start();
  }

  String peerName() {
    return peerName;
  }

  boolean isClosed() {
    return closed;
  }

  // ------------------------------------------------------------------ application threads

  /** Queues a slice without blocking; a full queue fails it with TOO_MANY_REQUESTS. */
  void enqueue(TransferSlice slice) {
    if (!queue.offer(slice)) {
      slice.fail(
          TransferState.FAILED,
          ErrorCode.TOO_MANY_REQUESTS,
          "tcp lane to " + peerName + " is full: " + queue.size() + " slices queued");
      return;
    }
    // close() may have drained the queue before our offer: whoever removes the slice fails it.
    if (closed && queue.remove(slice)) {
      failClosed(slice);
    }
  }

  // ------------------------------------------------------------------ sender thread

  private void runSender() {
    TransferSlice slice = null;
    try {
      while (true) {
        int resubmits = 0;
        synchronized (lock) {
          if (closed) {
            break;
          }
          if (retrySize > 0) {
            int i = retryHead;
            slice = retry[i];
            resubmits = retryCounts[i];
            retry[i] = null;
            retryHead = (i + 1) & mask;
            retrySize--;
          }
        }
        if (slice == null) {
          slice = queue.poll(retired ? RETIRED_POLL_MILLIS : IDLE_POLL_MILLIS,
              TimeUnit.MILLISECONDS);
          if (slice == WAKE) {
            slice = null;
            continue; // resubmissions are waiting, or the lane was retired
          }
          if (slice == null) {
            if (retired && isDrained()) {
              close(FORGOTTEN); // slices that race in are rerouted by enqueue/failQueued
            }
            continue;
          }
        }
        // Read everything the wire needs now: once the slice is in the ring the receiver may
        // finish it, after which the engine may reuse the object.
        boolean write = slice.opcode() == TransferOpcode.WRITE;
        long length = slice.length();
        long targetAddress = slice.targetOffset();
        long deadline = slice.deadlineNanos();
        MemoryRegion region = slice.localRegion();
        long localAddress = slice.localAddress();
        if (System.nanoTime() - deadline >= 0) {
          failExpired(slice);
          slice = null;
          continue;
        }
        // Publish, then look again (see the class comment): a region unregistered before this
        // point is caught here, one unregistered after it waits for us in touches().
        senderRegion = region;
        try {
          if (memory.find(localAddress, length) != region) {
            failUnregistered(slice);
            slice = null;
            continue;
          }
          long seq = admit(slice, resubmits, deadline, region, localAddress, length);
          slice = null; // the ring owns it now, or it was failed
          if (seq < 0) {
            continue;
          }
          SocketChannel ch = sendChannel;
          long gen = sendGeneration;
          try {
            int opcodeByte = TcpWire.opcodeByte(
                write ? TransferOpcode.WRITE : TransferOpcode.READ, version);
            TcpWire.encodeHeader(header, length, targetAddress, opcodeByte);
            if (write) {
              RegionIo.writeFromRegion(
                  ch, senderViews, region, localAddress, length, header, gather);
            } else {
              RegionIo.writeFully(ch, header);
            }
            synchronized (lock) {
              senderWriting = false;
              if (sent < seq + 1) {
                sent = seq + 1;
              }
              lock.notifyAll();
            }
          } catch (IOException e) {
            synchronized (lock) {
              senderWriting = false;
              lock.notifyAll();
            }
            senderRegion = null; // out of the write: no need to hold up an unregistration
            onSendFailure(gen, e);
          }
        } finally {
          senderRegion = null; // the sender no longer reads the region
        }
      }
    } catch (InterruptedException e) {
      // close() interrupts an idle sender; any other interrupt would leave a lane without sender
      close(CLOSED);
    } catch (RuntimeException | Error e) {
      LOG.error("tcp lane to {}: sender failed", peerName, e);
      close(CLOSED);
    } finally {
      sendChannel = null;
      synchronized (lock) {
        senderWriting = false;
        lock.notifyAll();
      }
      if (slice != null) {
        failClosed(slice);
      }
      if (closed) {
        failQueued();
      }
      senderViews.clear();
      threadExited();
    }
  }

  /**
   * Waits for a connection (connecting when there is none) and a free in-flight slot, then pushes
   * the slice; the caller then writes it. The slice is failed here instead when the lane closes,
   * its deadline passes or the connect fails.
   *
   * @return the slice's sequence number, or -1 when it was failed
   */
  private long admit(TransferSlice slice, int resubmits, long deadline, MemoryRegion region,
      long localAddress, long length) throws InterruptedException {
    boolean waited = false;
    while (true) {
      boolean expired = false;
      boolean isClosed = false;
      boolean unregistered = false;
      synchronized (lock) {
        while (true) {
          if (closed) {
            isClosed = true;
            break;
          }
          // After a wait (or a connect) the region may be gone: unregistered() wakes us for this.
          if (waited && memory.find(localAddress, length) != region) {
            unregistered = true;
            break;
          }
          long now = System.nanoTime();
          if (now - deadline >= 0) {
            expired = true;
            break;
          }
          if (state == CONNECTED && pushed - popped <= mask) {
            long seq = pushed++;
            int i = (int) seq & mask;
            ring[i] = slice;
            ringResubmits[i] = (byte) resubmits;
            senderWriting = true;
            sendChannel = channel;
            sendGeneration = generation;
            lock.notifyAll(); // a v1 receiver waits for entries
            return seq;
          }
          if (state == IDLE) {
            break;
          }
          // BROKEN (the receiver is draining) or the ring is full: wait, bounded by the deadline.
          lock.wait(waitMillis(deadline, now));
          waited = true;
        }
      }
      if (isClosed) {
        failClosed(slice);
        return -1;
      }
      if (unregistered) {
        failUnregistered(slice);
        return -1;
      }
      if (expired) {
        failExpired(slice);
        return -1;
      }
      SocketChannel ch = connect(slice, deadline);
      if (ch == null) {
        return -1;
      }
      waited = true;
      synchronized (lock) {
        if (closed) {
          TcpTarget.closeQuietly(ch);
        } else {
          channel = ch;
          generation++;
          state = CONNECTED;
          breakKind = 0;
          breakReason = null;
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
   * Opens the connection (bounded by 5 s and by the slice's deadline). On failure fails {@code
   * slice} and everything waiting on this lane (the peer is not there) and returns null.
   */
  private SocketChannel connect(TransferSlice slice, long deadline) {
    SocketChannel ch = null;
    ErrorCode code;
    String message;
    try {
      InetSocketAddress address = new InetSocketAddress(host, port);
      if (address.isUnresolved()) {
        throw new UnknownHostException(host);
      }
      ch = SocketChannel.open();
      boolean isClosed;
      synchronized (lock) {
        isClosed = closed;
        if (!isClosed) {
          connecting = ch; // close() closes it, which ends a blocked connect
        }
      }
      if (isClosed) {
        TcpTarget.closeQuietly(ch);
        failClosed(slice);
        return null;
      }
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
      if (socketBufferBytes > 0) {
        ch.setOption(StandardSocketOptions.SO_SNDBUF, socketBufferBytes);
        ch.setOption(StandardSocketOptions.SO_RCVBUF, socketBufferBytes);
      }
      long remainingMillis = (deadline - System.nanoTime()) / 1_000_000L;
      int timeout = (int) Math.max(1, Math.min(remainingMillis, CONNECT_TIMEOUT_MILLIS));
      ch.socket().connect(address, timeout);
      synchronized (lock) {
        connecting = null;
        if (!closed) {
          return ch;
        }
      }
      TcpTarget.closeQuietly(ch);
      failClosed(slice);
      return null;
    } catch (UnknownHostException | UnresolvedAddressException e) {
      code = ErrorCode.DNS_FAIL;
      message = "cannot resolve tcp peer host '" + host + "'";
    } catch (SocketTimeoutException e) {
      code = ErrorCode.SOCKET_FAIL;
      message = "connect to tcp peer " + peerName + " timed out";
    } catch (IOException e) {
      code = ErrorCode.SOCKET_FAIL;
      message = "cannot connect to tcp peer " + peerName + ": " + e;
    }
    synchronized (lock) {
      connecting = null;
    }
    if (ch != null) {
      TcpTarget.closeQuietly(ch);
    }
    if (closed) {
      failClosed(slice);
      return null;
    }
    WARNINGS.warn("{}", message);
    long now = System.nanoTime();
    fail(slice, now, TransferState.FAILED, code, message);
    // The peer cannot be reached: fail what waits for it now rather than one connect at a time.
    List<TransferSlice> waiting = new ArrayList<>();
    synchronized (lock) {
      takeRetriesLocked(waiting);
    }
    queue.drainTo(waiting);
    for (TransferSlice s : waiting) {
      if (s != WAKE) {
        fail(s, now, TransferState.FAILED, code, message);
      }
    }
    return null;
  }

  /**
   * A write failed. On v2 the receiver may be about to read a rejection that explains it (the
   * target closes after rejecting), so it gets a moment to classify the break first.
   */
  private void onSendFailure(long gen, IOException e) throws InterruptedException {
    if (version >= 2) {
      long end = System.nanoTime() + SEND_FAILURE_GRACE_NANOS;
      synchronized (lock) {
        long now;
        while (state == CONNECTED && generation == gen && !closed
            && (now = System.nanoTime()) - end < 0) {
          lock.wait(Math.max(1, (end - now) / 1_000_000L));
        }
      }
    }
    breakConnection(gen, PEER_LOST, "connection to tcp peer " + peerName + " broke: " + e);
  }

  /** Nothing queued, resubmitted or in flight. */
  private boolean isDrained() {
    synchronized (lock) {
      return pushed == popped && retrySize == 0 && queue.isEmpty();
    }
  }

  // ------------------------------------------------------------------ receiver thread

  private void runReceiver() {
    try {
      while (true) {
        SocketChannel ch;
        long gen;
        boolean drain = false;
        synchronized (lock) {
          while (true) {
            if (state == BROKEN) {
              drain = true;
              break;
            }
            if (state == IDLE && closed) {
              return;
            }
            // A v2 receiver reads even when idle: a status can only follow a request, and an EOF
            // tells us at once that the peer went away.
            if (state == CONNECTED && (version >= 2 || pushed > popped)) {
              break;
            }
            lock.wait(200);
          }
          ch = channel;
          gen = generation;
        }
        if (drain) {
          drainBroken();
          continue;
        }
        try {
          if (version >= 2) {
            receiveV2(ch, gen);
          } else {
            receiveV1(ch, gen);
          }
        } catch (IOException e) {
          breakConnection(gen, PEER_LOST, lostMessage(e));
        }
      }
    } catch (InterruptedException e) {
      close(CLOSED); // join() interrupts as a last resort
    } catch (RuntimeException | Error e) {
      LOG.error("tcp lane to {}: receiver failed", peerName, e);
      close(CLOSED);
    } finally {
      failLeftovers();
      receiverViews.clear();
      threadExited();
    }
  }

  private String lostMessage(IOException e) {
    if (e instanceof EOFException) {
      return "tcp peer " + peerName + " closed the connection";
    }
    return "connection to tcp peer " + peerName + " lost: " + e;
  }

  private void receiveV2(SocketChannel ch, long gen) throws IOException, InterruptedException {
    status.clear();
    RegionIo.readFully(ch, status);
    long frame = status.getLong(0);
    long seq;
    TransferSlice head;
    synchronized (lock) {
      if (pushed == popped) {
        if (state == CONNECTED && generation == gen) {
          breakLocked(PROTOCOL, "tcp peer " + peerName + " sent a status frame with no request"
              + " in flight");
        }
        return;
      }
      seq = popped;
      head = ring[(int) seq & mask];
    }
    if (!TcpWire.hasStatusMagic(frame)) {
      breakConnection(gen, PROTOCOL,
          "protocol error: tcp peer " + peerName + " sent status frame 0x"
              + Long.toHexString(frame) + " without the MCTV magic");
      return;
    }
    int code = TcpWire.statusCode(frame);
    if (code == TcpWire.STATUS_REJECTED) {
      rejectHead(gen, seq, head);
      return;
    }
    if (code != TcpWire.STATUS_OK) {
      breakConnection(gen, PROTOCOL,
          "protocol error: tcp peer " + peerName + " sent unknown status code " + code);
      return;
    }
    if (head.opcode() == TransferOpcode.READ) {
      RegionIo.readIntoRegion(
          ch, receiverViews, head.localRegion(), head.localAddress(), head.length());
    }
    finishHead(seq, head);
  }

  private void receiveV1(SocketChannel ch, long gen) throws IOException, InterruptedException {
    long seq;
    TransferSlice head;
    synchronized (lock) {
      seq = popped;
      head = ring[(int) seq & mask];
    }
    if (head.opcode() == TransferOpcode.WRITE) {
      // v1 has no acknowledgement: a WRITE is done once its bytes are in the socket.
      synchronized (lock) {
        while (sent <= seq && state == CONNECTED && generation == gen) {
          lock.wait(200);
        }
        if (sent <= seq) {
          return; // broken before it was written; the loop drains
        }
      }
    } else {
      RegionIo.readIntoRegion(
          ch, receiverViews, head.localRegion(), head.localAddress(), head.length());
    }
    finishHead(seq, head);
  }

  private void finishHead(long seq, TransferSlice head) {
    synchronized (lock) {
      if (popped != seq) {
        return; // failed meanwhile by close()
      }
      ring[(int) seq & mask] = null;
      popped = seq + 1;
      lock.notifyAll(); // the sender may wait for a free slot
    }
    head.complete();
  }

  /** Status 1: the head fails; the target closes, the rest is resubmitted by the drain. */
  private void rejectHead(long gen, long seq, TransferSlice head) throws InterruptedException {
    String message =
        "tcp target " + peerName + " rejected " + head.opcode() + " of "
            + Long.toUnsignedString(head.length()) + " bytes at 0x"
            + Long.toHexString(head.targetOffset())
            + " (not inside one remote-accessible registered buffer)";
    synchronized (lock) {
      if (popped != seq) {
        return;
      }
      if (state == CONNECTED && generation == gen) {
        breakLocked(REJECTED, message);
      }
      awaitSenderOutLocked();
      ring[(int) seq & mask] = null;
      popped = seq + 1;
    }
    WARNINGS.warn("{}", message);
    head.fail(TransferState.FAILED, ErrorCode.TRANSFER_FAILED, message);
  }

  /** The sender may still be inside a write on the closed socket; it leaves promptly. */
  private void awaitSenderOutLocked() throws InterruptedException {
    long end = System.nanoTime() + SENDER_EXIT_WAIT_NANOS;
    while (senderWriting && System.nanoTime() - end < 0) {
      lock.wait(10);
    }
  }

  /** BROKEN -> IDLE: ends or resubmits every in-flight slice, by why the connection broke. */
  private void drainBroken() throws InterruptedException {
    List<TransferSlice> failures = receiverFailures;
    int kind;
    String reason;
    boolean failWaiting;
    synchronized (lock) {
      awaitSenderOutLocked();
      kind = breakKind;
      reason = breakReason;
      boolean hadInFlight = pushed > popped;
      for (long s = popped; s < pushed; s++) {
        int i = (int) s & mask;
        TransferSlice slice = ring[i];
        ring[i] = null;
        // Behind a rejected request nothing was processed: send again on a fresh connection.
        if (kind == REJECTED && ringResubmits[i] < MAX_RESUBMITS && retrySize <= mask) {
          int j = (retryHead + retrySize) & mask;
          retry[j] = slice;
          retryCounts[j] = (byte) (ringResubmits[i] + 1);
          retrySize++;
        } else {
          failures.add(slice);
        }
      }
      popped = pushed;
      sent = pushed;
      // A peer that died with work outstanding will not take the waiting slices either.
      failWaiting = (kind == PEER_LOST && hadInFlight) || kind == CLOSED;
      if (failWaiting) {
        takeRetriesLocked(failures);
      }
      state = IDLE;
      channel = null;
      lock.notifyAll();
      if (retrySize > 0) {
        // The sender may be parked in queue.poll; if the queue is full it is busy anyway.
        queue.offer(WAKE);
      }
    }
    if (failWaiting) {
      queue.drainTo(failures);
    }
    if ((kind == PEER_LOST && !failures.isEmpty()) || kind == PROTOCOL) {
      WARNINGS.warn("{}; failing {} slices", reason, failures.size());
    }
    long now = System.nanoTime();
    for (TransferSlice slice : failures) {
      if (slice != WAKE) {
        failForBreak(slice, now, kind, reason);
      }
    }
    failures.clear();
  }

  private void failForBreak(TransferSlice slice, long now, int kind, String reason) {
    switch (kind) {
      case CLOSED:
        fail(slice, now, TransferState.FAILED, ErrorCode.ENGINE_CLOSED, "tcp transport closed");
        break;
      case REJECTED:
        fail(slice, now, TransferState.FAILED, ErrorCode.TRANSFER_FAILED,
            "tcp target " + peerName + " closed the connection after rejecting an earlier request"
                + " (resubmitted " + MAX_RESUBMITS + " times already)");
        break;
      case UNREGISTERED:
        fail(slice, now, TransferState.FAILED, ErrorCode.TRANSFER_FAILED, reason);
        break;
      case TIMED_OUT:
        fail(slice, now, TransferState.FAILED, ErrorCode.TRANSFER_FAILED,
            "connection to tcp peer " + peerName
                + " was closed because another slice on it timed out");
        break;
      default:
        fail(slice, now, TransferState.FAILED, ErrorCode.TRANSFER_FAILED,
            reason == null ? "connection to tcp peer " + peerName + " closed" : reason);
    }
  }

  // ------------------------------------------------------------------ any thread

  /** Closes the connection of generation {@code gen} unless it was replaced or already broken. */
  void breakConnection(long gen, int kind, String reason) {
    synchronized (lock) {
      if (state == CONNECTED && generation == gen) {
        breakLocked(kind, reason);
      }
    }
  }

  private void breakLocked(int kind, String reason) {
    state = BROKEN;
    breakKind = kind;
    breakReason = reason;
    // Closing a blocking channel signals its blocked threads and does not wait for them.
    TcpTarget.closeQuietly(channel);
    lock.notifyAll();
  }

  /**
   * Watchdog: fails queued and resubmitted slices past their deadline, and closes the connection
   * when an in-flight one is past it (the receiver then fails that one with TIMEOUT and the
   * others with FAILED).
   *
   * @param scratch a watchdog-owned list, left empty
   */
  void checkDeadlines(long now, List<TransferSlice> scratch) {
    if (!queue.isEmpty()) {
      for (TransferSlice s : queue) {
        if (s != WAKE && now - s.deadlineNanos() >= 0 && queue.remove(s)) {
          scratch.add(s);
        }
      }
    }
    synchronized (lock) {
      if (retrySize > 0) {
        int kept = 0;
        for (int k = 0; k < retrySize; k++) {
          int from = (retryHead + k) & mask;
          TransferSlice s = retry[from];
          retry[from] = null;
          if (now - s.deadlineNanos() >= 0) {
            scratch.add(s);
          } else {
            int to = (retryHead + kept) & mask;
            retry[to] = s;
            retryCounts[to] = retryCounts[from];
            kept++;
          }
        }
        retrySize = kept;
      }
      if (state == CONNECTED) {
        for (long s = popped; s < pushed; s++) {
          TransferSlice slice = ring[(int) s & mask];
          if (now - slice.deadlineNanos() >= 0) {
            breakLocked(TIMED_OUT, null);
            break;
          }
        }
      }
    }
    for (TransferSlice s : scratch) {
      if (now - s.deadlineNanos() >= 0) {
        failExpired(s);
      } else {
        // The engine reused the object between our read and the remove: it is not late.
        enqueue(s);
      }
    }
    scratch.clear();
  }

  /**
   * Unregistration, step 1: fails the queued and resubmitted slices whose local memory lies in
   * {@code region} with ADDRESS_NOT_REGISTERED, and wakes a sender waiting for room or a
   * connection so it rechecks the slice it holds. Slices in flight are left alone.
   *
   * @param scratch a caller-owned list, left empty
   */
  void failQueuedOn(MemoryRegion region, List<TransferSlice> scratch) {
    if (!queue.isEmpty()) {
      for (TransferSlice s : queue) {
        if (s != WAKE && TcpTransport.sameMemory(s.localRegion(), region) && queue.remove(s)) {
          scratch.add(s);
        }
      }
    }
    synchronized (lock) {
      if (retrySize > 0) {
        int kept = 0;
        for (int k = 0; k < retrySize; k++) {
          int from = (retryHead + k) & mask;
          TransferSlice s = retry[from];
          retry[from] = null;
          if (TcpTransport.sameMemory(s.localRegion(), region)) {
            scratch.add(s);
          } else {
            int to = (retryHead + kept) & mask;
            retry[to] = s;
            retryCounts[to] = retryCounts[from];
            kept++;
          }
        }
        retrySize = kept;
      }
      lock.notifyAll();
    }
    for (TransferSlice s : scratch) {
      if (TcpTransport.sameMemory(s.localRegion(), region)) {
        failUnregistered(s);
      } else {
        // The engine reused the object between our read and the remove: not ours to fail.
        enqueue(s);
      }
    }
    scratch.clear();
  }

  /**
   * True while the sender holds a slice on {@code region} (checking, waiting to send, writing its
   * bytes) or a slice on it is in flight (the receiver may read into it). Lock-light: one short
   * hold of the lane lock.
   */
  boolean touches(MemoryRegion region) {
    if (TcpTransport.sameMemory(senderRegion, region)) {
      return true;
    }
    synchronized (lock) {
      for (long s = popped; s < pushed; s++) {
        if (TcpTransport.sameMemory(ring[(int) s & mask].localRegion(), region)) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Unregistration outlasted the transfer timeout: closes the connection (and a connect in
   * progress) when {@link #touches} still holds, so blocked reads and writes on the region fail at
   * once; the receiver then fails the in-flight slices. Does not wait.
   */
  void abortUsersOf(MemoryRegion region) {
    boolean senderHolds = TcpTransport.sameMemory(senderRegion, region);
    synchronized (lock) {
      boolean inRing = false;
      for (long s = popped; s < pushed && !inRing; s++) {
        inRing = TcpTransport.sameMemory(ring[(int) s & mask].localRegion(), region);
      }
      if (!senderHolds && !inRing) {
        return;
      }
      String reason = "tcp connection to " + peerName + " was closed: local memory at 0x"
          + Long.toHexString(region.address()) + " was unregistered while a transfer on it was"
          + " still in flight";
      WARNINGS.warn("{}", reason);
      if (state == CONNECTED) {
        breakLocked(UNREGISTERED, reason);
      }
      if (senderHolds && connecting != null) {
        TcpTarget.closeQuietly(connecting);
      }
      lock.notifyAll();
    }
  }

  /**
   * Stops routing here: the lane finishes what it holds (each slice completes, fails on its own
   * or times out), then closes itself once idle. Slices that still reach it afterwards are handed
   * back to the transport.
   */
  void retire() {
    retired = true;
    queue.offer(WAKE); // an idle sender notices at once
  }

  /**
   * Closes the lane: the connection, a connect in progress, the threads. With {@link #CLOSED}
   * in-flight and queued slices fail with ENGINE_CLOSED; {@link #FORGOTTEN} is used only by a
   * retired lane that is already idle, and hands stragglers back to the transport. Does not wait;
   * see {@link #join}.
   */
  void close(int kind) {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closeKind = kind;
      closed = true;
      if (state == CONNECTED) {
        breakLocked(kind, kind == FORGOTTEN ? forgottenMessage() : null);
      }
      if (connecting != null) {
        TcpTarget.closeQuietly(connecting);
      }
      lock.notifyAll();
    }
    sender.interrupt(); // it may sit in queue.poll
  }

  /** Waits for both threads until {@code deadlineNanos}, then fails anything left over. */
  void join(long deadlineNanos) {
    TcpTarget.join(sender, deadlineNanos);
    if (receiver.isAlive() && System.nanoTime() - deadlineNanos < 0) {
      TcpTarget.join(receiver, deadlineNanos);
    }
    if (receiver.isAlive()) {
      receiver.interrupt();
      TcpTarget.join(receiver, System.nanoTime() + 100_000_000L);
    }
    failLeftovers();
  }

  /** Slices in the in-flight ring (for tests and diagnostics). */
  int inFlightCount() {
    synchronized (lock) {
      return (int) (pushed - popped);
    }
  }

  /** Slices waiting in the queue, wake-up tokens excluded (for tests and diagnostics). */
  int queuedCount() {
    int n = 0;
    for (TransferSlice s : queue) {
      if (s != WAKE) {
        n++;
      }
    }
    return n;
  }

  /** True while the lane holds an open connection (for tests and diagnostics). */
  boolean isConnected() {
    synchronized (lock) {
      return state == CONNECTED;
    }
  }

  private void threadExited() {
    if (liveThreads.decrementAndGet() == 0) {
      onExit.accept(this);
    }
  }

  /** Fails whatever is still in the lane after close; exactly-once through the lock and queue. */
  private void failLeftovers() {
    List<TransferSlice> left = new ArrayList<>();
    synchronized (lock) {
      if (!closed) {
        return;
      }
      for (long s = popped; s < pushed; s++) {
        int i = (int) s & mask;
        left.add(ring[i]);
        ring[i] = null;
      }
      popped = pushed;
      sent = pushed;
      takeRetriesLocked(left);
      lock.notifyAll();
    }
    queue.drainTo(left);
    for (TransferSlice s : left) {
      if (s != WAKE) {
        failClosed(s);
      }
    }
  }

  private void failQueued() {
    List<TransferSlice> left = new ArrayList<>();
    synchronized (lock) {
      takeRetriesLocked(left);
    }
    queue.drainTo(left);
    for (TransferSlice s : left) {
      if (s != WAKE) {
        failClosed(s);
      }
    }
  }

  private void takeRetriesLocked(List<TransferSlice> into) {
    for (int k = 0; k < retrySize; k++) {
      int i = (retryHead + k) & mask;
      into.add(retry[i]);
      retry[i] = null;
    }
    retryHead = 0;
    retrySize = 0;
  }

  private String forgottenMessage() {
    return "tcp peer " + peerName + " was forgotten (its descriptor changed or it went away)";
  }

  private void failClosed(TransferSlice slice) {
    int kind;
    synchronized (lock) {
      kind = closeKind;
    }
    if (kind == FORGOTTEN) {
      reroute.accept(slice); // never sent on this lane: the transport routes it afresh
    } else {
      slice.fail(TransferState.FAILED, ErrorCode.ENGINE_CLOSED, "tcp transport closed");
    }
  }

  private static void failUnregistered(TransferSlice slice) {
    slice.fail(TransferState.FAILED, ErrorCode.ADDRESS_NOT_REGISTERED,
        "local memory unregistered");
  }

  private void failExpired(TransferSlice slice) {
    slice.fail(TransferState.TIMEOUT, ErrorCode.TRANSFER_TIMEOUT,
        "tcp transfer of " + Long.toUnsignedString(slice.length()) + " bytes at 0x"
            + Long.toHexString(slice.targetOffset()) + " on " + peerName
            + " passed its deadline");
  }

  /** Fails with {@code state}/{@code code}, or with TIMEOUT when the slice is past its deadline. */
  private void fail(TransferSlice slice, long now, TransferState state, ErrorCode code,
      String message) {
    if (now - slice.deadlineNanos() >= 0) {
      failExpired(slice);
    } else {
      slice.fail(state, code, message);
    }
  }
}
