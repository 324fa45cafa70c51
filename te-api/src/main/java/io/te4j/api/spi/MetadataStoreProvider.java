package io.te4j.api.spi;

/**
 * Found by {@link java.util.ServiceLoader}: list the implementation in {@code
 * META-INF/services/io.te4j.api.spi.MetadataStoreProvider}. The engine picks the provider whose
 * {@link #scheme()} matches the metadata connection string: {@code p2p} for {@code P2PHANDSHAKE},
 * {@code etcd} for {@code etcd://...} and bare {@code host:port}, {@code zk}, {@code http}.
 */
public interface MetadataStoreProvider {
  /** The URI scheme this provider serves. */
  String scheme();

  /**
   * The settings this store reads (see {@link TransportProvider#settings()}); default none.
   */
  default java.util.List<Setting<?>> settings() {
    return java.util.List.of();
  }

  /**
   * Whether the store can work here: a {@link ProbedAvailability} with kind {@code metadata}, so
   * that {@code te4j.metadata.<scheme>.disabled} switches it off. The default has only the switch.
   */
  default Availability availability() {
    return ProbedAvailability.always("metadata", scheme());
  }

  /**
   * Connects to the store.
   *
   * @param location the connection string without its {@code scheme://} prefix (for {@code http},
   *     the whole URL)
   * @throws io.te4j.api.TransferException METADATA when the store cannot be reached
   */
  MetadataStore create(String location, MetadataStoreContext context);
}
