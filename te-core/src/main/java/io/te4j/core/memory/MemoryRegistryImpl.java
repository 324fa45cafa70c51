package io.te4j.core.memory;

import io.te4j.api.AddressRanges;
import io.te4j.api.ErrorCode;
import io.te4j.api.PeerAccess;
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
   * Told about every change, so the engine can set up transports and republish its descriptor.
   * Every method runs on the thread that changes the registry, under the registry's lock, with all
   * the regions of one call (a batch registration is one call); none may register or unregister
   * memory itself.
   */
  public interface Listener {
    /** A listener that does nothing. */
    Listener NONE =
        new Listener() {
          @Override
          public void added(List<RegisteredRegion> regions) {}

          @Override
          public void removed(List<RegisteredRegion> regions) {}
        };

    /**
     * The regions are about to be registered; {@link #find} does not return them yet. Throwing
     * refuses them all (nothing is registered, and {@link #removed} is not called): a listener that
     * throws undoes its own partial work first.
     */
    default void preparing(List<RegisteredRegion> regions) {}

    /**
     * The regions were registered and {@link #find} returns them. Throwing refuses them: they are
     * removed again, {@link #removed} is called for them, and the exception reaches the caller.
     */
    void added(List<RegisteredRegion> regions);

    /**
     * The regions were unregistered ({@link #find} no longer returns them), or a registration is
     * being rolled back after {@link #preparing} accepted it. Cannot refuse: an exception is
     * logged and ignored.
     */
    void removed(List<RegisteredRegion> regions);
  }

  /**
   * One region of {@link #registerAll}.
   *
   * @param address first address (not 0)
   * @param length bytes, greater than 0
   * @param location where the memory lives ({@code cpu:0}, {@code cuda:1}); not blank
   * @param access what peers may do with it
   */
  public record RegionSpec(long address, long length, String location, PeerAccess access) {
    public RegionSpec {
      Objects.requireNonNull(access, "access");
    }

    /** A region peers may read and write ({@code remoteAccessible}) or not reach at all. */
    public RegionSpec(long address, long length, String location, boolean remoteAccessible) {
      this(address, length, location, PeerAccess.of(remoteAccessible));
    }
  }

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
    return register(address, length, location, PeerAccess.of(remoteAccessible), null);
  }

  /** Like {@link #register(long, long, String, PeerAccess, Object)}: read-write or local only. */
  public RegisteredRegion register(
      long address, long length, String location, boolean remoteAccessible, Object owner) {
    return register(address, length, location, PeerAccess.of(remoteAccessible), owner);
  }

  /**
   * Like {@link #register(long, long, String, boolean)} with what peers may do ({@code access}),
   * recording {@code owner} as the region's {@link RegisteredRegion#owner()}: an object to keep
   * reachable while the memory is registered, or a tag telling who owns it (the engine uses it to
   * recognise managed arenas).
   */
  public RegisteredRegion register(
      long address, long length, String location, PeerAccess access, Object owner) {
    validate(address, length, location);
    return add(List.of(RegisteredRegion.ofAddress(address, length, location,
        Objects.requireNonNull(access, "access"), owner))).get(0);
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
    return register(direct, location, PeerAccess.of(remoteAccessible));
  }

  /**
   * Like {@link #register(ByteBuffer, String, boolean)} with what peers may do ({@code access}).
   */
  public RegisteredRegion register(ByteBuffer direct, String location, PeerAccess access) {
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
    return add(List.of(RegisteredRegion.ofBuffer(direct, location,
        Objects.requireNonNull(access, "access")))).get(0);
  }

  /**
   * Registers every spec, or none: every spec is checked (arguments, overlap with a registered
   * region or with another spec of the list) before the listener hears of any; a refusal by the
   * listener rolls all of them back. The listener gets the whole list in one call each.
   *
   * @return the regions, in the order of {@code specs}
   */
  public List<RegisteredRegion> registerAll(List<RegionSpec> specs) {
    Objects.requireNonNull(specs, "specs");
    List<RegisteredRegion> regions = new ArrayList<>(specs.size());
    for (RegionSpec spec : specs) {
      if (spec == null) {
        throw new TransferException(ErrorCode.INVALID_ARGUMENT, "null RegionSpec");
      }
      validate(spec.address(), spec.length(), spec.location());
      regions.add(RegisteredRegion.ofAddress(spec.address(), spec.length(), spec.location(),
          spec.access(), null));
    }
    return add(regions);
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
      notifyRemoved(removed, null);
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

  /**
   * Checks overlap (with registered regions and among {@code added}), lets the listener prepare,
   * publishes, then tells the listener, rolling everything back when it refuses.
   */
  private List<RegisteredRegion> add(List<RegisteredRegion> added) {
    lockForWrite();
    try {
      Snapshot s = snapshot;
      for (int i = 0; i < added.size(); i++) {
        RegisteredRegion region = added.get(i);
        int at = insertionPoint(s.starts, region.address());
        checkNoOverlap(s, at - 1, region);
        checkNoOverlap(s, at, region);
        for (int j = 0; j < i; j++) {
          RegisteredRegion other = added.get(j);
          if (AddressRanges.overlaps(other.address(), other.length(), region.address(),
              region.length())) {
            throw new TransferException(ErrorCode.ADDRESS_OVERLAPPED, "0x"
                + Long.toHexString(region.address()) + " + " + region.length() + " overlaps "
                + other + " of the same call");
          }
        }
      }
      notifying = true;
      try {
        listener.preparing(added);
      } finally {
        notifying = false;
      }
      publishWith(added);
      notifying = true;
      try {
        listener.added(added);
      } catch (RuntimeException | Error e) {
        publishWithout(new HashSet<>(added));
        notifyRemoved(added, e);
        throw e;
      } finally {
        notifying = false;
      }
      return added;
    } finally {
      writeLock.unlock();
    }
  }

  /** Publishes the current snapshot plus {@code added}, in address order; caller holds the lock. */
  private void publishWith(List<RegisteredRegion> added) {
    Snapshot s = snapshot;
    RegisteredRegion[] regions = Arrays.copyOf(s.regions, s.regions.length + added.size());
    for (int i = 0; i < added.size(); i++) {
      regions[s.regions.length + i] = added.get(i);
    }
    Arrays.sort(regions, (a, b) -> Long.compareUnsigned(a.address(), b.address()));
    long[] starts = new long[regions.length];
    for (int i = 0; i < regions.length; i++) {
      starts[i] = regions[i].address();
    }
    snapshot = new Snapshot(starts, regions);
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

  private void notifyRemoved(List<RegisteredRegion> regions, Throwable rollbackCause) {
    notifying = true;
    try {
      listener.removed(regions);
    } catch (RuntimeException e) {
      if (rollbackCause != null) {
        rollbackCause.addSuppressed(e);
      }
      LOG.warn("memory listener failed on removal of {}", regions, e);
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
