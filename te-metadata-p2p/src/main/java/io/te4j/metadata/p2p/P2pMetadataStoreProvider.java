package io.te4j.metadata.p2p;

import io.te4j.api.spi.MetadataStore;
import io.te4j.api.spi.MetadataStoreContext;
import io.te4j.api.spi.MetadataStoreProvider;
import java.util.Objects;

/**
 * The {@code P2PHANDSHAKE} metadata mode (scheme {@code p2p}): no store at all, descriptors are
 * fetched from the peers' handshake ports. Needs nothing from the machine, so it is available
 * unless switched off with {@code -Dte4j.metadata.p2p.disabled=true}.
 */
public final class P2pMetadataStoreProvider implements MetadataStoreProvider {
  /** The scheme the engine maps {@code P2PHANDSHAKE} to. */
  public static final String SCHEME = "p2p";

  @Override
  public String scheme() {
    return SCHEME;
  }

  /** Creates the store. {@code location} carries nothing in P2P mode and is ignored. */
  @Override
  public MetadataStore create(String location, MetadataStoreContext context) {
    return new P2pMetadataStore(Objects.requireNonNull(context, "context"));
  }
}
