package io.te4j.transport.rdma;

import static io.te4j.transport.rdma.verbs.VerbsLayout.*;

import io.te4j.api.BufferDescriptor;
import io.te4j.api.DeviceDescriptor;
import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.Topology;
import io.te4j.api.TransferException;
import io.te4j.api.TransferState;
import io.te4j.api.spi.Backpressure;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.PeerRpc;
import io.te4j.api.spi.Transport;
import io.te4j.api.spi.TransferSlice;
import io.te4j.api.spi.TransportContext;
import io.te4j.api.spi.inflight.InFlightTable;
import io.te4j.api.spi.inflight.Watchdog;
import io.te4j.transport.rdma.verbs.Verbs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RDMA over verbs, as the reference's RDMA transport speaks it (RDMA.md section 2): every buffer
 * registered on every NIC and published with one rkey/lkey per device, the type-0 handshake on the
 * engine's handshake port, {@code MC_NUM_QP_PER_EP} RC QPs per (local NIC, peer NIC), requests cut
 * into {@code MC_SLICE_SIZE} work requests spread over the peer's preferred NICs and the QPs, and
 * failed work retried on another path up to {@code MC_RETRY_CNT} times.
 *
 * <p>Each batch the engine hands over goes to one local NIC (round robin), whose {@link
 * NicWorker} posts and polls. Deadlines are enforced by a watchdog over the in-flight table.
 */
final class RdmaTransport implements Transport {
  private static final Logger LOG = LoggerFactory.getLogger(RdmaTransport.class);
  private static final int IN_FLIGHT = 16_384;
  private static final long WATCHDOG_MILLIS = 50;
  private static final long EVENTS_MILLIS = 100;
  /** Each submitting thread's ticket buffer: nothing allocated per batch or slice. */
  private static final ThreadLocal<long[]> TICKETS = ThreadLocal.withInitial(() -> new long[256]);

  private final TransportContext context;
  private final Verbs verbs;
  private final int qpCount;
  private final int retryCount;
  private final long sliceBytes;
  private final boolean relaxedOrdering;
  private final long railPauseNanos;
  private final InFlightTable table = new InFlightTable(IN_FLIGHT);
  private final List<NicWorker> workers = new ArrayList<>();
  private final List<Nic> nics = new ArrayList<>();
  private final Map<String, PeerSegment> peers = new ConcurrentHashMap<>();
  /** For each memory location, the local NICs to use, preferred ones first. */
  private final Map<String, int[]> localNics = new ConcurrentHashMap<>();
  private final AtomicInteger nextNic = new AtomicInteger();
  /** Every region's MRs, so that a close deregisters what the engine unregisters after it. */
  private final java.util.Set<RegionKeys> registered = ConcurrentHashMap.newKeySet();
  private Handshakes handshakes;
  private AutoCloseable frames;
  private Watchdog watchdog;
  private Watchdog events;
  private volatile boolean closed;

  RdmaTransport(TransportContext context, Verbs verbs) {
    this.context = context;
    this.verbs = verbs;
    this.qpCount = context.setting(RdmaSettings.QP_PER_ENDPOINT);
    this.retryCount = context.setting(RdmaSettings.RETRY_COUNT);
    this.sliceBytes = context.setting(RdmaSettings.SLICE_SIZE);
    this.relaxedOrdering = context.setting(RdmaSettings.RELAXED_ORDERING);
    this.railPauseNanos = (long) (context.setting(RdmaSettings.RAIL_PAUSE) * 1e9);
  }

  long railPauseNanos() {
    return railPauseNanos;
  }

  @Override
  public String name() {
    return RdmaTransportProvider.NAME;
  }

