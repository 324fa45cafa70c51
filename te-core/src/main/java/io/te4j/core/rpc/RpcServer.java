package io.te4j.core.rpc;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.TransferNotify;
import io.te4j.api.spi.PeerAuth;
import io.te4j.api.spi.PeerRpc;
import io.te4j.api.spi.RateLimitedLog;
import io.te4j.core.json.JsonCodec;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's handshake port (WIRE.md section 3): one request frame and one reply frame per
 * connection, as the reference serves them, but concurrently and with bounds a peer cannot exceed.
 *
 * <p>Threads: one selector thread accepts connections, reads each frame and writes each reply
 * without blocking, so an idle or trickling connection holds a socket and a few bytes, never a
 * thread. A complete frame goes to a pool of at most {@link #WORKER_THREADS} handler threads, where
 * {@link RpcHandler} methods run; up to {@link #QUEUED_REQUESTS} frames wait for one, and beyond
 * that the connection is closed at once. All threads come from the given {@link ThreadFactory}.
 *
 * <p>Bounds: a connection has until its deadline, from accept to the last byte of its reply; at
 * most {@link #MAX_CONNECTIONS_PER_ADDRESS} connections from one address and {@link
 * #MAX_CONNECTIONS} in all are open, and a new one over either bound closes the oldest that has
 * has not finished its frame (else it is refused), so idle or trickling connections cannot lock
 * real peers out; frame bodies being received hold at most {@link #MAX_BUFFERED_BYTES} (or two
 * maximal frames) together, older unfinished ones closed first to make room.
 * Every refusal is counted and logged at a bounded rate.
 *
 * <p>With a cluster secret ({@link PeerAuth}), each connection authenticates before its frame is
 * read, in the same non-blocking steps; a peer that cannot is refused and counted.
 *
 * <p>Replies: type 1 gets {@link RpcHandler#localDescriptorJson()}, type 2 {@code
 * {"name":"","notify_msg":"success"}} when {@link RpcHandler#onNotify} took it (else a {@code
 * notify_msg} saying it was refused), type 3 {@code {"status":"success"}}, type 0 and legacy
 * untyped frames {@link RpcHandler#onOtherFrame} (an untyped reply to an untyped request; no reply
 * when nothing serves the type). A refused header (zero or oversize length, HTTP, TLS), a body that
 * is not JSON, or a handler failure closes the connection without a reply.
 */
public final class RpcServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RpcServer.class);
  // Every line a peer can provoke goes through here: a flood of bad frames costs a few lines.
  private static final RateLimitedLog REFUSALS = new RateLimitedLog(LOG::warn, 5);

  /** Handler threads serving frames at once. */
  public static final int WORKER_THREADS = 16;

  /** Complete frames that may wait for a handler thread; more are refused at once. */
  public static final int QUEUED_REQUESTS = 64;

  /** Open connections from one remote address. */
  public static final int MAX_CONNECTIONS_PER_ADDRESS = 256;

  /** Open connections in all. */
  public static final int MAX_CONNECTIONS = 4096;

  /** Bytes of frame bodies being received, all connections together. */
  public static final long MAX_BUFFERED_BYTES = 64L << 20;

  static final String PROBE_REPLY = "{\"status\":\"success\"}";
  static final String NOTIFY_REPLY = "{\"name\":\"\",\"notify_msg\":\"success\"}";
  static final String NOTIFY_REFUSED =
      "{\"name\":\"\",\"notify_msg\":\"refused: the receiver holds too many undrained"
          + " notifications\"}";

  private static final int BACKLOG = 128;
  private static final long CLOSE_WAIT_MILLIS = 10_000;
  /** How often deadlines are checked; a connection is cut at most this late. */
  private static final long SWEEP_MILLIS = 50;

  private final RpcHandler handler;
  private final PeerAuth auth;
  private final ServerSocketChannel serverChannel;
  private final Selector selector;
  private final int maxFrameBytes;
  private final long maxBufferedBytes;
  private final long deadlineNanos;
  private final ThreadPoolExecutor workers;
  private final Thread selectorThread;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicLong refusedConnections = new AtomicLong();
  /** Connections handed back by handler threads with their reply set. */
  private final ConcurrentLinkedQueue<HandshakeConnection> handedBack =
      new ConcurrentLinkedQueue<>();
  // Selector thread only. Accept order is deadline order, so expired ones are at the head.
  private final LinkedHashSet<HandshakeConnection> open = new LinkedHashSet<>();
  private final HashMap<InetAddress, Integer> openPerAddress = new HashMap<>();
  private long bufferedBytes;
  private volatile int openCount;

  private RpcServer(
      RpcHandler handler,
      PeerAuth auth,
      ServerSocketChannel serverChannel,
      int maxFrameBytes,
      Duration connectionDeadline,
      ThreadFactory threads) throws IOException {
    this.handler = handler;
    this.auth = auth;
    this.serverChannel = serverChannel;
    this.maxFrameBytes = maxFrameBytes;
    this.maxBufferedBytes = Math.max(MAX_BUFFERED_BYTES, 2L * maxFrameBytes);
    this.deadlineNanos = connectionDeadline.toNanos();
    this.workers =
        new ThreadPoolExecutor(
            WORKER_THREADS,
            WORKER_THREADS,
            30,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(QUEUED_REQUESTS),
            threads);
    // Idle handler threads go away; a quiet engine keeps only the selector thread.
    workers.allowCoreThreadTimeOut(true);
    this.selector = Selector.open();
    serverChannel.configureBlocking(false);
    serverChannel.register(selector, SelectionKey.OP_ACCEPT);
    this.selectorThread = threads.newThread(this::selectLoop);
  }

  /**
   * Binds a free port in {@code [minPort, maxPort]} (starting at a random port of the range, then
   * walking it) and starts serving.
   *
   * @param handler answers the requests
   * @param auth authenticates every connection before its frame is read ({@link PeerAuth#NONE}:
   *     no cluster secret); a peer that fails is refused and counted there
   * @param bindAddressOrNull the address to listen on, or null for every interface
   * @param minPort lowest port to try; {@code minPort == maxPort == 0} picks an ephemeral port
   * @param maxPort highest port to try
   * @param maxFrameBytes longest frame accepted ({@code MC_HANDSHAKE_MAX_LENGTH})
   * @param connectionDeadline how long one connection may take from its first read to its reply
   * @param threads makes the selector and handler threads (daemon threads expected)
   * @throws TransferException ENDPOINT naming the range when no port in it is free, or when the
   *     bind address does not resolve; INVALID_ARGUMENT for a bad range or limit
   */
  public static RpcServer start(
      RpcHandler handler,
      PeerAuth auth,
      String bindAddressOrNull,
      int minPort,
      int maxPort,
      int maxFrameBytes,
      Duration connectionDeadline,
      ThreadFactory threads) {
    Objects.requireNonNull(handler, "handler");
    Objects.requireNonNull(auth, "auth");
    Objects.requireNonNull(threads, "threads");
    Objects.requireNonNull(connectionDeadline, "connectionDeadline");
    boolean ephemeral = minPort == 0 && maxPort == 0;
    if (!ephemeral && (minPort < 1 || maxPort > 65535 || minPort > maxPort)) {
      throw new TransferException(
          ErrorCode.INVALID_ARGUMENT, "bad RPC port range [" + minPort + ", " + maxPort + "]");
    }
    if (maxFrameBytes < 1) {
      throw new TransferException(
          ErrorCode.INVALID_ARGUMENT, "maxFrameBytes must be positive: " + maxFrameBytes);
    }
    if (connectionDeadline.isNegative() || connectionDeadline.isZero()) {
      throw new TransferException(
          ErrorCode.INVALID_ARGUMENT, "connectionDeadline must be positive: " + connectionDeadline);
    }
    InetAddress bindAddress = null;
    if (bindAddressOrNull != null && !bindAddressOrNull.isEmpty()) {
      try {
        bindAddress = InetAddress.getByName(bindAddressOrNull);
      } catch (UnknownHostException e) {
        throw new TransferException(
            ErrorCode.ENDPOINT, "cannot resolve the RPC bind address " + bindAddressOrNull, e);
      }
    }
    ServerSocketChannel socket =
        ephemeral ? bind(bindAddress, 0, 0) : bind(bindAddress, minPort, maxPort);
    RpcServer server;
    try {
      server = new RpcServer(handler, auth, socket, maxFrameBytes, connectionDeadline, threads);
    } catch (IOException e) {
      closeQuietly(socket);
      throw new TransferException(ErrorCode.ENDPOINT, "cannot serve the handshake port", e);
    }
    server.selectorThread.start();
    LOG.info(
        "handshake RPC server listening on {}:{}",
        bindAddress == null ? "*" : bindAddress.getHostAddress(),
        server.port());
    return server;
  }

  private static ServerSocketChannel bind(InetAddress address, int minPort, int maxPort) {
    int span = maxPort - minPort + 1;
    int start = ThreadLocalRandom.current().nextInt(span);
    IOException last = null;
    for (int i = 0; i < span; i++) {
      int port = minPort + (start + i) % span;
      ServerSocketChannel socket = null;
      try {
        socket = ServerSocketChannel.open();
        socket.socket().setReuseAddress(true);
        socket.bind(new InetSocketAddress(address, port), BACKLOG);
        return socket;
      } catch (IOException e) {
        last = e;
        closeQuietly(socket);
      }
    }
    throw new TransferException(
        ErrorCode.ENDPOINT,
        "no free RPC port in ["
            + minPort
            + ", "
            + maxPort
            + "]"
            + (address == null ? "" : " on " + address.getHostAddress())
            + " (MC_MIN_RPC_PORT / MC_MAX_RPC_PORT)"
            + (last == null ? "" : ": " + last.getMessage()),
        last);
  }

  /** The port this server listens on. */
  public int port() {
    return serverChannel.socket().getLocalPort();
  }

  /** Connections closed without a reply: refused headers, bad bodies, timeouts, overload. */
  public long refusedConnections() {
    return refusedConnections.get();
  }

  /** Connections open now (for tests and diagnostics). */
  public int openConnections() {
    return openCount;
  }

  /**
   * Stops accepting, closes open connections and waits (bounded) for the selector and handler
   * threads to finish. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    selector.wakeup();
    workers.shutdownNow();
    try {
      selectorThread.join(CLOSE_WAIT_MILLIS);
      if (!workers.awaitTermination(CLOSE_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
        LOG.warn("handshake RPC handler threads did not finish within {} ms", CLOSE_WAIT_MILLIS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (selectorThread.isAlive()) {
      LOG.warn("handshake RPC selector thread did not finish within {} ms", CLOSE_WAIT_MILLIS);
    }
    LOG.info("handshake RPC server on port {} closed", port());
  }

  /** Runs on the selector thread until close; closes every socket on its way out. */
  private void selectLoop() {
    try {
      while (!closed.get()) {
        selector.select(SWEEP_MILLIS);
        Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
        while (keys.hasNext()) {
          SelectionKey key = keys.next();
          keys.remove();
          if (!key.isValid()) {
            continue;
          }
          if (key.isAcceptable()) {
            acceptAll();
            continue;
          }
          HandshakeConnection c = (HandshakeConnection) key.attachment();
          try {
            if (key.isReadable()) {
              onReadable(c);
            } else if (key.isWritable()) {
              onWritable(c);
            }
          } catch (RuntimeException e) { // one connection's bug must not stop the port
            REFUSALS.log("handshake RPC: serving {} failed", c.peer, e);
            close(c);
          }
        }
        for (HandshakeConnection c; (c = handedBack.poll()) != null; ) {
          startReply(c);
        }
        cutExpired(System.nanoTime());
      }
    } catch (IOException | RuntimeException e) {
      if (!closed.get()) {
        LOG.error("handshake RPC selector failed; the port no longer answers", e);
      }
    } finally {
      for (HandshakeConnection c : new ArrayList<>(open)) {
        close(c);
      }
      closeQuietly(serverChannel);
      closeQuietly(selector);
    }
  }

  private void acceptAll() throws IOException {
    for (SocketChannel ch; (ch = serverChannel.accept()) != null; ) {
      try {
        ch.configureBlocking(false);
        ch.socket().setTcpNoDelay(true);
        SelectionKey key = ch.register(selector, SelectionKey.OP_READ);
        HandshakeConnection c = new HandshakeConnection(ch, key,
            System.nanoTime() + deadlineNanos, auth.serverExchange(FrameCodec.AUTH_PURPOSE));
        key.attach(c);
        if (makeRoomFor(c)) {
          open.add(c);
          openPerAddress.merge(c.address, 1, Integer::sum);
          openCount = open.size();
        } else {
          key.cancel();
          refuse(ch, "refused a connection from {}: {}", c.peer,
              "too many open handshake connections");
        }
      } catch (IOException e) {
        closeQuietly(ch); // gone before we could serve it
      }
    }
  }

  /**
   * True when {@code c} may stay open: its address and the port are under their bounds, or the
   * oldest connection whose frame is unfinished (from that address, if that bound is the one
   * reached) was closed to make room.
   */
  private boolean makeRoomFor(HandshakeConnection c) {
    if (openPerAddress.getOrDefault(c.address, 0) >= MAX_CONNECTIONS_PER_ADDRESS) {
      return evictUnfinished(c.address, false);
    }
    return open.size() < MAX_CONNECTIONS || evictUnfinished(null, false);
  }

  /**
   * Closes the oldest connection still reading its frame (from {@code address}, or any when null;
   * only one holding a body buffer when {@code holdingBody}); false when there is none.
   */
  private boolean evictUnfinished(InetAddress address, boolean holdingBody) {
    for (HandshakeConnection old : open) {
      if (old.unfinished() && (address == null || address.equals(old.address))
          && (!holdingBody || old.bodyBytes() > 0)) {
        refuse(old, "closed an unfinished connection from {} to make room: {}", holdingBody
            ? "frames being received hold too many bytes" : "too many open handshake connections");
        return true;
      }
    }
    return false;
  }

  private void onReadable(HandshakeConnection c) {
    try {
      long r = c.read(maxFrameBytes);
      if (r > 0) {
        // Older unfinished frames make way: an idle or trickling peer cannot hold the memory.
        while (bufferedBytes + r > maxBufferedBytes) {
          if (!evictUnfinished(null, true)) {
            refuse(c, "refused a frame from {}: {}", "frames being received hold "
                + bufferedBytes + " bytes; " + r + " more would exceed " + maxBufferedBytes);
            return;
          }
        }
        bufferedBytes += r;
        c.startBody((int) r);
        r = c.read(maxFrameBytes);
      }
      if (r < 0) {
        bufferedBytes -= c.bodyBytes();
        FrameCodec.Frame frame = c.frame();
        c.key.interestOps(0);
        dispatch(c, frame);
      }
    } catch (FrameCodec.MalformedFrameException | PeerAuth.AuthenticationException e) {
      refuse(c, "refused a connection from {}: {}", e.getMessage());
    } catch (IOException e) {
      LOG.debug("handshake RPC: connection from {} ended before a complete frame: {}", c.peer,
          e.getMessage());
      close(c);
    }
  }

  private void dispatch(HandshakeConnection c, FrameCodec.Frame frame) {
    try {
      workers.execute(() -> handle(c, frame));
    } catch (RejectedExecutionException e) {
      if (!closed.get()) {
        refuse(c, "overloaded, refused {} ({})", WORKER_THREADS
            + " handlers busy, " + QUEUED_REQUESTS + " frames waiting");
      }
    }
  }

  /** Runs on a handler thread: makes the reply and hands the connection back to write it. */
  private void handle(HandshakeConnection c, FrameCodec.Frame frame) {
    try {
      c.reply = reply(frame, c.peer);
    } catch (TransferException e) {
      refusedConnections.incrementAndGet();
      REFUSALS.log("handshake RPC on port {}: refused a request from {}: {}", port(), c.peer,
          e.getMessage());
    } catch (RuntimeException e) {
      refusedConnections.incrementAndGet();
      REFUSALS.log("handshake RPC: the handler failed on a request from {}", c.peer, e);
    }
    handedBack.add(c);
    selector.wakeup();
  }

  private void startReply(HandshakeConnection c) {
    byte[] reply = c.reply;
    if (c.closed) {
      return; // cut at its deadline while the handler ran
    }
    if (reply == null) {
      close(c); // refused, or nothing serves that type: closed without a reply
      return;
    }
    c.startReply(reply);
    c.reply = null;
    c.key.interestOps(SelectionKey.OP_WRITE);
    onWritable(c);
  }

  private void onWritable(HandshakeConnection c) {
    try {
      if (c.write()) {
        c.channel.shutdownOutput();
        close(c);
      }
    } catch (IOException e) {
      LOG.debug("handshake RPC: writing the reply to {} failed: {}", c.peer, e.toString());
      close(c);
    }
  }

  /** Cuts every connection past its deadline: a frame too slow, a reply never read. */
  private void cutExpired(long now) {
    while (!open.isEmpty()) {
      HandshakeConnection c = open.iterator().next(); // the oldest: closing it removes it
      if (now - c.deadlineNanos < 0) {
        return;
      }
      refuse(c, "dropped a connection from {} at its deadline: {}",
          c.idle() ? "it sent nothing" : "no complete frame and reply in time");
    }
  }

  private void refuse(HandshakeConnection c, String format, String detail) {
    refusedConnections.incrementAndGet(); // counted before the peer can see the close
    close(c);
    REFUSALS.log("handshake RPC on port " + port() + ": " + format, c.peer, detail);
  }

  private void refuse(SocketChannel ch, String format, SocketAddress peer, String detail) {
    refusedConnections.incrementAndGet();
    closeQuietly(ch);
    REFUSALS.log("handshake RPC on port " + port() + ": " + format, peer, detail);
  }

  private void close(HandshakeConnection c) {
    if (c.closed) {
      return;
    }
    c.closed = true;
    bufferedBytes -= c.bodyBytes();
    c.key.cancel();
    closeQuietly(c.channel);
    if (open.remove(c)) {
      openPerAddress.computeIfPresent(c.address, (a, n) -> n == 1 ? null : n - 1);
      openCount = open.size();
    }
  }

  private byte[] reply(FrameCodec.Frame frame, SocketAddress peer) {
    String body = frame.body().stripTrailing();
    // The reference drops any request whose body is not JSON, whatever its type.
    JsonCodec.requireWellFormed(body, "type-" + frame.type() + " request body");
    switch (frame.type()) {
      case PeerRpc.METADATA:
        String descriptor = handler.localDescriptorJson();
        return FrameCodec.encode(PeerRpc.METADATA, descriptor == null ? "{}" : descriptor);
      case PeerRpc.NOTIFY:
        TransferNotify notify = JsonCodec.notifyFromJson(body);
        return FrameCodec.encode(PeerRpc.NOTIFY,
            handler.onNotify(notify) ? NOTIFY_REPLY : NOTIFY_REFUSED);
      case PeerRpc.PROBE:
        return FrameCodec.encode(PeerRpc.PROBE, PROBE_REPLY);
      default:
        String answer = handler.onOtherFrame(frame.type(), body, String.valueOf(peer));
        if (answer == null) {
          LOG.debug("handshake RPC: nothing serves {} frames; closing the connection from {}",
              frame.legacy() ? "legacy untyped" : "type-" + frame.type(), peer);
          return null;
        }
        return frame.legacy() ? FrameCodec.encodeUntyped(answer)
            : FrameCodec.encode(frame.type(), answer);
    }
  }

  private static void closeQuietly(Closeable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (IOException ignored) {
      // Closing is best effort; the socket is gone either way.
    }
  }
}
