package io.te4j.cli.doctor;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code te doctor}'s checks of a machine: what each transport needs from the kernel and the
 * system (limits, /dev/shm, hugepages, io_uring, cross-memory attach, verbs devices, the NVIDIA
 * driver and GPUDirect, the port range, the clock, the host name), each finding with its fix.
 * They read files only, so a test can run them over a made-up machine.
 */
public final class Doctor {
  private static final long MIB = 1L << 20;
  private static final long GIB = 1L << 30;

  private final Machine m;
  private final int minPort;
  private final int maxPort;

  /** Checks {@code machine} for an engine listening on ports {@code [minPort, maxPort]}. */
  public Doctor(Machine machine, int minPort, int maxPort) {
    this.m = machine;
    this.minPort = minPort;
    this.maxPort = maxPort;
  }

  /** Every finding, in a stable order. */
  public List<Finding> run() {
    List<Finding> all = new ArrayList<>();
    all.add(memlock());
    all.add(openFiles());
    all.add(devShm());
    all.add(hugepages());
    all.add(ioUring());
    all.add(crossMemoryAttach());
    all.addAll(verbs());
    all.addAll(cuda());
    all.add(portRange());
    all.add(clock());
    all.add(hostName());
    return all;
  }

  /** The soft limit named {@code name} in /proc/self/limits; -1 unlimited, null unknown. */
  private Long limit(String name) {
    Optional<String> limits = m.read("/proc/self/limits");
    if (limits.isEmpty()) {
      return null;
    }
    for (String line : limits.get().split("\n")) {
      if (line.startsWith(name)) {
        String soft = line.substring(name.length()).trim().split("\\s+")[0];
        return soft.equals("unlimited") ? -1L : parse(soft);
      }
    }
    return null;
  }

