package io.te4j.nativelib;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Memory views over native addresses, for the engine and for transports: anonymous and memory-file
 * mappings, direct-buffer views over any address, and byte copies. Addresses are plain {@code
 * long}s (64-bit Linux).
 *
 * <p>Nothing here checks that an address is registered or even mapped: a wrong address crashes the
 * JVM. Callers check ranges against the engine's registered memory first. All methods are safe to
 * call from any thread.
 */
public final class NativeMemory {
  private static final long MAP_FAILED = -1L;

  private NativeMemory() {}

  /**
   * Maps {@code length} bytes of private anonymous read-write memory (zero-filled, page-aligned).
   *
   * @throws TransferException MEMORY when the kernel refuses, with the errno text
   */
  public static long mapAnonymous(long length) {
    return mapAnonymous(length, false);
  }

  /**
   * Like {@link #mapAnonymous(long)}; with {@code noReserve} the kernel reserves no swap for the
   * mapping ({@code MAP_NORESERVE}), so a large, sparsely touched mapping costs nothing up front.
   */
  public static long mapAnonymous(long length, boolean noReserve) {
    if (length <= 0) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "mmap length must be > 0: " + length);
    }
    if (!Platform.isLinux()) {
      throw new TransferException(ErrorCode.MEMORY, "anonymous mappings need Linux");
    }
    int flags = LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS | (noReserve ? LibC.MAP_NORESERVE : 0);
    long address;
    try {
      address = LibC.mmap(0L, length, LibC.PROT_READ | LibC.PROT_WRITE, flags, -1, 0L);
    } catch (LastErrorException e) {
      throw new TransferException(
          ErrorCode.MEMORY, "mmap of " + length + " bytes failed: " + LibC.describe(e), e);
    }
    if (address == MAP_FAILED || address == 0) {
      throw new TransferException(ErrorCode.MEMORY, "mmap of " + length + " bytes failed");
    }
    return address;
  }

  /**
   * Maps {@code length} bytes of a new memory file ({@code memfd_create}), shared: memory another
   * process of this host can map too, through {@code /proc/<pid>/fd/<fd>} while the descriptor
   * stays open (the shm transport does). Zero-filled, page-aligned; Linux only.
   *
   * @param name shown in {@code /proc/<pid>/maps} as {@code /memfd:<name>}
   * @return {@code [address, fd]}; give both back with {@link #unmap} and {@link #closeFd}
   * @throws TransferException MEMORY when the kernel refuses, with the errno text
   */
  public static long[] mapMemoryFile(String name, long length) {
    if (length <= 0) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, "mmap length must be > 0: " + length);
    }
    if (!Platform.isLinux()) {
      throw new TransferException(ErrorCode.MEMORY, "memory files need Linux");
    }
    int fd;
    try {
      fd = LibC.memfd_create(name, LibC.MFD_CLOEXEC);
    } catch (LastErrorException | UnsatisfiedLinkError e) {
      throw new TransferException(ErrorCode.MEMORY, "memfd_create failed: "
          + (e instanceof LastErrorException ? LibC.describe((LastErrorException) e) : e.toString()), e);
    }
    try {
      LibC.ftruncate(fd, length);
      long address = LibC.mmap(0L, length, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd, 0L);
      if (address == MAP_FAILED || address == 0) {
        throw new TransferException(ErrorCode.MEMORY, "mmap of " + length + " bytes failed");
      }
      return new long[] {address, fd};
    } catch (LastErrorException e) {
      closeFd(fd);
      throw new TransferException(ErrorCode.MEMORY, "mapping a memory file of " + length
          + " bytes failed: " + LibC.describe(e), e);
    } catch (RuntimeException e) {
      closeFd(fd);
      throw e;
    }
  }

  /** Closes a file descriptor, ignoring errors (nothing to do about them). */
  public static void closeFd(int fd) {
    LibC.closeQuietly(fd);
  }

  /**
   * Unmaps what {@link #mapAnonymous} returned.
   *
   * @throws TransferException MEMORY when munmap fails (bad address or length)
   */
  public static void unmap(long address, long length) {
    try {
      LibC.munmap(address, length);
    } catch (LastErrorException e) {
      throw new TransferException(
          ErrorCode.MEMORY,
          "munmap(0x" + Long.toHexString(address) + ", " + length + ") failed: " + LibC.describe(e),
          e);
    }
  }

  /**
   * A direct buffer over {@code [address, address + length)}, position 0, capacity {@code length}.
   * Creating it touches no memory. The buffer does not keep the memory alive.
   */
  public static ByteBuffer view(long address, int length) {
    if (length < 0) {
      throw new IllegalArgumentException("negative length " + length);
    }
    return new Pointer(address).getByteBuffer(0, length);
  }

  /**
   * The address of a direct buffer's first byte (its index 0, whatever its position).
   *
   * @throws IllegalArgumentException for a heap buffer
   */
  public static long addressOf(ByteBuffer direct) {
    Objects.requireNonNull(direct, "direct");
    if (!direct.isDirect()) {
      throw new IllegalArgumentException("not a direct ByteBuffer");
    }
    Pointer p = Native.getDirectBufferPointer(direct);
    if (p == null) {
      throw new IllegalArgumentException("ByteBuffer has no native address");
    }
    return Pointer.nativeValue(p);
  }

  /** Copies {@code src[offset, offset + length)} to native memory at {@code address}. */
  public static void write(long address, byte[] src, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, src.length);
    if (length > 0) {
      checkAddress(address);
      new Pointer(address).write(0, src, offset, length);
    }
  }

  /** Copies {@code length} bytes at {@code address} into {@code dst[offset, offset + length)}. */
  public static void read(long address, byte[] dst, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, dst.length);
    if (length > 0) {
      checkAddress(address);
      new Pointer(address).read(0, dst, offset, length);
    }
  }

  /** Sets {@code length} bytes at {@code address} to {@code value}. */
  public static void fill(long address, long length, byte value) {
    checkLength(length);
    if (length > 0) {
      checkAddress(address);
      LibC.memset(address, value, length);
    }
  }

  /** Copies {@code length} bytes from {@code src} to {@code dst}; the ranges may overlap. */
  public static void copy(long dst, long src, long length) {
    checkLength(length);
    if (length > 0) {
      checkAddress(dst);
      checkAddress(src);
      LibC.memmove(dst, src, length);
    }
  }

  private static void checkAddress(long address) {
    if (address == 0) {
      throw new IllegalArgumentException("null address");
    }
  }

  private static void checkLength(long length) {
    if (length < 0) {
      throw new IllegalArgumentException("negative length " + length);
    }
  }


}
