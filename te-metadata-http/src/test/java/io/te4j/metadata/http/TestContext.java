package io.te4j.metadata.http;

import io.te4j.api.spi.MetadataStoreContext;
import io.te4j.api.spi.PeerRpc;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** A store context without an engine: a segment name, a timeout and explicit settings. */
final class TestContext implements MetadataStoreContext {
  private final String segment;
  private final Duration timeout;
  private final Map<String, String> settings = new HashMap<>();

  TestContext(String segment, Duration timeout) {
    this.segment = segment;
    this.timeout = timeout;
  }

  TestContext(String segment) {
    this(segment, Duration.ofSeconds(5));
  }

  TestContext with(String name, String value) {
    settings.put(name, value);
    return this;
  }

  @Override
  public String localSegmentName() {
    return segment;
  }

  @Override
  public PeerRpc rpc() {
    throw new UnsupportedOperationException("the HTTP store never calls peers");
  }

  @Override
  public long operationTimeoutNanos() {
    return timeout.toNanos();
  }

  @Override
  public String setting(String name) {
    return settings.get(name);
  }

  @Override
  public ThreadFactory threadFactory(String role) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "test-" + segment + "-" + role + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