  private static Long parse(String s) {
    try {
      return Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static String bytes(long n) {
    return n >= GIB && n % GIB == 0 ? n / GIB + " GiB" : n >= MIB ? n / MIB + " MiB"
        : n / 1024 + " KiB";
  }

  Finding memlock() {
    Long l = limit("Max locked memory");
    if (l == null) {
      return Finding.warn("memlock", "unknown (no /proc/self/limits)", "");
    }
    if (l == -1 || l >= 64 * GIB) {
      return Finding.ok("memlock", l == -1 ? "unlimited" : bytes(l));
    }
    return Finding.warn("memlock", bytes(l) + " may be locked", "RDMA pins every registered "
        + "buffer: ulimit -l unlimited (systemd: LimitMEMLOCK=infinity; containers: --ulimit "
        + "memlock=-1)");
  }

  Finding openFiles() {
    Long l = limit("Max open files");
    if (l == null) {
      return Finding.warn("open files", "unknown (no /proc/self/limits)", "");
    }
    if (l == -1 || l >= 65536) {
      return Finding.ok("open files", l == -1 ? "unlimited" : Long.toString(l));
    }
    return Finding.warn("open files", l + " per process", "every peer connection and lane and "
        + "every mapped peer file is a descriptor: ulimit -n 1048576 (systemd: LimitNOFILE)");
  }

  Finding devShm() {
    if (!m.exists("/dev/shm")) {
      return Finding.fail("/dev/shm", "missing", "shm maps peers' memory files there and cxl "
          + "stand-ins live there: mount -t tmpfs tmpfs /dev/shm");
    }
    long free = m.usableSpace("/dev/shm");
    if (free >= 0 && free < GIB) {
      return Finding.warn("/dev/shm", bytes(free) + " free", "memory files and same-host "
          + "buffers need room: docker run --shm-size=16g, or mount -o remount,size=16G /dev/shm");
    }
    return Finding.ok("/dev/shm", free < 0 ? "present" : bytes(free) + " free");
  }

  Finding hugepages() {
    long total = 0;
    String size = "";
    for (String line : m.read("/proc/meminfo").orElse("").split("\n")) {
      if (line.startsWith("HugePages_Total:")) {
        Long t = parse(line.substring(16));
        total = t == null ? 0 : t;
      } else if (line.startsWith("Hugepagesize:")) {
        size = line.substring(13).trim();
      }
    }
    String thp = m.read("/sys/kernel/mm/transparent_hugepage/enabled").orElse("");
    String thpMode = thp.contains("[always]") ? "always" : thp.contains("[madvise]") ? "madvise"
        : thp.contains("[never]") ? "never" : "unknown";
    String found = total + " reserved" + (size.isEmpty() ? "" : " of " + size)
        + ", transparent huge pages " + thpMode;
    if (total == 0 && thpMode.equals("never")) {
      return Finding.warn("hugepages", found, "large buffers use 4 KiB pages (more TLB misses, "
          + "slower RDMA registration): echo madvise > "
          + "/sys/kernel/mm/transparent_hugepage/enabled, or reserve vm.nr_hugepages");
    }
    return Finding.ok("hugepages", found);
  }

  Finding ioUring() {
    String v = m.read("/proc/sys/kernel/io_uring_disabled").orElse("0");
    switch (v) {
      case "0":
        return Finding.ok("io_uring", "enabled");
      case "1":
        return Finding.warn("io_uring", "limited to io_uring_group members",
            "nvmeof falls back to slower FileChannel I/O: add the user to the group named in "
                + "/proc/sys/kernel/io_uring_group, or sysctl kernel.io_uring_disabled=0");
      default:
        return Finding.warn("io_uring", "disabled (kernel.io_uring_disabled=" + v + ")",
            "nvmeof falls back to slower FileChannel I/O: sysctl kernel.io_uring_disabled=0");
    }
  }

  Finding crossMemoryAttach() {
    String v = m.read("/proc/sys/kernel/yama/ptrace_scope").orElse("0");
    if (v.equals("0")) {
      return Finding.ok("cross-memory attach", "allowed (yama ptrace_scope 0 or no Yama)");
    }
    return Finding.warn("cross-memory attach", "yama ptrace_scope " + v,
        "shm moves buffers that are not memory files (memory the application registered) with "
            + "process_vm_readv/writev, which this forbids between unrelated processes: sysctl "
            + "kernel.yama.ptrace_scope=0, or give the engines CAP_SYS_PTRACE");
  }

  List<Finding> verbs() {
    List<String> devices = m.list("/sys/class/infiniband");
    List<Finding> out = new ArrayList<>();
    if (devices.isEmpty()) {
      out.add(Finding.ok("verbs devices", "none (the rdma transport will be unavailable)"));
      return out;
    }
    if (!m.hasLibrary("libibverbs.so.1")) {
      out.add(Finding.fail("libibverbs", "missing, with " + devices.size() + " verbs device(s)",
          "apt install libibverbs1 ibverbs-providers (rdma-core)"));
    }
    for (String dev : devices) {
      for (String port : m.list("/sys/class/infiniband/" + dev + "/ports")) {
        out.add(verbsPort(dev, port));
      }
    }
    return out;
  }

  private Finding verbsPort(String dev, String port) {
    String base = "/sys/class/infiniband/" + dev + "/ports/" + port;
    String check = dev + " port " + port;
    String state = m.read(base + "/state").orElse("unknown");
    String layer = m.read(base + "/link_layer").orElse("InfiniBand");
    if (!state.contains("ACTIVE")) {
      return Finding.fail(check, "state " + state, "the port has no link: check the cable and "
          + "the switch port (ibstat, ip link); te4j skips devices with no active port");
    }
    String gid = m.read(base + "/gids/0").orElse("");
    if (gid.isEmpty() || gid.replace(":", "").replace("0", "").isEmpty()) {
      return Finding.warn(check, layer + ", ACTIVE, no GID", layer.equals("Ethernet")
          ? "RoCE needs an IP address on the device's network interface (ip addr add)"
          : "no GID yet: is a subnet manager running (opensm)?");
    }
    if (layer.equals("Ethernet")) {
      for (String netdev : m.list("/sys/class/infiniband/" + dev + "/device/net")) {
        Long mtu = parse(m.read("/sys/class/infiniband/" + dev + "/device/net/" + netdev
            + "/mtu").orElse("0"));
        if (mtu != null && mtu > 0 && mtu < 4200) {
          return Finding.warn(check, "RoCE on " + netdev + ", MTU " + mtu + " (RDMA MTU "
              + (mtu >= 2200 ? 2048 : 1024) + ")", "ip link set dev " + netdev
              + " mtu 9000 (and on the switch) for a 4096-byte RDMA MTU");
        }
      }
    }
    return Finding.ok(check, layer + ", ACTIVE, GID " + gid);
  }

  List<Finding> cuda() {
    List<Finding> out = new ArrayList<>();
    Optional<String> version = m.read("/proc/driver/nvidia/version");
    if (version.isEmpty()) {
      out.add(Finding.ok("NVIDIA driver", "none (the cuda transport will be unavailable)"));
      return out;
    }
    String first = version.get().split("\n")[0];
    if (!m.hasLibrary("libcuda.so.1")) {
      out.add(Finding.fail("NVIDIA driver", first, "the kernel driver is loaded but libcuda.so.1 "
          + "is not installed: apt install the matching libnvidia-compute / cuda-drivers"));
    } else {
      out.add(Finding.ok("NVIDIA driver", first));
    }
    boolean peermem = m.exists("/sys/module/nvidia_peermem") || m.exists("/sys/module/nv_peer_mem");
    boolean dmabuf = kernelAtLeast(5, 12);
    if (!m.list("/sys/class/infiniband").isEmpty() && !peermem && !dmabuf) {
      out.add(Finding.warn("GPUDirect RDMA", "no nvidia_peermem and a kernel without dma-buf",
          "modprobe nvidia_peermem, or a 5.12+ kernel for dma-buf; else GPU memory is staged "
              + "through host memory"));
    } else {
      out.add(Finding.ok("GPUDirect RDMA", (peermem ? "nvidia_peermem loaded" : "")
          + (peermem && dmabuf ? ", " : "") + (dmabuf ? "dma-buf capable kernel" : "")
          + (!peermem && !dmabuf ? "not needed (no verbs devices)" : "")));
    }
    return out;
  }

  private boolean kernelAtLeast(int major, int minor) {
    String[] v = m.read("/proc/sys/kernel/osrelease").orElse("0.0").split("[.-]");
    Long ma = parse(v[0]);
    Long mi = v.length > 1 ? parse(v[1]) : Long.valueOf(0);
    return ma != null && mi != null && (ma > major || (ma == major && mi >= minor));
  }

  Finding portRange() {
    String range = minPort + "-" + maxPort;
    String[] eph = m.read("/proc/sys/net/ipv4/ip_local_port_range").orElse("").split("\\s+");
    Long lo = eph.length == 2 ? parse(eph[0]) : null;
    Long hi = eph.length == 2 ? parse(eph[1]) : null;
    if (lo == null || hi == null) {
      return Finding.ok("port range", range + " (ephemeral range unknown)");
    }
    if (minPort <= hi && maxPort >= lo) {
      return Finding.warn("port range", range + " overlaps the ephemeral ports " + lo + "-" + hi,
          "outgoing connections may take te4j's ports: sysctl net.ipv4.ip_local_reserved_ports="
              + range + ", or MC_MIN_PRC_PORT/MC_MAX_PRC_PORT outside " + lo + "-" + hi);
    }
    return Finding.ok("port range", range + ", clear of the ephemeral ports " + lo + "-" + hi);
  }

  Finding clock() {
    String source = m.read("/sys/devices/system/clocksource/clocksource0/current_clocksource")
        .orElse("unknown");
    if (source.equals("tsc") || source.equals("arch_sys_counter") || source.equals("unknown")
        || source.equals("kvm-clock")) {
      return Finding.ok("clock", "clocksource " + source);
    }
    return Finding.warn("clock", "clocksource " + source, "reading the time costs a system call "
        + "(latency figures and deadlines cost more): use tsc if "
        + "/sys/devices/system/clocksource/clocksource0/available_clocksource lists it");
  }

  Finding hostName() {
    String host = m.hostName();
    List<InetAddress> addresses = m.resolve(host);
    if (addresses.isEmpty()) {
      return Finding.fail("host name", host + " does not resolve", "peers and metadata name "
          + "this host: add it to /etc/hosts or DNS, or give engines --local-server-name / "
          + "local_hostname as an address");
    }
    if (addresses.stream().allMatch(InetAddress::isLoopbackAddress)) {
      return Finding.warn("host name", host + " resolves to " + addresses.get(0)
          .getHostAddress() + " only", "engines on other hosts cannot reach that: give "
          + "--local-server-name / local_hostname this host's network address, or map " + host
          + " to it in /etc/hosts");
    }
    return Finding.ok("host name", host + " resolves to " + addresses.get(0).getHostAddress()
        .toLowerCase(Locale.ROOT));
  }
}
