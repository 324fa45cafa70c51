package io.te4j.transport.rdma;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Compiles the tests' C fixtures (class path resources next to this class) against the installed
 * {@code <infiniband/verbs.h>}; CI installs gcc and libibverbs-dev ({@code .ci/run}), so a missing
 * compiler or header fails the test saying which.
 */
final class CCompiler {
  private CCompiler() {}

  /** Compiles {@code source} into {@code output}; {@code extra} are more gcc arguments. */
  static Path compile(String source, Path output, String... extra) throws Exception {
    Path c = output.resolveSibling(source);
    try (java.io.InputStream in = CCompiler.class.getResourceAsStream(source)) {
      if (in == null) {
        throw new IOException("no resource " + source + " next to " + CCompiler.class);
      }
      Files.copy(in, c, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    List<String> cmd = new ArrayList<>(List.of("gcc", "-std=gnu11", "-O2", "-Wall", "-Werror"));
    cmd.addAll(List.of(extra));
    cmd.addAll(List.of("-o", output.toString(), c.toString()));
    String out = run(cmd);
    if (!Files.isRegularFile(output)) {
      throw new IOException("gcc built nothing: " + out
          + " (needs gcc and libibverbs-dev: apt-get install gcc libibverbs-dev)");
    }
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
