package io.te4j.testkit;

import io.te4j.api.ErrorCode;
import io.te4j.api.HostPort;
import io.te4j.api.TransferException;
import io.te4j.api.spi.Backpressure;
import io.te4j.api.spi.FrameHandler;
import io.te4j.api.spi.MemoryRegistry;
import io.te4j.api.spi.PeerAuth;
import io.te4j.api.spi.PeerRpc;
import io.te4j.api.spi.TransportContext;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A transport context without an engine: loopback host and bind address, ports from
 * {@link #ports} (0 and 0 unless set: any free port), a 30 s transfer timeout unless set, settings
 * from {@link #set} only (no system property or environment), and every thread its factories make
 * recorded, for leak checks ({@link #aliveThreads}).
 */
public final class TestContext implements TransportContext {
  private static final AtomicInteger IDS = new AtomicInteger();

  private final MemoryRegistry memory;
  private final Map<String, String> settings = new ConcurrentHashMap<>();
  private final List<Thread> threads = new CopyOnWriteArrayList<>();
  private final String name = "test" + IDS.incrementAndGet();
  private volatile int minPort;
  private volatile int maxPort;
  private volatile long transferTimeoutNanos = TimeUnit.SECONDS.toNanos(30);
  private final Map<Integer, FrameHandler> frameHandlers = new ConcurrentHashMap<>();
  private volatile PeerRpc rpc;
  private volatile PeerAuth peerAuth = PeerAuth.NONE;

  /** A context over {@code memory}, with a segment name of its own ({@code 127.0.0.1:testN}). */
  public TestContext(MemoryRegistry memory) {
    this.memory = memory;
  }

  /** Sets a setting the transport reads with {@link #setting}; returns this. */
  public TestContext set(String key, String value) {
    settings.put(key, value);
    return this;
  }

  /** Sets the transfer timeout; returns this. */
  public TestContext transferTimeoutMillis(long millis) {
    this.transferTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(millis);
    return this;
  }

  /** Sets the port range to listen on; returns this. */
  public TestContext ports(int min, int max) {
    this.minPort = min;
    this.maxPort = max;
    return this;
  }

  /** Every thread this context's factories made so far, alive or not, in order of creation. */
  public List<Thread> threads() {
    return Collections.unmodifiableList(new ArrayList<>(threads));
  }

  /** Threads made by this context that are still alive after waiting up to {@code millis} each. */
  public List<Thread> aliveThreads(long millis) throws InterruptedException {
    List<Thread> alive = new ArrayList<>();
    for (Thread t : threads) {
      t.join(millis);
      if (t.isAlive()) {
        alive.add(t);
      }
    }
    return alive;
  }

  @Override
  public String localSegmentName() {
    return "127.0.0.1:" + name;
  }

  @Override
  public String localHost() {
    return "127.0.0.1";
  }

  @Override
  public String bindAddress() {
    return "127.0.0.1";
  }

  @Override
  public int minPort() {
    return minPort;
  }

  @Override
  public int maxPort() {
    return maxPort;
  }

  @Override
  public MemoryRegistry memory() {
    return memory;
  }

  /** Slot 0: a test context serves one transport. */
  @Override
  public int registrationSlot() {
    return 0;
  }

  @Override
  public long transferTimeoutNanos() {
    return transferTimeoutNanos;
  }

  @Override
  public String setting(String key) {
    return settings.get(key);
  }

  /** Sets the client {@link #rpc} returns; returns this. */
  public TestContext rpc(PeerRpc client) {
    this.rpc = client;
    return this;
  }

  /** The frame handler a transport registered for {@code frameType}, or null. */
  public FrameHandler frameHandler(int frameType) {
    return frameHandlers.get(frameType);
  }

  /** The client set with {@link #rpc(PeerRpc)}; without one, calling a peer is SOCKET_FAIL. */
  @Override
  public PeerRpc rpc() {
    PeerRpc r = rpc;
    return r != null ? r : (host, port, type, body) -> {
      throw new TransferException(ErrorCode.SOCKET_FAIL, "no peer RPC in this test context");
    };
  }

  /** A segment name is its RPC address here ({@code host:port}), as in P2P mode. */
  @Override
  public HostPort peerRpcAddress(String segmentName) {
    return HostPort.parse(segmentName);
  }

  /** Records the handler (see {@link #frameHandler}); one per type, as the engine allows. */
  @Override
  public AutoCloseable serveFrames(int frameType, FrameHandler handler) {
    if (frameHandlers.putIfAbsent(frameType, handler) != null) {
      throw new IllegalStateException("frame type " + frameType + " is served already");
    }
    return () -> frameHandlers.remove(frameType, handler);
  }

  /** Authenticates connections with {@code auth} (a cluster secret) from now on. */
  public TestContext peerAuth(PeerAuth auth) {
    this.peerAuth = auth;
    return this;
  }

  @Override
  public PeerAuth peerAuth() {
    return peerAuth;
  }

  /** Daemon threads named {@code testN-<role>-<k>}, each recorded in {@link #threads()}. */
  @Override
  public ThreadFactory threadFactory(String role) {
    // Marked like the engine's transport threads: a full queue refuses on them instead of waiting.
    return Backpressure.transportThreads(TestThreads.factory(name, role, threads));
  }
}
