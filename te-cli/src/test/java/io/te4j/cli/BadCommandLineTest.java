package io.te4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Each bad command line gets one line on stderr that names what was wrong, exit code 2, and
 * nothing started: every case that takes a metadata server is pointed at a socket that records
 * connections, and none may arrive (an engine, or the bench's target JVM, would connect first).
 */
class BadCommandLineTest {
  @ParameterizedTest(name = "te {0}")
  @CsvSource(delimiter = '|', value = {
      "bench --warp                                   | --warp",
      "bench --mode sideways                          | --mode",
      "bench --operation sideways                     | --operation",
      "bench --threads 0                              | --threads",
      "bench --duration -1                            | --duration",
      "bench --batch-size x                           | --batch-size",
      "bench --block-size lots                        | --block-size",
      "bench --protocol nosuch                        | --protocol",
      "bench --threads 64 --block-size 64M            | --buffer-size",
      "bench --mode initiator                         | --segment-id",
      "bench --baseline foo                           | --baseline",
      "bench --protocol shm --cxl-device /dev/shm/x   | --cxl-device",
      "bench --protocol cxl                           | --cxl-device",
      "bench --report-interval 0                      | --report-interval",
      "bench --gpu 0 --verify                         | --verify",
      "bench --protocol cxl --cxl-device /dev/shm/x --gpu 0 | --gpu",
      "probe                                          | PEER",
      "probe a:1 b:2                                  | b:2",
      "nvmeof                                         | register, list or remove",
      "nvmeof register --name x                       | --file",
      "nvmeof remove                                  | --name",
      "nvmeof list --json=maybe                       | --json",
      "metadata-server --port 70000                   | --port",
      "metadata-server --ttl -5                       | --ttl",
      "frobnicate                                     | unknown command 'frobnicate'",
  })
  void oneLineExitTwoNothingStarted(String commandLine, String named) throws Exception {
    try (ServerSocket metadata = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      List<String> args = new ArrayList<>(Arrays.asList(commandLine.split(" ")));
      if (List.of("bench", "probe", "nvmeof").contains(args.get(0)) && args.size() > 1) {
        args.add("--metadata-server=http://127.0.0.1:" + metadata.getLocalPort() + "/metadata");
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int rc = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> Main.run(
          args.toArray(String[]::new), new PrintStream(out, true, StandardCharsets.UTF_8),
          new PrintStream(err, true, StandardCharsets.UTF_8)));
      String error = err.toString(StandardCharsets.UTF_8);
      assertEquals(2, rc, error);
      assertEquals(1, error.strip().lines().count(), error);
      assertTrue(error.startsWith("te"), error);
      assertTrue(error.contains(named), error);
      assertEquals("", out.toString(StandardCharsets.UTF_8));
      metadata.setSoTimeout(1);
      assertThrows(SocketTimeoutException.class, metadata::accept,
          "something connected to the metadata server");
    }
  }
}
