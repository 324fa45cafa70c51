package io.te4j.core;

import io.te4j.core.observe.Observers;
import io.te4j.api.ErrorCode;
import io.te4j.api.HostPort;
import io.te4j.api.MetadataKeys;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferException;
import io.te4j.api.spi.MetadataStore;
import io.te4j.core.json.JsonCodec;
import io.te4j.core.metadata.SegmentResolver;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's view of the metadata: its own descriptor and RPC location as published, the
 * descriptors of peers (cached by {@link SegmentResolver}), and segments it publishes for others
 * (file segments). Thread-safe.
 */
final class Segments implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Segments.class);

  private final MetadataStore store;
  private final MetadataKeys keys;
  private final String segmentName;
  private final HostPort rpcAddress;
  private final SegmentResolver resolver;
  private final AutoCloseable watch;
  private volatile SegmentDescriptor localDescriptor;
  private volatile boolean closed;

  /**
   * The view of {@code store}; {@code changed} hears of a peer whose descriptor changed or is gone
   * (see {@link SegmentResolver}).
   */
  Segments(MetadataStore store, MetadataKeys keys, String segmentName, HostPort rpcAddress,
      java.util.function.Consumer<String> changed, Observers observers) {
    this.store = store;
    this.keys = keys;
    this.segmentName = segmentName;
    this.rpcAddress = rpcAddress;
    this.resolver = new SegmentResolver(store, keys, segmentName, () -> localDescriptor,
        rpcAddress, changed, observers);
    this.watch = store.watch(keys.prefix(), resolver::keyChanged);
  }

  /**
   * Publishes where this engine answers handshake frames. First of all: a store that refuses a
   * taken name (the reference's HTTP server does) stops the engine before it overwrites the
   * holder's descriptor.
   */
  void publishRpcAddress() {
    store.put(keys.rpcMetaKey(segmentName), JsonCodec.rpcMetaToJson(rpcAddress));
  }

  /** Publishes this engine's own descriptor (kept for peers' type-1 requests as well). */
  void publishLocal(SegmentDescriptor d) {
    localDescriptor = d;
    if (!closed) {
      store.put(keys.segmentKey(segmentName), JsonCodec.descriptorToJson(d));
    }
  }

  /** This engine's descriptor as last published (or being published), or null before. */
  SegmentDescriptor localDescriptor() {
    return localDescriptor;
  }

  /** A peer's descriptor, cached after the first lookup (this engine's own included). */
  SegmentDescriptor resolve(String name) {
    return resolver.resolve(name);
  }

  /** A peer's descriptor looked up afresh. */
  SegmentDescriptor refresh(String name) {
    return resolver.refresh(name);
  }

  /** Where the engine owning {@code name} answers handshake frames. */
  HostPort rpcAddress(String name) {
    return resolver.rpcAddress(name);
  }

  /** Drops what is cached of {@code name}: the next use looks it up again. */
  void invalidate(String name) {
    resolver.invalidate(name);
  }

  // ---------------------------------------------------------------- segments for others

  void publish(SegmentDescriptor descriptor) {
    refuseOwn(descriptor);
    store.put(keys.segmentKey(descriptor.name()), JsonCodec.descriptorToJson(descriptor));
    resolver.invalidate(descriptor.name());
  }

  boolean publishNew(SegmentDescriptor descriptor) {
    refuseOwn(descriptor);
    String key = keys.segmentKey(descriptor.name());
    String json = JsonCodec.descriptorToJson(descriptor);
    boolean published;
    try {
      published = store.compareAndSet(key, null, json);
    } catch (TransferException e) {
      if (e.errorCode() != ErrorCode.NOT_IMPLEMENTED) {
        throw e;
      }
      published = store.get(key).isEmpty();
      if (published) {
        store.put(key, json);
      }
    }
    resolver.invalidate(descriptor.name());
    return published;
  }

  void remove(String name) {
    store.remove(keys.segmentKey(name));
    resolver.removed(name);
  }

  Optional<SegmentDescriptor> find(String name) {
    return store.get(keys.segmentKey(name)).map(json -> JsonCodec.descriptorFromJson(json, name));
  }

  SortedMap<String, SegmentDescriptor> list(String namePrefix) {
    SortedMap<String, SegmentDescriptor> out = new TreeMap<>();
    store.list(keys.segmentKey(namePrefix)).forEach((key, json) -> {
      String name = keys.segmentNameOfAnyKey(key);
      if (name == null) {
        return;
      }
      try {
        out.put(name, JsonCodec.descriptorFromJson(json, name));
      } catch (TransferException e) {
        LOG.warn("segment '{}' in the store is not a descriptor: {}", name, e.getMessage());
      }
    });
    return out;
  }

  private void refuseOwn(SegmentDescriptor descriptor) {
    if (descriptor.name().equals(segmentName)) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT,
          "the engine's own segment is published by the engine");
    }
  }

  /**
   * Withdraws this engine's keys (as the reference does on exit), first thing when the engine
   * closes, so peers stop routing to it; nothing is published afterwards.
   */
  void withdraw() {
    closed = true;
    Closing.quietly(() -> store.remove(keys.segmentKey(segmentName)));
    Closing.quietly(() -> store.remove(keys.rpcMetaKey(segmentName)));
  }

  /** Stops watching and closes the store (which removes whatever else this engine put). */
  @Override
  public void close() {
    closed = true;
    Closing.quietly(watch::close);
    Closing.quietly(store::close);
  }
}
