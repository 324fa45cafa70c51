package io.te4j.core.inject;

import io.te4j.api.spi.MetadataStoreProvider;
import io.te4j.api.spi.TransportProvider;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * Finds the providers on the class path with {@link ServiceLoader} and keys them by name: each
 * transport under its name and aliases (the highest rank wins a shared name), each metadata store
 * under its scheme. No class names are guessed; what is not listed in {@code META-INF/services}
 * does not exist.
 */
public final class ProviderRegistry {
  private ProviderRegistry() {}

  /** Transport providers by lower-case name and alias, sorted by name. */
  public static Map<String, TransportProvider> transports(ClassLoader loader) {
    Map<String, TransportProvider> byName = new TreeMap<>();
    for (TransportProvider p : ServiceLoader.load(TransportProvider.class, loader)) {
      put(byName, p.name(), p);
      for (String alias : p.aliases()) {
        put(byName, alias, p);
      }
    }
    return Collections.unmodifiableMap(byName);
  }

  /** Metadata store providers by lower-case scheme, sorted by scheme. */
  public static Map<String, MetadataStoreProvider> metadataStores(ClassLoader loader) {
    Map<String, MetadataStoreProvider> byScheme = new TreeMap<>();
    for (MetadataStoreProvider p : ServiceLoader.load(MetadataStoreProvider.class, loader)) {
      byScheme.putIfAbsent(p.scheme().toLowerCase(Locale.ROOT), p);
    }
    return Collections.unmodifiableMap(byScheme);
  }

  private static void put(Map<String, TransportProvider> map, String name, TransportProvider p) {
    map.merge(name.toLowerCase(Locale.ROOT), p, (a, b) -> b.rank() > a.rank() ? b : a);
  }
}
