package io.te4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * docs/deployment.md's two-host example, its lines taken from the page: host A and host B are two
 * network namespaces joined by a veth pair, with the page's addresses. Host A's lines start and
 * keep running (each prints one line on stdout once it serves); host B's runs to its end and must
 * move and verify bytes across the pair. Tagged {@code root}: it fails, naming what is missing,
 * where namespaces cannot be made.
 */
@Tag("root")
class DeploymentIT {
  private static final Pattern BLOCK = Pattern.compile("## Two hosts.*?```sh\\n(.*?)```",
      Pattern.DOTALL);
  private static final String EXCLUDE =
      " (tag 'root': exclude with -Dtest.excludedGroups=hardware,benchmark,root)";

  private final String suffix = Long.toString(ProcessHandle.current().pid() % 100000);
  private final String nsA = "te4j-a-" + suffix;
  private final String nsB = "te4j-b-" + suffix;
  private final List<Process> serving = new ArrayList<>();

  private static void sh(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), String.join(" ", cmd) + " hung");
    assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out + EXCLUDE);
  }

  /** Two namespaces, a veth pair between them, the page's addresses. */
  private void twoHosts(String addressA, String addressB) throws Exception {
    assertTrue("root".equals(System.getProperty("user.name")), "network namespaces need root"
        + EXCLUDE);
    sh("ip", "netns", "add", nsA);
    sh("ip", "netns", "add", nsB);
    String vethA = "vta" + suffix;
    String vethB = "vtb" + suffix;
    sh("ip", "link", "add", vethA, "type", "veth", "peer", "name", vethB);
    sh("ip", "link", "set", vethA, "netns", nsA);
    sh("ip", "link", "set", vethB, "netns", nsB);
    sh("ip", "-n", nsA, "addr", "add", addressA + "/24", "dev", vethA);
    sh("ip", "-n", nsB, "addr", "add", addressB + "/24", "dev", vethB);
    for (String[] ns : new String[][] {{nsA, vethA}, {nsB, vethB}}) {
      sh("ip", "-n", ns[0], "link", "set", "lo", "up");
      sh("ip", "-n", ns[0], "link", "set", ns[1], "up");
    }
  }

  @AfterEach
  void tearDown() throws Exception {
    for (Process p : serving) {
      p.destroy(); // SIGTERM: the target removes its keys, as a user's Ctrl-C would
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
    for (String ns : List.of(nsA, nsB)) {
      new ProcessBuilder("ip", "netns", "del", ns).start().waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** {@code te ARGS} inside namespace {@code ns}, run from the te JAR. */
  private static ProcessBuilder te(String ns, String line) {
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns,
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-jar", System.getProperty("te.cli.jar")));
    String[] words = line.trim().split("\\s+");
    assertEquals("te", words[0], line);
    cmd.addAll(Arrays.asList(words).subList(1, words.length));
    return new ProcessBuilder(cmd);
  }

  /** The first line a serving process prints on stdout (its URL, its segment name). */
  private static String firstLine(Process p) throws Exception {
    CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
      try {
        return new BufferedReader(new InputStreamReader(p.getInputStream(),
            StandardCharsets.UTF_8)).readLine();
      } catch (IOException e) {
        return null;
      }
    });
    return line.get(60, TimeUnit.SECONDS);
  }

  @Test
  void theTwoHostExampleRunsAsWritten() throws Exception {
    Matcher m = BLOCK.matcher(Files.readString(Path.of("..", "docs", "deployment.md")));
    assertTrue(m.find(), "docs/deployment.md has its two-host example");
    List<String> hostA = new ArrayList<>();
    List<String> hostB = new ArrayList<>();
    for (String line : m.group(1).split("\n")) {
      if (line.startsWith("hostA$ ")) {
        hostA.add(line.substring(7));
      } else if (line.startsWith("hostB$ ")) {
        hostB.add(line.substring(7));
      }
    }
    assertEquals(2, hostA.size(), m.group(1));
    assertEquals(1, hostB.size(), m.group(1));
    twoHosts("10.77.0.1", "10.77.0.2");

    for (String line : hostA) {
      Process p = te(nsA, line).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      serving.add(p);
      assertNotNull(firstLine(p), "host A: " + line + " did not come up");
    }
    Path err = Files.createTempFile("te4j-deploy-", ".txt");
    try {
      Process b = te(nsB, hostB.get(0)).redirectError(err.toFile()).start();
      String out = new String(b.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(b.waitFor(120, TimeUnit.SECONDS), "host B's bench hung");
      String diagnostics = out + Files.readString(err);
      assertEquals(0, b.exitValue(), diagnostics);
      assertTrue(out.contains(" 0 errors") && out.contains("written and read back intact"),
          diagnostics);
      assertTrue(out.matches("(?s).*throughput\\s+[0-9.]+ GB/s.*"), diagnostics);
    } finally {
      Files.deleteIfExists(err);
    }
  }
}