  @Override
  public void start(SegmentDescriptor.Builder localDescriptor) {
    List<String> names = devices();
    Nic.Config config = new Nic.Config(qpCount, context.setting(RdmaSettings.MAX_WR),
        context.setting(RdmaSettings.MAX_SGE), context.setting(RdmaSettings.MAX_INLINE),
        context.setting(RdmaSettings.MAX_CQE), context.setting(RdmaSettings.MTU),
        context.setting(RdmaSettings.IB_PORT), context.setting(RdmaSettings.GID_INDEX),
        context.setting(RdmaSettings.TRAFFIC_CLASS), context.setting(RdmaSettings.SERVICE_LEVEL),
        context.setting(RdmaSettings.MAX_ENDPOINTS));
    ThreadFactory threads = Backpressure.transportThreads(context.threadFactory("rdma"));
    try {
      for (String device : names) {
        Nic nic = new Nic(verbs, nics.size(), device, context.localSegmentName(), config);
        nic.onGidChange = this::republishDevices;
        nics.add(nic);
        workers.add(new NicWorker(nic, this, table, threads).start());
      }
      handshakes = new Handshakes(context, nics, qpCount);
      frames = context.serveFrames(PeerRpc.CONNECTION, handshakes);
    } catch (RuntimeException e) {
      close();
      throw new TransferException(ErrorCode.TRANSPORT_UNAVAILABLE, "RDMA: cannot open "
          + names + ": " + e.getMessage(), e);
    }
    watchdog = new Watchdog(threads, WATCHDOG_MILLIS,
        () -> table.abortExpired(System.nanoTime(), "RDMA transfer passed its deadline")).start();
    events = new Watchdog(threads, EVENTS_MILLIS, new AsyncEvents(nics, verbs,
        (long) (context.setting(RdmaSettings.PORT_ACTIVE_DELAY) * 1e9),
        (long) (context.setting(RdmaSettings.READY_ACK_TIMEOUT) * 1e9))).start();
    List<DeviceDescriptor> devices = deviceDescriptors();
    Topology matrix = priorityMatrix(context.topology());
    for (Map.Entry<String, Topology.Entry> e : matrix.entries().entrySet()) {
      localNics.put(e.getKey(), indexes(e.getValue().preferred()));
    }
    localDescriptor.devices(devices).priorityMatrix(matrix);
    LOG.info("RDMA on {} ({} QPs per endpoint)", nics, qpCount);
  }

  /** The {@code devices} field: each NIC's name, LID and the GID it uses now, in NIC order. */
  private List<DeviceDescriptor> deviceDescriptors() {
    List<DeviceDescriptor> devices = new ArrayList<>();
    for (Nic nic : nics) {
      devices.add(nic.descriptor());
    }
    return devices;
  }

  /** A NIC's GID changed: the descriptor is published again with the GIDs in use now. */
  private void republishDevices() {
    List<DeviceDescriptor> devices = deviceDescriptors();
    context.republish(b -> b.devices(devices));
    LOG.info("RDMA: descriptor republished with GIDs {}", devices);
  }

  /**
   * The published matrix: the engine's topology (NUMA-near NICs preferred) reduced to the NICs
   * opened; where it names none of them (no sysfs entries, as with emulated devices), every NIC
   * is preferred for host memory.
   */
  private Topology priorityMatrix(Topology topology) {
    List<String> opened = new ArrayList<>();
    nics.forEach(n -> opened.add(n.name));
    Map<String, Topology.Entry> matrix = new LinkedHashMap<>();
    boolean named = false;
    for (Map.Entry<String, Topology.Entry> e : topology.entries().entrySet()) {
      List<String> preferred = new ArrayList<>(e.getValue().preferred());
      List<String> available = new ArrayList<>(e.getValue().available());
      preferred.retainAll(opened);
      available.retainAll(opened);
      named |= !preferred.isEmpty() || !available.isEmpty();
      matrix.put(e.getKey(), new Topology.Entry(preferred, available));
    }
    if (!named) {
      matrix.clear();
      matrix.put("cpu:0", new Topology.Entry(opened, List.of()));
    }
    return new Topology(matrix);
  }

  private int[] indexes(List<String> names) {
    List<Integer> order = new ArrayList<>();
    for (String name : names) {
      for (Nic n : nics) {
        if (n.name.equals(name) && !order.contains(n.index)) {
          order.add(n.index);
        }
      }
    }
    return order.stream().mapToInt(Integer::intValue).toArray();
  }

