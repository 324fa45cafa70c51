package io.te4j.core.memory;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.nativelib.NativeMemory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's managed buffers ({@code allocate_managed_buffer} / {@code free_managed_buffer} of
 * the reference): registered, remote-accessible memory handed out by a buddy allocator.
 *
 * <p>Memory comes in arenas of {@code arenaBytes}, each a shared mapping of a memory file ({@code
 * memfd}, kept open so that an engine of this host can map the arena and copy with plain memory
 * copies; anonymous memory when memory files are turned off or refused, with a logged reason),
 * registered with the
 * given registry (location {@code cpu:0}, remote-accessible, {@link RegisteredRegion#owner()} this
 * object) and carved by a {@link BuddyAllocator}. A request larger than {@code arenaBytes} gets an
 * arena of its own, of the next power of two. An arena that becomes empty is unregistered and
 * unmapped, except the last standard-size arena, kept warm for the next request.
 *
 * <p>Threading: every method may be called from any thread; one lock serializes them (allocation is
 * not on the transfer path). The registry's listener runs under that lock when arenas come and go.
 */
public final class ManagedMemory implements AutoCloseable {
  /** Default arena size: 64 MiB. */
  public static final long DEFAULT_ARENA_BYTES = 64L << 20;

  /** The location managed memory is registered under. */
  public static final String LOCATION = "cpu:0";

  private static final Logger LOG = LoggerFactory.getLogger(ManagedMemory.class);
  private static final long PAGE = 4096;

  /** Arenas are carved in at most this many min-blocks, so bookkeeping stays small. */
  private static final int BLOCKS_PER_ARENA = 1 << 16;

  /** The largest dedicated arena: the next power of two must not overflow. */
  private static final long MAX_ARENA_BYTES = 1L << 62;

  private final MemoryRegistryImpl registry;
  private final long arenaBytes;
  private final boolean shareable;
  private final ReentrantLock lock = new ReentrantLock();

  /** Arenas by base address (user-space addresses are positive, so signed order is fine). */
  private final TreeMap<Long, Arena> arenas = new TreeMap<>();

  private boolean closed;
  /** Set once memfd_create failed: later arenas go straight to anonymous memory. */
  private boolean memoryFilesRefused;

  private static final class Arena {
    final long base;
    final long size;
    final BuddyAllocator allocator;
    final boolean standard;
    /** The memory file's descriptor, or -1 for anonymous memory. */
    final int fd;

    Arena(long base, long size, boolean standard, int fd) {
      this.base = base;
      this.size = size;
      this.standard = standard;
      this.fd = fd;
      this.allocator = new BuddyAllocator(base, size, Math.max(PAGE, size / BLOCKS_PER_ARENA));
    }
  }

  /** Managed memory with 64 MiB shareable arenas registered in {@code registry}. */
  public ManagedMemory(MemoryRegistryImpl registry) {
    this(registry, DEFAULT_ARENA_BYTES, true);
  }

  /**
   * Managed memory with arenas of {@code arenaBytes} registered in {@code registry}.
   *
   * @param shareable arenas from memory files (see the class comment); false: anonymous memory
   * @throws IllegalArgumentException when {@code arenaBytes} is not a power of two of at least 4096
   */
  public ManagedMemory(MemoryRegistryImpl registry, long arenaBytes, boolean shareable) {
    if (registry == null) {
      throw new NullPointerException("registry");
    }
    if (arenaBytes < PAGE || Long.bitCount(arenaBytes) != 1 || arenaBytes > MAX_ARENA_BYTES) {
      throw new IllegalArgumentException(
          "arenaBytes must be a power of two >= 4096: " + arenaBytes);
    }
    this.registry = registry;
    this.arenaBytes = arenaBytes;
    this.shareable = shareable;
  }

  /**
   * Allocates {@code length} bytes of registered memory (contents unspecified; fresh arenas are
   * zero-filled).
   *
   * @return the address, or 0 when {@code length <= 0}, after {@link #close}, or when memory cannot
   *     be mapped or registered (logged)
   */
  public long allocate(long length) {
    if (length <= 0 || length > MAX_ARENA_BYTES) {
      return 0;
    }
    lock.lock();
    try {
      if (closed) {
        return 0;
      }
      for (Arena arena : arenas.values()) {
        long address = arena.allocator.allocate(length);
        if (address != -1) {
          return address;
        }
      }
      boolean standard = length <= arenaBytes;
      long size = standard ? arenaBytes : Long.highestOneBit(length - 1) << 1;
      Arena arena = newArena(size, standard);
      if (arena == null) {
        return 0;
      }
      long address = arena.allocator.allocate(length);
      if (address == -1) {
        throw new IllegalStateException("a fresh arena of " + size + " refused " + length);
      }
      return address;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Frees what {@link #allocate} returned; {@code length} must round to the same block as the
   * allocated length (the allocated length always does).
   *
   * @return 0; {@link ErrorCode#ADDRESS_NOT_REGISTERED} when the address lies in no arena (also
   *     after the arena was returned); {@link ErrorCode#INVALID_ARGUMENT} for a wrong length, an
   *     address that is not a block start, or a double free; {@link ErrorCode#ENGINE_CLOSED} after
   *     {@link #close}. An error changes nothing.
   */
  public int free(long address, long length) {
    lock.lock();
    try {
      if (closed) {
        return ErrorCode.ENGINE_CLOSED.code();
      }
      Arena arena = arenaContaining(address);
      if (arena == null) {
        LOG.debug("free of 0x{}: not managed memory", Long.toHexString(address));
        return ErrorCode.ADDRESS_NOT_REGISTERED.code();
      }
      int result = arena.allocator.free(address, length);
      if (result != BuddyAllocator.OK) {
        LOG.debug(
            "free of 0x{} ({} bytes) refused: {}",
            Long.toHexString(address),
            length,
            result == BuddyAllocator.ALREADY_FREE ? "double free" : "not a block of that length");
        return ErrorCode.INVALID_ARGUMENT.code();
      }
      if (arena.allocator.isEmpty() && !keepWarm(arena)) {
        arenas.remove(arena.base);
        release(arena);
      }
      return 0;
    } finally {
      lock.unlock();
    }
  }

  /** True when {@code address} lies in one of this object's arenas. */
  public boolean isManaged(long address) {
    lock.lock();
    try {
      return arenaContaining(address) != null;
    } finally {
      lock.unlock();
    }
  }

  /** The number of mapped arenas. */
  public int arenaCount() {
    lock.lock();
    try {
      return arenas.size();
    } finally {
      lock.unlock();
    }
  }

  /** Bytes handed out, counted in whole blocks. */
  public long usedBytes() {
    lock.lock();
    try {
      long used = 0;
      for (Arena arena : arenas.values()) {
        used += arena.allocator.used();
      }
      return used;
    } finally {
      lock.unlock();
    }
  }

  /** The standard arena size. */
  public long arenaBytes() {
    return arenaBytes;
  }

  /**
   * Unregisters and unmaps every arena, allocated blocks included; later calls to {@link #allocate}
   * return 0. Idempotent. The caller makes sure no transfer uses the memory any more.
   */
  @Override
  public void close() {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      List<Arena> all = new ArrayList<>(arenas.values());
      arenas.clear();
      for (Arena arena : all) {
        release(arena);
      }
    } finally {
      lock.unlock();
    }
  }

  /** An empty arena stays when it is the only standard-size one left. */
  private boolean keepWarm(Arena arena) {
    if (!arena.standard) {
      return false;
    }
    for (Arena other : arenas.values()) {
      if (other != arena && other.standard) {
        return false;
      }
    }
    return true;
  }

  private Arena arenaContaining(long address) {
    Map.Entry<Long, Arena> e = arenas.floorEntry(address);
    if (e == null) {
      return null;
    }
    Arena arena = e.getValue();
    return address - arena.base < arena.size ? arena : null;
  }

  private Arena newArena(long size, boolean standard) {
    long base;
    int fd = -1;
    try {
      if (shareable && !memoryFilesRefused) {
        try {
          long[] mapped = NativeMemory.mapMemoryFile("te4j-managed", size);
          base = mapped[0];
          fd = (int) mapped[1];
        } catch (TransferException e) {
          memoryFilesRefused = true;
          LOG.warn("managed memory falls back to anonymous mappings (peers on this host copy "
              + "through cross-memory attach): {}", e.getMessage());
          base = NativeMemory.mapAnonymous(size);
        }
      } else {
        base = NativeMemory.mapAnonymous(size);
      }
    } catch (TransferException e) {
      LOG.warn("cannot map a managed arena of {} bytes", size, e);
      return null;
    }
    Arena arena = new Arena(base, size, standard, fd);
    try {
      registry.register(base, size, LOCATION, true, this);
    } catch (RuntimeException e) {
      LOG.warn("cannot register a managed arena of {} bytes", size, e);
      unmapQuietly(arena);
      return null;
    }
    arenas.put(base, arena);
    return arena;
  }

  private void release(Arena arena) {
    RegisteredRegion region = registry.findContaining(arena.base, arena.size);
    if (region != null && region.owner() == this && region.address() == arena.base) {
      try {
        registry.unregister(arena.base);
      } catch (TransferException e) {
        LOG.warn("cannot unregister managed arena at 0x{}", Long.toHexString(arena.base), e);
      }
    } else {
      // Someone unregistered the arena by hand; the mapping is still ours to return.
      LOG.warn("managed arena at 0x{} was no longer registered", Long.toHexString(arena.base));
    }
    unmapQuietly(arena);
  }

  private static void unmapQuietly(Arena arena) {
    try {
      NativeMemory.unmap(arena.base, arena.size);
    } catch (TransferException e) {
      LOG.warn("cannot unmap managed arena at 0x{}", Long.toHexString(arena.base), e);
    }
    if (arena.fd >= 0) {
      NativeMemory.closeFd(arena.fd);
    }
  }
}
