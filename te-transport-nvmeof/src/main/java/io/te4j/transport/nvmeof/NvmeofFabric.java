package io.te4j.transport.nvmeof;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The nvme-cli command lines a host runs to reach files of a remote NVMe-oF target before it can
 * use a file segment's {@code local_path_map} paths: discover the target's subsystems, connect one
 * (a {@code /dev/nvmeXnY} namespace appears), mount it. Builds argument lists only; {@link #run}
 * executes one when asked, without a shell.
 *
 * <pre>{@code
 * NvmeofFabric fabric = new NvmeofFabric("tcp", "10.0.0.7", "4420");
 * fabric.discoverCommand();                 // nvme discover -t tcp -a 10.0.0.7 -s 4420
 * fabric.connectCommand("nqn.2024-01.io.x:seg"); // nvme connect -t tcp -n nqn... -a 10.0.0.7 -s 4420
 * NvmeofFabric.mountCommand("/dev/nvme1n1", "/mnt/seg", "ext4", "ro");
 * }</pre>
 *
 * <p>Every value is checked: no empty values, nothing starting with {@code -} (it would be read
 * as an option), no whitespace or control characters. Immutable and thread-safe.
 */
public final class NvmeofFabric {
  /** Transports nvme-cli accepts for {@code -t}. */
  public static final Set<String> TRANSPORTS = Set.of("tcp", "rdma", "fc", "loop");
  /** The NVMe-oF I/O port of tcp and rdma targets. */
  public static final String DEFAULT_SERVICE_ID = "4420";

  private final String nvme;
  private final String transport;
  private final String address;
  private final String serviceId;
  private final String hostNqn;

  /**
   * A target reached over {@code transport} at {@code address}, port {@code serviceId} ({@code
   * null}: 4420).
   */
  public NvmeofFabric(String transport, String address, String serviceId) {
    this("nvme", transport, address, serviceId, null);
  }

  private NvmeofFabric(String nvme, String transport, String address, String serviceId,
      String hostNqn) {
    this.nvme = checked("nvme command", nvme);
    String t = checked("transport", transport).toLowerCase(Locale.ROOT);
    if (!TRANSPORTS.contains(t)) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT,
          "transport must be one of " + TRANSPORTS + ", got '" + transport + "'");
    }
    this.transport = t;
    this.address = checked("target address", address);
    this.serviceId = checked("service id", serviceId == null ? DEFAULT_SERVICE_ID : serviceId);
    this.hostNqn = hostNqn == null ? null : checked("host NQN", hostNqn);
  }

  /** A copy that identifies this host with {@code hostNqn} ({@code -q}). */
  public NvmeofFabric hostNqn(String hostNqn) {
    return new NvmeofFabric(nvme, transport, address, serviceId, Objects.requireNonNull(hostNqn));
  }

  /** A copy that runs {@code command} instead of {@code nvme} (a full path, a wrapper). */
  public NvmeofFabric nvmeCommand(String command) {
    return new NvmeofFabric(command, transport, address, serviceId, hostNqn);
  }

  /** {@code nvme discover -t T -a A -s S [-q HOSTNQN]}: lists the target's subsystems. */
  public List<String> discoverCommand() {
    List<String> cmd = new ArrayList<>(List.of(nvme, "discover", "-t", transport, "-a", address,
        "-s", serviceId));
    addHostNqn(cmd);
    return List.copyOf(cmd);
  }

  /** {@code nvme connect -t T -n NQN -a A -s S [-q HOSTNQN]}: attaches one subsystem. */
  public List<String> connectCommand(String subsystemNqn) {
    List<String> cmd = new ArrayList<>(List.of(nvme, "connect", "-t", transport, "-n",
        checked("subsystem NQN", subsystemNqn), "-a", address, "-s", serviceId));
    addHostNqn(cmd);
    return List.copyOf(cmd);
  }

  /** {@code nvme disconnect -n NQN}: detaches every controller of that subsystem. */
  public List<String> disconnectCommand(String subsystemNqn) {
    return List.of(nvme, "disconnect", "-n", checked("subsystem NQN", subsystemNqn));
  }

  /** {@code nvme list-subsys -o json}: which subsystems are connected, and their namespaces. */
  public List<String> listSubsystemsCommand() {
    return List.of(nvme, "list-subsys", "-o", "json");
  }

  /**
   * {@code mount [-t FSTYPE] [-o OPTIONS] DEVICE MOUNTPOINT}.
   *
   * @param fsType file system type, or null to let mount detect it
   * @param options mount options such as {@code ro,noatime}, or null
   */
  public static List<String> mountCommand(String device, String mountPoint, String fsType,
      String options) {
    List<String> cmd = new ArrayList<>();
    cmd.add("mount");
    if (fsType != null) {
      cmd.add("-t");
      cmd.add(checked("file system type", fsType));
    }
    if (options != null) {
      cmd.add("-o");
      cmd.add(checked("mount options", options));
    }
    cmd.add(checked("device", device));
    cmd.add(checked("mount point", mountPoint));
    return List.copyOf(cmd);
  }

  /** {@code umount MOUNTPOINT}. */
  public static List<String> unmountCommand(String mountPoint) {
    return List.of("umount", checked("mount point", mountPoint));
  }

  /**
   * Runs one command (no shell), standard error merged into the output, killed after {@code
   * timeout}.
   *
   * @return its exit code and output; a command killed for the timeout reports exit code -1
   * @throws UncheckedIOException when it cannot be started (not installed)
   */
  public static Result run(List<String> command, Duration timeout) {
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + String.join(" ", command), e);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Thread reader = new Thread(() -> copy(p.getInputStream(), out), "nvmeof-fabric-output");
    reader.setDaemon(true);
    reader.start();
    try {
      boolean done = p.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS);
      if (!done) {
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
      }
      reader.join(TimeUnit.SECONDS.toMillis(5));
      String text;
      synchronized (out) {
        text = out.toString(StandardCharsets.UTF_8);
      }
      return new Result(done ? p.exitValue() : -1, text);
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new TransferException(ErrorCode.TRANSFER_FAILED, "interrupted running " + command, e);
    }
  }

  private static void copy(InputStream in, ByteArrayOutputStream out) {
    byte[] buf = new byte[8192];
    try (in) {
      for (int n; (n = in.read(buf)) > 0; ) {
        synchronized (out) {
          out.write(buf, 0, n);
        }
      }
    } catch (IOException e) {
      // The process went away; what was read is kept.
    }
  }

  /**
   * What a command did.
   *
   * @param exitCode its exit status, -1 when it was killed for the timeout
   * @param output standard output and error, interleaved
   */
  public record Result(int exitCode, String output) {
    /** True for exit status 0. */
    public boolean ok() {
      return exitCode == 0;
    }
  }

  private void addHostNqn(List<String> cmd) {
    if (hostNqn != null) {
      cmd.add("-q");
      cmd.add(hostNqn);
    }
  }

  private static String checked(String what, String value) {
    if (value == null || value.isEmpty()) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, what + " is empty");
    }
    if (value.startsWith("-")) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT,
          what + " must not start with '-': " + value);
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (Character.isWhitespace(c) || Character.isISOControl(c)) {
        throw new TransferException(ErrorCode.INVALID_ARGUMENT,
            what + " contains whitespace or a control character: '" + value + "'");
      }
    }
    return value;
  }
}
