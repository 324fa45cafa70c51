package io.te4j.testplugin;

import io.te4j.api.spi.Transport;
import io.te4j.api.spi.TransportContext;
import io.te4j.api.spi.TransportProvider;

/** Provides {@link InProcessTransport} under the name {@code inproc}. */
public final class InProcessTransportProvider implements TransportProvider {
  @Override
  public String name() {
    return InProcessTransport.NAME;
  }

  @Override
  public Transport create(TransportContext context) {
    return new InProcessTransport(context);
  }
}
