package io.te4j.transport.tcp;

import io.te4j.api.AddressRanges;
import io.te4j.api.TransferOpcode;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.MemoryRegistry;
import io.te4j.api.spi.PeerAuth;
import io.te4j.api.spi.RateLimitedLog;
import io.te4j.api.spi.inflight.Watchdog;
import java.io.IOException;
import java.io.InputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The target side of the TCP data protocol: a listening socket, one acceptor thread, and one
 * blocking worker thread per accepted connection that serves requests one after another (WIRE.md
 * section 4).
 *
 * <p>Every request is checked before memory is touched: the range must lie wholly inside one
 * registered, remote-accessible region (unsigned, overflow-safe). A rejected request is answered
 * with status 1 (v2) and the connection is closed.
 *
 * <p>Threads: the acceptor runs {@code acceptLoop}; each worker serves its connection and is the
 * only thread touching memory for it, publishing the region it copies in {@code Worker.serving}
 * (set after the registry check and confirmed by a second lookup, cleared once the copy is over).
 * The thread running {@link TcpTransport#unregistered} reads that field through {@link
 * #isServing} and may close a worker's connection through {@link #abortServing}; {@link
 * #shutdown} and {@link #awaitStopped} run on the thread closing the transport.
 */
final class TcpTarget {
  private static final Logger LOG = LoggerFactory.getLogger(TcpTarget.class);
  private static final RateLimitedLog REJECTIONS = new RateLimitedLog(LOG::warn, 5);
  /** After a v2 rejection, how long we read and drop what the initiator already sent (no RST). */
  private static final int REJECT_DRAIN_MILLIS = 500;
  /** Connections served at once. */
  static final int MAX_CONNECTIONS = 4096;
  /** Connections served at once from one remote address. */
  static final int MAX_CONNECTIONS_PER_ADDRESS = 1024;
  /** How long a new connection may wait before its first request: real lanes send at once. */
  static final long FIRST_REQUEST_NANOS = TimeUnit.SECONDS.toNanos(10);
  private static final long IDLE_CHECK_MILLIS = 200;
  /**
   * Bytes one read of a connection may take: several small requests (header and payload) per
   * system call. Allocated at a connection's first read: 4096 busy connections hold 128 MiB.
   */
  static final int READ_AHEAD_BYTES = 32 * 1024;
  /**
   * Bytes of answers a connection holds back at most (WRITE statuses, and small READs' status and
   * data), allocated at its first answer.
   */
  static final int REPLY_STAGE_BYTES = 32 * 1024;
  /** READs up to this size are answered from the reply stage, several per write. */
  static final int SMALL_READ_BYTES = 16 * 1024;
  /** How long a connection must idle (since its accept or last request) before it makes room. */
  static final long EVICTION_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final MemoryRegistry memory;
  private final ConnectionSecurity security;
  private final ThreadFactory workerThreads;
  private final ThreadFactory acceptorThreads;
  private final int socketBufferBytes;
  private final MemoryViews memoryViews;
  private final Set<Worker> workers = ConcurrentHashMap.newKeySet();
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
      ThreadFactory workerThreads,
      int socketBufferBytes,
      MemoryViews memoryViews,
      long idleNanos) {
    this.idleNanos = idleNanos;
    this.firstRequestNanos = Math.min(FIRST_REQUEST_NANOS, idleNanos);
    this.memory = memory;
    this.security = security;
    this.acceptorThreads = acceptorThreads;
    this.workerThreads = workerThreads;
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

  int port() {
    return port;
  }

  /** Connections being served now. */
  int connectionCount() {
    return workers.size();
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
    for (Worker w : workers) {
      long since = w.idleSinceNanos;
      long allowance = w.served ? idleNanos : firstRequestNanos;
      if (since != 0 && now - since > allowance && w.closeIdle()) {
        REJECTIONS.log("tcp target: closed the connection from {}: idle for {} s", w.address,
            TimeUnit.NANOSECONDS.toSeconds(now - since));
      }
    }
  }

  /**
   * Room for one more connection from {@code address}: true when under both bounds, or when the
   * longest-idle connection idle at least {@link #EVICTION_GRACE_NANOS}, or whose worker already
   * waits for a first request that has not come (one that never sent a request first; from that
   * address when its bound is the one reached), was closed to make it. Idle connections cannot
   * lock real peers out, however fast they are opened.
   */
  private boolean makeRoom(InetAddress address) {
    boolean addressFull = perAddress.getOrDefault(address, 0) >= MAX_CONNECTIONS_PER_ADDRESS;
    if (!addressFull && workers.size() < MAX_CONNECTIONS) {
      return true;
    }
    Worker victim = null;
    long now = System.nanoTime();
    for (Worker w : workers) {
      long since = w.idleSinceNanos;
      // A new connection's first request may still wait in its socket for the worker thread,
      // and a peer's lane pauses between requests: either is fair game only once idle a while.
      // A worker already blocked on a first request that has not come is idle however young.
      if (since == 0 || (addressFull && !address.equals(w.address))
          || (!w.awaitingFirstRequest && now - since < EVICTION_GRACE_NANOS)) {
        continue;
      }
      if (victim == null || (victim.served && !w.served)
          || (victim.served == w.served && since - victim.idleSinceNanos < 0)) {
        victim = w;
      }
    }
    if (victim == null || !victim.closeIdle()) {
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
              + " another", workers.size(), perAddress.getOrDefault(address, 0), address);
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
        Worker worker = new Worker(channel, address);
        Thread thread = workerThreads.newThread(worker);
        thread.setDaemon(true);
        worker.thread = thread;
        workers.add(worker);
        perAddress.merge(address, 1, Integer::sum);
        if (closed) { // close() may have walked the set before the add
          workers.remove(worker);
          closeQuietly(channel);
          return;
        }
        thread.start();
      } catch (IOException | RuntimeException | Error e) {
        REJECTIONS.log("tcp target: cannot serve a connection: {}", e.toString());
        closeQuietly(channel);
      }
    }
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
   * True while a worker thread copies between a socket and {@code region} (or a region
   * overlapping it). Called by the thread running {@link TcpTransport#unregistered}; lock-free.
   */
  boolean isServing(MemoryRegion region) {
    for (Worker w : workers) {
      if (TcpTransport.sameMemory(w.serving, region)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Closes the connections whose workers still copy into or out of {@code region}: a blocked
   * read or write then fails at once and the worker leaves the copy (see {@link #isServing}).
   * Does not wait.
   */
  void abortServing(MemoryRegion region) {
    for (Worker w : workers) {
      if (TcpTransport.sameMemory(w.serving, region)) {
        REJECTIONS.log(
            "tcp target: closing the connection from {}: region 0x{} was unregistered while a"
                + " request on it was still being served",
            w.remote(),
            Long.toHexString(region.address()));
        closeQuietly(w.channel);
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
    for (Worker w : workers) {
      closeQuietly(w.channel);
    }
  }

  /** Waits for the acceptor and the workers until {@code deadlineNanos}. */
  void awaitStopped(long deadlineNanos) {
    if (acceptor != null) {
      join(acceptor, deadlineNanos);
    }
    if (idleCheck != null) {
      idleCheck.close(deadlineNanos);
    }
    for (Worker w : workers) {
      closeQuietly(w.channel); // accepted after shutdown() walked the set
      Thread t = w.thread;
      if (t != null) {
        join(t, deadlineNanos);
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

  /**
   * Serves one connection on one thread: header, check, bytes, (v2) status, repeat. All buffers
   * are allocated once per connection.
   */
  private final class Worker implements Runnable {
    final SocketChannel channel;
    final InetAddress address;
    /** Where requests are read and answers written (the socket, or TLS over it): worker only. */
    private ReadableByteChannel in;
    private GatheringByteChannel out;
    /** When the worker began waiting for a request header (at first, its accept); 0 while busy. */
    volatile long idleSinceNanos = System.nanoTime();
    /** True once a request was served: a real peer's lane, not a connection left idle. */
    volatile boolean served;
    /** True while the worker waits in the read of a first request that has not arrived. */
    volatile boolean awaitingFirstRequest;
    private final AtomicBoolean closing = new AtomicBoolean();
    final ByteBuffer header = TcpWire.newHeaderBuffer();
    final ByteBuffer status = TcpWire.newStatusBuffer();
    /**
     * Answers not sent yet (WRITE statuses, small READs' status and bytes): they go in one write
     * when the worker is about to wait for input (the initiator may be waiting for them), or when
     * the next would not fit. Allocated at the first answer.
     */
    ByteBuffer pending;
    /** Requests in, several per read while they are small. */
    final ReadAhead input = new ReadAhead(READ_AHEAD_BYTES, this::flushAnswers);
    final ByteBuffer[] pair = new ByteBuffer[2];
    final ChunkViews views = new ChunkViews(memoryViews);
    volatile Thread thread;
    /**
     * The region this worker copies into or out of right now, else null. Written only by the
     * worker thread; read by {@link #isServing} and {@link #abortServing}.
     */
    volatile MemoryRegion serving;

    Worker(SocketChannel channel, InetAddress address) {
      this.channel = channel;
      this.address = address;
    }

    /**
     * Closes the connection for idling (the worker then ends), counted before the peer can see
     * the close; false when another caller closed it first.
     */
    boolean closeIdle() {
      if (!closing.compareAndSet(false, true)) {
        return false;
      }
      refusedConnections.incrementAndGet();
      closeQuietly(channel);
      return true;
    }

    @Override
    public void run() {
      try {
        // Before the first request (TLS, the cluster secret); the idle check bounds a silent peer.
        DataConnection c = security.server(channel);
        in = c.in();
        out = c.out();
        input.reset(in);
        serve();
      } catch (PeerAuth.AuthenticationException | javax.net.ssl.SSLException e) {
        REJECTIONS.log("tcp target: connection from {}: {}", remote(), e.getMessage());
      } catch (IOException e) {
        if (!closed) {
          LOG.debug("tcp target: connection from {} ended: {}", remote(), e.toString());
        }
      } catch (RuntimeException | Error e) {
        REJECTIONS.log("tcp target: connection from {} failed", remote(), e);
      } finally {
        closeQuietly(channel);
        views.clear();
        if (workers.remove(this)) {
          perAddress.computeIfPresent(address, (a, n) -> n == 1 ? null : n - 1);
        }
      }
    }

    private void serve() throws IOException {
      while (!closed) {
        header.clear();
        idleSinceNanos = System.nanoTime();
        awaitingFirstRequest = !served;
        boolean more = input.readMessageOrEof(header);
        awaitingFirstRequest = false;
        if (!more) {
          return;
        }
        idleSinceNanos = 0;
        if (!served) {
          served = true;
        }
        long size = TcpWire.headerSize(header);
        long address = TcpWire.headerAddress(header);
        int opcodeByte = TcpWire.headerOpcode(header);
        boolean v2 = (opcodeByte & TcpWire.V2_FLAG) != 0;
        int op = opcodeByte & ~TcpWire.V2_FLAG;
        boolean write;
        if (v2) {
          if (op != TcpWire.OP_READ && op != TcpWire.OP_WRITE) {
            reject(true, opcodeByte, address, size, "unknown opcode");
            return;
          }
          write = op == TcpWire.OP_WRITE;
        } else {
          write = op == TcpWire.OP_WRITE; // v1: anything but WRITE is a READ (WIRE.md 4)
        }
        if (size == 0) {
          if (v2) {
            sendStatus(TcpWire.STATUS_OK);
          }
          continue;
        }
        MemoryRegion region = memory.find(address, size);
        String why = check(region, write ? TransferOpcode.WRITE : TransferOpcode.READ, address,
            size, memoryViews);
        if (why != null) {
          reject(v2, opcodeByte, address, size, why);
          return;
        }
        // Publish, then look again: the engine drops the region from find() before
        // unregistered() scans the workers, so either that scan sees us serving it (and waits) or
        // this second find() misses it. Both sides are volatile, so one of the two must happen.
        serving = region;
        if (memory.find(address, size) != region) {
          serving = null;
          reject(v2, opcodeByte, address, size, "memory was unregistered as the request arrived");
          return;
        }
        try {
          if (write) {
            input.readIntoRegion(views, region, address, size);
          } else if (size <= SMALL_READ_BYTES) {
            reserve(TcpWire.STATUS_BYTES + (int) size);
            if (v2) {
              pending.putLong(TcpWire.statusFrame(TcpWire.STATUS_OK));
            }
            RegionIo.copyFromRegion(views, region, address, size, pending);
          } else if (v2) {
            flushAnswers(); // the answers go in the order of the requests
            TcpWire.encodeStatus(status, TcpWire.STATUS_OK);
            RegionIo.writeFromRegion(out, views, region, address, size, status, pair);
          } else {
            flushAnswers();
            RegionIo.writeFromRegion(out, views, region, address, size, null, pair);
          }
        } finally {
          serving = null; // this thread no longer touches the region
        }
        if (write && v2) {
          reserve(TcpWire.STATUS_BYTES);
          pending.putLong(TcpWire.statusFrame(TcpWire.STATUS_OK)); // the bytes are in memory
        }
      }
    }

    /** Makes room for {@code bytes} of answers, sending those held back when they would not fit. */
    private void reserve(int bytes) throws IOException {
      if (pending == null) {
        pending = ByteBuffer.allocateDirect(REPLY_STAGE_BYTES)
            .order(java.nio.ByteOrder.LITTLE_ENDIAN);
      } else if (pending.remaining() < bytes) {
        flushAnswers();
      }
    }

    /** Sends the answers held back, in one write. */
    private void flushAnswers() throws IOException {
      if (pending != null && pending.position() > 0) {
        pending.flip();
        RegionIo.writeFully(out, pending);
        pending.clear();
      }
    }

    private void sendStatus(int code) throws IOException {
      flushAnswers();
      TcpWire.encodeStatus(status, code);
      RegionIo.writeFully(out, status);
    }

    /** Answers status 1 (v2), lets the initiator read it, and closes; memory is never touched. */
    private void reject(boolean v2, int opcodeByte, long address, long size, String why) {
      REJECTIONS.log(
          "tcp target: rejected request from {}: opcode 0x{}, {} bytes at 0x{}: {}",
          remote(),
          Integer.toHexString(opcodeByte),
          Long.toUnsignedString(size),
          Long.toHexString(address),
          why);
      if (!v2) {
        closeQuietly(channel);
        return;
      }
      try {
        sendStatus(TcpWire.STATUS_REJECTED);
        channel.shutdownOutput();
        drainInput();
      } catch (IOException e) {
        LOG.debug("tcp target: could not deliver a rejection: {}", e.toString());
      } finally {
        closeQuietly(channel);
      }
    }

    /**
     * Reads and drops what the initiator had already sent (a payload, pipelined headers) until it
     * closes, for a bounded time: closing with unread bytes would send an RST, which may overtake
     * the status frame at the initiator.
     */
    private void drainInput() throws IOException {
      long end = System.nanoTime() + REJECT_DRAIN_MILLIS * 1_000_000L;
      byte[] scratch = new byte[64 * 1024]; // rejections only; never on the data path
      InputStream in = channel.socket().getInputStream();
      while (!closed) {
        long left = (end - System.nanoTime()) / 1_000_000L;
        if (left <= 0) {
          return;
        }
        channel.socket().setSoTimeout((int) Math.max(1, left));
        try {
          if (in.read(scratch) < 0) {
            return;
          }
        } catch (SocketTimeoutException e) {
          return;
        }
      }
    }

    private String remote() {
      try {
        return String.valueOf(channel.getRemoteAddress());
      } catch (IOException e) {
        return "?";
      }
    }
  }
}
