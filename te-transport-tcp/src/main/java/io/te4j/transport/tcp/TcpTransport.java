package io.te4j.transport.tcp;

import io.te4j.api.AddressRanges;
import io.te4j.api.BufferDescriptor;
import io.te4j.api.ErrorCode;
import io.te4j.api.HostPort;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.Setting;
import io.te4j.api.spi.TransferSlice;
import io.te4j.api.spi.Transport;
import io.te4j.api.spi.TransportContext;
import io.te4j.api.spi.inflight.InFlightTable;
import io.te4j.api.spi.inflight.Watchdog;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TCP data transport, wire-compatible with the reference engine (WIRE.md section 4, protocol
 * v1 and v2).
 *
 * <p><b>Target side</b> ({@link #start}): a data port in {@code [minPort, maxPort]}, an acceptor
 * thread and a fixed set of I/O threads serving every connection without blocking (TLS
 * connections: a thread each), at most 1024 connections from one address and 16384 in all (over
 * either, the longest-idle connection is closed to make room), each closed once idle past {@value
 * #IDLE_TIMEOUT_SETTING} (10 s before a first request). Each request is checked against the
 * engine's registered memory (one region, remote-accessible, overflow-safe) before a byte moves;
 * bytes go straight between the socket and the region's chunk buffers.
 *
 * <p><b>Initiator side</b> ({@link #submit}): per peer ({@code host}, data port, protocol version)
 * {@value #LANES_SETTING} persistent connections ("lanes"), slices spread over them round-robin.
 * Each lane has a bounded queue, a sender thread and a receiver thread, and pipelines up to
 * {@value #IN_FLIGHT_DEPTH} requests. One watchdog thread enforces slice deadlines.
 *
 * <p>Threads: {@link #start}, {@link #unregistered} and {@link #forget} are called by the engine;
 * {@link #submit} from any application thread, never blocking on the network and allocation-free
 * once a peer's lanes exist; slices are completed or failed on the lanes' receiver threads (and on
 * the sender, watchdog or submitting thread for failures that happen there, and on the thread
 * calling {@link #unregistered} for queued slices on the region it drops).
 *
 * <p><b>Unregistration</b> ({@link #unregistered}): the engine drops a region from its registry,
 * calls us, then unmaps it. Each target connection publishes the region it copies in a volatile
 * field and each lane sender the region of the slice it holds, and both look the range up again
 * after publishing, so a request or slice that races with the unregistration is either seen by {@link
 * #unregistered} (which waits for it) or refused by the target (status 1) or the sender
 * (ADDRESS_NOT_REGISTERED). The data path pays two volatile writes and one registry lookup per
 * request; no lock, no allocation.
 *
 * <p>Settings (system property, else environment variable, through {@link
 * TransportContext#setting}): {@value #LANES_SETTING} (default {@value #DEFAULT_LANES}), {@value
 * #SLICE_BYTES_SETTING} (default 4 MiB), {@value #QUEUE_DEPTH_SETTING} (default {@value
 * #DEFAULT_QUEUE_DEPTH}), declared in {@link #SETTINGS}. A malformed value is INVALID_CONFIGURATION
 * naming it.
 */
public final class TcpTransport implements Transport {
  /** Connections per peer. */
  public static final String LANES_SETTING = "te4j.tcp.lanes";
  /** The largest slice the engine should hand us, in bytes. */
  public static final String SLICE_BYTES_SETTING = "te4j.tcp.sliceBytes";
  /** Slices that may wait per lane; a submitter beyond them waits for room (Backpressure). */
  public static final String QUEUE_DEPTH_SETTING = "te4j.tcp.queueDepth";
  /** SO_SNDBUF/SO_RCVBUF of data connections in bytes (default 4 MiB); 0 leaves them to the kernel. */
  public static final String SOCKET_BUFFER_SETTING = "te4j.tcp.socketBufferBytes";
  /** The protocol version published and spoken: 2 (acknowledged), or 1 as the reference's MC_TCP_PROTO=1. */
  public static final String PROTO_VERSION_SETTING = "te4j.tcp.protoVersion";
  /** Seconds a target keeps a data connection that sends no request (default 300). */
  public static final String IDLE_TIMEOUT_SETTING = "te4j.tcp.idleTimeout";

  public static final int DEFAULT_LANES = 2;
  public static final long DEFAULT_SLICE_BYTES = 4L << 20;
  public static final int DEFAULT_QUEUE_DEPTH = 1024;

  static final Setting<Integer> LANES = Setting.integer(LANES_SETTING, DEFAULT_LANES, 1, 64,
      "TCP connections per peer").alias("MC_TCP_LANES_PER_PEER");
  static final Setting<Long> SLICE_BYTES = Setting.bytes(SLICE_BYTES_SETTING, DEFAULT_SLICE_BYTES,
      1, 1L << 30, "largest slice the TCP transport takes; larger requests are split across lanes");
  static final Setting<Integer> QUEUE_DEPTH = Setting.integer(QUEUE_DEPTH_SETTING,
      DEFAULT_QUEUE_DEPTH, 1, 1 << 20,
      "slices waiting per lane; a submit beyond them waits for room until its deadline");
  static final Setting<Long> SOCKET_BUFFER = Setting.bytes(SOCKET_BUFFER_SETTING, 4L << 20, 0,
      1L << 30, "SO_SNDBUF and SO_RCVBUF of data connections; 0 leaves them to the kernel");
  static final Setting<Double> IDLE_TIMEOUT = Setting.seconds(IDLE_TIMEOUT_SETTING, 300,
      "how long a data connection may sit between requests before the target closes it (the"
          + " initiator reconnects); a new connection gets at most 10 s to send its first");
  static final Setting<Integer> PROTO_VERSION = Setting.integer(PROTO_VERSION_SETTING,
      TcpDescriptorFields.V2, TcpDescriptorFields.V1, TcpDescriptorFields.V2,
      "TCP protocol version this engine publishes and speaks: 2 acknowledges every request with a"
          + " status frame, 1 is the reference's first protocol (no acknowledgment: a write is"
          + " complete once sent); MC_TCP_PROTO=1 as in the reference").alias("MC_TCP_PROTO");
  /** What {@link TcpTransportProvider#settings()} declares. */
  static final List<Setting<?>> SETTINGS = java.util.stream.Stream.concat(
      java.util.stream.Stream.of(LANES, SLICE_BYTES, QUEUE_DEPTH, SOCKET_BUFFER, IDLE_TIMEOUT,
          PROTO_VERSION, TcpTarget.IO_THREADS),
      ConnectionSecurity.SETTINGS.stream()).toList();
  /** Requests pipelined per lane. */
  public static final int IN_FLIGHT_DEPTH = 64;

  private static final long WATCHDOG_PERIOD_MILLIS = 25;
  private static final long CLOSE_WAIT_NANOS = 2_000_000_000L;
  /**
   * After closing the connections that outlasted the transfer timeout, how long unregistered()
   * waits for their threads to leave the region (a closed socket fails a blocked read at once; a
   * lane's receiver may wait up to a second for its sender first).
   */
  private static final long ABORT_WAIT_NANOS = 5_000_000_000L;

  private static final Logger LOG = LoggerFactory.getLogger(TcpTransport.class);

  private final TransportContext context;
  private final int lanesPerPeer;
  private final long sliceBytes;
  private final int queueDepth;
  private final int protoVersion;
  private final int socketBufferBytes;
  /** TLS and the cluster secret, for every data connection both ways. */
  private final ConnectionSecurity security;
  /** The memory generation (bumped when memory is unregistered) and the way to device memory. */
  private final MemoryViews memoryViews;

  /** Segment name -> its peer; read lock-free on every submit. */
  private final ConcurrentHashMap<String, Route> routes = new ConcurrentHashMap<>();
  private final Object peersLock = new Object();
  private final Map<PeerKey, Peer> peers = new HashMap<>(); // guarded by peersLock
  /** Every lane whose threads may still run, including lanes of forgotten peers. */
  private final Set<TcpLane> lanes = ConcurrentHashMap.newKeySet();
  private Watchdog watchdog; // guarded by peersLock
  private volatile TcpTarget target;
  private volatile boolean closed;
  /** True when tcp is the engine's primary transport: it then names the published buffers. */
  private volatile boolean primary;

  /**
   * Reads the settings; opens nothing until {@link #start}.
   *
   * @throws io.te4j.api.TransferException INVALID_CONFIGURATION naming a malformed setting
   */
  public TcpTransport(TransportContext context) {
    this.context = Objects.requireNonNull(context, "context");
    this.memoryViews = new MemoryViews(context);
    this.lanesPerPeer = context.setting(LANES);
    this.sliceBytes = context.setting(SLICE_BYTES);
    this.queueDepth = context.setting(QUEUE_DEPTH);
    this.protoVersion = context.setting(PROTO_VERSION);
    this.socketBufferBytes = (int) (long) context.setting(SOCKET_BUFFER);
    this.security = ConnectionSecurity.of(context);
  }

  @Override
  public String name() {
    return "tcp";
  }

  /**
   * Binds the data port and starts serving; sets {@code tcp_data_port} and {@code
   * tcp_proto_version = 2} on the local descriptor.
   *
   * @throws IOException when no port in the range can be bound
   */
  @Override
  public void start(SegmentDescriptor.Builder localDescriptor) throws IOException {
    synchronized (peersLock) {
      if (closed) {
        throw new IllegalStateException("tcp transport is closed");
      }
      if (target != null) {
        throw new IllegalStateException("tcp transport already started");
      }
      TcpTarget t =
          new TcpTarget(
              context.memory(),
              security,
              context.threadFactory("tcp-acceptor"),
              context.threadFactory("tcp-target"),
              socketBufferBytes,
              memoryViews,
              Math.round(context.setting(IDLE_TIMEOUT) * 1e9),
              context.setting(TcpTarget.IO_THREADS));
      int port = t.start(context.bindAddress(), context.minPort(), context.maxPort());
      target = t;
      primary = name().equals(localDescriptor.build().protocol());
      TcpDescriptorFields.publish(localDescriptor, port, protoVersion);
      LOG.info("tcp transport: data port {}", port);
    }
  }

  /** The bound data port, or 0 before {@link #start}. */
  public int dataPort() {
    TcpTarget t = target;
    return t == null ? 0 : t.port();
  }

  /**
   * Host memory, and device memory a device module reaches (staged through a pinned host buffer
   * per thread, both here and at a te4j target).
   */
  @Override
  public boolean canMove(io.te4j.api.MemoryKind kind) {
    return memoryViews.reaches(kind);
  }

  @Override
  public boolean canReach(SegmentDescriptor target) {
    return TcpDescriptorFields.hasDataPort(target);
  }

  /**
   * As the reference publishes TCP buffers: named after the server, not the memory's location,
   * when TCP is the engine's protocol (the descriptor's name for its buffers); left alone beside
   * another primary transport, whose naming wins.
   */
  @Override
  public BufferDescriptor describe(MemoryRegion region, BufferDescriptor base) {
    if (!primary) {
      return base;
    }
    return new BufferDescriptor(context.localSegmentName(), base.address(), base.length(),
        base.remoteKeys(), base.localKeys(), base.attributes());
  }

  @Override
  public long maxSliceBytes() {
    return sliceBytes;
  }

  /**
   * Returns once no thread of this transport reads or writes {@code region}: queued slices on it
   * fail at once (FAILED, ADDRESS_NOT_REGISTERED, "local memory unregistered"); requests a peer
   * has us serve on it and slices on it already in flight are waited for, up to the transfer
   * timeout ({@link TransportContext#transferTimeoutNanos}). Past that the connections concerned
   * are closed, their slices fail with TRANSFER_FAILED (lane mates on those connections too), and
   * this waits until the threads copying have left the region. A request or slice arriving after
   * the engine dropped the region is refused without touching it.
   *
   * <p>Runs on the engine's thread (under its registration lock); polls the workers and lanes
   * with a short backoff instead of making the data path signal it.
   */
  @Override
  public void unregistered(MemoryRegion region) {
    memoryViews.generation.incrementAndGet(); // threads drop cached views of chunks
    long start = System.nanoTime();
    long deadline = start + Math.max(0, context.transferTimeoutNanos());
    List<TransferSlice> scratch = new ArrayList<>();
    for (TcpLane lane : lanes) {
      lane.failQueuedOn(region, scratch);
    }
    if (awaitUnused(region, deadline)) {
      return;
    }
    LOG.warn("tcp transport: transfers on region 0x{} still running {} ms after it was"
            + " unregistered; closing their connections",
        Long.toHexString(region.address()), (System.nanoTime() - start) / 1_000_000L);
    TcpTarget t = target;
    if (t != null) {
      t.abortServing(region);
    }
    for (TcpLane lane : lanes) {
      lane.abortUsersOf(region);
    }
    if (!awaitUnused(region, System.nanoTime() + ABORT_WAIT_NANOS)) {
      LOG.error("tcp transport: a thread still uses region 0x{} after its connection was"
          + " closed; returning anyway", Long.toHexString(region.address()));
    }
  }

  /** Waits until no worker or lane uses {@code region} or {@code deadline} passes. */
  private boolean awaitUnused(MemoryRegion region, long deadline) {
    return InFlightTable.awaitQuiet(() -> !inUse(region), deadline);
  }

  /** True while a target worker or a lane's sender or receiver may touch {@code region}. */
  boolean inUse(MemoryRegion region) {
    TcpTarget t = target;
    if (t != null && t.isServing(region)) {
      return true;
    }
    for (TcpLane lane : lanes) {
      if (lane.touches(region)) {
        return true;
      }
    }
    return false;
  }

  /**
   * True when {@code held} is {@code region} or overlaps it. Identity is the normal case (slices
   * and workers hold what the registry returned); the overlap test keeps us safe should a
   * registry hand out distinct objects for the same memory.
   */
  static boolean sameMemory(MemoryRegion held, MemoryRegion region) {
    return held != null
        && (held == region
            || AddressRanges.overlaps(
                held.address(), held.length(), region.address(), region.length()));
  }

  /**
   * Queues the slice on one of its peer's lanes. Never blocks on the network; a full lane queue
   * makes an application thread wait for room until the slice's deadline ({@link
   * io.te4j.api.spi.Backpressure}). Every problem is reported through {@link TransferSlice#fail}: a
   * full queue on a transport thread as TOO_MANY_REQUESTS, no room before the deadline as
   * TRANSFER_TIMEOUT, a closed transport as ENGINE_CLOSED.
   */
  @Override
  public void submit(TransferSlice slice) {
    if (closed) {
      slice.fail(TransferState.FAILED, ErrorCode.ENGINE_CLOSED, "tcp transport closed");
      return;
    }
    long length = slice.length();
    if (length == 0) {
      slice.complete(); // WIRE.md: zero-length requests complete locally
      return;
    }
    SegmentDescriptor desc = slice.target();
    int port = TcpDescriptorFields.dataPort(desc);
    if (port < 0) {
      slice.fail(TransferState.FAILED, ErrorCode.INVALID_ARGUMENT,
          "segment " + desc.name() + " publishes no usable tcp_data_port ("
              + desc.attributes().get(TcpDescriptorFields.DATA_PORT) + ")");
      return;
    }
    MemoryRegion local = slice.localRegion();
    if (local == null || !local.contains(slice.localAddress(), length)) {
      slice.fail(TransferState.FAILED, ErrorCode.ADDRESS_NOT_REGISTERED,
          "local range of " + Long.toUnsignedString(length) + " bytes at 0x"
              + Long.toHexString(slice.localAddress()) + " is not inside its region");
      return;
    }
    Peer peer;
    try {
      peer = peerFor(desc, port);
    } catch (RuntimeException | OutOfMemoryError e) {
      // e.g. no more threads for a new peer's lanes
      slice.fail(TransferState.FAILED, ErrorCode.SOCKET_FAIL,
          "cannot set up tcp lanes to " + desc.name() + ": " + e);
      return;
    }
    if (peer == null) {
      slice.fail(TransferState.FAILED, ErrorCode.ENGINE_CLOSED, "tcp transport closed");
      return;
    }
    TcpLane[] peerLanes = peer.lanes;
    int n = peerLanes.length;
    TcpLane lane =
        n == 1 ? peerLanes[0] : peerLanes[(peer.next.getAndIncrement() & Integer.MAX_VALUE) % n];
    lane.enqueue(slice);
  }

  /** The live peer for a descriptor; the common case is one map lookup, no allocation. */
  private Peer peerFor(SegmentDescriptor desc, int port) {
    int version = Math.min(TcpDescriptorFields.protoVersion(desc), protoVersion);
    String segment = desc.name();
    Route route = routes.get(segment);
    if (route != null && route.port == port && route.version == version && !route.peer.closed) {
      return route.peer;
    }
    return createPeer(segment, port, version);
  }

  private Peer createPeer(String segment, int port, int version) {
    // A segment name is host:port (the RPC port); anything else names the host itself.
    HostPort hostPort = HostPort.tryParse(segment);
    String host = hostPort != null ? hostPort.host() : segment;
    PeerKey key = new PeerKey(host, port, version);
    synchronized (peersLock) {
      if (closed) {
        return null;
      }
      Peer peer = peers.get(key);
      if (peer == null || peer.closed) {
        peer = new Peer(key, newLanes(key));
        peers.put(key, peer);
        ensureWatchdogLocked();
      }
      Route old = routes.put(segment, new Route(port, version, peer));
      if (old != null && old.peer != peer && !isRoutedLocked(old.peer)) {
        // The segment moved (new port or protocol): nobody uses the old peer's lanes any more.
        retirePeerLocked(old.peer);
      }
      return peer;
    }
  }

  private TcpLane[] newLanes(PeerKey key) {
    TcpLane[] result = new TcpLane[lanesPerPeer];
    for (int i = 0; i < result.length; i++) {
      result[i] =
          new TcpLane(
              key.host,
              key.port,
              key.version,
              i,
              IN_FLIGHT_DEPTH,
              queueDepth,
              socketBufferBytes,
              context.memory(),
              security,
              memoryViews,
              context.threadFactory("tcp-send"),
              context.threadFactory("tcp-recv"),
              lanes::remove,
              this::submit);
    }
    for (TcpLane lane : result) {
      lanes.add(lane);
      lane.start();
    }
    return result;
  }

  private boolean isRoutedLocked(Peer peer) {
    for (Route r : routes.values()) {
      if (r.peer == peer) {
        return true;
      }
    }
    return false;
  }

  private void retirePeerLocked(Peer peer) {
    peer.closed = true;
    peers.remove(peer.key, peer);
    for (TcpLane lane : peer.lanes) {
      lane.retire();
    }
  }

  /**
   * Drops the cached route and lanes of that segment: the next slice for it resolves its
   * descriptor afresh and opens new connections. The old lanes are retired, not killed: what they
   * already hold completes, fails on its own (connection lost, deadline) or times out, and they
   * close once idle, so a peer that merely re-published its descriptor loses no transfers. Does
   * not block.
   */
  @Override
  public void forget(String segmentName) {
    synchronized (peersLock) {
      Route route = routes.remove(segmentName);
      if (route != null && !route.peer.closed && !isRoutedLocked(route.peer)) {
        retirePeerLocked(route.peer);
      }
    }
  }

  private void ensureWatchdogLocked() {
    if (watchdog == null && !closed) {
      List<TransferSlice> scratch = new ArrayList<>();
      watchdog = new Watchdog(context.threadFactory("tcp-watchdog"), WATCHDOG_PERIOD_MILLIS,
          () -> checkDeadlines(scratch)).start();
    }
  }

  /** Deadlines of queued and in-flight slices on every lane (the watchdog's check). */
  private void checkDeadlines(List<TransferSlice> scratch) {
    long now = System.nanoTime();
    for (TcpLane lane : lanes) {
      try {
        lane.checkDeadlines(now, scratch);
      } catch (RuntimeException e) {
        scratch.clear();
        LOG.error("tcp watchdog: lane {} check failed", lane.peerName(), e);
      }
    }
  }

  /** Number of lanes whose threads are still running (for tests and diagnostics). */
  int liveLaneCount() {
    return lanes.size();
  }

  /** Lanes holding an open connection now (for tests and diagnostics). */
  int connectedLaneCount() {
    int n = 0;
    for (TcpLane lane : lanes) {
      if (lane.isConnected()) {
        n++;
      }
    }
    return n;
  }

  /** Slices in flight on all lanes now (for tests and diagnostics). */
  int inFlightCount() {
    int n = 0;
    for (TcpLane lane : lanes) {
      n += lane.inFlightCount();
    }
    return n;
  }

  /** Slices waiting in the lanes' queues now (for tests and diagnostics). */
  int queuedCount() {
    int n = 0;
    for (TcpLane lane : lanes) {
      n += lane.queuedCount();
    }
    return n;
  }

  /** Connections the target side serves now (for tests and diagnostics). */
  int targetConnectionCount() {
    TcpTarget t = target;
    return t == null ? 0 : t.connectionCount();
  }

  /** Connections the target side refused or closed for idling (for tests and diagnostics). */
  long targetRefusedConnections() {
    TcpTarget t = target;
    return t == null ? 0 : t.refusedConnections();
  }

  /**
   * Stops the acceptor, closes every socket, fails what is queued or in flight with ENGINE_CLOSED
   * and waits (about 2 s at most) for the threads. Idempotent.
   */
  @Override
  public void close() {
    List<TcpLane> toJoin;
    Watchdog dog;
    TcpTarget t;
    synchronized (peersLock) {
      if (closed) {
        return;
      }
      closed = true;
      for (Peer peer : peers.values()) {
        peer.closed = true;
      }
      peers.clear();
      routes.clear();
      toJoin = new ArrayList<>(lanes);
      dog = watchdog;
      t = target;
    }
    long deadline = System.nanoTime() + CLOSE_WAIT_NANOS;
    if (t != null) {
      t.shutdown();
    }
    for (TcpLane lane : toJoin) {
      lane.close(TcpLane.CLOSED);
    }
    for (TcpLane lane : toJoin) {
      lane.join(deadline);
    }
    if (t != null) {
      t.awaitStopped(deadline);
    }
    if (dog != null) {
      dog.close(deadline);
    }
  }

  private static final class PeerKey {
    final String host;
    final int port;
    final int version;

    PeerKey(String host, int port, int version) {
      this.host = host;
      this.port = port;
      this.version = version;
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof PeerKey)) {
        return false;
      }
      PeerKey k = (PeerKey) o;
      return port == k.port && version == k.version && host.equals(k.host);
    }

    @Override
    public int hashCode() {
      return (host.hashCode() * 31 + port) * 31 + version;
    }
  }

  private static final class Peer {
    final PeerKey key;
    final TcpLane[] lanes;
    final AtomicInteger next = new AtomicInteger();
    volatile boolean closed;

    Peer(PeerKey key, TcpLane[] lanes) {
      this.key = key;
      this.lanes = lanes;
    }
  }

  private static final class Route {
    final int port;
    final int version;
    final Peer peer;

    Route(int port, int version, Peer peer) {
      this.port = port;
      this.version = version;
      this.peer = peer;
    }
  }
}
