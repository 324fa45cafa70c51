package io.te4j.cli.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code te doctor} over made-up machines: a clean one, and one finding at a time. */
class DoctorTest {
  @TempDir
  Path root;

  /** A machine from files under the temp dir, with a host name and resolver of the test's. */
  private final class Fake extends Machine {
    String host = "node7";
    List<InetAddress> addresses;
    boolean libraries = true;

    Fake() throws IOException {
      super(root);
      addresses = List.of(InetAddress.getByAddress("node7", new byte[] {10, 0, 0, 7}));
    }

    @Override
    String hostName() {
      return host;
    }

    @Override
    List<InetAddress> resolve(String name) {
      return name.equals(host) ? addresses : List.of();
    }

    @Override
    boolean hasLibrary(String soname) {
      return libraries;
    }
  }

  private Fake machine;

  private void file(String path, String text) throws IOException {
    Path p = root.resolve(path.substring(1));
    Files.createDirectories(p.getParent());
    Files.writeString(p, text + "\n");
  }

  private static String limits(String memlock, String files) {
    return String.join("\n",
        "Limit                     Soft Limit           Hard Limit           Units",
        "Max open files            " + files + "              " + files + "              files",
        "Max locked memory         " + memlock + "            " + memlock + "            bytes");
  }

  /** A machine with nothing to fix: one verbs device (RoCE, MTU 9000), a GPU with peermem. */
  @BeforeEach
  void cleanMachine() throws IOException {
    machine = new Fake();
    file("/proc/self/limits", limits("unlimited", "1048576"));
    Files.createDirectories(root.resolve("dev/shm"));
    file("/proc/meminfo", "MemTotal: 1 kB\nHugePages_Total:    1024\nHugepagesize:       2048 kB");
    file("/sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never");
    file("/proc/sys/kernel/io_uring_disabled", "0");
    file("/proc/sys/kernel/yama/ptrace_scope", "0");
    String port = "/sys/class/infiniband/mlx5_0/ports/1";
    file(port + "/state", "4: ACTIVE");
    file(port + "/link_layer", "Ethernet");
    file(port + "/gids/0", "fe80:0000:0000:0000:0000:0000:0a00:0007");
    file("/sys/class/infiniband/mlx5_0/device/net/eth2/mtu", "9000");
    file("/proc/driver/nvidia/version", "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.65");
    Files.createDirectories(root.resolve("sys/module/nvidia_peermem"));
    file("/proc/sys/kernel/osrelease", "6.8.0-45-generic");
    file("/proc/sys/net/ipv4/ip_local_port_range", "32768\t60999");
    file("/sys/devices/system/clocksource/clocksource0/current_clocksource", "tsc");
  }

  private Map<String, Finding> run() {
    Map<String, Finding> byCheck = new TreeMap<>();
    for (Finding f : new Doctor(machine, 15000, 17000).run()) {
      byCheck.put(f.check(), f);
    }
    return byCheck;
  }

  private Finding only(Finding.Level level) {
    List<Finding> hits = run().values().stream().filter(f -> f.level() == level).toList();
    assertEquals(1, hits.size(), hits::toString);
    assertTrue(!hits.get(0).fix().isEmpty(), "a finding says how to fix it: " + hits);
    return hits.get(0);
  }

  @Test
  void aCleanMachineHasNothingToFix() {
    Map<String, Finding> all = run();
    for (Finding f : all.values()) {
      assertEquals(Finding.Level.OK, f.level(), f::toString);
      assertEquals("", f.fix());
    }
    assertTrue(all.get("mlx5_0 port 1").found().contains("Ethernet, ACTIVE"), all::toString);
    assertTrue(all.get("GPUDirect RDMA").found().contains("nvidia_peermem"), all::toString);
    assertTrue(all.get("port range").found().contains("clear of the ephemeral ports 32768-60999"));
  }

  @Test
  void lowLimits() throws IOException {
    file("/proc/self/limits", limits("65536", "1048576"));
    Finding f = only(Finding.Level.WARN);
    assertEquals("memlock", f.check());
    assertTrue(f.found().startsWith("64 KiB") && f.fix().contains("ulimit -l unlimited"), f::toString);
    file("/proc/self/limits", limits("unlimited", "1024"));
    assertEquals("open files", only(Finding.Level.WARN).check());
  }

