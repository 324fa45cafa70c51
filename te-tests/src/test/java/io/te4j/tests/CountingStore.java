package io.te4j.tests;

import io.te4j.api.spi.MetadataStore;
import io.te4j.api.spi.MetadataStoreContext;
import io.te4j.api.spi.MetadataStoreProvider;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A metadata store in this JVM that counts the writes of each key: how often an engine publishes
 * its descriptor. Scheme {@code counting} ({@code counting://any}); engines of one JVM share it.
 */
final class CountingStore implements MetadataStore {
  static final Map<String, String> VALUES = new ConcurrentHashMap<>();
  static final Map<String, AtomicInteger> PUTS = new ConcurrentHashMap<>();

  /** How many times {@code key} was written so far. */
  static int puts(String key) {
    AtomicInteger n = PUTS.get(key);
    return n == null ? 0 : n.get();
  }

  @Override
  public Optional<String> get(String key) {
    return Optional.ofNullable(VALUES.get(key));
  }

  @Override
  public void put(String key, String value) {
    VALUES.put(key, value);
    PUTS.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
  }

  @Override
  public void remove(String key) {
    VALUES.remove(key);
  }

  @Override
  public SortedMap<String, String> list(String prefix) {
    SortedMap<String, String> out = new TreeMap<>();
    VALUES.forEach((k, v) -> {
      if (k.startsWith(prefix)) {
        out.put(k, v);
      }
    });
    return out;
  }

  @Override
  public void close() {}

  /** Found by ServiceLoader. */
  public static final class Provider implements MetadataStoreProvider {
    @Override
    public String scheme() {
      return "counting";
    }

    @Override
    public MetadataStore create(String location, MetadataStoreContext context) {
      return new CountingStore();
    }
  }
}
