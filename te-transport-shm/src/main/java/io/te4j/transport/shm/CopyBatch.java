package io.te4j.transport.shm;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.te4j.api.ErrorCode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegistry;
import io.te4j.api.spi.TransferSlice;
import io.te4j.api.spi.inflight.InFlightTable;

/**
 * Memory copies of validated slices, run together: one hazard entry over their local ranges, one
 * native call for all of them ({@link CopyRoutines#copyMany}), then the slices are finished. This
 * is what makes small transfers cheap: per slice, no JNA call and no fence of its own.
 *
 * <p>One per submitting thread ({@link #acquire}), reused; a thread that re-enters (a completion
 * callback submitting again) gets a fresh one. Slices are finished only after the hazard slot is
 * cleared, so a callback never runs inside it.
 */
public final class CopyBatch {
  static final int CAPACITY = 256;
  private static final ThreadLocal<CopyBatch> MINE = ThreadLocal.withInitial(CopyBatch::new);

  private final Memory memory = new Memory(32L * CAPACITY);
  private final long tableAddress = Pointer.nativeValue(memory);
  /** The table as a buffer: its accessors are intrinsics, where Memory's are a JNI call each. */
  private final java.nio.ByteBuffer table =
      memory.getByteBuffer(0, 32L * CAPACITY).order(java.nio.ByteOrder.nativeOrder());
  private final TransferSlice[] slices = new TransferSlice[CAPACITY];
  private final long[] locals = new long[CAPACITY];
  private final PeerMapping[] mappings = new PeerMapping[CAPACITY];
  private int count;
  private long low;
  private long high;
  private boolean busy;
  /** A peer a transport already checked during this hand-over (shm: one liveness check each). */
  Object checkedPeer;
  /**
   * The last target buffer a slice of this hand-over went to, and what it resolved to (shm: the
   * peer and the mapping, null for cross-memory attach): the next slice into the same buffer of
   * the same descriptor reuses them instead of looking them up again, and shares the reference to
   * the mapping the first one took (released once the copies ran). Forgotten when the copies run.
   */
  Object lastTarget;
  Object lastBuffer;
  Object lastPeer;
  Object lastMapping;

  /** This thread's batch, empty. Give it back with {@link #release}. */
  static CopyBatch acquire() {
    CopyBatch b = MINE.get();
    if (b.busy) {
      b = new CopyBatch();
    }
    b.busy = true;
    b.checkedPeer = null;
    b.clear();
    return b;
  }

  void release() {
    busy = false;
  }

  boolean isFull() {
    return count == CAPACITY;
  }

  boolean isEmpty() {
    return count == 0;
  }

  /**
   * Adds a copy of {@code length} bytes for {@code slice}, whose local range starts at {@code
   * local}, written back from the CPU caches with {@code writeBack}.
   */
  public void add(TransferSlice slice, long dst, long src, long length, boolean writeBack,
      long local) {
    add(slice, dst, src, length, writeBack, local, null);
  }

  /** {@link #add}, releasing {@code mapping} (when not null) once the copies ran. */
  void add(TransferSlice slice, long dst, long src, long length, boolean writeBack, long local,
      PeerMapping mapping) {
    int i = count++;
    table.putLong(32 * i, dst);
    table.putLong(32 * i + 8, src);
    table.putLong(32 * i + 16, length);
    table.putLong(32 * i + 24, writeBack ? 1 : 0);
    slices[i] = slice;
    locals[i] = local;
    mappings[i] = mapping;
    low = Math.min(low, local);
    high = Math.max(high, local + length);
  }

  /**
   * Runs the copies and finishes the slices: each local range is re-checked after the hazard
   * entry (memory unregistered meanwhile fails its slice with ADDRESS_NOT_REGISTERED, untouched);
   * when {@code closed} holds after the entry every slice fails with {@code closedCode}.
   *
   * @return bytes copied
   */
  long run(InFlightTable inFlight, MemoryRegistry registry, java.util.function.BooleanSupplier closed,
      ErrorCode closedCode, String transport) {
    int n = count;
    if (n == 0) {
      return 0;
    }
    long copied = 0;
    boolean shut;
    int slot;
    try {
      slot = inFlight.enter(low, high - low);
    } catch (IllegalStateException tooManyThreads) {
      for (int i = 0; i < n; i++) {
        if (mappings[i] != null) {
          mappings[i].release();
          mappings[i] = null;
        }
        slices[i].fail(TransferState.FAILED, ErrorCode.TRANSFER_FAILED,
            tooManyThreads.getMessage());
        slices[i] = null;
      }
      clear();
      return 0;
    }
    try {
      shut = closed.getAsBoolean();
      if (!shut) {
        // Looked up again after the entry (see the class comment); once per region: slices of
        // one region are all still registered or all not, since every lookup follows the entry.
        Object checked = null;
        for (int i = 0; i < n; i++) {
          long length = table.getLong(32 * i + 16);
          Object region = slices[i].localRegion();
          if (region != null && region == checked) {
            copied += length;
          } else if (registry.find(locals[i], length) == null) {
            table.putLong(32 * i + 16, 0); // skipped: fails below
            locals[i] = 0;
          } else {
            copied += length;
            checked = region;
          }
        }
        CopyRoutines.copyMany(tableAddress, n, copied);
      }
    } finally {
      inFlight.exit(slot);
      for (int i = 0; i < n; i++) {
        if (mappings[i] != null) {
          mappings[i].release();
          mappings[i] = null;
        }
      }
    }
    for (int i = 0; i < n; i++) {
      TransferSlice s = slices[i];
      slices[i] = null;
      if (shut) {
        s.fail(TransferState.FAILED, closedCode, transport + " transport closed");
      } else if (locals[i] == 0) {
        s.fail(TransferState.FAILED, ErrorCode.ADDRESS_NOT_REGISTERED, transport + ": local 0x"
            + Long.toHexString(s.localAddress()) + "+" + s.length() + " was unregistered");
      } else {
        s.complete();
      }
    }
    clear();
    return copied;
  }

  private void clear() {
    lastTarget = null; // its mapping's reference was released with the copies
    lastBuffer = null;
    lastPeer = null;
    lastMapping = null;
    count = 0;
    low = Long.MAX_VALUE;
    high = 0;
  }
}
