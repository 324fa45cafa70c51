package io.te4j.api.spi;

import java.util.Optional;
import java.util.function.Consumer;

/**
 * A key/value store of compact JSON strings under the keys of WIRE.md section 1 ({@code
 * mooncake/ram/<segment>}, {@code mooncake/rpc_meta/<server>}). The engine does the JSON; a store
 * only keeps strings. Thread-safe.
 */
public interface MetadataStore extends AutoCloseable {
  /**
   * The value under {@code key}, or empty when there is none.
   *
   * @throws io.te4j.api.TransferException METADATA when the store cannot be reached
   */
  Optional<String> get(String key);

  /** Stores {@code value} under {@code key}, owned by this engine (removed when it goes away). */
  void put(String key, String value);

  /** Removes {@code key}; no error when it is absent. */
  void remove(String key);

  /**
   * Calls {@code onChange} with the key whenever a key under {@code prefix} changes or vanishes, so
   * the engine can drop cached descriptors. Stores without watches keep the default, which never
   * calls back.
   *
   * @return closes the watch
   */
  default AutoCloseable watch(String prefix, Consumer<String> onChange) {
    return () -> {};
  }

  /** Removes what this engine put, when the store can, and releases connections. */
  @Override
  void close();
}
