package io.te4j.transport.shm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Which host (and boot) this process runs on: {@code /etc/machine-id} plus the kernel's boot id,
 * so two engines agree they share memory only when they run on one booted kernel; an IP string says
 * nothing of the kind (containers, NAT, loopback). Falls back to the hostname plus boot id.
 */
final class HostIdentity {
  private static final String ID = compute();

  private HostIdentity() {}

  /** {@code <machine-id>/<boot-id>}, stable for the life of the boot. */
  static String get() {
    return ID;
  }

  private static String compute() {
    String machine = read("/etc/machine-id");
    if (machine == null) {
      machine = read("/var/lib/dbus/machine-id");
    }
    if (machine == null) {
      machine = read("/proc/sys/kernel/hostname");
    }
    String boot = read("/proc/sys/kernel/random/boot_id");
    return (machine == null ? "unknown" : machine) + "/" + (boot == null ? "unknown" : boot);
  }

  private static String read(String file) {
    try {
      String s = Files.readString(Path.of(file)).trim();
      return s.isEmpty() ? null : s;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
