package io.te4j.core.rpc;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.TransferNotify;
import io.te4j.api.spi.PeerRpc;
import io.te4j.core.json.JsonCodec;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's handshake port (WIRE.md section 3): one request frame and one reply frame per
 * connection, as the reference serves them, but concurrently and with bounds.
 *
 * <p>Threads: one acceptor thread accepts connections and hands each to a pool of at most {@link
 * #WORKER_THREADS} handler threads; up to {@link #QUEUED_CONNECTIONS} accepted connections wait for
 * a free handler, and any beyond that are closed at once (never an unbounded number of threads).
 * {@link RpcHandler} methods run on the handler threads. A watchdog thread closes any connection
 * still open at its deadline, so a peer that stalls mid-frame or never reads its reply holds a
 * handler thread for at most the deadline. All threads come from the given {@link ThreadFactory}.
 *
 * <p>Replies: type 1 gets {@link RpcHandler#localDescriptorJson()}, type 2 {@code
 * {"name":"","notify_msg":"success"}} after {@link RpcHandler#onNotify}, type 3 {@code
 * {"status":"success"}}, type 0 and legacy untyped frames {@link RpcHandler#onOtherFrame} (an
 * untyped reply to an untyped request; no reply when nothing serves the type). A refused header (zero or oversize length, HTTP, TLS), a
 * body that is not JSON, or a handler failure closes the connection without a reply, and is logged.
 */
public final class RpcServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RpcServer.class);

  /** Handler threads serving connections at once. */
  public static final int WORKER_THREADS = 16;

  /** Accepted connections that may wait for a handler thread; more are closed at once. */
  public static final int QUEUED_CONNECTIONS = 64;

  static final String PROBE_REPLY = "{\"status\":\"success\"}";
  static final String NOTIFY_REPLY = "{\"name\":\"\",\"notify_msg\":\"success\"}";

  private static final int BACKLOG = 128;
  private static final long CLOSE_WAIT_MILLIS = 10_000;
  private static final long WATCHDOG_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

  private final RpcHandler handler;
  private final ServerSocket serverSocket;
  private final int maxFrameBytes;
  private final long deadlineNanos;
  private final ThreadPoolExecutor workers;
  private final ScheduledThreadPoolExecutor watchdog;
  private final Thread acceptor;
  private final Set<Socket> openConnections = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicLong refusedConnections = new AtomicLong();

  private RpcServer(
      RpcHandler handler,
      ServerSocket serverSocket,
      int maxFrameBytes,
      Duration connectionDeadline,
      ThreadFactory threads) {
    this.handler = handler;
    this.serverSocket = serverSocket;
    this.maxFrameBytes = maxFrameBytes;
    this.deadlineNanos = connectionDeadline.toNanos();
    this.workers =
        new ThreadPoolExecutor(
            WORKER_THREADS,
            WORKER_THREADS,
            30,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(QUEUED_CONNECTIONS),
            threads);
    // Idle handler threads go away; a quiet engine keeps only the acceptor and the watchdog.
    workers.allowCoreThreadTimeOut(true);
    this.watchdog = new ScheduledThreadPoolExecutor(1, threads);
    watchdog.setRemoveOnCancelPolicy(true);
    this.acceptor = threads.newThread(this::acceptLoop);
  }

  /**
   * Binds a free port in {@code [minPort, maxPort]} (starting at a random port of the range, then
   * walking it) and starts serving.
   *
   * @param handler answers the requests
   * @param bindAddressOrNull the address to listen on, or null for every interface
   * @param minPort lowest port to try; {@code minPort == maxPort == 0} picks an ephemeral port
   * @param maxPort highest port to try
   * @param maxFrameBytes longest frame accepted ({@code MC_HANDSHAKE_MAX_LENGTH})
   * @param connectionDeadline how long one connection may take from its first read to its reply
   * @param threads makes the acceptor, handler and watchdog threads (daemon threads expected)
   * @throws TransferException ENDPOINT naming the range when no port in it is free, or when the
   *     bind address does not resolve; INVALID_ARGUMENT for a bad range or limit
   */
  public static RpcServer start(
      RpcHandler handler,
      String bindAddressOrNull,
      int minPort,
      int maxPort,
      int maxFrameBytes,
      Duration connectionDeadline,
      ThreadFactory threads) {
    Objects.requireNonNull(handler, "handler");
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
    ServerSocket socket = ephemeral ? bind(bindAddress, 0, 0) : bind(bindAddress, minPort, maxPort);
    RpcServer server = new RpcServer(handler, socket, maxFrameBytes, connectionDeadline, threads);
    server.acceptor.start();
    LOG.info(
        "handshake RPC server listening on {}:{}",
        bindAddress == null ? "*" : bindAddress.getHostAddress(),
        server.port());
    return server;
  }

  private static ServerSocket bind(InetAddress address, int minPort, int maxPort) {
    int span = maxPort - minPort + 1;
    int start = ThreadLocalRandom.current().nextInt(span);
    IOException last = null;
    for (int i = 0; i < span; i++) {
      int port = minPort + (start + i) % span;
      ServerSocket socket = null;
      try {
        socket = new ServerSocket();
        socket.setReuseAddress(true);
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
    return serverSocket.getLocalPort();
  }

  /** Connections closed without a reply: refused headers, bad bodies, timeouts, overload. */
  public long refusedConnections() {
    return refusedConnections.get();
  }

  /**
   * Stops accepting, closes open connections and waits (bounded) for the acceptor and handler
   * threads to finish. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    closeQuietly(serverSocket);
    workers.shutdownNow();
    // Socket reads are not interruptible: closing the sockets is what frees the handlers.
    for (Socket s : openConnections) {
      closeQuietly(s);
    }
    try {
      acceptor.join(CLOSE_WAIT_MILLIS);
      if (!workers.awaitTermination(CLOSE_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
        LOG.warn("handshake RPC handler threads did not finish within {} ms", CLOSE_WAIT_MILLIS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    watchdog.shutdownNow();
    LOG.info("handshake RPC server on port {} closed", serverSocket.getLocalPort());
  }

  /** Runs on the acceptor thread. */
  private void acceptLoop() {
    while (!closed.get()) {
      Socket socket;
      try {
        socket = serverSocket.accept();
      } catch (IOException e) {
        if (closed.get()) {
          return;
        }
        // Out of file descriptors and the like: back off briefly instead of spinning.
        LOG.warn("handshake RPC accept failed: {}", e.toString());
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        continue;
      }
      openConnections.add(socket);
      try {
        workers.execute(() -> serve(socket));
      } catch (RejectedExecutionException e) {
        openConnections.remove(socket);
        boolean overloaded = !closed.get();
        if (overloaded) {
          refusedConnections.incrementAndGet(); // counted before the peer can see the close
        }
        closeQuietly(socket);
        if (overloaded) {
          LOG.warn(
              "handshake RPC overloaded ({} handlers busy, {} waiting): refused {}",
              WORKER_THREADS,
              QUEUED_CONNECTIONS,
              socket.getRemoteSocketAddress());
        }
      }
    }
  }

  /** Runs on a handler thread: one request, one reply, then close. */
  private void serve(Socket socket) {
    SocketAddress peer = socket.getRemoteSocketAddress();
    long deadline = System.nanoTime() + deadlineNanos;
    ScheduledFuture<?> timer = null;
    try {
      // Reads time out by themselves at the deadline; the watchdog, a little later, cuts what
      // SO_TIMEOUT cannot: a reply the peer never reads, a handler that does not return.
      timer =
          watchdog.schedule(
              () -> closeQuietly(socket),
              deadlineNanos + WATCHDOG_GRACE_NANOS,
              TimeUnit.NANOSECONDS);
      if (closed.get()) {
        return;
      }
      socket.setTcpNoDelay(true);
      FrameCodec.Frame frame = FrameCodec.read(socket, maxFrameBytes, deadline);
      byte[] reply = reply(frame, peer);
      if (reply == null) {
        return; // nobody serves that type: closed without a reply
      }
      OutputStream out = socket.getOutputStream();
      out.write(reply);
      out.flush();
      socket.shutdownOutput();
    } catch (FrameCodec.MalformedFrameException e) {
      refuse("refused a connection from {}: {}", peer, e.getMessage());
    } catch (SocketTimeoutException e) {
      refuse(
          "dropped a connection from {}: no complete frame within the deadline ({})",
          peer,
          e.getMessage());
    } catch (EOFException e) {
      LOG.debug("handshake RPC: {} closed before a complete frame: {}", peer, e.getMessage());
    } catch (TransferException e) {
      refuse("refused a request from {}: {}", peer, e.getMessage());
    } catch (IOException e) {
      if (System.nanoTime() - deadline >= 0) {
        refuse("dropped a connection from {} at its deadline: {}", peer, e.toString());
      } else if (!closed.get()) {
        LOG.debug("handshake RPC: connection from {} failed: {}", peer, e.toString());
      }
    } catch (RuntimeException e) {
      refusedConnections.incrementAndGet();
      LOG.error("handshake RPC: the handler failed on a request from {}", peer, e);
    } finally {
      if (timer != null) {
        timer.cancel(false);
      }
      openConnections.remove(socket);
      closeQuietly(socket);
    }
  }

  private void refuse(String format, SocketAddress peer, String detail) {
    refusedConnections.incrementAndGet();
    LOG.warn("handshake RPC on port " + serverSocket.getLocalPort() + ": " + format, peer, detail);
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
        handler.onNotify(notify);
        return FrameCodec.encode(PeerRpc.NOTIFY, NOTIFY_REPLY);
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
