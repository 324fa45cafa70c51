package io.te4j.metadata.etcd;

import io.te4j.api.spi.MetadataStore;
import io.te4j.api.spi.MetadataStoreContext;
import io.te4j.api.spi.MetadataStoreProvider;
import java.util.Objects;

/**
 * The etcd metadata store (scheme {@code etcd}): {@code etcd://h1:p1,h2:p2} and bare {@code
 * h:p[,h:p]} connection strings. Needs nothing from the machine but a reachable etcd, so it is
 * available unless switched off with {@code -Dte4j.metadata.etcd.disabled=true}. Settings are
 * those of {@link EtcdStoreConfig}.
 */
public final class EtcdMetadataStoreProvider implements MetadataStoreProvider {
  /** The scheme the engine maps {@code etcd://...} and bare {@code host:port} to. */
  public static final String SCHEME = "etcd";

  @Override
  public String scheme() {
    return SCHEME;
  }

  @Override
  public java.util.List<io.te4j.api.spi.Setting<?>> settings() {
    return EtcdStoreConfig.SETTINGS;
  }

  /**
   * Connects to etcd and grants the lease this engine's keys will live under.
   *
   * @param location {@code h1:p1,h2:p2} (endpoints may be written {@code http://} or {@code
   *     https://})
   * @throws io.te4j.api.TransferException INVALID_CONFIGURATION for a malformed location or
   *     setting, METADATA when no endpoint answers within the engine's operation timeout
   */
  @Override
  public MetadataStore create(String location, MetadataStoreContext context) {
    Objects.requireNonNull(context, "context");
    EtcdStoreConfig config = EtcdStoreConfig.from(location, context);
    return EtcdMetadataStore.open(config, context.threadFactory("etcd"));
  }
}
