package io.te4j.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Compiles the tests' C fixtures ({@code src/test/c}) against the installed {@code
 * <infiniband/verbs.h>}; CI installs gcc and libibverbs-dev ({@code .ci/run}), so a missing
 * compiler or header fails the test saying which.
 */
final class CCompiler {
  private CCompiler() {}

  static Path source(String name) {
    return Path.of("src/test/c", name).toAbsolutePath();
  }

  /** Compiles {@code source} into {@code output}; {@code extra} are more gcc arguments. */
  static Path compile(String source, Path output, String... extra) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("gcc", "-std=gnu11", "-O1", "-Wall", "-Werror"));
    cmd.addAll(List.of(extra));
    cmd.addAll(List.of("-o", output.toString(), source(source).toString()));
    String out = run(cmd);
    assertEquals(true, Files.isRegularFile(output), "gcc built nothing: " + out
        + " (needs gcc and libibverbs-dev: apt-get install gcc libibverbs-dev)");
    return output;
  }

  static String run(List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(cmd + " did not finish");
    }
    if (p.exitValue() != 0) {
      throw new AssertionError(cmd + " exited " + p.exitValue() + ":\n" + out
          + "\n(needs gcc and libibverbs-dev: apt-get install gcc libibverbs-dev)");
    }
    return out;
  }
}
