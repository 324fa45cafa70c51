package io.te4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.te4j.api.BufferDescriptor;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.core.transfer.Batch;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The runnable JAR, as the README's quick start runs it: a real bench between two JVMs. */
class CliIT {
  private static Result te(String... args) throws Exception {
    return te(Map.of(), args);
  }

  /**
   * Runs the JAR with {@code env} changed ({@code ""} removes a variable); MC_CXL_DEV_PATH is
   * removed unless {@code env} names it, so the caller's shell cannot pick a device.
   */
  private static Result te(Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-jar", System.getProperty("te.cli.jar")));
    cmd.addAll(List.of(args));
    Path errFile = Files.createTempFile("te4j-cli-err-", ".txt");
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(errFile.toFile());
      pb.environment().remove("MC_CXL_DEV_PATH");
      pb.environment().remove("CXL_DEV_PATH");
      env.forEach((k, v) -> {
        if (v.isEmpty()) {
          pb.environment().remove(k);
        } else {
          pb.environment().put(k, v);
        }
      });
      Process p = pb.start();
      byte[] out = p.getInputStream().readAllBytes();
      assertTrue(p.waitFor(120, TimeUnit.SECONDS), "te " + String.join(" ", args) + " hung");
      return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8),
          Files.readString(errFile));
    } finally {
      Files.deleteIfExists(errFile);
    }
  }

  private record Result(int exit, String out, String err) {}

  /** A path on /dev/shm for a CXL stand-in, unique to this JVM; deleted if it exists. */
  private static Path shmPath(String tag) throws Exception {
    Path p = Path.of("/dev/shm", "te4j-cli-" + ProcessHandle.current().pid() + "-" + tag);
    Files.deleteIfExists(p);
    return p;
  }

  private static Path sparseFile(String tag, long size) throws Exception {
    Path p = shmPath(tag);
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.setLength(size);
    }
    return p;
  }

  private static void assertCxlRun(Result r, String op, Path device) throws Exception {
    assertEquals(0, r.exit(), r.out() + r.err());
    JsonNode j = new ObjectMapper().readTree(r.out());
    assertEquals("cxl", j.get("protocol").asText(), r.out());
    assertEquals(op, j.get("operation").asText());
    assertEquals(device.toString(), j.get("cxl_device").asText());
    assertTrue(j.get("gbps").asDouble() > 0, r.out());
    assertTrue(j.get("transfers_per_sec").asLong() > 0, r.out());
    assertTrue(j.get("batches").asLong() > 0, r.out());
    assertEquals(0, j.get("errors").asLong(), r.out());
  }

  /**
   * {@code te bench --mode target --buffer-size 16M} publishes and serves exactly 16 MiB: a peer
   * sees one buffer of that length, writes inside it land, one byte past it is refused.
   */
  @Test
  void benchTargetExposesExactlyItsBufferSize() throws Exception {
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java")
        .toString(), "--enable-native-access=ALL-UNNAMED", "-jar", System.getProperty("te.cli.jar"),
        "bench", "--mode", "target", "--buffer-size", "16M", "--exit-on-stdin-eof")
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    try (Engine peer = Engine.builder().localHostname("127.0.0.1").metadataServer("P2PHANDSHAKE")
        .protocol("tcp").setting("te4j.transport.shm.disabled", "true").start();
        ManagedBuffer local = peer.allocate(4096)) {
      String name = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
          StandardCharsets.UTF_8)).readLine();
      List<BufferDescriptor> buffers = peer.refreshSegment(name).buffers();
      assertEquals(1, buffers.size(), buffers.toString());
      long base = buffers.get(0).address();
      assertEquals(16L << 20, buffers.get(0).length());
      assertEquals(TransferState.COMPLETED, peer.submitAndWait(name, List.of(
          TransferRequest.write(local.address(), base + (16L << 20) - 4096, 4096)), "").state());
      Batch past = peer.submitAndWait(name, List.of(
          TransferRequest.write(local.address(), base + (16L << 20) - 4095, 4096)), "");
      assertEquals(TransferState.FAILED, past.state(), "one byte past --buffer-size");
    } finally {
      p.getOutputStream().close(); // the target exits when its stdin closes
      assertTrue(p.waitFor(30, TimeUnit.SECONDS));
      assertEquals(0, p.exitValue());
    }
  }

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

  /**
   * {@code te bench --hold-connections}: 1,500 idle connections from two loopback addresses are
   * held while the bench moves bytes; the target's thread count barely moves (its I/O threads
   * serve them all) and the run still verifies its bytes.
   */
  @Test
  void benchHoldsIdleConnectionsWithoutAThreadEach() throws Exception {
    Result r = te("bench", "--hold-connections", "1500", "--duration", "2", "--block-size",
        "64K", "--buffer-size", "16M", "--baseline", "none", "--verify", "--json");
    assertEquals(0, r.exit(), r.out());
    JsonNode j = new ObjectMapper().readTree(r.out());
    assertEquals(1500, j.get("held_connections").asInt());
    long before = j.get("target_threads_before").asLong();
    long after = j.get("target_threads_after").asLong();
    assertTrue(before > 0 && after - before < 20, "target threads " + before + " -> " + after);
    assertTrue(j.get("target_rss_kib_after").asLong() > 0);
    assertTrue(j.get("verified").asBoolean(), r.out());
    assertEquals(0, j.get("errors").asLong());

    Result refused = te("bench", "--protocol", "shm", "--hold-connections", "10");
    assertEquals(2, refused.exit(), refused.out());
  }

  /**
   * {@code java -jar} with no flag prints no JVM warning on any JDK from 17 to 25 (native access
   * is granted by the manifest, Guice generates no bytecode), and {@code MC_TE_METRIC=1} prints
   * the engine's throughput lines, which the CLI's warnings-only log used to swallow.
   */
  @Test
  void runsWithoutJvmWarningsAndMcTeMetricPrintsThroughput() throws Exception {
    ProcessBuilder pb = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
        System.getProperty("te.cli.jar"), "bench", "--duration", "3", "--block-size", "64K",
        "--buffer-size", "16M", "--baseline", "none", "--json");
    pb.environment().put("MC_TE_METRIC", "1");
    pb.environment().put("MC_TE_METRIC_INTERVAL_SECONDS", "1");
    Path errFile = Files.createTempFile("te4j-cli-err-", ".txt");
    try {
      Process p = pb.redirectError(errFile.toFile()).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(120, TimeUnit.SECONDS));
      String err = Files.readString(errFile);
      assertEquals(0, p.exitValue(), out + err);
      assertFalse(err.contains("WARNING:"), err);
      assertTrue(err.contains("MB/s over 1 s"), err);
    } finally {
      Files.deleteIfExists(errFile);
    }
  }

  /**
   * {@code te bench --protocol cxl}: target in a child JVM serving the first 16 MiB of a sparse
   * /dev/shm file, initiator here; {@code --verify} round-trips a pattern, and the file itself
   * holds it afterwards: every block of the span the bench used, and nothing beyond it.
   */
  @Test
  void cxlBenchWritesThroughTheDeviceFile() throws Exception {
    long size = 16L << 20;
    long block = 64L << 10;
    long span = 2 * 8 * block; // threads x batch-size x block-size
    Path device = sparseFile("cxl", size);
    try {
      Result r = te("bench", "--protocol", "cxl", "--cxl-device", device.toString(), "--duration",
          "1", "--block-size", "64K", "--batch-size", "8", "--buffer-size", "16M", "--baseline",
          "none", "--json", "--verify");
      assertCxlRun(r, "write", device);
      JsonNode j = new ObjectMapper().readTree(r.out());
      assertTrue(j.get("verified").asBoolean(), r.out() + r.err());
      assertEquals(span, j.get("verified_bytes").asLong());
      assertTrue(Files.exists(device), "a device te did not create is left in place");
      byte[] file = Files.readAllBytes(device);
      assertEquals(size, file.length);
      for (long at = 0; at < span; at += block) {
        boolean written = false;
        for (int i = 0; i < block && !written; i++) {
          written = file[(int) (at + i)] != 0;
        }
        assertTrue(written, "the device file's block at " + at + " holds what was sent");
      }
      int stray = Arrays.mismatch(file, (int) span, (int) size, new byte[(int) (size - span)], 0,
          (int) (size - span));
      assertEquals(-1, stray, "byte " + (span + stray) + " lies outside what the bench used");
    } finally {
      Files.deleteIfExists(device);
    }
  }

  /** MC_CXL_DEV_PATH names the device; a missing one under /dev/shm lives only for the run. */
  @Test
  void cxlDeviceFromEnvironmentIsCreatedForTheRunAndRemoved() throws Exception {
    Path device = shmPath("env");
    try {
      Result r = te(Map.of("MC_CXL_DEV_PATH", device.toString()), "bench", "--protocol", "cxl",
          "--operation", "read", "--duration", "1", "--block-size", "64K", "--batch-size", "8",
          "--buffer-size", "16M", "--baseline", "none", "--json", "--verify");
      assertCxlRun(r, "read", device);
      assertTrue(new ObjectMapper().readTree(r.out()).get("verified").asBoolean(), r.out());
      assertTrue(r.err().contains("created sparse"), r.err());
      assertFalse(Files.exists(device), "the stand-in te created is deleted after the run");
    } finally {
      Files.deleteIfExists(device);
    }
  }

  @Test
  void cxlWithoutAUsableDeviceFailsWithAClearMessage() throws Exception {
    Result none = te("bench", "--protocol", "cxl", "--duration", "1", "--baseline", "none");
    assertEquals(2, none.exit(), none.err());
    assertTrue(none.err().contains("--cxl-device") && none.err().contains("MC_CXL_DEV_PATH"),
        none.err());
    assertEquals("", none.out());

    Path small = sparseFile("small", 1L << 20);
    try {
      Result tooSmall = te("bench", "--protocol", "cxl", "--cxl-device", small.toString(),
          "--buffer-size", "16M", "--duration", "1", "--baseline", "none");
      assertEquals(1, tooSmall.exit(), tooSmall.err());
      assertTrue(tooSmall.err().contains("holds 1048576 bytes")
          && tooSmall.err().contains("--buffer-size"), tooSmall.err());
      assertEquals(1L << 20, Files.size(small), "an existing device is never resized");
    } finally {
      Files.deleteIfExists(small);
    }

    Path elsewhere = Files.createTempDirectory("te4j-cli-").resolve("no-such-device");
    try {
      Result missing = te("bench", "--cxl-device", elsewhere.toString(), "--duration", "1",
          "--baseline", "none");
      assertEquals(1, missing.exit(), missing.err());
      assertTrue(missing.err().contains(elsewhere + " (--cxl-device / MC_CXL_DEV_PATH) does not "
          + "exist"), missing.err());
      assertFalse(Files.exists(elsewhere), "only /dev/shm stand-ins are created");
    } finally {
      Files.deleteIfExists(elsewhere.getParent());
    }
  }

  @Test
  void probeAndTopology() throws Exception {
    Result version = te("--version");
    assertEquals(0, version.exit());
    assertEquals("te4j 0.1.0-SNAPSHOT", version.out().strip(), "from the JAR's manifest");
    Result refused = te("probe", "127.0.0.1:1");
    assertEquals(1, refused.exit());
    assertTrue(refused.out().contains("unreachable: SOCKET_FAIL (-101)")
        && refused.out().contains("Connection refused"), refused.out());
    Result unknown = te("probe", "no-such-host.invalid:15000");
    assertEquals(1, unknown.exit());
    assertTrue(unknown.out().contains("DNS_FAIL") && unknown.out().contains("cannot resolve"),
        unknown.out());
    // A port where an HTTP server answers at once (as the reference's metadata server does to a
    // request it cannot parse): said so in one line, not a frame length and a limit to raise.
    try (java.net.ServerSocket http = new java.net.ServerSocket(0, 1,
        java.net.InetAddress.getLoopbackAddress())) {
      Thread server = new Thread(() -> {
        try (java.net.Socket s = http.accept()) {
          s.getInputStream().read(new byte[64]);
          s.getOutputStream().write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
              .getBytes(StandardCharsets.US_ASCII));
        } catch (java.io.IOException e) {
          // the probe went away
        }
      });
      server.start();
      Result notHandshake = te("probe", "127.0.0.1:" + http.getLocalPort());
      assertEquals(1, notHandshake.exit());
      assertTrue(notHandshake.out().contains("an HTTP server answered")
          && !notHandshake.out().contains("MC_HANDSHAKE_MAX_LENGTH"), notHandshake.out());
      assertEquals(1, notHandshake.out().strip().split("\n").length, notHandshake.out());
      server.join(10_000);
    }
    // A live engine's handshake port answers.
    try (Engine peer = Engine.builder().localHostname("127.0.0.1").metadataServer("P2PHANDSHAKE")
        .protocol("tcp").start()) {
      Result ok = te("probe", peer.segmentName());
      assertEquals(0, ok.exit(), ok.out());
      assertTrue(ok.out().contains("reachable ("), ok.out());
    }
    Result topo = te("topology");
    assertEquals(0, topo.exit());
    assertTrue(new ObjectMapper().readTree(topo.out()).has("cpu:0"), topo.out());
  }

  /**
   * {@code --sweep}: one run per block size against one target, each beside a C memcpy of the
   * same shape (shm's baseline), a table on stdout and a chart that names every size.
   */
  @Test
  void sweepWritesATableAndAChart() throws Exception {
    Path chart = Files.createTempFile("te4j-sweep-", ".svg");
    try {
      Result r = te("bench", "--protocol", "shm", "--sweep", "4K,64K,1M", "--batch-size", "4",
          "--duration", "1", "--buffer-size", "16M", "--chart", chart.toString());
      assertEquals(0, r.exit(), r.err());
      String[] rows = r.out().strip().split("\n");
      assertTrue(rows[1].contains("memcpy GB/s"), r.out());
      assertTrue(rows[2].startsWith("4 KiB") && rows[3].startsWith("64 KiB")
          && rows[4].startsWith("1 MiB"), r.out());
      assertTrue(rows[5].startsWith("chart: "), r.out());
      String svg = Files.readString(chart);
      assertTrue(svg.startsWith("<svg") && svg.strip().endsWith("</svg>"), svg);
      for (String size : List.of(">4 KiB<", ">64 KiB<", ">1 MiB<", ">C memcpy, same shape<")) {
        assertTrue(svg.contains(size), size + " in " + svg);
      }
      Result json = te("bench", "--protocol", "shm", "--sweep", "64K,256K", "--duration", "1",
          "--buffer-size", "16M", "--chart", chart.toString(), "--json");
      assertEquals(0, json.exit(), json.err());
      JsonNode sweep = new ObjectMapper().readTree(json.out()).get("sweep");
      assertEquals(2, sweep.size(), json.out());
      for (JsonNode row : sweep) {
        assertEquals(0, row.get("errors").asLong());
        assertTrue(row.get("baseline_memcpy_gbps").asDouble() > 0, row.toString());
        assertTrue(row.get("ratio_to_memcpy").asDouble() > 0, row.toString());
      }
      assertEquals(262144, sweep.get(1).get("block_size").asLong());
    } finally {
      Files.deleteIfExists(chart);
    }
  }

  /** te doctor on this machine: every check says ok, warn or fail, a fix beside each problem. */
  @Test
  void doctorChecksThisMachine() throws Exception {
    Result r = te("doctor", "--json");
    JsonNode findings = new ObjectMapper().readTree(r.out());
    assertTrue(findings.size() >= 12, r.out());
    boolean failed = false;
    for (JsonNode f : findings) {
      String level = f.get("level").asText();
      assertTrue(List.of("ok", "warn", "fail").contains(level), f.toString());
      assertEquals(level.equals("ok"), f.get("fix").asText().isEmpty(), f.toString());
      failed |= level.equals("fail");
    }
    assertEquals(failed ? 1 : 0, r.exit(), r.out());
    assertTrue(r.out().contains("\"check\":\"/dev/shm\"")
        && r.out().contains("\"check\":\"memlock\""), r.out());
  }

  /** nvmeof's baseline is fio on the same file (said to be skipped where fio is missing). */
  @Test
  void nvmeofBenchRunsBesideFio() throws Exception {
    Path file = Files.createTempFile(Path.of("target"), "te4j-nvmeof-bench-", ".bin");
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.setLength(16L << 20);
    }
    try {
      Result r = te("bench", "--segment-file", file.toString(), "--block-size", "128K",
          "--batch-size", "8", "--duration", "1", "--buffer-size", "16M", "--json");
      assertEquals(0, r.exit(), r.err());
      JsonNode j = new ObjectMapper().readTree(r.out());
      assertEquals("nvmeof", j.get("protocol").asText());
      boolean fio = Arrays.stream(System.getenv("PATH").split(":"))
          .anyMatch(d -> Files.isExecutable(Path.of(d, "fio")));
      if (fio) {
        assertTrue(j.get("baseline_fio_gbps").asDouble() > 0, r.out() + r.err());
        assertTrue(j.get("ratio_to_fio").asDouble() > 0, r.out());
      } else {
        assertTrue(j.get("baseline_fio_skipped").asText().contains("not installed"), r.out());
      }
    } finally {
      Files.deleteIfExists(file);
    }
  }

  /**
   * A metadata server that is not there: one line on stderr naming it (the clients' retry
   * chatter, a stack trace per reconnect, only with --verbose), exit 1.
   */
  @Test
  void probeWithAMetadataServerDownSaysSoInOneLine() throws Exception {
    int free;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      free = s.getLocalPort();
    }
    for (String url : List.of("etcd://127.0.0.1:" + free, "zk://127.0.0.1:" + free,
        "http://127.0.0.1:" + free + "/metadata")) {
      Result r = te("probe", "peer-a", "--metadata-server", url);
      assertEquals(1, r.exit(), r.err());
      assertEquals(1, r.err().strip().lines().count(), url + ": " + r.err());
      assertTrue(r.err().startsWith("te probe: METADATA (-200)")
          && r.err().contains("127.0.0.1:" + free), r.err());
      assertEquals("", r.out());
    }
    Result verbose = te("probe", "peer-a", "--metadata-server", "zk://127.0.0.1:" + free,
        "--verbose");
    assertTrue(verbose.err().lines().count() > 5, "--verbose shows the trace: " + verbose.err());
  }
}
