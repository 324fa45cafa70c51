package io.te4j.transport.tcp;

import io.te4j.api.spi.Transport;
import io.te4j.api.spi.TransportContext;
import io.te4j.api.spi.TransportProvider;

/**
 * Finds the TCP transport for {@link java.util.ServiceLoader}. Always available (plain Java
 * sockets) unless switched off with {@code -Dte4j.transport.tcp.disabled=true}.
 */
public final class TcpTransportProvider implements TransportProvider {
  /** Public no-argument constructor for {@link java.util.ServiceLoader}. */
  public TcpTransportProvider() {}

  @Override
  public String name() {
    return "tcp";
  }

  @Override
  public java.util.List<io.te4j.api.spi.Setting<?>> settings() {
    return TcpTransport.SETTINGS;
  }

  /**
   * Creates a transport; it binds nothing until {@link Transport#start}.
   *
   * @throws io.te4j.api.TransferException INVALID_CONFIGURATION for a malformed {@code te4j.tcp.*}
   *     setting
   */
  @Override
  public Transport create(TransportContext context) {
    return new TcpTransport(context);
  }
}
