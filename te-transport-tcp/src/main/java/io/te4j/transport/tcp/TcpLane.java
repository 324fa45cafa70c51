package io.te4j.transport.tcp;

import io.te4j.api.AddressRanges;
import io.te4j.api.ErrorCode;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.Backpressure;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.MemoryRegistry;
import io.te4j.api.spi.RateLimitedLog;
import io.te4j.api.spi.TransferSlice;
import io.te4j.api.spi.inflight.InFlightTable;
import java.nio.channels.SocketChannel;
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
 * One persistent connection ("lane") to one peer's data port, with requests pipelined on it: the
 * state the {@link LaneSender} and {@link LaneReceiver} threads share, and what other threads may
 * do to it.
 *
 * <p>Threads and what they own:
 *
 * <ul>
 *   <li>any application thread: {@link #enqueue} (an offer to a bounded queue, waiting for room
 *       until the slice's deadline when it is full);
 *   <li>the sender ({@link LaneSender}): takes slices (resubmissions first, then the queue),
 *       claims each a ticket of the lane's {@link InFlightTable}, connects lazily, pushes the ticket
 *       onto the in-flight FIFO, then writes its header (and payload);
 *   <li>the receiver ({@link LaneReceiver}): reads, in FIFO order, each request's v2 status (and a
 *       READ's data, straight into local memory) and ends its ticket; it is also the only thread
 *       that ends in-flight tickets after the connection broke, so no slice is failed while a
 *       socket read still writes into its memory;
 *   <li>the transport's watchdog: {@link #checkDeadlines} fails expired queued and resubmitted
 *       slices and closes the connection when an in-flight one expired;
 *   <li>the thread running {@link TcpTransport#unregistered}: {@link #failQueuedOn} fails waiting
 *       slices on the region, {@link #touches} tells whether a ticket still holds it, and {@link
 *       #abortUsersOf} closes the connection when they outlast the transfer timeout.
 * </ul>
 *
 * <p>Unregistration without locks on the data path: the table holds every claimed slice's local
 * range (and the sender pins the range it reads while it writes), and the sender looks the range
 * up in the registry again after claiming; see {@link InFlightTable}. The receiver ends a ticket
 * only once it is done with that memory.
 *
 * <p>State under {@link #lock}: the in-flight FIFO, the resubmission ring and the connection state
 * machine IDLE -> CONNECTED -> BROKEN -> IDLE (the receiver drains BROKEN). Tickets leave the FIFO
 * only under the lock, checked by sequence number, so each is ended exactly once.
 *
 * <p>A {@linkplain #retire() retired} lane (its peer was forgotten) gets no new slices, finishes
 * what it holds and closes itself once idle; stragglers are handed back to the transport.
 */
final class TcpLane {
  static final Logger LOG = LoggerFactory.getLogger(TcpLane.class);
  static final RateLimitedLog WARNINGS = new RateLimitedLog(LOG::warn, 5);

  static final int CONNECT_TIMEOUT_MILLIS = 5_000;
  /**
   * Rounds of resubmission a slice may go through when slices ahead of it are rejected. Each round
   * fails the rejected slice, so a lane always makes progress.
   */
  static final int MAX_RESUBMITS = 4;
  /** Bound on waiting for the sender to leave a write on a dead socket. */
  private static final long SENDER_EXIT_WAIT_NANOS = 1_000_000_000L;

  /**
   * Put in the queue to wake a sender parked in {@code poll} (resubmissions waiting, lane
   * retired). Never sent, never ended; every reader of the queue skips it.
   */
  static final TransferSlice WAKE = new WakeToken();

  static final int IDLE = 0;
  static final int CONNECTED = 1;
  static final int BROKEN = 2;

  /** Why a connection was closed; decides how its slices end. */
  static final int PEER_LOST = 1;
  static final int TIMED_OUT = 2;
  /**
   * When a slice's timeout closes its connection, lane-mates whose deadlines are this close end
   * TIMEOUT too: two watchdog periods ({@link TcpTransport}'s), within which they would have.
   */
  static final long TIMEOUT_SLACK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
  static final int REJECTED = 3;
  static final int PROTOCOL = 4;
  static final int FORGOTTEN = 5;
  static final int CLOSED = 6;
  static final int UNREGISTERED = 7;

  final String host;
  final int port;
  /** 1 or 2; a lane speaks one protocol version (the peer key includes it). */
  final int version;
  final String peerName;
  final int socketBufferBytes;
  /** The engine's registered memory: the sender checks each slice's range is still in it. */
  final MemoryRegistry memory;
  /** What a fresh connection goes through before its first request (TLS, the cluster secret). */
  final ConnectionSecurity security;
  final ArrayBlockingQueue<TransferSlice> queue;
  /**
   * The slices this lane owes an end once the sender took them: in the FIFO, resubmitted, or held
   * by the sender (one claim, one pin).
   */
  final InFlightTable table;
  private final Consumer<TcpLane> onExit;
  /** Hands a slice back to the transport (a retired lane closed under its feet). */
  private final Consumer<TransferSlice> reroute;
  private final AtomicInteger liveThreads = new AtomicInteger();
  private final LaneSender sender;
  private final LaneReceiver receiver;
  private final InFlightTable.TicketVisitor onExpired = this::onExpired;

  final Object lock = new Object();
  // ---- guarded by lock ----
  /** The in-flight FIFO of tickets: entries popped..pushed-1, each written to the socket or about to be. */
  final long[] ring;
  final int mask;
  long pushed;
  long popped;
  /** Entries below this sequence are wholly written to the socket. */
  long sent;
  /** Tickets to send again on a fresh connection; the table's tag counts their resubmissions. */
  private final long[] retry;
  private int retryHead;
  int retrySize;
  int state = IDLE;
  long generation;
  DataConnection connection;
  SocketChannel connecting;
  /** When the watchdog gives up on {@link #connecting} (connect, TLS, the secret's exchange). */
  long connectingUntilNanos;
  int breakKind;
  String breakReason;
  boolean senderWriting;
  private int closeKind;
  // ---- end guarded ----
  volatile boolean closed;
  /** No new slices are routed here; close once the queue and the FIFO are empty. */
  volatile boolean retired;

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
      ConnectionSecurity security,
      MemoryViews memoryViews,
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
    this.security = security;
    this.queue = new ArrayBlockingQueue<>(queueDepth);
    this.onExit = onExit;
    this.reroute = reroute;
    // The FIFO and resubmission ring (at most a depth and one together), the sender's claim and
    // pin, and as many again that the receiver took off the FIFO and is about to end: the sender
    // refills the FIFO meanwhile.
    this.table = new InFlightTable(2 * inFlightDepth + 4);
    this.ring = new long[inFlightDepth];
    this.retry = new long[inFlightDepth];
    this.mask = inFlightDepth - 1;
    String suffix = " " + peerName + " v" + version + " lane " + index;
    this.sender = new LaneSender(this, memoryViews, senderThreads, suffix);
    this.receiver = new LaneReceiver(this, memoryViews, receiverThreads, suffix);
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

  /**
   * Queues a slice. A full queue makes an application thread wait for room, until the slice's
   * deadline (then it fails with TRANSFER_TIMEOUT); on a transport thread it fails at once with
   * TOO_MANY_REQUESTS ({@link Backpressure}).
   */
  void enqueue(TransferSlice slice) {
    if (!queue.offer(slice) && !awaitRoom(slice)) {
      return;
    }
    // close() may have drained the queue before our offer: whoever removes the slice fails it.
    if (closed && queue.remove(slice)) {
      failClosed(slice);
    }
  }

  /** True once the slice is queued; else it has been failed. */
  private boolean awaitRoom(TransferSlice slice) {
    if (Backpressure.mayWait()) {
      long left = slice.deadlineNanos() - System.nanoTime();
      try {
        if (left > 0 && queue.offer(slice, left, TimeUnit.NANOSECONDS)) {
          return true;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        slice.fail(TransferState.FAILED, ErrorCode.TOO_MANY_REQUESTS,
            "interrupted while waiting for room in the tcp lane to " + peerName);
        return false;
      }
    }
    Backpressure.failNoRoom(slice, "the tcp lane to " + peerName);
    return false;
  }

  // ------------------------------------------------------------------ sender and receiver

  /** The next resubmitted ticket, or NONE. */
  long takeRetryLocked() {
    if (retrySize == 0) {
      return InFlightTable.NONE;
    }
    int i = retryHead;
    long t = retry[i];
    retryHead = (i + 1) & mask;
    retrySize--;
    return t;
  }

  /** Queues a ticket to be sent again; false when the ring is full (the caller then fails it). */
  boolean addRetryLocked(long t) {
    if (retrySize > mask) {
      return false;
    }
    retry[(retryHead + retrySize) & mask] = t;
    retrySize++;
    return true;
  }

  /** True while {@code t} is in the in-flight FIFO (the receiver ends it). */
  boolean inFifo(long t) {
    synchronized (lock) {
      for (long s = popped; s < pushed; s++) {
        if (ring[(int) s & mask] == t) {
          return true;
        }
      }
      return false;
    }
  }

  /** Resubmitted tickets are waiting for the sender. */
  boolean hasRetries() {
    synchronized (lock) {
      return retrySize > 0;
    }
  }

  /** Nothing queued, resubmitted or in flight. */
  boolean isDrained() {
    synchronized (lock) {
      return pushed == popped && retrySize == 0 && queue.isEmpty();
    }
  }

  /** The sender may still be inside a write on the closed socket; it leaves promptly. */
  void awaitSenderOutLocked() throws InterruptedException {
    long end = System.nanoTime() + SENDER_EXIT_WAIT_NANOS;
    while (senderWriting && System.nanoTime() - end < 0) {
      lock.wait(10);
    }
  }

  void threadExited() {
    if (liveThreads.decrementAndGet() == 0) {
      onExit.accept(this);
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

  void breakLocked(int kind, String reason) {
    state = BROKEN;
    breakKind = kind;
    breakReason = reason;
    // Closing a blocking channel signals its blocked threads and does not wait for them.
    if (connection != null) {
      TcpTarget.closeQuietly(connection.socket());
    }
    lock.notifyAll();
  }

  /**
   * Watchdog: fails queued and resubmitted slices past their deadline, closes the connection
   * when an in-flight one is past it (the receiver then fails that one with TIMEOUT and the
   * others with FAILED), and a connection still being set up past its time. The sender checks the deadline of the slice it holds itself.
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
    for (TransferSlice s : scratch) {
      if (now - s.deadlineNanos() >= 0) {
        s.fail(TransferState.TIMEOUT, ErrorCode.TRANSFER_TIMEOUT,
            expiredMessage(s.length(), s.targetOffset()));
      } else {
        // The engine reused the object between our read and the remove: it is not late.
        enqueue(s);
      }
    }
    scratch.clear();
    table.forEachExpired(now, onExpired);
    synchronized (lock) {
      if (connecting != null && now - connectingUntilNanos >= 0) {
        TcpTarget.closeQuietly(connecting); // the sender's connect fails and says so
      }
    }
  }

  /** An expired ticket: failed when it waits for resubmission, else its connection closed. */
  private void onExpired(long t) {
    boolean resubmitted;
    synchronized (lock) {
      resubmitted = removeRetryLocked(t);
      if (!resubmitted && state == CONNECTED && inFifo(t)) {
        breakLocked(TIMED_OUT, null);
      }
    }
    if (resubmitted) {
      failExpired(t);
    }
  }

  private boolean removeRetryLocked(long t) {
    for (int k = 0; k < retrySize; k++) {
      if (retry[(retryHead + k) & mask] == t) {
        for (int j = k; j + 1 < retrySize; j++) {
          retry[(retryHead + j) & mask] = retry[(retryHead + j + 1) & mask];
        }
        retrySize--;
        return true;
      }
    }
    return false;
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
    List<Long> resubmitted = new ArrayList<>();
    synchronized (lock) {
      for (int k = 0; k < retrySize; ) {
        long t = retry[(retryHead + k) & mask];
        if (AddressRanges.overlaps(table.localAddress(t), table.length(t), region.address(),
            region.length())) {
          removeRetryLocked(t);
          resubmitted.add(t);
        } else {
          k++;
        }
      }
      lock.notifyAll();
    }
    for (long t : resubmitted) {
      failUnregistered(t);
    }
    for (TransferSlice s : scratch) {
      if (TcpTransport.sameMemory(s.localRegion(), region)) {
        s.fail(TransferState.FAILED, ErrorCode.ADDRESS_NOT_REGISTERED, UNREGISTERED_MESSAGE);
      } else {
        // The engine reused the object between our read and the remove: not ours to fail.
        enqueue(s);
      }
    }
    scratch.clear();
  }

  /**
   * True while a ticket of this lane holds memory of {@code region}: the sender checking,
   * waiting to send or writing it, a request in flight (the receiver may read into it).
   */
  boolean touches(MemoryRegion region) {
    return table.holds(region);
  }

  /**
   * Unregistration outlasted the transfer timeout: closes the connection (and a connect in
   * progress) when {@link #touches} still holds, so blocked reads and writes on the region fail at
   * once; the receiver then fails the in-flight slices. Does not wait.
   */
  void abortUsersOf(MemoryRegion region) {
    if (!table.holds(region)) {
      return;
    }
    String reason = "tcp connection to " + peerName + " was closed: local memory at 0x"
        + Long.toHexString(region.address()) + " was unregistered while a transfer on it was"
        + " still in flight";
    WARNINGS.log("{}", reason);
    synchronized (lock) {
      if (state == CONNECTED) {
        breakLocked(UNREGISTERED, reason);
      }
      if (connecting != null) {
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
    sender.join(deadlineNanos);
    receiver.join(deadlineNanos);
    failLeftovers();
  }

  /** Requests in the in-flight FIFO (for tests and diagnostics). */
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

  /** Fails whatever is still in the lane after close; exactly-once through the lock and queue. */
  void failLeftovers() {
    long[] left;
    int n = 0;
    synchronized (lock) {
      if (!closed) {
        return;
      }
      left = new long[(int) (pushed - popped) + retrySize];
      for (long s = popped; s < pushed; s++) {
        left[n++] = ring[(int) s & mask];
      }
      popped = pushed;
      sent = pushed;
      while (retrySize > 0) {
        left[n++] = takeRetryLocked();
      }
      lock.notifyAll();
    }
    for (int i = 0; i < n; i++) {
      failClosed(left[i]);
    }
    failQueued();
  }

  /** Fails (or, on a forgotten lane, reroutes) every slice waiting in the queue and the ring. */
  void failQueued() {
    List<TransferSlice> left = new ArrayList<>();
    List<Long> resubmitted = new ArrayList<>();
    synchronized (lock) {
      while (retrySize > 0) {
        resubmitted.add(takeRetryLocked());
      }
    }
    for (long t : resubmitted) {
      failClosed(t);
    }
    queue.drainTo(left);
    for (TransferSlice s : left) {
      if (s != WAKE) {
        failClosed(s);
      }
    }
  }

  /** Moves every resubmitted ticket into {@code into} from {@code n}; returns the new count. */
  int takeRetriesLocked(long[] into, int n) {
    while (retrySize > 0) {
      into[n++] = takeRetryLocked();
    }
    return n;
  }

  // ------------------------------------------------------------------ how slices end

  static final String UNREGISTERED_MESSAGE = "local memory unregistered";

  private String forgottenMessage() {
    return "tcp peer " + peerName + " was forgotten (its descriptor changed or it went away)";
  }

  private boolean forgotten() {
    synchronized (lock) {
      return closeKind == FORGOTTEN;
    }
  }

  /** A slice never claimed, on a closed lane: rerouted when the lane was forgotten, else failed. */
  void failClosed(TransferSlice slice) {
    if (forgotten()) {
      reroute.accept(slice); // never sent on this lane: the transport routes it afresh
    } else {
      slice.fail(TransferState.FAILED, ErrorCode.ENGINE_CLOSED, "tcp transport closed");
    }
  }

  /** A claimed ticket on a closed lane, likewise. */
  void failClosed(long t) {
    if (forgotten()) {
      TransferSlice slice = table.slice(t);
      table.release(t); // still owed its end: the transport routes it afresh
      reroute.accept(slice);
    } else {
      table.fail(t, TransferState.FAILED, ErrorCode.ENGINE_CLOSED, "tcp transport closed");
    }
  }

  void failUnregistered(long t) {
    table.fail(t, TransferState.FAILED, ErrorCode.ADDRESS_NOT_REGISTERED, UNREGISTERED_MESSAGE);
  }

  void failExpired(long t) {
    table.fail(t, TransferState.TIMEOUT, ErrorCode.TRANSFER_TIMEOUT,
        expiredMessage(table.length(t), table.targetOffset(t)));
  }

  private String expiredMessage(long length, long targetOffset) {
    return "tcp transfer of " + Long.toUnsignedString(length) + " bytes at 0x"
        + Long.toHexString(targetOffset) + " on " + peerName + " passed its deadline";
  }

  /** Fails with {@code state}/{@code code}, or with TIMEOUT when the ticket is past its deadline. */
  void fail(long t, long now, TransferState state, ErrorCode code, String message) {
    if (now - table.deadlineNanos(t) >= 0) {
      failExpired(t);
    } else {
      table.fail(t, state, code, message);
    }
  }

  /** Fails a slice not yet claimed, likewise. */
  void fail(TransferSlice slice, long now, TransferState state, ErrorCode code,
      String message) {
    if (now - slice.deadlineNanos() >= 0) {
      slice.fail(TransferState.TIMEOUT, ErrorCode.TRANSFER_TIMEOUT,
          expiredMessage(slice.length(), slice.targetOffset()));
    } else {
      slice.fail(state, code, message);
    }
  }

  /** The queue's wake-up token: never a real slice. */
  private static final class WakeToken implements TransferSlice {
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
  }
}
