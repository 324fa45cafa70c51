package io.te4j.transport.tcp;

import io.te4j.api.TransferOpcode;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.PeerAuth;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One connection to the data port, served as a state machine (WIRE.md section 4): header, check,
 * payload into registered memory or bytes out of it, (v2) status, repeat. {@link #serve} does
 * what the socket allows and says what it waits for next, so a thread serves a connection in
 * turns: an event loop for thousands of plain connections, or a thread of its own blocking in the
 * socket (TLS). Every request is checked ({@link TcpTarget#check}) before memory is touched; a
 * rejected one is answered with status 1 (v2) and the connection is closed after its peer read
 * it.
 *
 * <p>Between turns the connection holds only its position in the protocol: a partial header, or
 * where in registered memory its payload or READ stands. A payload read straight from the socket
 * lands in memory; the stage and answer buffers belong to the serving thread ({@link
 * ThreadBuffers}). Answers (WRITE statuses, small READs' status and bytes) gather into one write
 * that goes when the connection's input runs dry or the buffer is full.
 *
 * <p>Threads: one thread at a time serves a connection. {@link #serving} is written by it and
 * read by any thread (the region this connection copies into or out of, set after the registry
 * check and confirmed by a second lookup); {@link #idleSinceNanos}, {@link #served} and {@link
 * #awaitingFirstRequest} likewise, for the idle check and admission.
 */
final class TargetConnection {
  /** {@link #serve} returns: wait for input. */
  static final int WANT_READ = 0;
  /** {@link #serve} returns: wait until the socket takes output. */
  static final int WANT_WRITE = 1;
  /** {@link #serve} returns: the peer closed the connection between requests. */
  static final int DONE = 2;
  /** Reads per turn, so one busy connection does not starve the others of its thread. */
  private static final int READS_PER_TURN = 16;
  /** After a v2 rejection, how long we read and drop what the initiator already sent (no RST). */
  static final long REJECT_DRAIN_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

  private enum Phase { HEADER, RECEIVE, SEND, REJECTED }

  final SocketChannel channel;
  final InetAddress address;
  private final TcpTarget target;
  private ReadableByteChannel in;
  private GatheringByteChannel out;
  /** True when reads wait for input: answers must go out before each one. */
  private boolean blocking;
  /** The cluster-secret exchange still to complete on a non-blocking socket, else null. */
  private PeerAuth.ServerExchange exchange;

  /** When the connection last moved a byte either way (at first, its accept). */
  volatile long idleSinceNanos = System.nanoTime();
  /** True once a request header arrived: a real peer's lane, not a connection left idle. */
  volatile boolean served;
  /** True while a turn ended waiting for a first request that has not come. */
  volatile boolean awaitingFirstRequest;
  /** The region this connection copies into or out of right now, else null. */
  volatile MemoryRegion serving;
  private final AtomicBoolean closing = new AtomicBoolean();

  private final ByteBuffer header =
      ByteBuffer.allocate(TcpWire.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
  private final ByteBuffer status = TcpWire.newStatusBuffer();
  private Phase phase = Phase.HEADER;
  /** The request in progress: its region, where in it, bytes left, and whether v2 answers it. */
  private MemoryRegion region;
  private long offset;
  private long remaining;
  private boolean v2;
  /** Requests read but not acted on while the peer read no answers (lent; read mode), or null. */
  private ByteBuffer heldInput;
  /** Answers the socket did not take (lent; read mode), or null. */
  private ByteBuffer heldAnswers;
  private boolean outputShut;

  /** How another thread closes this connection: through its loop, or by closing the socket. */
  volatile Runnable closer;
  /** The thread serving this connection alone (TLS), else null. */
  volatile Thread thread;

  TargetConnection(SocketChannel channel, InetAddress address, TcpTarget target) {
    this.channel = channel;
    this.address = address;
    this.target = target;
    this.closer = () -> TcpTarget.closeQuietly(channel);
  }

  /** Serves requests from {@code in}, answering on {@code out}; a blocking pair or the socket. */
  void streams(ReadableByteChannel in, GatheringByteChannel out, boolean blocking) {
    this.in = in;
    this.out = out;
    this.blocking = blocking;
  }

  /** The cluster-secret exchange to complete before the first request (non-blocking socket). */
  void authenticateFirst(PeerAuth.ServerExchange exchange) {
    this.exchange = exchange;
  }

  /**
   * Closes the connection from another thread (idle, eviction, unregistered memory), once; false
   * when it was closed that way already.
   *
   * @param first run before the close, so the peer cannot see the close before its effect
   */
  boolean close(Runnable first) {
    if (!closing.compareAndSet(false, true)) {
      return false;
    }
    first.run();
    closer.run();
    return true;
  }

  /**
   * True once rejected and given its time to read the rejection. Called by the idle check while
   * another thread serves: {@code phase} is read without a fence, which is safe because REJECTED is
   * final (a stale read only delays the close by one check).
   */
  boolean rejectionDrained(long now) {
    return phase == Phase.REJECTED && now - idleSinceNanos > REJECT_DRAIN_NANOS;
  }

  /**
   * Moves what the socket allows.
   *
   * @return {@link #WANT_READ}, {@link #WANT_WRITE} or {@link #DONE}
   * @throws IOException for anything that ends the connection (its peer, a rejection in v1)
   */
  int serve(ThreadBuffers t) throws IOException {
    if (exchange != null) {
      if (!exchange.step(channel)) {
        return WANT_READ;
      }
      exchange = null;
    }
    for (int reads = 0; ; ) {
      if (!sendOwed(t) || !actOnCompleteParts(t)) {
        return WANT_WRITE;
      }
      if (heldInput != null) {
        ByteBuffer held = heldInput;
        if (!process(t, held)) {
          return stall(t, held);
        }
        heldInput = null;
        t.giveBack(held);
        continue;
      }
      if (phase == Phase.REJECTED) {
        return drainAfterRejection(t);
      }
      if (reads++ == READS_PER_TURN) {
        return endTurn(t, WANT_READ);
      }
      if (blocking && !flushAnswers(t)) {
        return WANT_WRITE;
      }
      int n;
      if (phase == Phase.RECEIVE && remaining >= t.stage.capacity()) {
        n = receiveFromSocket(t); // straight into memory: no copy for what would not fit the stage
      } else {
        ByteBuffer stage = t.stage.clear();
        n = in.read(stage);
        if (n > 0) {
          idleSinceNanos = System.nanoTime();
          stage.flip();
          if (!process(t, stage)) {
            return stall(t, stage);
          }
          if (!blocking && n < stage.capacity()) {
            // The socket had less than the stage holds: most likely drained. Answer now rather
            // than spend a read to learn it; the selector says when more comes.
            return endTurn(t, WANT_READ);
          }
        }
      }
      if (n == 0) {
        return endTurn(t, WANT_READ);
      }
      if (n < 0) {
        if (phase == Phase.HEADER && header.position() == 0) {
          flushAnswers(t);
          return DONE;
        }
        throw new EOFException("connection closed in the middle of a request");
      }
    }
  }

  /** Gives back what the connection holds of the thread's (it is closing); idempotent. */
  void release(ThreadBuffers t) {
    serving = null;
    if (heldInput != null) {
      t.giveBack(heldInput);
      heldInput = null;
    }
    if (heldAnswers != null) {
      t.giveBack(heldAnswers);
      heldAnswers = null;
    }
    t.answers.clear();
  }

  /** Sends the thread's answers before the turn ends; the connection keeps what does not go. */
  private int endTurn(ThreadBuffers t, int want) throws IOException {
    awaitingFirstRequest = !served;
    return flushAnswers(t) ? want : WANT_WRITE;
  }

  /** The socket takes no more: the connection keeps the requests it has not acted on. */
  private int stall(ThreadBuffers t, ByteBuffer input) throws IOException {
    if (input == t.stage) {
      heldInput = t.lendStage();
    }
    return WANT_WRITE;
  }

  /** Acts on the bytes of {@code input}; false when it stopped because the socket takes no more. */
  private boolean process(ThreadBuffers t, ByteBuffer input) throws IOException {
    while (actOnCompleteParts(t)) {
      if (!input.hasRemaining()) {
        return true;
      }
      switch (phase) {
        case HEADER -> RegionIo.moveWhatFits(input, header);
        case RECEIVE -> receiveFromStage(t, input);
        default -> input.position(input.limit()); // REJECTED: dropped
      }
    }
    return false;
  }

  /**
   * Finishes what needs no more input: a complete header, a complete payload's status, a READ's
   * bytes; false while the socket takes no more.
   */
  private boolean actOnCompleteParts(ThreadBuffers t) throws IOException {
    for (;;) {
      switch (phase) {
        case HEADER -> {
          if (header.hasRemaining()) {
            return true;
          }
          if (!request(t)) {
            return false;
          }
        }
        case RECEIVE -> {
          if (remaining > 0) {
            return true;
          }
          if (v2) {
            if (!reserve(t, TcpWire.STATUS_BYTES)) {
              return false;
            }
            t.answers.putLong(TcpWire.statusFrame(TcpWire.STATUS_OK)); // the bytes are in memory
          }
          phase = Phase.HEADER;
        }
        case SEND -> {
          if (heldAnswers != null || !sendFromRegion(t)) {
            return false;
          }
        }
        default -> {
          return true;
        }
      }
    }
  }

  /** Acts on a complete header; false (header kept) when its answer has no room yet. */
  private boolean request(ThreadBuffers t) throws IOException {
    long size = TcpWire.headerSize(header);
    long address = TcpWire.headerAddress(header);
    int opcodeByte = TcpWire.headerOpcode(header);
    boolean isV2 = (opcodeByte & TcpWire.V2_FLAG) != 0;
    int op = opcodeByte & ~TcpWire.V2_FLAG;
    served = true;
    if (isV2 && op != TcpWire.OP_READ && op != TcpWire.OP_WRITE) {
      return reject(t, true, opcodeByte, address, size, "unknown opcode");
    }
    boolean write = op == TcpWire.OP_WRITE; // v1: anything but WRITE is a READ (WIRE.md 4)
    if (size == 0) {
      if (isV2) {
        if (!reserve(t, TcpWire.STATUS_BYTES)) {
          return false;
        }
        t.answers.putLong(TcpWire.statusFrame(TcpWire.STATUS_OK));
      }
      header.clear();
      return true;
    }
    MemoryRegion found = target.memory.find(address, size);
    String why = TcpTarget.check(found, write ? TransferOpcode.WRITE : TransferOpcode.READ,
        address, size, target.memoryViews);
    if (why != null) {
      return reject(t, isV2, opcodeByte, address, size, why);
    }
    boolean small = !write && size <= TcpTarget.SMALL_READ_BYTES;
    if (small && !reserve(t, TcpWire.STATUS_BYTES + (int) size)) {
      return false;
    }
    // Publish, then look again: the engine drops the region from find() before unregistered()
    // scans the connections, so either that scan sees us serving it (and waits) or this second
    // find() misses it. Both sides are volatile, so one of the two must happen.
    serving = found;
    if (target.memory.find(address, size) != found) {
      serving = null;
      return reject(t, isV2, opcodeByte, address, size,
          "memory was unregistered as the request arrived");
    }
    header.clear();
    region = found;
    offset = address - found.address();
    remaining = size;
    v2 = isV2;
    if (write) {
      phase = Phase.RECEIVE;
    } else if (small) {
      try {
        if (isV2) {
          t.answers.putLong(TcpWire.statusFrame(TcpWire.STATUS_OK));
        }
        RegionIo.copyFromRegion(t.views, found, address, size, t.answers);
      } finally {
        serving = null;
      }
    } else {
      flushAnswers(t); // the answers go in the order of the requests; kept if the socket is full
      if (isV2) {
        TcpWire.encodeStatus(status, TcpWire.STATUS_OK);
      } else {
        status.clear().limit(0);
      }
      phase = Phase.SEND;
    }
    return true;
  }

  /** Copies payload bytes from the stage into memory. */
  private void receiveFromStage(ThreadBuffers t, ByteBuffer input) throws IOException {
    received(t, RegionIo.moveWhatFits(input,
        RegionIo.destination(t.views, region, offset, remaining)));
  }

  /** One read from the socket straight into memory. */
  private int receiveFromSocket(ThreadBuffers t) throws IOException {
    ByteBuffer view = RegionIo.destination(t.views, region, offset, remaining);
    int n = in.read(view);
    if (n > 0) {
      idleSinceNanos = System.nanoTime();
      received(t, n);
    }
    return n;
  }

  private void received(ThreadBuffers t, int n) throws IOException {
    RegionIo.commit(t.views, region, offset, n);
    offset += n;
    remaining -= n;
    if (remaining == 0) {
      serving = null; // this thread no longer touches the region
      region = null;
    }
  }

  /** Sends a large READ's status and bytes; false while the socket takes no more. */
  private boolean sendFromRegion(ThreadBuffers t) throws IOException {
    while (remaining > 0) {
      ByteBuffer view = RegionIo.source(t.views, region, offset, remaining);
      int before = view.position();
      long written;
      if (status.hasRemaining()) {
        t.pair[0] = status;
        t.pair[1] = view;
        written = out.write(t.pair);
      } else {
        written = out.write(view);
      }
      int n = view.position() - before;
      offset += n;
      remaining -= n;
      if (written == 0) {
        return false;
      }
      idleSinceNanos = System.nanoTime();
    }
    serving = null;
    region = null;
    phase = Phase.HEADER;
    return true;
  }

  /** Room for {@code bytes} of answers; false when the answers held back could not go out. */
  private boolean reserve(ThreadBuffers t, int bytes) throws IOException {
    return t.answers.remaining() >= bytes || flushAnswers(t);
  }

  /**
   * Sends the thread's answers; true when all went (or none were owed). What the socket does not
   * take stays with the connection, which then waits until it can write.
   */
  private boolean flushAnswers(ThreadBuffers t) throws IOException {
    ByteBuffer a = t.answers;
    if (a.position() == 0) {
      return heldAnswers == null;
    }
    if (heldAnswers != null) { // a stalled connection acts on nothing until its answers went
      throw new IllegalStateException("answers queued behind answers the socket did not take");
    }
    a.flip();
    while (a.hasRemaining() && out.write(a) > 0) {
      idleSinceNanos = System.nanoTime();
    }
    if (!a.hasRemaining()) {
      a.clear();
      return true;
    }
    heldAnswers = t.lendAnswers();
    return false;
  }

  /** Sends the answers the connection holds; false while the socket takes no more. */
  private boolean sendOwed(ThreadBuffers t) throws IOException {
    ByteBuffer a = heldAnswers;
    if (a == null) {
      return true;
    }
    while (a.hasRemaining() && out.write(a) > 0) {
      idleSinceNanos = System.nanoTime();
    }
    if (a.hasRemaining()) {
      return false;
    }
    heldAnswers = null;
    t.giveBack(a);
    return true;
  }

  /**
   * Answers status 1 (v2) and ends the connection once its peer could read it; memory is never
   * touched. False (header kept) when the status has no room yet.
   */
  private boolean reject(ThreadBuffers t, boolean isV2, int opcodeByte, long address, long size,
      String why) throws IOException {
    if (isV2 && !reserve(t, TcpWire.STATUS_BYTES)) {
      return false;
    }
    target.logRejection(this, opcodeByte, address, size, why);
    if (!isV2) {
      throw new IOException("rejected a v1 request: " + why); // v1 has no status: just close
    }
    t.answers.putLong(TcpWire.statusFrame(TcpWire.STATUS_REJECTED));
    header.clear();
    phase = Phase.REJECTED;
    idleSinceNanos = System.nanoTime(); // the drain's clock: not moved by what the peer sends
    return true;
  }

  /**
   * After a rejection: the status goes out, output is shut, and what the initiator had already
   * sent (a payload, pipelined headers) is read and dropped until it closes, for a bounded time
   * ({@link #REJECT_DRAIN_NANOS}, enforced by the idle check): closing with unread bytes would send
   * an RST, which may overtake the status frame at the initiator.
   */
  private int drainAfterRejection(ThreadBuffers t) throws IOException {
    if (!flushAnswers(t)) {
      return WANT_WRITE;
    }
    if (!outputShut) {
      outputShut = true;
      channel.shutdownOutput();
    }
    for (;;) {
      int n = in.read(t.stage.clear());
      if (n < 0) {
        return DONE;
      }
      if (n == 0) {
        return WANT_READ;
      }
    }
  }

  String remote() {
    try {
      return String.valueOf(channel.getRemoteAddress());
    } catch (IOException e) {
      return "?";
    }
  }
}
