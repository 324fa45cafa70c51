package io.te4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The runnable JAR, as the README's quick start runs it: a real bench between two JVMs. */
class CliIT {
  private static Result te(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-jar", System.getProperty("te.cli.jar")));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "te " + String.join(" ", args) + " hung");
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  private record Result(int exit, String out) {}

  @Test
  void benchWithoutModeRunsTargetAndInitiatorAndPrintsJson() throws Exception {
    for (String op : List.of("write", "read")) {
      Result r = te("bench", "--operation", op, "--duration", "2", "--block-size", "64K",
          "--batch-size", "8", "--buffer-size", "16M", "--baseline", "socket", "--json");
      assertEquals(0, r.exit(), r.out());
      JsonNode j = new ObjectMapper().readTree(r.out());
      assertEquals(op, j.get("operation").asText());
      assertTrue(j.get("gbps").asDouble() > 0, r.out());
      assertTrue(j.get("transfers_per_sec").asLong() > 0, r.out());
      assertEquals(0, j.get("errors").asLong());
      assertTrue(j.get("batch_latency_us").get("p99").asDouble() > 0);
      assertTrue(j.get("baseline_socket_gbps").asDouble() > 0);
    }
  }

  @Test
  void probeAndTopology() throws Exception {
    Result unreachable = te("probe", "127.0.0.1:1");
    assertEquals(1, unreachable.exit());
    assertTrue(unreachable.out().contains("unreachable"), unreachable.out());
    Result topo = te("topology");
    assertEquals(0, topo.exit());
    assertTrue(new ObjectMapper().readTree(topo.out()).has("cpu:0"), topo.out());
  }
}
