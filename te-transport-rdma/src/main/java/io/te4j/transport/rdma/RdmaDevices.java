package io.te4j.transport.rdma;

import io.te4j.api.spi.SettingSource;
import io.te4j.transport.rdma.verbs.PortAttributes;
import io.te4j.transport.rdma.verbs.Verbs;
import io.te4j.transport.rdma.verbs.VerbsLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code te topology --devices} prints: each verbs device with its port's state, MTU, LID,
 * link layer, GIDs and NUMA node; or, where verbs cannot run, why.
 */
public final class RdmaDevices {
  private RdmaDevices() {}

  /** One line per device and port, or one line saying why there are none. */
  public static List<String> describe() {
    Verbs verbs;
    List<String> names;
    try {
      verbs = VerbsChoice.create(RdmaSettings.VERBS.valueIn(SettingSource.system()));
      names = verbs.devices();
    } catch (RuntimeException | UnsatisfiedLinkError e) {
      return List.of("rdma: unavailable: " + e.getMessage());
    }
    if (names.isEmpty()) {
      return List.of("rdma: no verbs device");
    }
    List<String> lines = new ArrayList<>();
    for (String name : names) {
      lines.add(describe(verbs, name));
    }
    return lines;
  }

  private static String describe(Verbs verbs, String name) {
    long ctx;
    try {
      ctx = verbs.open(name);
    } catch (RuntimeException e) {
      return name + ": cannot open: " + e.getMessage();
    }
    try {
      PortAttributes p = PortAttributes.query(verbs, ctx, 1);
      StringBuilder b = new StringBuilder(name).append(" port 1 ")
          .append(p.active() ? "ACTIVE" : "state " + p.state())
          .append(" mtu ").append(128 << p.activeMtu())
          .append(" lid ").append(p.lid())
          .append(p.linkLayer() == VerbsLayout.LINK_LAYER_ETHERNET ? " RoCE" : " InfiniBand")
          .append(" numa ").append(numaNode(name));
      ByteBuffer gid = ByteBuffer.allocateDirect(VerbsLayout.GID_BYTES).order(ByteOrder.nativeOrder());
      long at = io.te4j.nativelib.NativeMemory.addressOf(gid);
      for (int i = 0; i < p.gidTableLength(); i++) {
        verbs.queryGid(ctx, 1, i, at);
        byte[] g = new byte[VerbsLayout.GID_BYTES];
        gid.get(0, g);
        if (!Gids.isZero(g)) {
          b.append(" gid[").append(i).append("] ").append(Gids.format(g));
        }
      }
      return b.toString();
    } catch (RuntimeException e) {
      return name + ": cannot query: " + e.getMessage();
    } finally {
      verbs.close(ctx);
    }
  }

  private static String numaNode(String device) {
    try {
      return Files.readString(Path.of("/sys/class/infiniband", device, "device/numa_node")).trim();
    } catch (IOException e) {
      return "unknown";
    }
  }
}
