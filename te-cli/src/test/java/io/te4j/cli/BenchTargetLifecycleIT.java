package io.te4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.core.Engine;
import io.te4j.metadata.http.HttpMetadataServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code te bench --mode target} with a metadata server: two targets of one host get names of
 * their own (they used to both publish as {@code 127.0.0.1}), and SIGTERM removes a target's keys
 * (they used to stay, so the next start under that name failed).
 */
class BenchTargetLifecycleIT {
  private static Process target(String metadata, String... more) throws Exception {
    return te(List.of("bench", "--mode", "target", "--buffer-size", "4M", "--metadata-server",
        metadata), more).redirectError(ProcessBuilder.Redirect.DISCARD).start();
  }

  private static ProcessBuilder te(List<String> args, String... more) {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-jar", System.getProperty("te.cli.jar")));
    cmd.addAll(args);
    cmd.addAll(List.of(more));
    return new ProcessBuilder(cmd);
  }

  private static String name(Process p) throws Exception {
    return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))
        .readLine();
  }

  @Test
  void targetsOfOneHostDoNotCollideAndSigtermRemovesTheirKeys() throws Exception {
    try (HttpMetadataServer server =
        HttpMetadataServer.start("127.0.0.1", 0, "/metadata", Duration.ZERO)) {
      Process a = target(server.url());
      Process b = target(server.url());
      try (Engine observer = Engine.builder().localHostname("127.0.0.1:1")
          .metadataServer(server.url()).protocol("tcp").start()) {
        String nameA = name(a);
        String nameB = name(b);
        assertTrue(nameA != null && nameB != null, "both targets started");
        assertNotEquals(nameA, nameB);
        assertEquals(nameA, observer.refreshSegment(nameA).name());

        a.destroy(); // SIGTERM
        assertTrue(a.waitFor(30, TimeUnit.SECONDS));
        TransferException gone =
            assertThrows(TransferException.class, () -> observer.refreshSegment(nameA));
        assertEquals(ErrorCode.METADATA, gone.errorCode(), gone.getMessage());
        assertEquals(nameB, observer.refreshSegment(nameB).name(), "the other target stays");
      } finally {
        a.destroyForcibly();
        b.destroy();
        assertTrue(b.waitFor(30, TimeUnit.SECONDS));
      }
    }
  }

  /**
   * A target stopped and started again under its name mid-run: the bench says once that the peer
   * stopped answering and once that it answers again, goes on moving bytes to the new target
   * (whose buffer may sit elsewhere), counts the failures and exits 1.
   */
  @Test
  void aTargetRestartedMidRunIsReportedAndTheBenchGoesOn(@TempDir Path dir) throws Exception {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }
    String name = "127.0.0.1:" + port;
    try (HttpMetadataServer server =
        HttpMetadataServer.start("127.0.0.1", 0, "/metadata", Duration.ZERO)) {
      Process first = target(server.url(), "--local-server-name", name);
      Process second = null;
      assertEquals(name, name(first));
      Path errors = dir.resolve("stderr.txt");
      Process bench = te(List.of("bench", "--mode", "initiator", "--segment-id", name,
          "--metadata-server", server.url(), "--local-server-name", "127.0.0.1:1",
          "--block-size", "64K", "--buffer-size", "4M", "--duration", "14", "--baseline", "none",
          "--json")).redirectError(errors.toFile()).start();
      try {
        Thread.sleep(5000);
        first.destroy(); // SIGTERM: its keys go, then it is published again by the second
        assertTrue(first.waitFor(30, TimeUnit.SECONDS));
        Thread.sleep(1500);
        second = target(server.url(), "--local-server-name", name);
        assertEquals(name, name(second));
        String json = new String(bench.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(bench.waitFor(60, TimeUnit.SECONDS));
        String log = Files.readString(errors);
        assertEquals(1, bench.exitValue(), log);
        assertEquals(1, count(log, "stopped answering"), log);
        assertEquals(1, count(log, "answers again"), log);
        assertTrue(json.contains("\"peer_outages\":1"), json);
        assertTrue(!json.contains("\"errors\":0,"), json);
      } finally {
        bench.destroyForcibly();
        first.destroyForcibly();
        if (second != null) {
          second.destroy();
          assertTrue(second.waitFor(30, TimeUnit.SECONDS));
        }
      }
    }
  }

  private static int count(String text, String what) {
    int n = 0;
    for (int at = text.indexOf(what); at >= 0; at = text.indexOf(what, at + 1)) {
      n++;
    }
    return n;
  }
}
