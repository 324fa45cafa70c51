package io.te4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code --metrics-port}: a running {@code te bench} and {@code te metadata-server} are scraped
 * as Prometheus would scrape them.
 */
class MetricsPortIT {
  private static final Pattern URL = Pattern.compile("metrics for Prometheus: (\\S+)");

  private static Process te(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-jar", System.getProperty("te.cli.jar")));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
  }

  /** The URL the process says on stderr (then its stderr is drained). */
  private static String metricsUrl(Process p) throws Exception {
    CompletableFuture<String> url = new CompletableFuture<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(),
          StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          Matcher m = URL.matcher(line);
          if (m.find()) {
            url.complete(m.group(1));
          }
        }
      } catch (java.io.IOException e) {
        // the process ended
      }
      url.complete(null);
    });
    reader.setDaemon(true);
    reader.start();
    return url.get(60, TimeUnit.SECONDS);
  }

  private static String scrape(String url) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode());
    return r.body();
  }

  @Test
  void benchServesItsEnginesMetersWhileItRuns() throws Exception {
    Process p = te("bench", "--duration", "6", "--block-size", "64K", "--buffer-size", "16M",
        "--baseline", "none", "--metrics-port", "0");
    try {
      String url = metricsUrl(p);
      assertNotNull(url, "te bench did not say where its metrics are");
      String text = "";
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (!text.contains("state=\"completed\"") && System.nanoTime() < deadline) {
        Thread.sleep(200);
        text = scrape(url);
      }
      assertTrue(text.matches("(?s).*te4j_batch_seconds_count\\{[^}]*opcode=\"write\""
          + "[^}]*state=\"completed\"[^}]*transport=\"tcp\"[^}]*\\} [1-9].*"), text);
      assertTrue(text.contains("te4j_transfer_bytes_total{"), text);
      assertTrue(text.contains("jvm_memory_used_bytes{"), text);
      assertTrue(p.waitFor(60, TimeUnit.SECONDS));
      assertEquals(0, p.exitValue());
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void metadataServerServesItsKeyCount() throws Exception {
    Process p = te("metadata-server", "--host", "127.0.0.1", "--port", "0", "--metrics-port",
        "0");
    try {
      String url = metricsUrl(p);
      assertNotNull(url);
      assertTrue(scrape(url).contains("te4j_metadata_keys 0.0"), scrape(url));
    } finally {
      p.destroy();
      p.waitFor(20, TimeUnit.SECONDS);
    }
  }
}
