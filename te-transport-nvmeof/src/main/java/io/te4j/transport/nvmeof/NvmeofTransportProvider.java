package io.te4j.transport.nvmeof;

import io.te4j.api.spi.Transport;
import io.te4j.api.spi.TransportContext;
import io.te4j.api.spi.TransportProvider;

/**
 * Finds the NVMe-oF file transport for {@link java.util.ServiceLoader} under the name {@code
 * nvmeof}. Always available (without io_uring it moves bytes with FileChannel I/O; see {@link
 * NvmeofIoUring} and {@link NvmeofTransport#fallbackCause()}) unless switched off with {@code
 * -Dte4j.transport.nvmeof.disabled=true}.
 */
public final class NvmeofTransportProvider implements TransportProvider {
  /** Public no-argument constructor for {@link java.util.ServiceLoader}. */
  public NvmeofTransportProvider() {}

  @Override
  public String name() {
    return NvmeofSegments.PROTOCOL;
  }

  @Override
  public java.util.List<io.te4j.api.spi.Setting<?>> settings() {
    return NvmeofTransport.SETTINGS;
  }

  /**
   * Creates a transport; it opens nothing until {@link Transport#start}.
   *
   * @throws io.te4j.api.TransferException INVALID_CONFIGURATION for a malformed {@code
   *     te4j.nvmeof.*} setting
   */
  @Override
  public Transport create(TransportContext context) {
    return new NvmeofTransport(context);
  }
}
