package io.te4j.testkit;

import io.te4j.api.spi.MetadataStoreContext;
import io.te4j.api.spi.PeerRpc;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;

/**
 * What an engine would hand a metadata store, for tests that open stores without an engine: a
 * segment name, an operation timeout (5 s unless given), settings from {@link #with} only (no
 * system property or environment), and no peers unless {@link #rpc(PeerRpc)} gives a client.
 * Threads are daemons named {@code test-<segment>-<role>-<n>}, so tests can look for leftovers.
 */
public final class TestStoreContext implements MetadataStoreContext {
  private static final PeerRpc NO_PEERS = (host, port, frameType, body) -> {
    throw new UnsupportedOperationException("this test's store has no peers to call");
  };

  private final String segmentName;
  private final long operationTimeoutNanos;
  private final Map<String, String> settings = new ConcurrentHashMap<>();
  private volatile PeerRpc rpc = NO_PEERS;

  /** A context for {@code segmentName} with this operation timeout. */
  public TestStoreContext(String segmentName, Duration operationTimeout) {
    this.segmentName = segmentName;
    this.operationTimeoutNanos = operationTimeout.toNanos();
  }

  /** A context for {@code segmentName} with a 5 s operation timeout. */
  public TestStoreContext(String segmentName) {
    this(segmentName, Duration.ofSeconds(5));
  }

  /**
   * A context with this operation timeout and settings.
   *
   * @param nameValues setting names and values, alternating
   */
  public static TestStoreContext of(String segmentName, Duration operationTimeout,
      String... nameValues) {
    if (nameValues.length % 2 != 0) {
      throw new IllegalArgumentException("a setting without a value: " + nameValues.length);
    }
    TestStoreContext c = new TestStoreContext(segmentName, operationTimeout);
    for (int i = 0; i < nameValues.length; i += 2) {
      c.with(nameValues[i], nameValues[i + 1]);
    }
    return c;
  }

  /** Sets a setting the store reads with {@link #setting}; returns this. */
  public TestStoreContext with(String name, String value) {
    settings.put(name, value);
    return this;
  }

  /** Makes {@link #rpc()} return {@code client}; returns this. */
  public TestStoreContext rpc(PeerRpc client) {
    this.rpc = client;
    return this;
  }

  @Override
  public String localSegmentName() {
    return segmentName;
  }

  /** The client given to {@link #rpc(PeerRpc)}; without one, calls throw. */
  @Override
  public PeerRpc rpc() {
    return rpc;
  }

  @Override
  public long operationTimeoutNanos() {
    return operationTimeoutNanos;
  }

  @Override
  public String setting(String name) {
    return settings.get(name);
  }

  @Override
  public ThreadFactory threadFactory(String role) {
    return TestThreads.factory("test-" + segmentName, role, null);
  }
}
