package io.te4j.metadata.zk;

import io.te4j.api.spi.MetadataStoreContext;
import io.te4j.api.spi.PeerRpc;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadFactory;

/** What an engine would hand a store, for tests that use a store without an engine. */
final class TestContext implements MetadataStoreContext {
  private final String name;
  private final Duration operationTimeout;
  private final Map<String, String> settings = new HashMap<>();

  TestContext(String name, Duration operationTimeout) {
    this.name = name;
    this.operationTimeout = operationTimeout;
  }

  TestContext with(String setting, String value) {
    settings.put(setting, value);
    return this;
  }

  @Override
  public String localSegmentName() {
    return name;
  }

  @Override
  public PeerRpc rpc() {
    throw new UnsupportedOperationException("a zk store never calls peers");
  }

  @Override
  public long operationTimeoutNanos() {
    return operationTimeout.toNanos();
  }

  @Override
  public String setting(String setting) {
    return settings.get(setting);
  }

  @Override
  public ThreadFactory threadFactory(String role) {
    return r -> {
      Thread t = new Thread(r, name + "-" + role);
      t.setDaemon(true);
      return t;
    };
  }
}
