package io.te4j.core.memory;

import io.te4j.api.AddressRanges;
import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.MemoryRegistry;
import io.te4j.nativelib.NativeMemory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's registered memory: non-overlapping regions, looked up by address.
 *
 * <p>Threading: {@link #find} and {@link #findContaining} are lock-free and allocation-free (one
 * volatile read of an immutable snapshot sorted by unsigned start address, then a binary search),
 * so transports call them on every slice from any thread. Registration and unregistration copy the
 * snapshot under a lock; the {@link Listener} runs on the registering thread, under that lock, so
 * its calls are serialized and in order.
 *
 * <p>Addresses and lengths are unsigned 64-bit values; every range check is overflow-safe ({@link
 * AddressRanges}).
 */
public final class MemoryRegistryImpl implements MemoryRegistry {
  /**
   * The longest region accepted (128 TiB, the x86-64 user address space): chunk buffers are built
   * eagerly, so an absurd length must fail cleanly instead of exhausting the heap.
   */
  public static final long MAX_REGION_LENGTH = 1L << 47;

  private static final Logger LOG = LoggerFactory.getLogger(MemoryRegistryImpl.class);
  private static final Snapshot EMPTY = new Snapshot(new long[0], new RegisteredRegion[0]);

  /**
   * Told about every change, so the engine can inform transports and republish its descriptor. Both
   * methods run on the thread that changes the registry, under the registry's lock; they must not
   * register or unregister memory themselves.
   */
  public interface Listener {
    /** A listener that does nothing. */
    Listener NONE =
        new Listener() {
          @Override
          public void added(RegisteredRegion region) {}

          @Override
          public void removed(RegisteredRegion region) {}
        };

    /**
     * The region was registered and {@link #find} already returns it. Throwing refuses the memory:
     * the registration is rolled back and the exception reaches the caller. A listener that throws
     * undoes its own partial work; {@link #removed} is not called for this region.
     */
    void added(RegisteredRegion region);

    /**
     * The region was unregistered ({@link #find} no longer returns it), or a registration is being
     * rolled back after it was added. Cannot refuse: an exception is logged and ignored.
     */
    void removed(RegisteredRegion region);
  }

  /**
   * One region of {@link #registerAll}.
   *
   * @param address first address (not 0)
   * @param length bytes, greater than 0
   * @param location where the memory lives ({@code cpu:0}, {@code cuda:1}); not blank
   * @param remoteAccessible whether peers may read and write it
   */
  public record RegionSpec(long address, long length, String location, boolean remoteAccessible) {}

  /** Immutable: parallel arrays sorted by unsigned start address. */
  private static final class Snapshot {
    final long[] starts;
    final RegisteredRegion[] regions;

    Snapshot(long[] starts, RegisteredRegion[] regions) {
      this.starts = starts;
      this.regions = regions;
    }
  }

  private final ReentrantLock writeLock = new ReentrantLock();
  private final Listener listener;
  private volatile Snapshot snapshot = EMPTY;

  /** True while the listener runs; read and written only by the thread holding the lock. */
  private boolean notifying;

  /** A registry that tells nobody about changes. */
  public MemoryRegistryImpl() {
    this(Listener.NONE);
  }

  /** A registry that tells {@code listener} about every change. */
  public MemoryRegistryImpl(Listener listener) {
    this.listener = Objects.requireNonNull(listener, "listener");
  }

  /**
   * Registers {@code [address, address + length)}. Touches no memory.
   *
   * @throws TransferException INVALID_ARGUMENT for address 0, a length that is not positive or
   *     above {@link #MAX_REGION_LENGTH}, a range wrapping past 2^64, or a blank location;
   *     ADDRESS_OVERLAPPED when the range shares a byte with a registered region (adjacent is
   *     fine); or whatever the listener threw (the registration is then rolled back)
   */
  public RegisteredRegion register(
      long address, long length, String location, boolean remoteAccessible) {
    return register(address, length, location, remoteAccessible, null);
  }

  /**
   * Like {@link #register(long, long, String, boolean)}, recording {@code owner} as the region's
   * {@link RegisteredRegion#owner()}: an object to keep reachable while the memory is registered,
   * or a tag telling who owns it (the engine uses it to recognise managed arenas).
   */
  public RegisteredRegion register(
      long address, long length, String location, boolean remoteAccessible, Object owner) {
    validate(address, length, location);
    return add(RegisteredRegion.ofAddress(address, length, location, remoteAccessible, owner));
  }