  private List<String> devices() {
    List<String> present = verbs.devices();
    String wanted = context.deviceNames();
    if (wanted == null || wanted.isBlank()) {
      if (present.isEmpty()) {
        throw new TransferException(ErrorCode.TRANSPORT_UNAVAILABLE, "RDMA: no verbs device");
      }
      return present;
    }
    List<String> chosen = new ArrayList<>();
    for (String d : wanted.split(",")) {
      String name = d.trim();
      if (!present.contains(name)) {
        throw new TransferException(ErrorCode.DEVICE_NOT_FOUND, "RDMA: MC_DEVICE_NAME names "
            + name + ", not among this machine's devices " + present);
      }
      chosen.add(name);
    }
    return chosen;
  }

  /** The opened NICs, in published device order. */
  List<Nic> nics() {
    return nics;
  }

  /** Slices held now (queued, posted, or aborted and not yet let go by the NIC). */
  int inFlight() {
    return table.occupied();
  }

  int qpCount() {
    return qpCount;
  }

  int retryCount() {
    return retryCount;
  }

  int slot() {
    return context.registrationSlot();
  }

  Handshakes handshakes() {
    return handshakes;
  }

  /** The data path's view of a peer, rebuilt when its descriptor changed. */
  PeerSegment peer(SegmentDescriptor target) {
    PeerSegment p = peers.get(target.name());
    if (p == null || p.descriptor != target) {
      p = new PeerSegment(target, nics.size());
      peers.put(target.name(), p);
    }
    return p;
  }

  @Override
  public Object register(MemoryRegion region) {
    RegionKeys keys = new RegionKeys(nics.size());
    int access = ACCESS_LOCAL_WRITE
        | (region.remoteAccessible() ? ACCESS_REMOTE_READ | ACCESS_REMOTE_WRITE : 0)
        | (relaxedOrdering ? ACCESS_RELAXED_ORDERING : 0);
    int done = 0;
    try {
      for (; done < nics.size(); done++) {
        Nic nic = nics.get(done);
        if (Long.compareUnsigned(region.length(), nic.maxMrSize) > 0) {
          throw new TransferException(ErrorCode.INVALID_ARGUMENT, "RDMA: " + region.length()
              + " bytes exceed " + nic.name + "'s largest memory region (" + nic.maxMrSize + ")");
        }
        keys.mrs[done] = verbs.regMr(nic.pd, region.address(), region.length(), access);
        long k = verbs.keys(keys.mrs[done]);
        keys.rkeys[done] = (int) (k >>> 32);
        keys.lkeys[done] = (int) k;
      }
    } catch (RuntimeException e) {
      for (int i = 0; i < done; i++) {
        verbs.deregMr(keys.mrs[i]);
      }
      throw e instanceof TransferException ? e : new TransferException(ErrorCode.MEMORY,
          "RDMA: cannot register " + region.length() + " bytes on " + nics.get(done).name + ": "
              + e.getMessage(), e);
    }
    registered.add(keys);
    return keys;
  }

  @Override
  public BufferDescriptor describe(MemoryRegion region, BufferDescriptor base) {
    RegionKeys keys = (RegionKeys) region.attachment(slot());
    if (keys == null || !region.remoteAccessible()) {
      return base;
    }
    List<Long> rkeys = new ArrayList<>();
    List<Long> lkeys = new ArrayList<>();
    for (int i = 0; i < nics.size(); i++) {
      rkeys.add(Integer.toUnsignedLong(keys.rkeys[i]));
      lkeys.add(Integer.toUnsignedLong(keys.lkeys[i]));
    }
    return new BufferDescriptor(base.name(), base.address(), base.length(), rkeys, lkeys,
        base.attributes());
  }

  @Override
  public void unregistered(MemoryRegion region) {
    RegionKeys keys = (RegionKeys) region.attachment(slot());
    if (!table.awaitRelease(region.address(), region.length(),
        System.nanoTime() + context.transferTimeoutNanos())) {
      LOG.warn("unregistering [{}, +{}) while RDMA work on it has not ended", region.address(),
          region.length());
    }
    if (keys != null && registered.remove(keys)) {
      deregister(keys);
    }
  }

  private void deregister(RegionKeys keys) {
    for (long mr : keys.mrs) {
      if (mr != 0) {
        verbs.deregMr(mr); // waits for the NIC to let go of it
      }
    }
  }

