package io.te4j.transport.rdma;

import io.te4j.api.BufferDescriptor;
import io.te4j.api.DeviceDescriptor;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.Topology;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the data path needs of a peer's descriptor, computed once per descriptor: its NIC paths in
 * device order, and for each buffer location the peer devices to try, preferred ones first
 * (RDMA.md 2.5: a random preferred peer NIC per slice; retries walk the list).
 */
final class PeerSegment {
  final SegmentDescriptor descriptor;
  final String[] nicPaths;
  final byte[][] gids;
  final int[] lids;
  /** Per peer device: until when it is paused ({@link System#nanoTime}; 0: in service). */
  private final long[] pausedUntil;
  /** Per peer device: pauses in a row, doubling the next one (poller threads; racy is fine). */
  private final int[] pauses;
  /** Until when posters leave this peer alone after it did not answer ({@link System#nanoTime}). */
  volatile long retryAfterNanos = System.nanoTime();

  /** Per buffer of the descriptor (same index), the peer devices to try. */
  private final int[][] bufferCandidates;
  /** Per local NIC and peer device, the endpoint last used (poster threads; a cache only). */
  private final Endpoint[][] endpoints;

  PeerSegment(SegmentDescriptor descriptor, int localNics) {
    this.descriptor = descriptor;
    List<DeviceDescriptor> devices = descriptor.devices();
    Object serverName = descriptor.attributes().get("rdma_server_name");
    String server = serverName instanceof String && !((String) serverName).isEmpty()
        ? (String) serverName : descriptor.name();
    nicPaths = new String[devices.size()];
    gids = new byte[devices.size()][];
    lids = new int[devices.size()];
    int[] allDevices = new int[devices.size()];
    Map<String, int[]> candidates = new HashMap<>();
    for (int i = 0; i < devices.size(); i++) {
      nicPaths[i] = server + "@" + devices.get(i).name();
      byte[] gid;
      try {
        gid = Gids.parse(devices.get(i).gid());
      } catch (IllegalArgumentException e) {
        gid = null; // this device cannot be reached; the others can
      }
      gids[i] = gid;
      lids[i] = devices.get(i).lid();
      allDevices[i] = i;
    }
    Topology matrix = descriptor.priorityMatrix();
    if (matrix != null) {
      matrix.entries().forEach((location, entry) -> {
        int[] order = new int[devices.size()];
        int n = 0;
        for (List<String> list : List.of(entry.preferred(), entry.available())) {
          for (String name : list) {
            for (int i = 0; i < devices.size(); i++) {
              if (devices.get(i).name().equals(name) && !contains(order, n, i)) {
                order[n++] = i;
              }
            }
          }
        }
        if (n > 0) {
          candidates.put(location, java.util.Arrays.copyOf(order, n));
        }
      });
    }
    List<BufferDescriptor> buffers = descriptor.buffers();
    bufferCandidates = new int[buffers.size()][];
    for (int b = 0; b < buffers.size(); b++) {
      bufferCandidates[b] = candidates.getOrDefault(buffers.get(b).name(), allDevices);
    }
    endpoints = new Endpoint[localNics][devices.size()];
    pausedUntil = new long[devices.size()];
    pauses = new int[devices.size()];
  }

  /**
   * A remote error on the rail to {@code device}: when the peer has another rail, this one is
   * paused for {@code pauseNanos}, doubled for each pause in a row (up to 8x), so a rail that keeps
   * failing is re-admitted ever more slowly; a success ({@link #railWorks}) resets it.
   */
  void pauseRail(int device, long pauseNanos) {
    if (device < 0 || nicPaths.length < 2) {
      return;
    }
    int n = Math.min(pauses[device]++, 3);
    pausedUntil[device] = System.nanoTime() + (pauseNanos << n);
  }

  void railWorks(int device) {
    if (device >= 0 && pauses[device] != 0) {
      pauses[device] = 0;
    }
  }

  boolean paused(int device) {
    long until = pausedUntil[device];
    return until != 0 && System.nanoTime() - until < 0;
  }

  /** The index of the buffer wholly holding {@code [start, start + len)}, or -1. */
  int buffer(long start, long len) {
    List<BufferDescriptor> buffers = descriptor.buffers();
    for (int b = 0, n = buffers.size(); b < n; b++) { // no iterator: called per slice
      if (buffers.get(b).contains(start, len)) {
        return b;
      }
    }
    return -1;
  }

  /** The endpoint of {@code nic} toward peer device {@code device}, made when missing or retired. */
  Endpoint endpoint(Nic nic, int device, int qpCount) {
    Endpoint e = endpoints[nic.index][device];
    if (e == null || e.state() == Endpoint.State.RETIRED) {
      e = nic.endpoint(nicPaths[device], qpCount);
      e.rail = this;
      e.railDevice = device;
      endpoints[nic.index][device] = e;
    } else if (!e.visited) {
      e.visited = true;
    }
    return e;
  }

  private static boolean contains(int[] a, int n, int v) {
    for (int i = 0; i < n; i++) {
      if (a[i] == v) {
        return true;
      }
    }
    return false;
  }

  /**
   * The peer device for attempt {@code attempt} of a slice into buffer {@code buffer}: {@code spread}
   * picks among the location's devices, each retry moves to the next one.
   *
   * @return a device index, or -1 when the peer has no device for it
   */
  int device(int buffer, int spread, int attempt) {
    int[] c = bufferCandidates[buffer];
    if (c.length == 0) {
      return -1;
    }
    int d = c[Math.floorMod(spread + attempt, c.length)];
    for (int i = 1; i < c.length && paused(d); i++) { // a paused rail only when all are
      d = c[Math.floorMod(spread + attempt + i, c.length)];
    }
    return gids[d] != null && d < descriptor.buffers().get(buffer).remoteKeys().size() ? d : -1;
  }
}
