package io.te4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** `te metadata-server` from the runnable JAR: it prints its URL and serves the reference API. */
class MetadataServerCliIT {
  private static Process te(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-jar", System.getProperty("te.cli.jar")));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
  }

  @Test
  void printsItsUrlAndServesPutGetDelete() throws Exception {
    Process p = te("metadata-server", "--port", "0");
    try {
      CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> {
        try {
          return new BufferedReader(new InputStreamReader(p.getInputStream(),
              StandardCharsets.UTF_8)).readLine();
        } catch (java.io.IOException e) {
          return null;
        }
      });
      String url = first.get(60, TimeUnit.SECONDS);
      assertNotNull(url, "te metadata-server printed nothing");
      assertTrue(url.matches("http://[^/]+:\\d+/metadata"), url);
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5)).build();
      URI key = URI.create(url + "?key=mooncake%2Fram%2F10.0.0.1%3A15234");
      byte[] json = "{\"name\":\"10.0.0.1:15234\",\"protocol\":\"tcp\",\"buffers\":[]}"
          .getBytes(StandardCharsets.UTF_8);
      HttpResponse<String> put = http.send(HttpRequest.newBuilder(key)
          .header("Content-Type", "application/json")
          .PUT(HttpRequest.BodyPublishers.ofByteArray(json)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, put.statusCode(), put.body());
      HttpResponse<byte[]> get = http.send(HttpRequest.newBuilder(key).GET().build(),
          HttpResponse.BodyHandlers.ofByteArray());
      assertEquals(200, get.statusCode());
      assertArrayEquals(json, get.body());
      assertEquals(200, http.send(HttpRequest.newBuilder(key).DELETE().build(),
          HttpResponse.BodyHandlers.discarding()).statusCode());
      assertEquals(404, http.send(HttpRequest.newBuilder(key).GET().build(),
          HttpResponse.BodyHandlers.discarding()).statusCode());
      assertEquals(400, http.send(HttpRequest.newBuilder(URI.create(url + "?key=%20")).GET()
          .build(), HttpResponse.BodyHandlers.discarding()).statusCode());
      assertTrue(p.isAlive(), "the server must serve until killed");
    } finally {
      p.destroy();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void badOptionsAreUsageErrors() throws Exception {
    for (String[] args : List.of(new String[] {"metadata-server", "--ttl", "-1"},
        new String[] {"metadata-server", "--port", "x"},
        new String[] {"metadata-server", "--bogus", "1"})) {
      Process p = te(args);
      try {
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", args) + " hung");
        assertEquals(2, p.exitValue(), String.join(" ", args));
      } finally {
        p.destroyForcibly();
      }
    }
  }
}
