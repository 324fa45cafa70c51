package io.te4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * {@code te nvmeof register|list|remove} through the runnable JAR against {@code te
 * metadata-server}'s HTTP store: two registrations at once are both listed, a taken name is
 * refused, and a stopped register takes its segment along.
 */
class NvmeofCliIT {
  private static ProcessBuilder te(String... args) {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-jar", System.getProperty("te.cli.jar")));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
  }

  private static String run(int expectedExit, String... args) throws Exception {
    Process p = te(args).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "te " + String.join(" ", args) + " hung");
    assertEquals(expectedExit, p.exitValue(), "te " + String.join(" ", args) + ": " + out);
    return out;
  }

  @Test
  void registrationsAtOnceAreAllListedAndATakenNameIsRefused(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("f");
    Files.write(file, new byte[8192]);
    try (HttpMetadataServer server =
        HttpMetadataServer.start("127.0.0.1", 0, "/metadata", Duration.ZERO)) {
      String url = server.url();
      List<Process> holders = new ArrayList<>();
      try {
        for (String name : new String[] {"cli-a", "cli-b"}) {
          holders.add(te("nvmeof", "register", "--name", name, "--file", file.toString(),
              "--metadata-server", url).start());
        }
        for (Process p : holders) {
          BufferedReader r = new BufferedReader(
              new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
          String published = r.readLine();
          assertTrue(published != null && published.contains("\"protocol\":\"nvmeof\""),
              String.valueOf(published));
        }
        String listed = run(0, "nvmeof", "list", "--json", "--metadata-server", url);
        assertTrue(listed.contains("\"name\":\"nvmeof/cli-a\"")
            && listed.contains("\"name\":\"nvmeof/cli-b\""), listed);
        assertEquals(2, listed.strip().split("\n").length, listed);
        run(1, "nvmeof", "register", "--name", "cli-a", "--file", file.toString(),
            "--metadata-server", url, "--no-hold");
        assertTrue(run(0, "nvmeof", "list", "--name", "cli-a", "--metadata-server", url)
            .contains(file.toString()));
      } finally {
        for (Process p : holders) {
          p.destroy(); // SIGTERM: the engine closes and deletes its keys
          assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        }
      }
      assertEquals("", run(0, "nvmeof", "list", "--metadata-server", url).strip());
    }
  }
}