  @Test
  void noDevShmIsAFailure() throws IOException {
    Files.delete(root.resolve("dev/shm"));
    Finding f = only(Finding.Level.FAIL);
    assertEquals("/dev/shm", f.check());
    assertTrue(f.fix().contains("mount -t tmpfs"), f::toString);
  }

  @Test
  void ioUringAndPtraceRestrictions() throws IOException {
    file("/proc/sys/kernel/io_uring_disabled", "2");
    assertTrue(only(Finding.Level.WARN).fix().contains("kernel.io_uring_disabled=0"));
    file("/proc/sys/kernel/io_uring_disabled", "0");
    file("/proc/sys/kernel/yama/ptrace_scope", "1");
    Finding f = only(Finding.Level.WARN);
    assertEquals("cross-memory attach", f.check());
    assertTrue(f.fix().contains("kernel.yama.ptrace_scope=0"), f::toString);
  }

  @Test
  void verbsPortDownNoGidSmallMtuAndNoLibrary() throws IOException {
    String port = "/sys/class/infiniband/mlx5_0/ports/1";
    file(port + "/state", "1: DOWN");
    assertEquals("mlx5_0 port 1", only(Finding.Level.FAIL).check());
    file(port + "/state", "4: ACTIVE");
    file(port + "/gids/0", "0000:0000:0000:0000:0000:0000:0000:0000");
    assertTrue(only(Finding.Level.WARN).fix().contains("IP address"));
    file(port + "/gids/0", "fe80:0000:0000:0000:0000:0000:0a00:0007");
    file("/sys/class/infiniband/mlx5_0/device/net/eth2/mtu", "1500");
    Finding mtu = only(Finding.Level.WARN);
    assertTrue(mtu.found().contains("MTU 1500 (RDMA MTU 1024)") && mtu.fix().contains("mtu 9000"),
        mtu::toString);
    file("/sys/class/infiniband/mlx5_0/device/net/eth2/mtu", "9000");
    machine.libraries = false;
    List<Finding> fails = run().values().stream()
        .filter(f -> f.level() == Finding.Level.FAIL).toList();
    assertEquals(List.of("libibverbs", "NVIDIA driver"), fails.stream().map(Finding::check)
        .sorted(String.CASE_INSENSITIVE_ORDER).toList(), fails::toString);
  }

  @Test
  void gpuWithoutPeerMemoryOnAnOldKernel() throws IOException {
    Files.delete(root.resolve("sys/module/nvidia_peermem"));
    file("/proc/sys/kernel/osrelease", "5.4.0-150-generic");
    Finding f = only(Finding.Level.WARN);
    assertEquals("GPUDirect RDMA", f.check());
    assertTrue(f.fix().contains("modprobe nvidia_peermem"), f::toString);
  }

  @Test
  void portRangeInsideTheEphemeralPorts() throws IOException {
    file("/proc/sys/net/ipv4/ip_local_port_range", "10000 60999");
    Finding f = only(Finding.Level.WARN);
    assertEquals("port range", f.check());
    assertTrue(f.fix().contains("ip_local_reserved_ports=15000-17000"), f::toString);
  }

  @Test
  void slowClockAndLoopbackOrUnresolvableHostName() throws IOException {
    file("/sys/devices/system/clocksource/clocksource0/current_clocksource", "hpet");
    assertEquals("clock", only(Finding.Level.WARN).check());
    file("/sys/devices/system/clocksource/clocksource0/current_clocksource", "tsc");
    machine.addresses = List.of(InetAddress.getByAddress("node7", new byte[] {127, 0, 1, 1}));
    Finding loop = only(Finding.Level.WARN);
    assertTrue(loop.found().contains("127.0.1.1 only") && loop.fix().contains("/etc/hosts"),
        loop::toString);
    machine.addresses = List.of();
    assertEquals("host name", only(Finding.Level.FAIL).check());
  }
}
