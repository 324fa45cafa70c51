package io.te4j.metadata.etcd;

import io.te4j.api.spi.MetadataStore;
import io.te4j.api.spi.MetadataStoreContext;
import io.te4j.api.spi.MetadataStoreProvider;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A test-only store provider (scheme {@code etcd-spy}) that hands the engine a real {@link
 * EtcdMetadataStore} wrapped to count its gets and record the watch callbacks it delivered, so a
 * test can see the engine's cache at work from outside. Not published in the test JAR.
 */
public final class SpyEtcdStoreProvider implements MetadataStoreProvider {
  /** The scheme of engines whose store is spied on: {@code etcd-spy://h:p}. */
  public static final String SCHEME = "etcd-spy";
  private static final ConcurrentHashMap<String, Spy> SPIES = new ConcurrentHashMap<>();

  @Override
  public String scheme() {
    return SCHEME;
  }

  @Override
  public MetadataStore create(String location, MetadataStoreContext context) {
    Spy spy = new Spy(new EtcdMetadataStoreProvider().create(location, context));
    SPIES.put(context.localSegmentName(), spy);
    return spy;
  }

  /** The spy of the engine whose segment is {@code segmentName}. */
  public static Spy of(String segmentName) {
    return SPIES.get(segmentName);
  }

  /** The wrapped store. */
  public static final class Spy implements MetadataStore {
    private final MetadataStore delegate;
    private final ConcurrentHashMap<String, AtomicInteger> gets = new ConcurrentHashMap<>();
    private final BlockingQueue<String> delivered = new LinkedBlockingQueue<>();

    Spy(MetadataStore delegate) {
      this.delegate = delegate;
    }

    /** How often the engine read {@code key} from etcd. */
    public int gets(String key) {
      AtomicInteger n = gets.get(key);
      return n == null ? 0 : n.get();
    }

    /**
     * Waits until the engine's watch callback has returned for {@code key}, skipping others.
     *
     * @return false when it did not within {@code bound}
     */
    public boolean awaitDelivered(String key, Duration bound) throws InterruptedException {
      long deadline = System.nanoTime() + bound.toNanos();
      for (long left; (left = deadline - System.nanoTime()) > 0; ) {
        String k = delivered.poll(left, TimeUnit.NANOSECONDS);
        if (key.equals(k)) {
          return true;
        }
      }
      return false;
    }

    @Override
    public Optional<String> get(String key) {
      gets.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
      return delegate.get(key);
    }

    @Override
    public void put(String key, String value) {
      delegate.put(key, value);
    }

    @Override
    public void remove(String key) {
      delegate.remove(key);
    }

    @Override
    public AutoCloseable watch(String prefix, Consumer<String> onChange) {
      return delegate.watch(prefix, key -> {
        onChange.accept(key);
        delivered.add(key); // after the engine's callback returned
      });
    }

    @Override
    public void close() {
      delegate.close();
    }
  }
}
