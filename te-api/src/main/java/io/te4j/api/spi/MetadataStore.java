package io.te4j.api.spi;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import java.util.Optional;
import java.util.SortedMap;
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
   * Every key under {@code prefix} (a plain string prefix, such as {@code mooncake/nvmeof/}) with
   * its value, sorted by key: what is there now, whoever put it. The default cannot list.
   *
   * @throws io.te4j.api.TransferException NOT_IMPLEMENTED when the store cannot list keys (the
   *     reference's HTTP metadata server), METADATA when it cannot be reached
   */
  default SortedMap<String, String> list(String prefix) {
    throw new TransferException(ErrorCode.NOT_IMPLEMENTED,
        getClass().getSimpleName() + " cannot list keys");
  }

  /**
   * Atomically stores {@code value} under {@code key} when the key now holds {@code expected} (null:
   * when it is absent), owned by this engine like {@link #put}. Where two engines race, exactly one
   * wins. The default has no atomic compare.
   *
   * @return true when stored, false when the key held something else
   * @throws io.te4j.api.TransferException NOT_IMPLEMENTED when the store has no atomic compare,
   *     METADATA when it cannot be reached
   */
  default boolean compareAndSet(String key, String expected, String value) {
    throw new TransferException(ErrorCode.NOT_IMPLEMENTED,
        getClass().getSimpleName() + " has no atomic compare-and-set");
  }

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