  /**
   * Registers the whole capacity of a direct buffer (its position and limit do not matter; pass a
   * {@link ByteBuffer#slice} to register part of one). The region keeps the buffer reachable until
   * it is unregistered.
   *
   * @throws TransferException INVALID_ARGUMENT for a heap, read-only or empty buffer or a blank
   *     location; ADDRESS_OVERLAPPED; or whatever the listener threw
   */
  public RegisteredRegion register(ByteBuffer direct, String location, boolean remoteAccessible) {
    if (direct == null || !direct.isDirect()) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "not a direct ByteBuffer");
    }
    if (direct.isReadOnly()) {
      // Transports write into registered memory (remote writes, local reads).
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "read-only ByteBuffer");
    }
    long address;
    try {
      address = NativeMemory.addressOf(direct);
    } catch (IllegalArgumentException e) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, e.getMessage(), e);
    }
    validate(address, direct.capacity(), location);
    return add(RegisteredRegion.ofBuffer(direct, location, remoteAccessible));
  }

  /**
   * Registers every spec, or none: when one fails (bad argument, overlap with a registered region
   * or with an earlier spec of the list, listener refusal), what this call registered is
   * unregistered again and the exception propagates.
   *
   * @return the regions, in the order of {@code specs}
   */
  public List<RegisteredRegion> registerAll(List<RegionSpec> specs) {
    Objects.requireNonNull(specs, "specs");
    lockForWrite();
    try {
      List<RegisteredRegion> done = new ArrayList<>(specs.size());
      try {
        for (RegionSpec spec : specs) {
          if (spec == null) {
            throw new TransferException(ErrorCode.INVALID_ARGUMENT, "null RegionSpec");
          }
          validate(spec.address(), spec.length(), spec.location());
          done.add(
              add(
                  RegisteredRegion.ofAddress(
                      spec.address(),
                      spec.length(),
                      spec.location(),
                      spec.remoteAccessible(),
                      null)));
        }
      } catch (RuntimeException | Error e) {
        for (int i = done.size() - 1; i >= 0; i--) {
          RegisteredRegion r = done.get(i);
          publishWithout(Set.of(r));
          notifyRemoved(r, e);
        }
        throw e;
      }
      return done;
    } finally {
      writeLock.unlock();
    }
  }

  /**
   * Unregisters the region that starts at {@code address}.
   *
   * @throws TransferException ADDRESS_NOT_REGISTERED when no region starts there
   */
  public RegisteredRegion unregister(long address) {
    return unregisterAll(List.of(address)).get(0);
  }

  /**
   * Unregisters the regions starting at each address, or none: every address is checked before
   * anything is removed.
   *
   * @return the removed regions, in the order of {@code addresses}
   * @throws TransferException ADDRESS_NOT_REGISTERED when an address starts no region;
   *     INVALID_ARGUMENT when an address is listed twice or is null
   */
  public List<RegisteredRegion> unregisterAll(List<Long> addresses) {
    Objects.requireNonNull(addresses, "addresses");
    lockForWrite();
    try {
      Snapshot s = snapshot;
      List<RegisteredRegion> removed = new ArrayList<>(addresses.size());
      Set<RegisteredRegion> seen = new HashSet<>();
      for (Long address : addresses) {
        if (address == null) {
          throw new TransferException(ErrorCode.INVALID_ARGUMENT, "null address");
        }
        int i = indexOfStart(s.starts, address);
        if (i < 0) {
          throw new TransferException(
              ErrorCode.ADDRESS_NOT_REGISTERED,
              "no registered region starts at 0x" + Long.toHexString(address));
        }
        if (!seen.add(s.regions[i])) {
          throw new TransferException(
              ErrorCode.INVALID_ARGUMENT, "address listed twice: 0x" + Long.toHexString(address));
        }
        removed.add(s.regions[i]);
      }
      publishWithout(seen);
      for (RegisteredRegion r : removed) {
        notifyRemoved(r, null);
      }
      return removed;
    } finally {
      writeLock.unlock();
    }
  }

  /**
   * The one region that wholly contains {@code [address, address + length)}, or null. A range
   * across two adjacent regions, or one wrapping past 2^64, has none. Lock-free; allocates nothing.
   */
  @Override
  public MemoryRegion find(long address, long length) {
    return findContaining(address, length);
  }

  /** {@link #find} with the concrete type. */
  public RegisteredRegion findContaining(long address, long length) {
    Snapshot s = snapshot;
    long[] starts = s.starts;
    // Last region whose start <= address (unsigned): the only one that can contain the range.
    int lo = 0;
    int hi = starts.length - 1;
    int found = -1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (Long.compareUnsigned(starts[mid], address) <= 0) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0) {
      return null;
    }
    RegisteredRegion r = s.regions[found];
    return AddressRanges.contains(r.address(), r.length(), address, length) ? r : null;
  }

  @Override
  public List<MemoryRegion> regions() {
    return List.of(snapshot.regions);
  }

  /** {@link #regions()} with the concrete type: a snapshot in unsigned address order. */
  public List<RegisteredRegion> registeredRegions() {
    return List.of(snapshot.regions);
  }

  /** The number of registered regions. */
  public int size() {
    return snapshot.regions.length;
  }

  private static void validate(long address, long length, String location) {
    if (address == 0) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "address 0");
    }
    if (length <= 0) {
      throw new TransferException(
          ErrorCode.INVALID_ARGUMENT, "length must be > 0: " + Long.toUnsignedString(length));
    }
    if (length > MAX_REGION_LENGTH) {
      throw new TransferException(
          ErrorCode.INVALID_ARGUMENT,
          "length " + length + " above the limit of " + MAX_REGION_LENGTH);
    }
    // No mapping reaches the last byte of the address space; refusing an end at exactly 2^64 keeps
    // every region's end representable.
    if (!AddressRanges.fits(address, length) || address + length == 0) {
      throw new TransferException(
          ErrorCode.INVALID_ARGUMENT,
          "range 0x" + Long.toHexString(address) + " + " + length + " wraps past 2^64");
    }
    if (location == null || location.isBlank()) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "empty location");
    }
  }

  /** Inserts after checking overlap, publishes, then tells the listener (rolling back on throw). */
  private RegisteredRegion add(RegisteredRegion region) {
    lockForWrite();
    try {
      Snapshot s = snapshot;
      int at = insertionPoint(s.starts, region.address());
      checkNoOverlap(s, at - 1, region);
      checkNoOverlap(s, at, region);
      int n = s.starts.length;
      long[] starts = new long[n + 1];
      RegisteredRegion[] regions = new RegisteredRegion[n + 1];
      System.arraycopy(s.starts, 0, starts, 0, at);
      System.arraycopy(s.regions, 0, regions, 0, at);
      starts[at] = region.address();
      regions[at] = region;
      System.arraycopy(s.starts, at, starts, at + 1, n - at);
      System.arraycopy(s.regions, at, regions, at + 1, n - at);
      snapshot = new Snapshot(starts, regions);
      notifying = true;
      try {
        listener.added(region);
      } catch (RuntimeException | Error e) {
        publishWithout(Set.of(region));
        throw e;
      } finally {
        notifying = false;
      }
      return region;
    } finally {
      writeLock.unlock();
    }
  }

  private static void checkNoOverlap(Snapshot s, int index, RegisteredRegion region) {
    if (index < 0 || index >= s.regions.length) {
      return;
    }
    RegisteredRegion other = s.regions[index];
    if (AddressRanges.overlaps(
        other.address(), other.length(), region.address(), region.length())) {
      throw new TransferException(
          ErrorCode.ADDRESS_OVERLAPPED,
          "0x"
              + Long.toHexString(region.address())
              + " + "
              + region.length()
              + " overlaps "
              + other);
    }
  }

  /** Publishes the current snapshot minus {@code gone}; caller holds the lock. */
  private void publishWithout(Set<RegisteredRegion> gone) {
    Snapshot s = snapshot;
    int n = s.regions.length;
    long[] starts = new long[n];
    RegisteredRegion[] regions = new RegisteredRegion[n];
    int k = 0;
    for (int i = 0; i < n; i++) {
      if (!gone.contains(s.regions[i])) {
        starts[k] = s.starts[i];
        regions[k] = s.regions[i];
        k++;
      }
    }
    snapshot = k == 0 ? EMPTY : new Snapshot(Arrays.copyOf(starts, k), Arrays.copyOf(regions, k));
  }

  private void notifyRemoved(RegisteredRegion region, Throwable rollbackCause) {
    notifying = true;
    try {
      listener.removed(region);
    } catch (RuntimeException e) {
      if (rollbackCause != null) {
        rollbackCause.addSuppressed(e);
      }
      LOG.warn("memory listener failed on removal of {}", region, e);
    } finally {
      notifying = false;
    }
  }

  private void lockForWrite() {
    // A listener calling back would see a half-done change and break rollback.
    if (writeLock.isHeldByCurrentThread() && notifying) {
      throw new IllegalStateException("a registry listener must not change the registry");
    }
    writeLock.lock();
  }

  /** Index of the first start greater than {@code address} (unsigned). */
  private static int insertionPoint(long[] starts, long address) {
    int lo = 0;
    int hi = starts.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (Long.compareUnsigned(starts[mid], address) <= 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  private static int indexOfStart(long[] starts, long address) {
    int i = insertionPoint(starts, address) - 1;
    return i >= 0 && starts[i] == address ? i : -1;
  }
}
