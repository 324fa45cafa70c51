package io.te4j.metadata.p2p;

import io.te4j.api.ErrorCode;
import io.te4j.api.HostPort;
import io.te4j.api.MetadataKeys;
import io.te4j.api.TransferException;
import io.te4j.api.spi.MetadataStore;
import io.te4j.api.spi.MetadataStoreContext;
import io.te4j.api.spi.PeerRpc;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The P2P handshake "store" (WIRE.md section 3, P2P mode): there is no shared store. A segment's
 * name is {@code host:rpcPort}, and its descriptor is asked of that peer with a type-1 frame, the
 * request carrying this engine's own descriptor as the reference's does.
 *
 * <ul>
 *   <li>{@code get} of a {@code ram/} key fetches from the peer named by the key (an empty reply,
 *       {@code {}} or {@code null} reads as absent); of an {@code rpc_meta/} key it answers {@code
 *       {"ip_or_host_name":host,"rpc_port":port}} built from the name; of anything else, what this
 *       engine put. A key this engine put itself is always answered from its own map.
 *   <li>{@code put} and {@code remove} only keep this engine's own entries, in memory.
 * </ul>
 *
 * <p>Thread-safe; {@code get} runs the peer call on the caller's thread, bounded by the timeouts of
 * the engine's {@link PeerRpc}.
 */
public final class P2pMetadataStore implements MetadataStore {
  private static final Logger LOG = LoggerFactory.getLogger(P2pMetadataStore.class);

  private final MetadataStoreContext context;
  private final MetadataKeys keys;
  private final Map<String, String> own = new ConcurrentHashMap<>();

  /**
   * A store for the engine that {@code context} describes; see {@link P2pMetadataStoreProvider}.
   */
  public P2pMetadataStore(MetadataStoreContext context) {
    this.context = Objects.requireNonNull(context, "context");
    this.keys = MetadataKeys.forCluster(context.setting("MC_METADATA_CLUSTER_ID"));
  }

  /**
   * {@inheritDoc}
   *
   * @throws TransferException METADATA naming the segment when its peer cannot be reached or
   *     answers badly, or when a {@code ram/} key's segment name is not {@code host:port}
   */
  @Override
  public Optional<String> get(String key) {
    Objects.requireNonNull(key, "key");
    String mine = own.get(key);
    if (mine != null) {
      return Optional.of(mine);
    }
    String segment = keys.segmentNameOf(key);
    if (segment != null) {
      return fetchDescriptor(segment);
    }
    String server = keys.serverNameOf(key);
    if (server != null) {
      HostPort location = HostPort.tryParse(server);
      return location == null ? Optional.empty() : Optional.of(rpcMetaJson(location));
    }
    return Optional.empty();
  }

  private Optional<String> fetchDescriptor(String segment) {
    HostPort peer = HostPort.tryParse(segment);
    if (peer == null || peer.port() == 0) {
      throw new TransferException(
          ErrorCode.METADATA,
          "segment '"
              + segment
              + "' cannot be located: in P2P mode segment names are"
              + " host:rpc_port");
    }
    String reply;
    try {
      reply = context.rpc().call(peer.host(), peer.port(), PeerRpc.METADATA, ownDescriptor());
    } catch (TransferException e) {
      throw new TransferException(
          ErrorCode.METADATA,
          "cannot fetch the descriptor of segment '"
              + segment
              + "' from its handshake port: "
              + e.getMessage(),
          e);
    }
    String body = reply == null ? "" : reply.strip();
    if (body.isEmpty() || body.equals("{}") || body.equals("null")) {
      LOG.debug("peer {} has no segment descriptor to give", segment);
      return Optional.empty();
    }
    return Optional.of(body);
  }

  /** What this engine published under its own segment key, sent along as the reference does. */
  private String ownDescriptor() {
    String name = context.localSegmentName();
    String descriptor = name == null ? null : own.get(keys.segmentKey(name));
    return descriptor == null ? "{}" : descriptor;
  }

  @Override
  public void put(String key, String value) {
    own.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
  }

  @Override
  public void remove(String key) {
    own.remove(Objects.requireNonNull(key, "key"));
  }

  /** This engine's own keys under {@code prefix}: in P2P mode there is no store to list. */
  @Override
  public SortedMap<String, String> list(String prefix) {
    Objects.requireNonNull(prefix, "prefix");
    SortedMap<String, String> out = new TreeMap<>();
    own.forEach((k, v) -> {
      if (k.startsWith(prefix)) {
        out.put(k, v);
      }
    });
    return out;
  }

  /** Atomic on this engine's own keys (the only ones a P2P engine stores). */
  @Override
  public boolean compareAndSet(String key, String expected, String value) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    return expected == null ? own.putIfAbsent(key, value) == null
        : own.replace(key, expected, value);
  }

  /** Forgets this engine's entries; there is nothing else to release. */
  @Override
  public void close() {
    own.clear();
  }

  /** {@code {"ip_or_host_name":host,"rpc_port":port}}, compact, keys sorted like the reference. */
  static String rpcMetaJson(HostPort location) {
    return "{\"ip_or_host_name\":"
        + quote(location.host())
        + ",\"rpc_port\":"
        + location.port()
        + "}";
  }

  /** A JSON string literal escaped as jsoncpp writes it (non-ASCII as lowercase \\uXXXX). */
  static String quote(String text) {
    StringBuilder sb = new StringBuilder(text.length() + 2).append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '"':
          sb.append("\\\"");
          break;
        case '\\':
          sb.append("\\\\");
          break;
        case '\b':
          sb.append("\\b");
          break;
        case '\f':
          sb.append("\\f");
          break;
        case '\n':
          sb.append("\\n");
          break;
        case '\r':
          sb.append("\\r");
          break;
        case '\t':
          sb.append("\\t");
          break;
        default:
          if (c < 0x20 || c > 0x7F) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
      }
    }
    return sb.append('"').toString();
  }
}
