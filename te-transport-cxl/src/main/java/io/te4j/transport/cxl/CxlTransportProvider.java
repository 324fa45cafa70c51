package io.te4j.transport.cxl;

import io.te4j.api.spi.Availability;
import io.te4j.api.spi.Transport;
import io.te4j.api.spi.TransportContext;
import io.te4j.api.spi.TransportProvider;

/**
 * Finds the {@code cxl} transport. Available on Linux when {@code MC_CXL_DEV_PATH} (or the older
 * {@code CXL_DEV_PATH}) is set as a system property or environment variable, so that {@code
 * protocol auto} does not start it on machines without a device; the device itself is opened when
 * an engine starts the transport. Kill switch {@code -Dte4j.transport.cxl.disabled=true}.
 */
public final class CxlTransportProvider implements TransportProvider {
  private static final Throwable CAUSE = probe("cxl");

  static Throwable probe(String name) {
    Throwable off = Availability.killSwitch("transport", name);
    if (off != null) {
      return off;
    }
    String os = System.getProperty("os.name", "");
    if (!os.toLowerCase(java.util.Locale.ROOT).startsWith("linux")) {
      return new UnsupportedOperationException("the " + name + " transport needs Linux, not " + os);
    }
    return null;
  }

  @Override
  public String name() {
    return "cxl";
  }

  @Override
  public boolean isAvailable() {
    return unavailabilityCause() == null;
  }

  @Override
  public Throwable unavailabilityCause() {
    if (CAUSE != null) {
      return CAUSE;
    }
    // Read each time: the device is configuration, which may be set after class loading.
    for (String name : new String[] {CxlTransport.DEV_PATH, "CXL_DEV_PATH"}) {
      String v = System.getProperty(name, System.getenv(name));
      if (v != null && !v.isBlank()) {
        return null;
      }
    }
    return new IllegalStateException(CxlTransport.DEV_PATH + " is not set (system property or "
        + "environment): no CXL device to map");
  }

  @Override
  public Transport create(TransportContext context) {
    return new CxlTransport(context);
  }
}
