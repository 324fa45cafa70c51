package io.te4j.transport.cxl;

import io.te4j.api.spi.Availability;
import io.te4j.api.spi.ProbedAvailability;
import io.te4j.api.spi.Transport;
import io.te4j.api.spi.TransportContext;
import io.te4j.api.spi.TransportProvider;

/**
 * Finds the {@code cxl} transport. Available on Linux; configured for an engine whose settings
 * name a device ({@code MC_CXL_DEV_PATH}, or the older {@code CXL_DEV_PATH}: an engine setting,
 * system property or environment variable), so that {@code protocol auto} does not start it on
 * machines without one. The device is opened when an engine starts the transport. Kill switch
 * {@code te4j.transport.cxl.disabled=true}.
 */
public final class CxlTransportProvider implements TransportProvider {
  private static final ProbedAvailability AVAILABILITY =
      ProbedAvailability.of("transport", "cxl", CxlTransportProvider::probe);

  private static Throwable probe() {
    String os = System.getProperty("os.name", "");
    if (!os.toLowerCase(java.util.Locale.ROOT).startsWith("linux")) {
      return new UnsupportedOperationException("the cxl transport needs Linux, not " + os);
    }
    return null;
  }

  @Override
  public String name() {
    return "cxl";
  }

  @Override
  public Availability availability() {
    return AVAILABILITY;
  }

  @Override
  public java.util.List<io.te4j.api.spi.Setting<?>> settings() {
    return CxlTransport.SETTINGS;
  }

  @Override
  public boolean isConfigured(TransportContext context) {
    return CxlDevice.configuredPath(context::setting) != null;
  }

  @Override
  public Transport create(TransportContext context) {
    return new CxlTransport(context);
  }
}
