package io.te4j.metadata.etcd;

import io.te4j.api.spi.MetadataStoreContext;
import io.te4j.api.spi.PeerRpc;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** A store context for tests that open stores without an engine: explicit settings only. */
public final class TestStoreContext implements MetadataStoreContext {
  private final String name;
  private final long timeoutNanos;
  private final Map<String, String> settings;

  private TestStoreContext(String name, Duration timeout, Map<String, String> settings) {
    this.name = name;
    this.timeoutNanos = timeout.toNanos();
    this.settings = settings;
  }

  /**
   * A context with this operation timeout and settings.
   *
   * @param nameValues setting names and values, alternating
   */
  public static TestStoreContext of(String name, Duration timeout, String... nameValues) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i + 1 < nameValues.length; i += 2) {
      m.put(nameValues[i], nameValues[i + 1]);
    }
    return new TestStoreContext(name, timeout, m);
  }

  @Override
  public String localSegmentName() {
    return name;
  }

  @Override
  public PeerRpc rpc() {
    throw new UnsupportedOperationException("no peers in store tests");
  }

  @Override
  public long operationTimeoutNanos() {
    return timeoutNanos;
  }

  @Override
  public String setting(String settingName) {
    return settings.get(settingName);
  }

  @Override
  public ThreadFactory threadFactory(String role) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "test-" + name + "-" + role + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
