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
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code te bench --mode target} with a metadata server: two targets of one host get names of
 * their own (they used to both publish as {@code 127.0.0.1}), and SIGTERM removes a target's keys
 * (they used to stay, so the next start under that name failed).
 */
class BenchTargetLifecycleIT {
  private static Process target(String metadata) throws Exception {
    return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-jar", System.getProperty("te.cli.jar"), "bench",
        "--mode", "target", "--buffer-size", "4M", "--metadata-server", metadata)
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
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
}
