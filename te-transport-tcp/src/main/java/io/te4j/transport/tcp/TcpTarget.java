package io.te4j.transport.tcp;

import io.te4j.api.AddressRanges;
import io.te4j.api.TransferOpcode;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.MemoryRegistry;
import io.te4j.api.spi.PeerAuth;
import io.te4j.api.spi.RateLimitedLog;
import io.te4j.api.spi.Setting;
import io.te4j.api.spi.inflight.Watchdog;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The target side of the TCP data protocol (WIRE.md section 4): a listening socket, one acceptor
 * thread, and a small fixed set of I/O threads ({@link DataPortLoop}, {@value
 * #IO_THREADS_SETTING}) that serve every plain connection, non-blocking, receiving straight into
 * registered memory: ten thousand connections cost no thread each. A TLS connection is served by
 * a thread of its own, blocking (JDK TLS over a blocking socket); the protocol itself is one state
 * machine for both ({@link TargetConnection}).
 *
 * <p>Every request is checked before memory is touched: the range must lie wholly inside one
 * registered, remote-accessible region (unsigned, overflow-safe). A rejected request is answered
 * with status 1 (v2) and the connection is closed.
 *
 * <p>Threads: the acceptor runs {@code acceptLoop}; the thread serving a connection is the only
 * one touching memory for it, publishing the region it copies in {@link TargetConnection#serving}.
 * The thread running {@link TcpTransport#unregistered} reads that field through {@link
 * #isServing} and may close a connection through {@link #abortServing}; {@link #shutdown} and
 * {@link #awaitStopped} run on the thread closing the transport.
 */
final class TcpTarget {
  static final Logger LOG = LoggerFactory.getLogger(TcpTarget.class);
  private static final RateLimitedLog REJECTIONS = new RateLimitedLog(LOG::warn, 5);
  /** I/O threads serving the data port's plain connections. */
  static final String IO_THREADS_SETTING = "te4j.tcp.ioThreads";
  static final Setting<Integer> IO_THREADS = Setting.integer(IO_THREADS_SETTING, 2, 1, 256,
      "I/O threads serving the data port's connections (non-blocking, any number of connections"
          + " each); TLS connections get a thread each");
  /** Connections served at once. */
  static final int MAX_CONNECTIONS = 16384;
  /** Connections served at once from one remote address. */
  static final int MAX_CONNECTIONS_PER_ADDRESS = 1024;
  /** How long a new connection may wait before its first request: real lanes send at once. */
  static final long FIRST_REQUEST_NANOS = TimeUnit.SECONDS.toNanos(10);
  private static final long IDLE_CHECK_MILLIS = 200;
  /** READs up to this size are answered from the answer buffer, several per write. */
  static final int SMALL_READ_BYTES = 16 * 1024;
  /** How long a connection must idle (since its accept or last request) before it makes room. */
  static final long EVICTION_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);

  final MemoryRegistry memory;
  final MemoryViews memoryViews;
  private final ConnectionSecurity security;
  private final ThreadFactory ioThreadFactory;
  private final ThreadFactory acceptorThreads;
  private final int socketBufferBytes;
  private final int ioThreads;
  private final Set<TargetConnection> connections = ConcurrentHashMap.newKeySet();
  private DataPortLoop[] loops = new DataPortLoop[0];
  private int nextLoop;
  private final ConcurrentHashMap<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();
  private final AtomicLong refusedConnections = new AtomicLong();
  private Watchdog idleCheck;
  /** How long a connection may sit between requests before it is closed (a lane reconnects). */
  private final long idleNanos;
  private final long firstRequestNanos;
  private ServerSocketChannel server;
  private Thread acceptor;
  private volatile boolean closed;
  private int port;

  TcpTarget(
      MemoryRegistry memory,
      ConnectionSecurity security,
      ThreadFactory acceptorThreads,
      ThreadFactory ioThreadFactory,
      int socketBufferBytes,
      MemoryViews memoryViews,
      long idleNanos,
      int ioThreads) {
    this.idleNanos = idleNanos;
    this.ioThreads = ioThreads;
    this.firstRequestNanos = Math.min(FIRST_REQUEST_NANOS, idleNanos);
    this.memory = memory;
    this.security = security;
    this.acceptorThreads = acceptorThreads;
    this.ioThreadFactory = ioThreadFactory;
    this.socketBufferBytes = socketBufferBytes;
    this.memoryViews = memoryViews;
  }

  /**
   * Binds a free port in {@code [minPort, maxPort]}, starting at a random one and walking up
   * (wrapping), and starts the acceptor. A range of {@code [0, 0]} takes an ephemeral port.
   *
   * @param bindAddress host or IP to bind, or null for the wildcard address
   * @return the bound port
   */
  int start(String bindAddress, int minPort, int maxPort) throws IOException {
    if (minPort < 0 || maxPort > 65535 || minPort > maxPort) {
      throw new IOException("bad port range [" + minPort + ", " + maxPort + "]");
    }
    int span = maxPort - minPort + 1;
    int first = ThreadLocalRandom.current().nextInt(span);
    IOException last = null;
    for (int i = 0; i < span; i++) {
      int candidate = minPort + (first + i) % span;
      InetSocketAddress address =
          bindAddress == null || bindAddress.isEmpty()
              ? new InetSocketAddress(candidate)
              : new InetSocketAddress(bindAddress, candidate);
      if (address.isUnresolved()) {
        throw new IOException("cannot resolve bind address " + bindAddress);
      }
      ServerSocketChannel channel = ServerSocketChannel.open();
      try {
        channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        // Set before bind so accepted sockets inherit it and the window scale is negotiated.
        if (socketBufferBytes > 0) {
          channel.setOption(StandardSocketOptions.SO_RCVBUF, socketBufferBytes);
        }
        channel.bind(address, 256);
      } catch (BindException e) {
        closeQuietly(channel);
        last = e;
        continue;
      } catch (IOException | RuntimeException e) {
        closeQuietly(channel);
        throw e;
      }
      server = channel;
      port = ((InetSocketAddress) channel.getLocalAddress()).getPort();
      startLoops();
      acceptor = acceptorThreads.newThread(this::acceptLoop);
      acceptor.setDaemon(true);
      acceptor.start();
      idleCheck = new Watchdog(acceptorThreads, IDLE_CHECK_MILLIS,
          () -> closeIdle(System.nanoTime())).start();
      return port;
    }
    throw new IOException(
        "no free TCP data port in [" + minPort + ", " + maxPort + "]"
            + (bindAddress == null ? "" : " on " + bindAddress),
        last);
  }

  private void startLoops() throws IOException {
    DataPortLoop[] started = new DataPortLoop[ioThreads];
    for (int i = 0; i < started.length; i++) {
      DataPortLoop loop = new DataPortLoop(this, memoryViews);
      loop.thread = ioThreadFactory.newThread(loop);
      loop.thread.setDaemon(true);
      started[i] = loop;
    }
    loops = started;
    for (DataPortLoop loop : started) {
      loop.thread.start();
    }
  }

  int port() {
    return port;
  }

  /** Connections being served now. */
  int connectionCount() {
    return connections.size();
  }

  /** Connections refused at accept or closed for idling (for tests and diagnostics). */
  long refusedConnections() {
    return refusedConnections.get();
  }

  /**
   * Closes connections idle past their allowance: {@link #FIRST_REQUEST_NANOS} (or the idle
   * timeout when shorter) before a first request, the idle timeout between requests. Runs on the
   * idle-check thread.
   */
  void closeIdle(long now) {
    for (TargetConnection w : connections) {
      if (w.rejectionDrained(now)) {
        w.close(() -> { });
        continue;
      }
      long since = w.idleSinceNanos;
      long allowance = w.served ? idleNanos : firstRequestNanos;
      if (now - since > allowance && closeIdle(w)) {
        REJECTIONS.log("tcp target: closed the connection from {}: idle for {} s", w.address,
            TimeUnit.NANOSECONDS.toSeconds(now - since));
      }
    }
  }

  /**
   * Room for one more connection from {@code address}: true when under both bounds, or when the
   * longest-idle connection idle at least {@link #EVICTION_GRACE_NANOS}, or whose thread already
   * waits for a first request that has not come (one that never sent a request first; from that
   * address when its bound is the one reached), was closed to make it. Idle connections cannot
   * lock real peers out, however fast they are opened.
   */
  private boolean makeRoom(InetAddress address) {
    boolean addressFull = perAddress.getOrDefault(address, 0) >= MAX_CONNECTIONS_PER_ADDRESS;
    if (!addressFull && connections.size() < MAX_CONNECTIONS) {
      return true;
    }
    TargetConnection victim = null;
    long now = System.nanoTime();
    for (TargetConnection w : connections) {
      long since = w.idleSinceNanos;
      // A new connection's first request may still wait in its socket for its thread, and a
      // peer's lane pauses between requests: either is fair game only once idle a while. A
      // connection already found without a first request when served is idle however young.
      if ((addressFull && !address.equals(w.address))
          || (!w.awaitingFirstRequest && now - since < EVICTION_GRACE_NANOS)) {
        continue;
      }
      if (victim == null || (victim.served && !w.served)
          || (victim.served == w.served && since - victim.idleSinceNanos < 0)) {
        victim = w;
      }
    }
    if (victim == null || !closeIdle(victim)) {
      return false;
    }
    REJECTIONS.log("tcp target: closed an idle connection from {} to make room", victim.address);
    return true;
  }

  private void acceptLoop() {
    while (!closed) {
      SocketChannel channel;
      try {
        channel = server.accept();
      } catch (ClosedChannelException e) {
        return; // close() closed the listener
      } catch (IOException e) {
        if (closed) {
          return;
        }
        REJECTIONS.log("tcp target: accept failed: {}", e.toString());
        pauseAfterAcceptFailure();
        continue;
      }
      InetAddress address = remoteAddress(channel);
      if (closed || !makeRoom(address)) {
        if (!closed) {
          refusedConnections.incrementAndGet();
          REJECTIONS.log("tcp target: {} connections open ({} from {}), none idle: refusing"
              + " another", connections.size(), perAddress.getOrDefault(address, 0), address);
        }
        closeQuietly(channel);
        continue;
      }
      try {
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        if (socketBufferBytes > 0) {
          channel.setOption(StandardSocketOptions.SO_SNDBUF, socketBufferBytes);
        }
        channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
        TargetConnection c = new TargetConnection(channel, address, this);
        DataPortLoop loop = security.needsThread() ? null
            : loops[Math.floorMod(nextLoop++, loops.length)];
        if (loop != null) {
          loop.own(c); // before other threads can see it: they close it through its loop
        }
        connections.add(c);
        perAddress.merge(address, 1, Integer::sum);
        if (closed) { // close() may have walked the set before the add
          forget(c);
          closeQuietly(channel);
          return;
        }
        if (loop == null) {
          Thread thread = ioThreadFactory.newThread(() -> serveBlocking(c));
          thread.setDaemon(true);
          c.thread = thread;
          thread.start();
        } else {
          channel.configureBlocking(false);
          c.streams(channel, channel, false);
          c.authenticateFirst(security.serverExchange());
          loop.add(c);
        }
      } catch (IOException | RuntimeException | Error e) {
        REJECTIONS.log("tcp target: cannot serve a connection: {}", e.toString());
        closeQuietly(channel);
      }
    }
  }

  /** Serves a TLS connection on its own thread, blocking. */
  private void serveBlocking(TargetConnection c) {
    ThreadBuffers buffers = new ThreadBuffers(memoryViews);
    try {
      // Before the first request (TLS, the cluster secret); the idle check bounds a silent peer.
      DataConnection d = security.server(c.channel);
      c.streams(d.in(), d.out(), true);
      while (c.serve(buffers) != TargetConnection.DONE) {
        // a turn ended: the next one blocks in the socket
      }
    } catch (IOException | RuntimeException | Error e) {
      ended(c, e);
    } finally {
      dispose(c, buffers);
      buffers.clear();
    }
  }

  /** Says why a connection ended, as loudly as the cause deserves. */
  void ended(TargetConnection c, Throwable e) {
    if (e instanceof PeerAuth.AuthenticationException || e instanceof javax.net.ssl.SSLException) {
      REJECTIONS.log("tcp target: connection from {}: {}", c.remote(), e.getMessage());
    } else if (e instanceof IOException) {
      if (!closed) {
        LOG.debug("tcp target: connection from {} ended: {}", c.remote(), e.toString());
      }
    } else {
      REJECTIONS.log("tcp target: connection from {} failed", c.remote(), e);
    }
  }

  /**
   * Ends a connection on the thread that served it: gives back what it held of {@code buffers},
   * closes its socket, drops it from the counts; idempotent.
   */
  void dispose(TargetConnection c, ThreadBuffers buffers) {
    c.release(buffers);
    closeQuietly(c.channel);
    forget(c);
  }

  /** Drops a connection that ended from the counts; idempotent. */
  void forget(TargetConnection c) {
    if (connections.remove(c)) {
      perAddress.computeIfPresent(c.address, (a, n) -> n == 1 ? null : n - 1);
    }
  }

  /** Logs a rejected request (rate-limited). */
  void logRejection(TargetConnection c, int opcodeByte, long address, long size, String why) {
    REJECTIONS.log(
        "tcp target: rejected request from {}: opcode 0x{}, {} bytes at 0x{}: {}",
        c.remote(),
        Integer.toHexString(opcodeByte),
        Long.toUnsignedString(size),
        Long.toHexString(address),
        why);
  }

  /**
   * Closes a connection for idling, counted before the peer can see the close; false when it was
   * closed that way already.
   */
  private boolean closeIdle(TargetConnection c) {
    return c.close(refusedConnections::incrementAndGet);
  }

  /** Backs off after EMFILE and the like instead of spinning on the error. */
  private static void pauseAfterAcceptFailure() {
    try {
      Thread.sleep(20);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * True while a connection's thread copies between a socket and {@code region} (or a region
   * overlapping it), or holds a request on it half done. Called by the thread running {@link
   * TcpTransport#unregistered}; lock-free.
   */
  boolean isServing(MemoryRegion region) {
    for (TargetConnection w : connections) {
      if (TcpTransport.sameMemory(w.serving, region)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Closes the connections that still copy into or out of {@code region}: their thread drops the
   * request and clears {@link TargetConnection#serving} (see {@link #isServing}). Does not wait.
   */
  void abortServing(MemoryRegion region) {
    for (TargetConnection w : connections) {
      if (TcpTransport.sameMemory(w.serving, region)) {
        REJECTIONS.log(
            "tcp target: closing the connection from {}: region 0x{} was unregistered while a"
                + " request on it was still being served",
            w.remote(),
            Long.toHexString(region.address()));
        w.close(() -> { });
      }
    }
  }

  /** Stops accepting and closes every connection; does not wait. */
  void shutdown() {
    closed = true;
    if (idleCheck != null) {
      idleCheck.close(System.nanoTime()); // stops it; awaitStopped waits for it
    }
    if (server != null) {
      closeQuietly(server);
    }
    if (acceptor != null) {
      acceptor.interrupt();
    }
    for (DataPortLoop loop : loops) {
      loop.stop(); // closes its connections on the way out
    }
    for (TargetConnection w : connections) {
      w.close(() -> { }); // through its loop, or its own thread's socket
    }
  }

  /** Waits for the acceptor, the I/O threads and the TLS threads until {@code deadlineNanos}. */
  void awaitStopped(long deadlineNanos) {
    if (acceptor != null) {
      join(acceptor, deadlineNanos);
    }
    if (idleCheck != null) {
      idleCheck.close(deadlineNanos);
    }
    for (DataPortLoop loop : loops) {
      join(loop.thread, deadlineNanos);
    }
    for (TargetConnection w : connections) {
      closeQuietly(w.channel); // accepted after shutdown() walked the set
      Thread t = w.thread;
      if (t != null) {
        join(t, deadlineNanos);
      } else {
        forget(w); // its loop has ended
      }
    }
  }

  /**
   * Null when {@code [address, address + size)} of a request may be served from {@code region}
   * (what the registry found for it), else why not; allocation-free either way.
   */
  static String check(MemoryRegion region, TransferOpcode opcode, long address, long size) {
    return check(region, opcode, address, size, null);
  }

  /** {@link #check}, device memory allowed where {@code views} reach it (may be null). */
  static String check(MemoryRegion region, TransferOpcode opcode, long address, long size,
      MemoryViews views) {
    // Checked again here: the registry is another module's code and this is the last gate.
    if (region == null
        || !AddressRanges.contains(region.address(), region.length(), address, size)) {
      return AddressRanges.fits(address, size)
          ? "not inside one registered region"
          : "range wraps past 2^64";
    }
    if (!region.remoteAccessible()) {
      return "region is not remote-accessible";
    }
    if (!region.peerAccess().allows(opcode)) {
      return opcode == TransferOpcode.READ ? "region is write-only for peers"
          : "region is read-only for peers";
    }
    if (!region.kind().isHost() && (views == null || !views.reaches(region.kind()))) {
      return "region is " + region.kind() + ", which the tcp transport cannot reach";
    }
    return null;
  }

  private static InetAddress remoteAddress(SocketChannel channel) {
    try {
      return ((InetSocketAddress) channel.getRemoteAddress()).getAddress();
    } catch (IOException | RuntimeException e) {
      return InetAddress.getLoopbackAddress(); // gone already: the worker fails at once
    }
  }

  static void join(Thread thread, long deadlineNanos) {
    if (thread == Thread.currentThread()) {
      return;
    }
    long remainingMillis = (deadlineNanos - System.nanoTime()) / 1_000_000L;
    try {
      thread.join(Math.max(1, remainingMillis));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (thread.isAlive()) {
      LOG.warn("tcp transport: thread {} did not stop in time", thread.getName());
    }
  }

  static void closeQuietly(java.io.Closeable c) {
    try {
      c.close();
    } catch (IOException ignored) {
      // nothing left to do with a socket we are dropping
    }
  }

}
