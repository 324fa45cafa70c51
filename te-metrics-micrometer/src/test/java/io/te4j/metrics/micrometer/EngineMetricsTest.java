package io.te4j.metrics.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Two engines over TCP; the initiator's meters in a Prometheus registry, scraped over HTTP while
 * batches run and after: counts, bytes, latency buckets, failures by error code, peer lookups.
 */
class EngineMetricsTest {
  private static final int BLOCK = 4096;
  private static final int BATCH = 8;

  private static Engine tcp() {
    return Engine.builder().localHostname("127.0.0.1").metadataServer("P2PHANDSHAKE")
        .protocol("tcp").setting("te4j.transport.shm.disabled", "true").start();
  }

  private static String scrape(HttpClient http, String url) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
    return r.body();
  }

  /** The value of the first sample of {@code name} whose labels include every one given. */
  private static Double sample(String text, String name, String... labels) {
    Pattern line = Pattern.compile("^" + Pattern.quote(name) + "\\{([^}]*)\\} (\\S+)$",
        Pattern.MULTILINE);
    Matcher m = line.matcher(text);
    while (m.find()) {
      boolean all = true;
      for (String l : labels) {
        all &= m.group(1).contains(l);
      }
      if (all) {
        return Double.parseDouble(m.group(2));
      }
    }
    return null;
  }

  @Test
  void prometheusSeesTransfersWhileTheyRun() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    HttpClient http = HttpClient.newHttpClient();
    try (Engine target = tcp(); Engine initiator = tcp();
        ManagedBuffer dst = target.allocate(1 << 20); ManagedBuffer src = initiator.allocate(1 << 20);
        EngineMetrics metrics = new EngineMetrics(initiator);
        PrometheusEndpoint endpoint = PrometheusEndpoint.start(registry, "127.0.0.1", 0)) {
      metrics.bindTo(registry);
      String peer = target.segmentName();
      List<TransferRequest> batch = new ArrayList<>();
      for (int i = 0; i < BATCH; i++) {
        batch.add(TransferRequest.write(src.address() + (long) i * BLOCK,
            dst.address() + (long) i * BLOCK, BLOCK));
      }
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong completed = new AtomicLong();
      Thread load = new Thread(() -> {
        while (!stop.get()) {
          if (initiator.submitAndWait(peer, batch, "").state() == TransferState.COMPLETED) {
            completed.incrementAndGet();
          }
        }
      });
      load.start();
      String during;
      try {
        while (completed.get() < 50) {
          Thread.sleep(10);
        }
        during = scrape(http, endpoint.url()); // while batches run
      } finally {
        stop.set(true);
        load.join();
      }
      String[] ok = {"peer=\"" + peer + "\"", "transport=\"tcp\"", "opcode=\"write\"",
          "state=\"completed\""};
      Double countDuring = sample(during, "te4j_batch_seconds_count", ok);
      assertNotNull(countDuring, during);
      assertTrue(countDuring >= 50, during);
      assertNotNull(sample(during, "te4j_batch_seconds_bucket", ok), "a latency histogram");

      assertEquals(TransferState.FAILED, initiator.submitAndWait(peer, List.of(
          TransferRequest.write(src.address(), 4096, BLOCK)), "").state()); // not the target's
      Thread.sleep(100); // the observer runs when the batch ends, maybe just after the wait
      String after = scrape(http, endpoint.url());
      assertEquals(completed.get(), sample(after, "te4j_batch_seconds_count", ok).longValue());
      assertEquals(completed.get() * BATCH * BLOCK,
          sample(after, "te4j_transfer_bytes_total", ok[0], ok[1], ok[2]).longValue());
      assertEquals(1.0, sample(after, "te4j_batch_seconds_count", ok[0], "state=\"failed\""));
      Double failures = sample(after, "te4j_transfer_failures_total", ok[0], "error_code=\"");
      assertEquals(1.0, failures, after);
      assertNotNull(sample(after, "te4j_peer_lookup_seconds_count", ok[0], "outcome=\"ok\""),
          after);
      assertTrue(sample(after, "te4j_engine_bytes_total") >= completed.get() * BATCH * BLOCK);
    }
  }
}
