package io.te4j.transport.nvmeof;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The nvme-cli and mount command lines, and running a command without a shell. */
class NvmeofFabricTest {
  private final NvmeofFabric fabric = new NvmeofFabric("tcp", "10.0.0.7", null);

  @Test
  void discoverAndConnectNameTheTarget() {
    assertEquals(List.of("nvme", "discover", "-t", "tcp", "-a", "10.0.0.7", "-s", "4420"),
        fabric.discoverCommand());
    assertEquals(List.of("nvme", "connect", "-t", "tcp", "-n", "nqn.2024-01.io.te4j:seg", "-a",
        "10.0.0.7", "-s", "4420"), fabric.connectCommand("nqn.2024-01.io.te4j:seg"));
    assertEquals(List.of("nvme", "disconnect", "-n", "nqn.2024-01.io.te4j:seg"),
        fabric.disconnectCommand("nqn.2024-01.io.te4j:seg"));
    assertEquals(List.of("nvme", "list-subsys", "-o", "json"), fabric.listSubsystemsCommand());
  }

  @Test
  void hostNqnTransportAndBinaryAreHonoured() {
    NvmeofFabric f = new NvmeofFabric("RDMA", "192.168.1.2", "4421")
        .hostNqn("nqn.2014-08.org.nvmexpress:uuid:1234").nvmeCommand("/usr/sbin/nvme");
    assertEquals(List.of("/usr/sbin/nvme", "discover", "-t", "rdma", "-a", "192.168.1.2", "-s",
        "4421", "-q", "nqn.2014-08.org.nvmexpress:uuid:1234"), f.discoverCommand());
    assertEquals("-q", f.connectCommand("nqn.x:y").get(10));
  }

  @Test
  void mountCommands() {
    assertEquals(List.of("mount", "-t", "ext4", "-o", "ro,noatime", "/dev/nvme1n1", "/mnt/seg"),
        NvmeofFabric.mountCommand("/dev/nvme1n1", "/mnt/seg", "ext4", "ro,noatime"));
    assertEquals(List.of("mount", "/dev/nvme1n1", "/mnt/seg"),
        NvmeofFabric.mountCommand("/dev/nvme1n1", "/mnt/seg", null, null));
    assertEquals(List.of("umount", "/mnt/seg"), NvmeofFabric.unmountCommand("/mnt/seg"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "-n", "--help", "a b", "x\ny", "tab\there"})
  void valuesThatCouldBeReadAsOptionsOrSplitAreRefused(String bad) {
    TransferException e = assertThrows(TransferException.class,
        () -> fabric.connectCommand(bad));
    assertEquals(ErrorCode.INVALID_ARGUMENT, e.errorCode());
    assertThrows(TransferException.class, () -> new NvmeofFabric("tcp", bad, "4420"));
    assertThrows(TransferException.class,
        () -> NvmeofFabric.mountCommand("/dev/x", bad, null, null));
  }

  @Test
  void unknownTransportsAreRefused() {
    TransferException e = assertThrows(TransferException.class,
        () -> new NvmeofFabric("udp", "10.0.0.7", null));
    assertTrue(e.getMessage().contains("tcp"), e.getMessage());
  }

  @Test
  void runReportsExitCodeAndOutputWithoutAShell() {
    NvmeofFabric.Result r = NvmeofFabric.run(List.of("sh", "-c", "echo out; echo err >&2; exit 3"),
        Duration.ofSeconds(10));
    assertEquals(3, r.exitCode());
    assertTrue(r.output().contains("out") && r.output().contains("err"), r.output());
    NvmeofFabric.Result quoted = NvmeofFabric.run(List.of("echo", "$HOME;", "`id`"),
        Duration.ofSeconds(10));
    assertEquals("$HOME; `id`", quoted.output().trim(), "arguments are passed verbatim");
  }

  @Test
  void runKillsACommandPastItsTimeout() {
    long t0 = System.nanoTime();
    NvmeofFabric.Result r = NvmeofFabric.run(List.of("sleep", "30"), Duration.ofMillis(200));
    assertEquals(-1, r.exitCode());
    assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(10).toNanos());
  }

  @Test
  void aMissingCommandIsAClearError() {
    UncheckedIOException e = assertThrows(UncheckedIOException.class,
        () -> NvmeofFabric.run(List.of("/nonexistent/nvme", "list"), Duration.ofSeconds(5)));
    assertTrue(e.getMessage().contains("/nonexistent/nvme"), e.getMessage());
  }
}
