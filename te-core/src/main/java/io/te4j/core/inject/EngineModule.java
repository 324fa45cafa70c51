package io.te4j.core.inject;

import com.google.inject.AbstractModule;
import com.google.inject.multibindings.MapBinder;
import io.te4j.api.spi.MetadataStoreProvider;
import io.te4j.api.spi.TransportProvider;
import io.te4j.core.config.EngineConfig;

/**
 * Wires an engine: its concluded configuration and every provider found on the class path, bound
 * into name-keyed maps from which the engine picks the configured ones. Applications that use Guice
 * themselves can install this module and add their own providers with {@link MapBinder}.
 */
public final class EngineModule extends AbstractModule {
  private final EngineConfig config;
  private final ClassLoader loader;

  public EngineModule(EngineConfig config) {
    this(config, EngineModule.class.getClassLoader());
  }

  public EngineModule(EngineConfig config, ClassLoader loader) {
    this.config = config;
    this.loader = loader;
  }

  @Override
  protected void configure() {
    bind(EngineConfig.class).toInstance(config);
    MapBinder<String, TransportProvider> transports =
        MapBinder.newMapBinder(binder(), String.class, TransportProvider.class);
    ProviderRegistry.transports(loader).forEach((n, p) -> transports.addBinding(n).toInstance(p));
    MapBinder<String, MetadataStoreProvider> stores =
        MapBinder.newMapBinder(binder(), String.class, MetadataStoreProvider.class);
    ProviderRegistry.metadataStores(loader).forEach((n, p) -> stores.addBinding(n).toInstance(p));
  }
}
