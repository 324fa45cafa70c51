package io.te4j.transport.cuda;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a machine offers CUDA (CUDA.md 1.1): the runtime bound and its version checked, the driver,
 * and each GPU with its PCI address, NUMA node, compute capability and nearest RDMA NICs; or, when
 * there is none, why, in one line naming the CUDA error. Probed once per runtime.
 */
public final class CudaProbe {
  static final int ATTR_UNIFIED_ADDRESSING = CudaLayout.ATTR_UNIFIED_ADDRESSING;
  static final int ATTR_COMPUTE_MAJOR = CudaLayout.ATTR_COMPUTE_MAJOR;
  static final int ATTR_COMPUTE_MINOR = CudaLayout.ATTR_COMPUTE_MINOR;

  /** One GPU. */
  public record Gpu(int index, String pciBusId, int numaNode, int computeMajor, int computeMinor,
      boolean unifiedAddressing, List<String> nearestNics) {}

  /**
   * The outcome.
   *
   * @param gpus empty when unavailable
   * @param cause why CUDA cannot be used here, or null
   */
  public record Result(int runtimeVersion, int driverVersion, List<Gpu> gpus, String cause) {
    public boolean available() {
      return cause == null;
    }
  }

  private CudaProbe() {}

  /** Probes the machine's runtime. */
  public static Result probe() {
    return probe(new JnaCudaRuntime(), Path.of("/sys"));
  }

  /** Probes {@code runtime}, reading NUMA nodes and NICs under {@code sysfs}. */
  public static Result probe(CudaRuntime runtime, Path sysfs) {
    int[] runtimeVersion = {0};
    int[] driverVersion = {0};
    try {
      int rc = runtime.runtimeGetVersion(runtimeVersion);
      if (rc != 0) {
        return fail(runtime, 0, 0, "cudaRuntimeGetVersion", rc);
      }
      if (runtimeVersion[0] / 1000 != JnaCudaRuntime.MAJOR) {
        return new Result(runtimeVersion[0], 0, List.of(), "the CUDA runtime is "
            + version(runtimeVersion[0]) + "; te4j binds CUDA " + JnaCudaRuntime.MAJOR);
      }
      runtime.driverGetVersion(driverVersion);
      int[] count = {0}; // left untouched on error
      rc = runtime.getDeviceCount(count);
      if (rc != 0) {
        return fail(runtime, runtimeVersion[0], driverVersion[0], "cudaGetDeviceCount", rc);
      }
      if (count[0] == 0) {
        return new Result(runtimeVersion[0], driverVersion[0], List.of(), "no CUDA device");
      }
      List<Gpu> gpus = new ArrayList<>();
      for (int d = 0; d < count[0]; d++) {
        gpus.add(gpu(runtime, d, sysfs));
      }
      return new Result(runtimeVersion[0], driverVersion[0], List.copyOf(gpus), null);
    } catch (UnsatisfiedLinkError | RuntimeException e) {
      return new Result(runtimeVersion[0], driverVersion[0], List.of(), e.getMessage());
    }
  }

  private static Result fail(CudaRuntime runtime, int rv, int dv, String call, int rc) {
    String hint;
    switch (rc) {
      case CudaLayout.ERROR_INSUFFICIENT_DRIVER:
        hint = dv == 0 ? ": no NVIDIA driver is installed" : ": the driver (" + version(dv)
            + ") is older than the runtime (" + version(rv) + ")";
        break;
      case CudaLayout.ERROR_STUB_LIBRARY:
        hint = ": the toolkit's stub libcuda.so was found instead of the driver's libcuda.so.1";
        break;
      case CudaLayout.ERROR_NO_DEVICE:
        hint = ": the driver sees no GPU (CUDA_VISIBLE_DEVICES?)";
        break;
      default:
        hint = "";
    }
    return new Result(rv, dv, List.of(), call + " returned " + rc + " (" + runtime.errorName(rc)
        + ": " + runtime.errorString(rc) + ")" + hint);
  }

  private static String version(int v) {
    return v / 1000 + "." + v % 1000 / 10;
  }

  private static Gpu gpu(CudaRuntime runtime, int d, Path sysfs) {
    byte[] bus = new byte[32];
    String busId = runtime.deviceGetPciBusId(bus, bus.length, d) == 0 ? text(bus) : "";
    int[] v = {0};
    int major = runtime.deviceGetAttribute(v, ATTR_COMPUTE_MAJOR, d) == 0 ? v[0] : 0;
    v[0] = 0;
    int minor = runtime.deviceGetAttribute(v, ATTR_COMPUTE_MINOR, d) == 0 ? v[0] : 0;
    v[0] = 0;
    boolean uva = runtime.deviceGetAttribute(v, ATTR_UNIFIED_ADDRESSING, d) == 0 && v[0] == 1;
    int node = numaNode(sysfs.resolve("bus/pci/devices").resolve(busId.toLowerCase(Locale.ROOT)));
    return new Gpu(d, busId, node, major, minor, uva, nicsOnNode(sysfs, node));
  }

  private static String text(byte[] nulTerminated) {
    int end = 0;
    while (end < nulTerminated.length && nulTerminated[end] != 0) {
      end++;
    }
    return new String(nulTerminated, 0, end, StandardCharsets.US_ASCII);
  }

  private static int numaNode(Path pciDevice) {
    try {
      return Integer.parseInt(Files.readString(pciDevice.resolve("numa_node")).trim());
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
  }

  /** The RDMA devices on NUMA node {@code node} (all of them when the node is unknown). */
  private static List<String> nicsOnNode(Path sysfs, int node) {
    List<String> nics = new ArrayList<>();
    Path ib = sysfs.resolve("class/infiniband");
    if (Files.isDirectory(ib)) {
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(ib)) {
        for (Path dev : ds) {
          int n = numaNode(dev.resolve("device"));
          if (node < 0 || n < 0 || n == node) {
            nics.add(dev.getFileName().toString());
          }
        }
      } catch (IOException e) {
        // no NICs readable
      }
    }
    nics.sort(null);
    return nics;
  }

  /** Prints what {@link #probe()} finds, one line per GPU or one saying why there is none. */
  public static void main(String[] args) {
    describe(probe()).forEach(System.out::println);
  }

  /** Lines for {@code te topology --devices}: one per GPU, or one saying why there is none. */
  public static List<String> describe(Result r) {
    if (!r.available()) {
      return List.of("cuda: unavailable: " + r.cause());
    }
    List<String> lines = new ArrayList<>();
    for (Gpu g : r.gpus()) {
      lines.add("cuda:" + g.index() + " pci " + g.pciBusId() + " numa "
          + (g.numaNode() < 0 ? "unknown" : g.numaNode()) + " sm " + g.computeMajor() + "."
          + g.computeMinor() + (g.unifiedAddressing() ? "" : " (no unified addressing)")
          + " nearest NICs " + (g.nearestNics().isEmpty() ? "none" : String.join(",", g.nearestNics()))
          + " (runtime " + version(r.runtimeVersion()) + ", driver " + version(r.driverVersion()) + ")");
    }
    return lines;
  }
}
