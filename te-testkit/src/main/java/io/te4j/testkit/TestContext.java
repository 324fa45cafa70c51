package io.te4j.testkit;

import io.te4j.api.spi.MemoryRegistry;
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

  @Override
  public long transferTimeoutNanos() {
    return transferTimeoutNanos;
  }

  @Override
  public String setting(String key) {
    return settings.get(key);
  }

  /** Daemon threads named {@code testN-<role>-<k>}, each recorded in {@link #threads()}. */
  @Override
  public ThreadFactory threadFactory(String role) {
    return TestThreads.factory(name, role, threads);
  }
}
