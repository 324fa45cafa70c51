package io.te4j.cli;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.te4j.core.Engine;
import io.te4j.metrics.micrometer.EngineMetrics;
import io.te4j.metrics.micrometer.PrometheusEndpoint;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * {@code --metrics-port}: this process's meters (the JVM's, and those of the engines or server it
 * is given) served for Prometheus at {@code http://HOST:PORT/metrics}.
 */
final class MetricsPort implements AutoCloseable {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final PrometheusEndpoint endpoint;
  private final JvmGcMetrics gc = new JvmGcMetrics();
  private final List<EngineMetrics> engines = new ArrayList<>();

  private MetricsPort(String host, int port) {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    gc.bindTo(registry);
    endpoint = PrometheusEndpoint.start(registry, host, port);
  }

  /**
   * Serves on {@code port} of {@code host} when {@code port} is not null, saying where on {@code
   * err}; else returns null.
   */
  static MetricsPort startIfAsked(Integer port, String host, PrintStream err) {
    if (port == null) {
      return null;
    }
    MetricsPort m = new MetricsPort(host, port);
    err.println("metrics for Prometheus: " + m.endpoint.url());
    return m;
  }

  /** Adds an engine's meters. */
  void bind(Engine engine) {
    EngineMetrics m = new EngineMetrics(engine);
    m.bindTo(registry);
    engines.add(m);
  }

  /** Adds a gauge read at each scrape. */
  void gauge(String name, String description, Supplier<Number> value) {
    Gauge.builder(name, value).description(description).register(registry);
  }

  @Override
  public void close() {
    for (EngineMetrics m : engines) {
      m.close();
    }
    gc.close();
    endpoint.close();
  }
}
