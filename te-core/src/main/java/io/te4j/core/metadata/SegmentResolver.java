package io.te4j.core.metadata;

import io.te4j.api.ErrorCode;
import io.te4j.api.HostPort;
import io.te4j.api.MetadataKeys;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferException;
import io.te4j.api.spi.MetadataStore;
import io.te4j.core.json.JsonCodec;
import io.te4j.core.observe.Observers;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Finds peers' descriptors and RPC addresses through the metadata store, and caches them. A cached
 * entry is dropped when a transfer to that peer breaks or the store reports a change, so a peer
 * that restarts with a new descriptor is found again on the next request.
 */
public final class SegmentResolver {
  private final MetadataStore store;
  private final MetadataKeys keys;
  private final String localName;
  private final Supplier<SegmentDescriptor> localDescriptor;
  private final HostPort localRpc;
  private final ConcurrentHashMap<String, SegmentDescriptor> descriptors = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, HostPort> rpcAddresses = new ConcurrentHashMap<>();
  /** The descriptor each peer published when last looked up: the cache may drop it, this not. */
  private final ConcurrentHashMap<String, SegmentDescriptor> lastSeen = new ConcurrentHashMap<>();
  private final Consumer<String> changed;
  private final Observers observers;

  /**
   * A resolver that tells {@code changed} the name of a peer whose descriptor, looked up again,
   * differs from the one it last saw, or is gone from the store.
   */
  public SegmentResolver(MetadataStore store, MetadataKeys keys, String localName,
      Supplier<SegmentDescriptor> localDescriptor, HostPort localRpc, Consumer<String> changed,
      Observers observers) {
    this.changed = changed;
    this.observers = observers;
    this.store = store;
    this.keys = keys;
    this.localName = localName;
    this.localDescriptor = localDescriptor;
    this.localRpc = localRpc;
  }

  /**
   * The descriptor of {@code segmentName}, cached after the first lookup.
   *
   * @throws TransferException METADATA when the store has none or cannot be reached,
   *     MALFORMED_JSON when the stored descriptor is invalid
   */
  public SegmentDescriptor resolve(String segmentName) {
    if (segmentName.equals(localName)) {
      return localDescriptor.get();
    }
    SegmentDescriptor d = descriptors.get(segmentName);
    return d != null ? d : refresh(segmentName);
  }

  /** Looks the descriptor up again, bypassing the cache. */
  public SegmentDescriptor refresh(String segmentName) {
    if (segmentName.equals(localName)) {
      return localDescriptor.get();
    }
    if (!observers.watchingLookups()) {
      return lookUp(segmentName);
    }
    long start = System.nanoTime();
    ErrorCode error = ErrorCode.METADATA;
    try {
      SegmentDescriptor d = lookUp(segmentName);
      error = null;
      return d;
    } catch (TransferException e) {
      error = e.errorCode();
      throw e;
    } finally {
      observers.lookedUp(segmentName, System.nanoTime() - start, error);
    }
  }

  private SegmentDescriptor lookUp(String segmentName) {
    Optional<String> json = store.get(keys.segmentKey(segmentName));
    if (json.isEmpty()) {
      gone(segmentName);
      throw new TransferException(ErrorCode.METADATA, "segment '" + segmentName + "' not found");
    }
    SegmentDescriptor d;
    try {
      d = JsonCodec.descriptorFromJson(json.get(), segmentName);
    } catch (TransferException e) {
      throw new TransferException(e.errorCode(),
          "descriptor of segment '" + segmentName + "': " + e.getMessage(), e);
    }
    descriptors.put(segmentName, d);
    SegmentDescriptor before = lastSeen.put(segmentName, d);
    if (before != null && !before.equals(d)) {
      changed.accept(segmentName);
    }
    return d;
  }

  /**
   * Where the engine owning {@code serverName} answers handshake frames.
   *
   * @throws TransferException METADATA when unknown
   */
  public HostPort rpcAddress(String serverName) {
    if (serverName.equals(localName)) {
      return localRpc;
    }
    HostPort hp = rpcAddresses.get(serverName);
    if (hp != null) {
      return hp;
    }
    Optional<String> json = store.get(keys.rpcMetaKey(serverName));
    if (json.isEmpty()) {
      throw new TransferException(ErrorCode.METADATA, "no RPC address for '" + serverName + "'");
    }
    hp = JsonCodec.rpcMetaFromJson(json.get());
    rpcAddresses.put(serverName, hp);
    return hp;
  }

  /** Drops what is cached for {@code name}. */
  public void invalidate(String name) {
    descriptors.remove(name);
    rpcAddresses.remove(name);
  }

  /** {@code name} was removed from the store by this engine: drops it and says it is gone. */
  public void removed(String name) {
    invalidate(name);
    gone(name);
  }

  /** A peer seen before is no longer in the store: tells {@code changed}, once. */
  private void gone(String name) {
    if (lastSeen.remove(name) != null) {
      changed.accept(name);
    }
  }

  /** Reacts to a store change notification for {@code key}. */
  public void keyChanged(String key) {
    String segment = keys.segmentNameOf(key);
    if (segment != null) {
      descriptors.remove(segment);
    } else if (key.startsWith(keys.prefix())) {
      // A name with '/' (nvmeof/x) is stored at <prefix><name>.
      descriptors.remove(key.substring(keys.prefix().length()));
    }
    String server = keys.serverNameOf(key);
    if (server != null) {
      rpcAddresses.remove(server);
    }
  }
}
