package io.te4j.transport.rdma;

import io.te4j.api.DeviceDescriptor;
import io.te4j.transport.rdma.verbs.DeviceAttributes;
import io.te4j.transport.rdma.verbs.PortAttributes;
import io.te4j.transport.rdma.verbs.Verbs;
import io.te4j.transport.rdma.verbs.VerbsException;
import io.te4j.transport.rdma.verbs.VerbsLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One opened verbs device: its context, protection domain and completion queue, the port and GID
 * peers reach it by, and its endpoints keyed by peer NIC path. Its limits are the settings clamped
 * to the device's.
 */
final class Nic {
  final Verbs verbs;
  final int index;
  final String name;
  /** {@code <server>@<device>} (RDMA.md 2.1). */
  final String nicPath;
  final long context;
  final long pd;
  final long cq;
  final int cqCapacity;
  final int port;
  final int lid;
  /** The port's GID peers reach this NIC by; re-probed when the port's GID table changes. */
  volatile byte[] gid;
  volatile int gidIndex;
  /** True when the GID index is chosen here (MC_GID_INDEX -1), so a re-probe may move it. */
  private final boolean autoGid;
  final int pathMtu;
  final int maxWr;
  final int maxSge;
  final int maxInline;
  final int maxRdAtomic;
  final long maxMrSize;
  final int trafficClass;
  final int serviceLevel;
  /** Work requests posted on this NIC and not completed: never above the CQ's capacity. */
  final AtomicInteger outstanding = new AtomicInteger();
  /** Work requests posted on this NIC so far (written by its poster only). */
  volatile long posted;
  final ConcurrentHashMap<String, Endpoint> endpoints = new ConcurrentHashMap<>();
  /** The endpoints in insertion order, for SIEVE eviction (under the {@code endpoints} lock). */
  private final List<Endpoint> sieve = new ArrayList<>();
  private int hand;
  /** The most endpoints kept: MC_MAX_EP_PER_CTX, clamped to the device's QPs. */
  final int maxEndpoints;
  private final List<Endpoint> retired = new ArrayList<>();
  /** False after a port or device error, until the port is back and the delay passed. */
  volatile boolean active = true;
  /** When a NIC whose port came back takes work again ({@link System#nanoTime}); 0: not pending. */
  volatile long reactivateAtNanos;

  /** Settings this NIC is opened with. */
  record Config(int qpPerEndpoint, int maxWr, int maxSge, int maxInline, int maxCqe, int mtu,
      int port, int gidIndex, int trafficClass, int serviceLevel, int maxEndpoints) {}

  Nic(Verbs verbs, int index, String name, String serverName, Config config) {
    byte[] firstGid;
    int firstIndex;
    this.verbs = verbs;
    this.index = index;
    this.name = name;
    this.nicPath = serverName + "@" + name;
    this.port = config.port();
    this.trafficClass = config.trafficClass();
    this.serviceLevel = config.serviceLevel();
    this.autoGid = config.gidIndex() < 0;
    long ctx = verbs.open(name);
    long protection = 0;
    try {
      DeviceAttributes device = DeviceAttributes.query(verbs, ctx);
      PortAttributes p = PortAttributes.query(verbs, ctx, port);
      if (!p.active()) {
        throw new VerbsException(name + " port " + port + " is not active (state " + p.state() + ")");
      }
      lid = p.lid();
      pathMtu = Math.min(p.activeMtu(), VerbsLayout.mtuEnum(config.mtu()));
      maxWr = Math.min(config.maxWr(), device.maxQpWr());
      maxSge = Math.min(config.maxSge(), device.maxSge());
      maxInline = config.maxInline();
      maxRdAtomic = Math.max(1, Math.min(16, device.maxQpRdAtom()));
      maxMrSize = device.maxMrSize();
      maxEndpoints = Math.max(1, Math.min(config.maxEndpoints(),
          device.maxQp() / config.qpPerEndpoint()));
      firstIndex = config.gidIndex() >= 0 ? config.gidIndex() : firstNonZeroGid(verbs, ctx, p);
      firstGid = queryGid(verbs, ctx, port, firstIndex);
      protection = verbs.allocPd(ctx);
      cq = verbs.createCq(ctx, Math.min(config.maxCqe(), device.maxCqe()));
      cqCapacity = verbs.cqCapacity(cq);
    } catch (RuntimeException e) {
      if (protection != 0) {
        verbs.deallocPd(protection);
      }
      verbs.close(ctx);
      throw e;
    }
    this.context = ctx;
    this.pd = protection;
    this.gidIndex = firstIndex;
    this.gid = firstGid;
  }

  private static byte[] queryGid(Verbs verbs, long ctx, int port, int index) {
    ByteBuffer b = ByteBuffer.allocateDirect(VerbsLayout.GID_BYTES).order(ByteOrder.nativeOrder());
    verbs.queryGid(ctx, port, index, io.te4j.nativelib.NativeMemory.addressOf(b));
    byte[] gid = new byte[VerbsLayout.GID_BYTES];
    b.get(0, gid);
    return gid;
  }

