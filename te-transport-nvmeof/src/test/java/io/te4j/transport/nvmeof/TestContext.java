package io.te4j.transport.nvmeof;

import io.te4j.api.spi.MemoryRegistry;
import io.te4j.api.spi.TransportContext;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** A transport context for tests: settings from a map, threads recorded. */
final class TestContext implements TransportContext {
  private static final AtomicInteger IDS = new AtomicInteger();

  final MemoryRegistry memory;
  final Map<String, String> settings = new ConcurrentHashMap<>();
  final List<Thread> threads = new CopyOnWriteArrayList<>();
  final String name = "nv" + IDS.incrementAndGet();
  volatile long transferTimeoutNanos = 30_000_000_000L;

  TestContext(MemoryRegistry memory) {
    this.memory = memory;
  }

  TestContext set(String key, String value) {
    settings.put(key, value);
    return this;
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
    return 0;
  }

  @Override
  public int maxPort() {
    return 0;
  }

  @Override
  public MemoryRegistry memory() {
    return memory;
  }

  @Override
  public long transferTimeoutNanos() {
    return transferTimeoutNanos;
  }

  @Override
  public String setting(String key) {
    return settings.get(key);
  }

  @Override
  public ThreadFactory threadFactory(String role) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + role + "-" + n.incrementAndGet());
      t.setDaemon(true);
      threads.add(t);
      return t;
    };
  }

  /** Threads of this context still alive after waiting up to {@code millis} for each. */
  List<Thread> aliveThreads(long millis) throws InterruptedException {
    List<Thread> alive = new CopyOnWriteArrayList<>();
    for (Thread t : threads) {
      t.join(millis);
      if (t.isAlive()) {
        alive.add(t);
      }
    }
    return alive;
  }
}
