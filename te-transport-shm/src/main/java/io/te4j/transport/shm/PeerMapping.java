package io.te4j.transport.shm;

import com.sun.jna.LastErrorException;
import io.te4j.nativelib.LibC;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A buffer of a peer process on this host, mapped here from the memory file behind it (see {@link
 * MemoryFiles}): copies to and from it are plain memory copies. Identified by what the peer
 * published (buffer address, length, file offset, inode), so a republished buffer is never served
 * by a stale mapping.
 *
 * <p>Lifetime: copying threads {@link #acquire} and {@link #release} it; {@link #retire} (the peer
 * died, was forgotten, the transport closed) refuses new users and the mapping is unmapped by
 * whoever leaves it last: never while a copy runs. Lock-free; one atomic word holds a retired bit
 * and the user count.
 */
final class PeerMapping {
  private static final int RETIRED = Integer.MIN_VALUE;
  private static final int UNMAPPED = RETIRED | (1 << 30);

  final long bufferAddress;
  final long bufferLength;
  final long fileOffset;
  final long inode;
  /** Where the buffer's first byte is mapped in this process. */
  final long address;
  private final long mapBase;
  private final long mapLength;
  private final AtomicInteger state = new AtomicInteger();

  private PeerMapping(long bufferAddress, long bufferLength, long fileOffset, long inode,
      long mapBase, long mapLength) {
    this.bufferAddress = bufferAddress;
    this.bufferLength = bufferLength;
    this.fileOffset = fileOffset;
    this.inode = inode;
    this.mapBase = mapBase;
    this.mapLength = mapLength;
    this.address = mapBase + (fileOffset & (PAGE - 1));
  }

  private static final long PAGE = 4096;
  /** Every mapping of this process not yet unmapped, whoever holds it (for diagnostics). */
  private static final java.util.Set<PeerMapping> MAPPED =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * Maps {@code length} bytes at {@code fileOffset} of {@code path}, after checking that the file
   * is the one the peer published (same inode).
   *
   * @throws IllegalStateException with the reason when the file cannot be opened, is another one,
   *     or cannot be mapped
   */
  static PeerMapping map(String path, long fileOffset, long inode, long bufferAddress,
      long bufferLength) {
    int fd;
    try {
      fd = LibC.open(path, LibC.O_RDWR | LibC.O_CLOEXEC);
    } catch (LastErrorException e) {
      throw new IllegalStateException("cannot open " + path + ": " + LibC.describe(e), e);
    }
    try {
      long actual = MemoryFiles.inodeOf(fd);
      if (actual != inode) {
        throw new IllegalStateException(path + " is inode " + actual + ", the peer published "
            + inode);
      }
      long skew = fileOffset & (PAGE - 1);
      long mapLength = bufferLength + skew;
      long base = LibC.mmap(0, mapLength, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd,
          fileOffset - skew);
      PeerMapping m = new PeerMapping(bufferAddress, bufferLength, fileOffset, inode, base,
          mapLength);
      MAPPED.add(m);
      return m;
    } catch (LastErrorException e) {
      throw new IllegalStateException("cannot map " + bufferLength + " bytes of " + path + ": "
          + LibC.describe(e), e);
    } finally {
      try {
        LibC.close(fd); // the mapping keeps the file
      } catch (LastErrorException ignored) {
        // nothing to do
      }
    }
  }

  /**
   * A marker for a buffer whose file could not be mapped (reached by cross-memory attach instead),
   * so the attempt is not repeated for every copy.
   */
  static PeerMapping unusable(long bufferAddress, long bufferLength, long fileOffset, long inode) {
    PeerMapping m = new PeerMapping(bufferAddress, bufferLength, fileOffset, inode, 0, 0);
    m.state.set(UNMAPPED);
    return m;
  }

  /** False for an {@link #unusable} marker. */
  boolean isUsable() {
    return mapLength != 0;
  }

  /** True when this maps what the peer publishes now for the buffer at {@code bufferAddress}. */
  boolean matches(long bufferAddress, long bufferLength, long fileOffset, long inode) {
    return this.bufferAddress == bufferAddress && this.bufferLength == bufferLength
        && this.fileOffset == fileOffset && this.inode == inode;
  }

  /** Registers a copying thread; false once retired (the caller must not touch the mapping). */
  boolean acquire() {
    while (true) {
      int s = state.get();
      if (s < 0) {
        return false;
      }
      if (state.compareAndSet(s, s + 1)) {
        return true;
      }
    }
  }

  /** Ends a copy begun with a successful {@link #acquire}. */
  void release() {
    if (state.decrementAndGet() == RETIRED && state.compareAndSet(RETIRED, UNMAPPED)) {
      unmap();
    }
  }

  /** Refuses new users; unmaps now or when the last user leaves. Idempotent. */
  void retire() {
    int before = state.getAndUpdate(s -> s | RETIRED);
    if (before == 0 && state.compareAndSet(RETIRED, UNMAPPED)) {
      unmap();
    }
  }

  /** True once unmapped (for tests and logs). */
  boolean isUnmapped() {
    return state.get() == UNMAPPED;
  }

  @Override
  public String toString() {
    int s = state.get();
    return "mapping of inode " + inode + " at 0x" + Long.toHexString(mapBase) + " ("
        + (s == UNMAPPED ? "unmapped" : (s < 0 ? "retired, " : "") + (s & ~RETIRED) + " users")
        + ")";
  }

  /** The mappings of this process not yet unmapped, described (for a test's failure message). */
  static String describeMapped() {
    return MAPPED.toString();
  }

  private void unmap() {
    if (mapLength == 0) {
      return;
    }
    MAPPED.remove(this);
    try {
      LibC.munmap(mapBase, mapLength);
    } catch (LastErrorException ignored) {
      // cannot happen for a range we mapped; nothing else to do
    }
  }
}
