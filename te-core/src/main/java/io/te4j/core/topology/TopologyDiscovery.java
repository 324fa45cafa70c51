package io.te4j.core.topology;

import io.te4j.api.ErrorCode;
import io.te4j.api.Topology;
import io.te4j.api.TransferException;
import io.te4j.core.json.JsonCodec;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The local topology of WIRE.md section 5: for each memory location, the RDMA devices close to it
 * (same NUMA node) and the others. Read from {@code MC_CUSTOM_TOPO_JSON} when set, else from sysfs.
 */
public final class TopologyDiscovery {
  private final Path sysfs;

  /** Discovery from the machine's {@code /sys}. */
  public TopologyDiscovery() {
    this(Path.of("/sys"));
  }

  /** Discovery from another sysfs root (tests). */
  public TopologyDiscovery(Path sysfsRoot) {
    this.sysfs = sysfsRoot;
  }

  /**
   * The topology, filtered to {@code deviceFilter} (comma-separated names; empty or null keeps all).
   *
   * @param customJsonPath MC_CUSTOM_TOPO_JSON, or null to discover
   * @throws TransferException MALFORMED_JSON or INVALID_CONFIGURATION for a bad custom file
   */
  public Topology discover(String customJsonPath, String deviceFilter) {
    Topology t;
    if (customJsonPath != null) {
      try {
        t = JsonCodec.topologyFromJson(Files.readString(Path.of(customJsonPath)));
      } catch (IOException e) {
        throw new TransferException(ErrorCode.INVALID_CONFIGURATION,
            "MC_CUSTOM_TOPO_JSON: cannot read " + customJsonPath + ": " + e, e);
      }
    } else {
      t = fromSysfs();
    }
    return filter(t, deviceFilter);
  }

  static Topology filter(Topology t, String deviceFilter) {
    if (deviceFilter == null || deviceFilter.isBlank()) {
      return t;
    }
    Set<String> keep = new LinkedHashSet<>();
    for (String d : deviceFilter.split(",")) {
      if (!d.isBlank()) {
        keep.add(d.trim());
      }
    }
    Map<String, Topology.Entry> out = new LinkedHashMap<>();
    t.entries().forEach((loc, e) -> out.put(loc, new Topology.Entry(
        e.preferred().stream().filter(keep::contains).toList(),
        e.available().stream().filter(keep::contains).toList())));
    return new Topology(out);
  }

  private Topology fromSysfs() {
    List<Integer> nodes = numaNodes();
    Map<String, Integer> deviceNode = new TreeMap<>();
    Path ib = sysfs.resolve("class/infiniband");
    if (Files.isDirectory(ib)) {
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(ib)) {
        for (Path dev : ds) {
          deviceNode.put(dev.getFileName().toString(), readInt(dev.resolve("device/numa_node")));
        }
      } catch (IOException e) {
        // no devices readable: a TCP-only topology
      }
    }
    Map<String, Topology.Entry> entries = new LinkedHashMap<>();
    for (int node : nodes) {
      List<String> near = new ArrayList<>();
      List<String> far = new ArrayList<>();
      deviceNode.forEach((dev, n) -> (n == node || n < 0 ? near : far).add(dev));
      entries.put("cpu:" + node, new Topology.Entry(near, far));
    }
    return new Topology(entries);
  }

  private List<Integer> numaNodes() {
    Path dir = sysfs.resolve("devices/system/node");
    List<Integer> nodes = new ArrayList<>();
    if (Files.isDirectory(dir)) {
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "node[0-9]*")) {
        for (Path p : ds) {
          nodes.add(Integer.parseInt(p.getFileName().toString().substring(4)));
        }
      } catch (IOException | NumberFormatException e) {
        nodes.clear();
      }
    }
    if (nodes.isEmpty()) {
      nodes.add(0);
    }
    Integer[] sorted = nodes.toArray(new Integer[0]);
    Arrays.sort(sorted);
    return List.of(sorted);
  }

  private static int readInt(Path p) {
    try {
      return Integer.parseInt(Files.readString(p).trim());
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
  }
}
