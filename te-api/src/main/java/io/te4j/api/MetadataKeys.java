package io.te4j.api;

import java.util.Objects;

/**
 * The metadata key strings of WIRE.md section 1, shared by every store so C++ engines and ours
 * read each other's entries: {@code mooncake/[<cluster>/]ram/<segment>} and {@code
 * mooncake/[<cluster>/]rpc_meta/<server>}.
 */
public final class MetadataKeys {
  private static final String ROOT = "mooncake/";
  private static final String RAM = "ram/";
  private static final String RPC_META = "rpc_meta/";

  private final String prefix;

  private MetadataKeys(String prefix) {
    this.prefix = prefix;
  }

  /**
   * Keys for one cluster.
   *
   * @param clusterId MC_METADATA_CLUSTER_ID, or null/empty for none
   */
  public static MetadataKeys forCluster(String clusterId) {
    if (clusterId == null || clusterId.isEmpty()) {
      return new MetadataKeys(ROOT);
    }
    if (clusterId.contains("/")) {
      throw new TransferException(
          ErrorCode.INVALID_CONFIGURATION, "MC_METADATA_CLUSTER_ID must not contain '/': " + clusterId);
    }
    return new MetadataKeys(ROOT + clusterId + "/");
  }

  /** Everything this cluster stores lies under this prefix ({@code mooncake/} or {@code mooncake/<id>/}). */
  public String prefix() {
    return prefix;
  }

  /** The key of a segment descriptor; a name containing '/' maps to {@code <prefix><name>}. */
  public String segmentKey(String segmentName) {
    Objects.requireNonNull(segmentName, "segmentName");
    return segmentName.contains("/") ? prefix + segmentName : prefix + RAM + segmentName;
  }

  /** The key of an engine's RPC location. */
  public String rpcMetaKey(String serverName) {
    return prefix + RPC_META + Objects.requireNonNull(serverName, "serverName");
  }

  /** The segment name of a {@code ram/} key of this cluster, or null for any other key. */
  public String segmentNameOf(String key) {
    String head = prefix + RAM;
    return key.startsWith(head) ? key.substring(head.length()) : null;
  }

  /**
   * The segment name a segment key of this cluster stands for ({@link #segmentKey} reversed: {@code
   * ram/x} gives {@code x}, {@code nvmeof/x} gives {@code nvmeof/x}), or null for an {@code
   * rpc_meta/} key or a key of another cluster.
   */
  public String segmentNameOfAnyKey(String key) {
    String name = segmentNameOf(key);
    if (name != null) {
      return name;
    }
    if (!key.startsWith(prefix) || serverNameOf(key) != null) {
      return null;
    }
    String rest = key.substring(prefix.length());
    return rest.contains("/") ? rest : null;
  }

  /** The server name of an {@code rpc_meta/} key of this cluster, or null for any other key. */
  public String serverNameOf(String key) {
    String head = prefix + RPC_META;
    return key.startsWith(head) ? key.substring(head.length()) : null;
  }
}
