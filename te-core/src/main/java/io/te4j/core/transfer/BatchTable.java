package io.te4j.core.transfer;

import io.te4j.api.AddressRanges;
import io.te4j.api.BufferDescriptor;
import io.te4j.api.ErrorCode;
import io.te4j.api.MemoryKind;
import io.te4j.api.PeerAccess;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferException;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.MemoryRegistry;
import io.te4j.api.spi.TransferSlice;
import io.te4j.api.spi.Transport;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The engine's batches, addressed by id. Ids are handles into this table, never pointers: an
 * unknown or freed id is simply absent, so a stale id yields {@link ErrorCode#INVALID_BATCH_ID}.
 * Also cuts requests into slices and hands them to a transport.
 */
public final class BatchTable {
  private final BatchIndex batches = new BatchIndex();
  private final AtomicLong nextId = new AtomicLong(1);
  private final TransferMetrics metrics = new TransferMetrics();
  private final SlicePool slicePool = new SlicePool(1 << 14);
  private final SliceFailureListener failureListener;

  /** Told when a slice fails, so the engine can drop a stale descriptor. */
  @FunctionalInterface
  public interface SliceFailureListener {
    void sliceFailed(Batch batch, TransferState state, ErrorCode code);
  }

  /** A table whose slice failures nobody needs to hear of. */
  public BatchTable() {
    this((batch, state, code) -> { });
  }

  public BatchTable(SliceFailureListener failureListener) {
    this.failureListener = failureListener;
  }

  public TransferMetrics metrics() {
    return metrics;
  }

  /** Picks the transport of a batch once the local regions of its entries are known. */
  @FunctionalInterface
  public interface TransportChoice {
    /**
     * The transport for a batch to {@code target} whose entries' local regions are {@code
     * regions[0, count)} (null for an entry that already failed); {@code hint} is the caller's
     * transport name, or empty.
     *
     * @throws TransferException when no transport can take the batch (it fails as a whole)
     */
    Transport choose(SegmentDescriptor target, String hint, MemoryRegion[] regions, int count);
  }

  /**
   * A batch that failed as a whole before anything was sent (a closed engine, an unknown target):
   * in the table like any other, so its id reports the failure.
   */
  public Batch rejected(String targetName, int entries, long timeoutNanos, ErrorCode code,
      String message) {
    Batch batch = newBatch(targetName, Math.max(entries, 1), timeoutNanos);
    batch.reject(code, message);
    return batch;
  }

  /**
   * Checks every request against local registered memory and the chosen transport, then hands the
   * slices of the valid ones to that transport. Never throws for a request or target problem: an
   * entry whose local range is not registered, whose target range overflows or whose memory the
   * transport cannot move fails alone (the others go); no requests, or no transport, fails the
   * batch as a whole ({@link Batch#isRejected()}).
   */
  public Batch submit(
      String targetName,
      SegmentDescriptor target,
      TransportChoice choice,
      String hint,
      List<TransferRequest> requests,
      MemoryRegistry memory,
      long timeoutNanos) {
    if (requests.isEmpty()) {
      return rejected(targetName, 0, timeoutNanos, ErrorCode.INVALID_ARGUMENT, "no requests");
    }
    Handover h = HANDOVER.get();
    if (h.busy) {
      h = new Handover(); // re-entered from a completion callback on this thread: rare
    }
    h.busy = true;
    try {
      return submit(targetName, target, choice, hint, requests, memory, timeoutNanos, h);
    } finally {
      h.clear();
      h.busy = false;
    }
  }

  private Batch newBatch(String targetName, int entries, long timeoutNanos) {
    Batch batch = new Batch(nextId.getAndIncrement(), targetName, entries,
        System.nanoTime() + timeoutNanos);
    batch.countInto(metrics);
    batches.put(batch);
    return batch;
  }

  // The three passes are separate small methods: each is compiled on its own early, where one
  // method with three loops was compiled (on-stack) once per loop before the batch path ran fast.
  private Batch submit(String targetName, SegmentDescriptor target, TransportChoice choice,
      String hint, List<TransferRequest> requests, MemoryRegistry memory, long timeoutNanos,
      Handover h) {
    int n = requests.size();
    Batch batch = newBatch(targetName, n, timeoutNanos);
    batch.descriptor(target);
    MemoryRegion[] regions = h.regions(n);
    findRegions(batch, requests, memory, regions);
    Transport transport;
    try {
      transport = choice.choose(target, hint, regions, n);
    } catch (TransferException e) {
      batch.reject(e.errorCode(), e.getMessage());
      return batch;
    }
    long sliceMax = Math.max(1, transport.maxSliceBytes());
    long totalBytes = expectEntries(batch, transport, target, requests, regions, sliceMax);
    metrics.batchSubmitted(transport.name());
    batch.transportName(transport.name());
    // Setup ends before the first slice leaves: a slice may finish before the next is cut.
    batch.expectSlices(totalBytes);
    for (int i = 0; i < n; i++) {
      if (regions[i] != null) {
        cutAndSubmit(batch, i, requests.get(i), regions[i], target, sliceMax, transport, h);
      }
    }
    h.flush(transport);
    return batch;
  }

  /** Each entry's registered local region, or null (the entry failed or moves nothing). */
  private static void findRegions(Batch batch, List<TransferRequest> requests,
      MemoryRegistry memory, MemoryRegion[] regions) {
    for (int i = 0, n = requests.size(); i < n; i++) {
      TransferRequest r = requests.get(i);
      if (r.length() == 0) {
        batch.expectEntry(i, 0); // completes locally, no round trip
      } else if (!AddressRanges.fits(r.targetOffset(), r.length())) {
        rejectOverflow(batch, i, r);
      } else {
        regions[i] = memory.find(r.localAddress(), r.length());
        if (regions[i] == null) {
          rejectUnregistered(batch, i, r);
        }
      }
    }
  }

  /**
   * Tells the batch how many slices each entry with a region will have, failing (and dropping the
   * region of) an entry that may not go ({@link #admitted}); the bytes of the entries that go.
   */
  private static long expectEntries(Batch batch, Transport transport, SegmentDescriptor target,
      List<TransferRequest> requests, MemoryRegion[] regions, long sliceMax) {
    long totalBytes = 0;
    for (int i = 0, n = requests.size(); i < n; i++) {
      MemoryRegion region = regions[i];
      if (region == null) {
        continue;
      }
      TransferRequest r = requests.get(i);
      if (!admitted(batch, i, transport, region, target, r)) {
        regions[i] = null;
        continue;
      }
      batch.expectEntry(i, countSlices(region, r.localAddress(), r.length(), sliceMax));
      totalBytes += r.length();
    }
    return totalBytes;
  }

  private static void rejectOverflow(Batch batch, int entry, TransferRequest r) {
    batch.rejectEntry(entry, ErrorCode.INVALID_ARGUMENT, "target range overflows: offset "
        + Long.toUnsignedString(r.targetOffset()) + " length " + r.length());
  }

  private static void rejectUnregistered(Batch batch, int entry, TransferRequest r) {
    batch.rejectEntry(entry, ErrorCode.ADDRESS_NOT_REGISTERED, "local range 0x"
        + Long.toHexString(r.localAddress()) + "+" + r.length()
        + " is not inside one registered region");
  }

  /**
   * True when the entry may go; else fails it: MEMORY_KIND_UNSUPPORTED when {@code transport}
   * cannot move its local memory or the target buffer it addresses (where the descriptor publishes
   * a kind), INVALID_ARGUMENT for a request on a stream the transport cannot order on,
   * PEER_ACCESS_DENIED when that buffer does not allow peers its opcode (te4j targets publish
   * read-only and write-only buffers; a TCP target refuses such a request itself, same-host
   * and CXL initiators copy without one, so this is where they stop). Nothing is touched either
   * way: a CPU view of device memory would crash the process. The target buffer is looked up once,
   * and only for a descriptor that publishes device or restricted buffers.
   */
  private static boolean admitted(Batch batch, int entry, Transport transport, MemoryRegion local,
      SegmentDescriptor target, TransferRequest r) {
    if (!transport.canMove(local.kind())) {
      return rejectLocalKind(batch, entry, transport, local);
    }
    if (r.stream() != 0 && !transport.ordersOnStreams()) {
      return rejectStream(batch, entry, transport, r);
    }
    if (!target.hasDeviceBuffers() && !target.hasRestrictedBuffers()) {
      return true;
    }
    BufferDescriptor b = target.bufferContaining(r.targetOffset(), r.length());
    MemoryKind remote = b == null ? MemoryKind.HOST : MemoryKind.ofBuffer(b);
    if (target.hasDeviceBuffers() && !transport.canMove(remote)) {
      return rejectTargetKind(batch, entry, transport, remote, target, r);
    }
    PeerAccess access = b == null ? PeerAccess.READ_WRITE : PeerAccess.ofBuffer(b);
    return access.allows(r.opcode()) || rejectAccess(batch, entry, access, target, r);
  }

  // The refusals are cold and kept apart, so admitted() stays small enough to inline.

  private static boolean rejectLocalKind(Batch batch, int entry, Transport transport,
      MemoryRegion local) {
    batch.rejectEntry(entry, ErrorCode.MEMORY_KIND_UNSUPPORTED, "the " + transport.name()
        + " transport cannot move " + local.kind() + " (local memory 0x"
        + Long.toHexString(local.address()) + ", registered as " + local.location() + ")");
    return false;
  }

  private static boolean rejectTargetKind(Batch batch, int entry, Transport transport,
      MemoryKind remote, SegmentDescriptor target, TransferRequest r) {
    batch.rejectEntry(entry, ErrorCode.MEMORY_KIND_UNSUPPORTED, "the " + transport.name()
        + " transport cannot move " + remote + " (target " + target.name() + " at 0x"
        + Long.toHexString(r.targetOffset()) + ")");
    return false;
  }

  private static boolean rejectStream(Batch batch, int entry, Transport transport,
      TransferRequest r) {
    batch.rejectEntry(entry, ErrorCode.INVALID_ARGUMENT, "the " + transport.name()
        + " transport cannot order a transfer on stream 0x" + Long.toHexString(r.stream())
        + " (the *_on_cuda operations order it through a host function)");
    return false;
  }

  private static boolean rejectAccess(Batch batch, int entry, PeerAccess access,
      SegmentDescriptor target, TransferRequest r) {
    batch.rejectEntry(entry, ErrorCode.PEER_ACCESS_DENIED, "target " + target.name() + " at 0x"
        + Long.toHexString(r.targetOffset()) + " allows peers " + access + ", not "
        + r.opcode());
    return false;
  }

  /** Slices are handed to the transport in groups of this many. */
  private static final int HANDOVER_SLICES = 256;

  private static final ThreadLocal<Handover> HANDOVER = ThreadLocal.withInitial(Handover::new);

  /**
   * A submitting thread's scratch space: the requests' regions, and slices on their way to the
   * transport. Reused, so a batch allocates neither.
   */
  private static final class Handover {
    final TransferSlice[] slices = new TransferSlice[HANDOVER_SLICES];
    private MemoryRegion[] regions = new MemoryRegion[64];
    private int regionsUsed;
    int count;
    boolean busy;

    /** A cleared array of at least {@code n} regions. */
    MemoryRegion[] regions(int n) {
      if (regions.length < n) {
        regions = new MemoryRegion[Math.max(n, regions.length * 2)];
      }
      regionsUsed = n;
      return regions;
    }

    /** Drops references, so nothing of a batch stays reachable from the thread. */
    void clear() {
      java.util.Arrays.fill(regions, 0, regionsUsed, null);
      regionsUsed = 0;
      java.util.Arrays.fill(slices, 0, count, null);
      count = 0;
    }

    void add(TransferSlice s, Transport transport) {
      slices[count++] = s;
      if (count == slices.length) {
        flush(transport);
      }
    }

    void flush(Transport transport) {
      int n = count;
      count = 0;
      if (n > 0) {
        transport.submitAll(slices, n);
        java.util.Arrays.fill(slices, 0, n, null);
      }
    }
  }

  /** The batch with this id, or null when it is unknown or was freed. */
  public Batch get(long id) {
    return batches.get(id);
  }

  /**
   * Forgets a finished batch.
   *
   * @throws TransferException INVALID_BATCH_ID when unknown, BATCH_BUSY when still running
   */
  public void free(long id) {
    Batch b = batches.get(id);
    if (b == null) {
      throw new TransferException(ErrorCode.INVALID_BATCH_ID, "unknown batch id " + id);
    }
    if (!b.state().isTerminal()) {
      throw new TransferException(ErrorCode.BATCH_BUSY, "batch " + id + " is still running");
    }
    batches.remove(id);
  }

  /** Forgets a batch whatever its state (used after the caller has seen its final state). */
  public void remove(long id) {
    batches.remove(id);
  }

  /** Ends every running batch (engine close). */
  public void abortAll(TransferState state, ErrorCode code, String message) {
    for (Batch b : batches.snapshot()) {
      b.abort(state, code, message);
    }
  }

  /** Number of batches in the table. */
  public int size() {
    return batches.size();
  }

  private static int countSlices(MemoryRegion region, long address, long length, long sliceMax) {
    int n = 0;
    long offset = address - region.address();
    long end = offset + length;
    while (offset < end) {
      offset += pieceLength(offset, end, sliceMax);
      n++;
    }
    return n;
  }

  /** A piece never crosses a chunk of the local region, so a transport sees one buffer per slice. */
  private static long pieceLength(long regionOffset, long regionEnd, long sliceMax) {
    long chunkEnd = ((regionOffset >>> MemoryRegion.CHUNK_SHIFT) + 1) << MemoryRegion.CHUNK_SHIFT;
    return Math.min(Math.min(regionEnd, chunkEnd) - regionOffset, sliceMax);
  }

  private void cutAndSubmit(Batch batch, int entry, TransferRequest r, MemoryRegion region,
      SegmentDescriptor target, long sliceMax, Transport transport, Handover handover) {
    long offset = r.localAddress() - region.address();
    long end = offset + r.length();
    long targetOffset = r.targetOffset();
    while (offset < end) {
      long len = pieceLength(offset, end, sliceMax);
      Slice s = slicePool.poll();
      if (s == null) {
        s = new Slice(metrics, slicePool, failureListener);
      }
      handover.add(s.init(batch, entry, r.opcode(), region.address() + offset, region,
          targetOffset, len, target, r.stream()), transport);
      offset += len;
      targetOffset += len;
    }
  }
}
