package io.te4j.metadata.zk;

import io.te4j.api.spi.Availability;
import io.te4j.api.spi.MetadataStore;
import io.te4j.api.spi.MetadataStoreContext;
import io.te4j.api.spi.MetadataStoreProvider;
import io.te4j.api.spi.ProbedAvailability;
import java.util.Objects;

/**
 * The {@code zk://h1:p1,h2:p2[/root]} metadata store (scheme {@code zk}): descriptors as ephemeral
 * znodes in a ZooKeeper ensemble, through Apache Curator. Available when Curator and the ZooKeeper
 * client are on the class path, unless switched off with {@code -Dte4j.metadata.zk.disabled=true}.
 * Settings: {@value ZkConfig#SESSION_TIMEOUT_MS}, {@value ZkConfig#CONNECTION_TIMEOUT_MS}.
 */
public final class ZkMetadataStoreProvider implements MetadataStoreProvider {
  /** The scheme of {@code zk://} connection strings. */
  public static final String SCHEME = "zk";

  /** Probed once: a class path without Curator or ZooKeeper stays that way. */
  private static final ProbedAvailability AVAILABILITY =
      ProbedAvailability.of("metadata", SCHEME, ZkMetadataStoreProvider::probeLibraries);

  @Override
  public String scheme() {
    return SCHEME;
  }

  @Override
  public java.util.List<io.te4j.api.spi.Setting<?>> settings() {
    return ZkConfig.SETTINGS;
  }

  /** The kill switch, else why the libraries could not be loaded. */
  @Override
  public Availability availability() {
    return AVAILABILITY;
  }

  /**
   * Connects to the ensemble and waits until the session is up.
   *
   * @param location {@code h1:p1,h2:p2[/root]}
   * @throws io.te4j.api.TransferException INVALID_CONFIGURATION for a malformed location or
   *     setting, METADATA when the ensemble cannot be reached within the operation timeout
   */
  @Override
  public MetadataStore create(String location, MetadataStoreContext context) {
    Objects.requireNonNull(context, "context");
    ZkLocation loc = ZkLocation.parse(location);
    return ZkMetadataStore.connect(loc, ZkConfig.from(context), context.localSegmentName(),
        context.threadFactory("zk"));
  }

  private static Throwable probeLibraries() {
    ClassLoader loader = ZkMetadataStoreProvider.class.getClassLoader();
    try {
      Class.forName("org.apache.zookeeper.ZooKeeper", false, loader);
      Class.forName("org.apache.curator.framework.CuratorFramework", false, loader);
      Class.forName("org.apache.curator.framework.recipes.cache.CuratorCache", false, loader);
      return null;
    } catch (ClassNotFoundException | LinkageError e) {
      return e;
    }
  }
}
