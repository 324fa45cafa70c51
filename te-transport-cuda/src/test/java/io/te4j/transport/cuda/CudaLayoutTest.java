package io.te4j.transport.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every size, offset and constant of {@link CudaLayout} against a probe compiled here from the
 * installed CUDA 13 headers ({@code CUDA_HOME}, default {@code /usr/local/cuda}; the build machines
 * have the toolkit). On a GPU machine the GPU check compiles the same probe there.
 */
class CudaLayoutTest {
  @Test
  void everyValueMatchesTheInstalledHeaders(@TempDir Path dir) throws Exception {
    Path c = dir.resolve("cuda_layout_probe.c");
    try (InputStream in = getClass().getResourceAsStream("cuda_layout_probe.c")) {
      Files.copy(in, c);
    }
    String cuda = System.getenv().getOrDefault("CUDA_HOME", "/usr/local/cuda");
    Path probe = dir.resolve("probe");
    String built = run(List.of("gcc", "-std=gnu11", "-Wall", "-Werror", "-I" + cuda + "/include",
        "-o", probe.toString(), c.toString()));
    assertTrue(Files.isExecutable(probe), "gcc and the CUDA 13 headers under " + cuda
        + "/include are needed: " + built);
    Map<String, Long> header = new HashMap<>();
    for (String line : run(List.of(probe.toString())).split("\n")) {
      String[] f = line.trim().split(" ");
      header.put(f[0], Long.parseLong(f[1]));
    }
    List<String> mismatches = new ArrayList<>();
    int compared = 0;
    for (Field f : CudaLayout.class.getFields()) {
      if (Modifier.isStatic(f.getModifiers()) && f.getType() == int.class) {
        Long expected = header.get(f.getName());
        if (expected == null || expected != f.getInt(null)) {
          mismatches.add(f.getName() + ": Java " + f.getInt(null) + ", headers " + expected);
        }
        compared++;
      }
    }
    assertEquals(List.of(), mismatches);
    assertEquals(header.size(), compared, "every probed value has a Java constant");
  }

  private static String run(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), cmd + " did not finish");
    assertEquals(0, p.exitValue(), cmd + ": " + out);
    return out;
  }
}