  private int firstNonZeroGid(Verbs verbs, long ctx, PortAttributes p) {
    // called from the constructor too: uses no field but name and port
    for (int i = 0; i < p.gidTableLength(); i++) {
      if (!Gids.isZero(queryGid(verbs, ctx, port, i))) {
        return i;
      }
    }
    throw new VerbsException(name + " port " + port + " has no GID (" + p.gidTableLength()
        + " entries, all zero): set MC_GID_INDEX or configure an address on the port");
  }

  /**
   * Reads the port's GID table again (a GID_CHANGE event, an RTR failure): when the GID in use
   * changed, the NIC takes the new one and retires its endpoints, whose QPs name the old one, and
   * then runs {@link #onGidChange} (the transport republishes its descriptor); peers also learn
   * the new GID from the next handshake.
   *
   * @return true when the GID changed
   */
  boolean reprobeGid() {
    boolean changed = reprobeGidLocked();
    if (changed) {
      onGidChange.run(); // outside the NIC's lock: it publishes through the metadata store
    }
    return changed;
  }

  /** Run once the GID in use changed (set by the transport after it made the NIC). */
  volatile Runnable onGidChange = () -> { };

  private synchronized boolean reprobeGidLocked() {
    int index = gidIndex;
    byte[] now;
    try {
      index = autoGid ? firstNonZeroGid(verbs, context, PortAttributes.query(verbs, context, port))
          : gidIndex;
      now = queryGid(verbs, context, port, index);
    } catch (RuntimeException e) {
      return false; // no usable GID now: keep the old one; the port events say the rest
    }
    if (index == gidIndex && java.util.Arrays.equals(now, gid)) {
      return false;
    }
    gidIndex = index;
    gid = now;
    for (Endpoint e : new ArrayList<>(endpoints.values())) {
      e.retire();
    }
    return true;
  }

  DeviceDescriptor descriptor() {
    return new DeviceDescriptor(name, lid, Gids.format(gid));
  }

  /**
   * The endpoint toward {@code peerNicPath}, made (QPs created, not connected) when missing. The
   * store is bounded: making one beyond {@link #maxEndpoints} evicts another (SIEVE, as the
   * reference's default: the first not used since the hand last passed it), which is retired.
   */
  Endpoint endpoint(String peerNicPath, int qpCount) {
    Endpoint e = endpoints.get(peerNicPath);
    if (e != null && e.state() != Endpoint.State.RETIRED) {
      e.visited = true;
      return e;
    }
    Endpoint evicted = null;
    synchronized (endpoints) {
      e = endpoints.get(peerNicPath);
      if (e != null && e.state() != Endpoint.State.RETIRED) {
        return e;
      }
      sieve.removeIf(x -> x.state() == Endpoint.State.RETIRED);
      if (sieve.size() >= maxEndpoints) {
        evicted = evict();
      }
      e = new Endpoint(this, peerNicPath, qpCount);
      endpoints.put(peerNicPath, e);
      sieve.add(e);
    }
    if (evicted != null) {
      evicted.retire();
    }
    return e;
  }

  /** SIEVE: moves the hand over visited endpoints (clearing them) to the first unvisited one. */
  private Endpoint evict() {
    while (true) {
      if (hand >= sieve.size()) {
        hand = 0;
      }
      Endpoint candidate = sieve.get(hand);
      if (candidate.visited) {
        candidate.visited = false;
        hand++;
      } else {
        sieve.remove(hand);
        endpoints.remove(candidate.peerNicPath, candidate);
        return candidate;
      }
    }
  }

  /** An endpoint was retired: out of the map, destroyed once drained ({@link #reap}). */
  void retired(Endpoint e) {
    endpoints.remove(e.peerNicPath, e);
    synchronized (retired) {
      retired.add(e);
    }
    reap(false);
  }

  /** Destroys retired endpoints with nothing posted (all of them when {@code all}). */
  void reap(boolean all) {
    List<Endpoint> done = new ArrayList<>();
    synchronized (retired) {
      retired.removeIf(e -> {
        if (all || e.drained()) {
          done.add(e);
          return true;
        }
        return false;
      });
    }
    for (Endpoint e : done) {
      e.destroy();
    }
  }

  boolean hasRetired() {
    synchronized (retired) {
      return !retired.isEmpty();
    }
  }

  /** The NIC stops taking work: its endpoints are retired, so what they posted flushes. */
  void deactivate() {
    active = false;
    reactivateAtNanos = 0;
    for (Endpoint e : new ArrayList<>(endpoints.values())) {
      e.retire();
    }
  }

  /** The endpoint one of whose QPs has number {@code qpNum}, or null. */
  Endpoint endpointOfQp(int qpNum) {
    for (Endpoint e : endpoints.values()) {
      for (int q : e.qpNums) {
        if (q == qpNum) {
          return e;
        }
      }
    }
    return null;
  }

  /** Retires every endpoint and releases the device (after the threads stopped). */
  void close() {
    for (Endpoint e : new ArrayList<>(endpoints.values())) {
      e.retire();
    }
    reap(true);
    verbs.destroyCq(cq);
    verbs.deallocPd(pd);
    verbs.close(context);
  }

  @Override
  public String toString() {
    return nicPath;
  }
}