  @Override
  public boolean canReach(SegmentDescriptor target) {
    return RdmaTransportProvider.NAME.equals(target.protocol()) && !target.devices().isEmpty();
  }

  @Override
  public long maxSliceBytes() {
    return sliceBytes;
  }

  @Override
  public void submit(TransferSlice slice) {
    submitAll(new TransferSlice[] {slice}, 1);
  }

  @Override
  public void submitAll(TransferSlice[] slices, int count) {
    if (closed || workers.isEmpty()) {
      for (int i = 0; i < count; i++) {
        slices[i].fail(TransferState.FAILED, ErrorCode.ENGINE_CLOSED, "RDMA transport closed");
      }
      return;
    }
    NicWorker worker = workerFor(slices[0].localRegion().location());
    if (worker == null) {
      worker = workers.get(0); // no NIC is active: the slices wait for one, within their deadline
    }
    long[] tickets = TICKETS.get();
    int n = 0;
    for (int i = 0; i < count; i++) {
      long ticket = claim(slices[i]);
      if (ticket == InFlightTable.NONE) {
        continue;
      }
      tickets[n++] = ticket;
      if (n == tickets.length) {
        worker.submit(tickets, n);
        n = 0;
      }
    }
    worker.submit(tickets, n);
  }

  /**
   * The NIC for a batch from memory at {@code location} (RDMA.md 2.5: one local NIC per request):
   * the next active one of the location's preferred NICs, else any active one.
   */
  private NicWorker workerFor(String location) {
    int[] order = localNics.get(location);
    int turn = nextNic.getAndIncrement();
    if (order != null) {
      for (int i = 0; i < order.length; i++) {
        NicWorker w = workers.get(order[Math.floorMod(turn + i, order.length)]);
        if (w.nic().active) {
          return w;
        }
      }
    }
    return activeWorker(turn, null);
  }

  /** An active NIC's worker other than {@code not}, starting the search at {@code from}; or null. */
  NicWorker activeWorker(int from, NicWorker not) {
    for (int i = 0, n = workers.size(); i < n; i++) {
      NicWorker w = workers.get(Math.floorMod(from + i, n));
      if (w != not && w.nic().active) {
        return w;
      }
    }
    return null;
  }

  /** A slot for the slice, waiting for one when this thread may; NONE when it was failed. */
  private long claim(TransferSlice slice) {
    long ticket = table.claim(slice);
    while (ticket == InFlightTable.NONE && Backpressure.mayWait() && !closed
        && System.nanoTime() - slice.deadlineNanos() < 0) {
      LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(50));
      ticket = table.claim(slice);
    }
    if (ticket == InFlightTable.NONE) {
      Backpressure.failNoRoom(slice, "the RDMA in-flight table");
      return ticket;
    }
    if (context.memory().find(slice.localAddress(), slice.length()) == null) {
      table.fail(ticket, TransferState.FAILED, ErrorCode.ADDRESS_NOT_REGISTERED,
          "local memory unregistered before the RDMA transfer started");
      return InFlightTable.NONE;
    }
    return ticket;
  }

  @Override
  public void forget(String segmentName) {
    peers.remove(segmentName);
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (watchdog != null) {
      watchdog.close();
    }
    if (events != null) {
      events.close();
    }
    if (frames != null) {
      try {
        frames.close();
      } catch (Exception e) {
        LOG.debug("closing the handshake handler", e);
      }
    }
    for (NicWorker w : workers) {
      w.close();
    }
    table.forEachActive(t -> table.abort(t, TransferState.FAILED, ErrorCode.ENGINE_CLOSED,
        "RDMA transport closed"));
    for (RegionKeys keys : registered) {
      if (registered.remove(keys)) {
        deregister(keys);
      }
    }
    for (Nic nic : nics) {
      try {
        nic.close();
      } catch (RuntimeException e) {
        LOG.warn("closing {}", nic, e);
      }
    }
    // The QPs are gone, so no NIC touches memory for the slots still held: let them go, or an
    // unregistration after the close would wait for completions that never come.
    table.forEachHolding(0, -1L, table::release);
    LOG.debug("RDMA transport closed ({})", Arrays.toString(nics.toArray()));
  }
}
