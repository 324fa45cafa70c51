package io.te4j.transport.cxl;

import com.sun.jna.LastErrorException;
import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.spi.SettingSource;
import io.te4j.nativelib.LibC;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A CXL memory device (or a file standing in for one: {@code /dev/shm/...}, hugetlbfs) mapped whole
 * and shared ({@code MAP_SHARED}), in one mapping whatever its size, so offsets beyond 4 GiB are
 * plain address arithmetic. Thread-safe; {@link #close()} unmaps.
 */
public final class CxlDevice implements AutoCloseable {
  private final String path;
  private final long base;
  private final long size;
  private volatile boolean closed;

  private CxlDevice(String path, long base, long size) {
    this.path = path;
    this.base = base;
    this.size = size;
  }

  /**
   * The device path the settings name: {@code MC_CXL_DEV_PATH}, else the reference's older {@code
   * CXL_DEV_PATH}; null when neither is set.
   */
  public static String configuredPath(SettingSource settings) {
    return CxlTransport.DEVICE.valueIn(settings);
  }

  /**
   * The device size the settings give ({@code MC_CXL_DEV_SIZE}, else {@code CXL_DEV_SIZE}), or 0
   * when neither is set (then {@link #open} finds it).
   *
   * @throws TransferException INVALID_CONFIGURATION when it is not a byte count
   */
  public static long configuredSize(SettingSource settings) {
    return CxlTransport.SIZE.valueIn(settings);
  }

  /**
   * Opens and maps {@code path}.
   *
   * @param configuredSize bytes to map, or 0 to take the size from sysfs (a DAX character device:
   *     {@code /sys/dev/char/<maj>:<min>/size}) or from the file's length
   * @throws TransferException DEVICE_NOT_FOUND when the path is missing, INVALID_CONFIGURATION for
   *     a size that cannot be found or exceeds the file, MEMORY when mmap fails
   */
  public static CxlDevice open(String path, long configuredSize) {
    Path p = Path.of(path);
    if (!Files.exists(p)) {
      throw new TransferException(ErrorCode.DEVICE_NOT_FOUND, "CXL device " + path + " does not exist");
    }
    long size = configuredSize > 0 ? configuredSize : sizeOf(p);
    if (size <= 0) {
      throw new TransferException(ErrorCode.INVALID_CONFIGURATION, "size of CXL device " + path
          + " unknown: set MC_CXL_DEV_SIZE");
    }
    if (Files.isRegularFile(p)) {
      try {
        long fileSize = Files.size(p);
        if (Long.compareUnsigned(size, fileSize) > 0) {
          throw new TransferException(ErrorCode.INVALID_CONFIGURATION, "MC_CXL_DEV_SIZE " + size
              + " exceeds the length of " + path + " (" + fileSize + " bytes)");
        }
      } catch (IOException e) {
        throw new TransferException(ErrorCode.DEVICE_NOT_FOUND, "cannot stat " + path, e);
      }
    }
    int fd;
    try {
      fd = LibC.open(path, LibC.O_RDWR);
    } catch (LastErrorException e) {
      throw new TransferException(ErrorCode.DEVICE_NOT_FOUND, "cannot open CXL device " + path
          + ": " + LibC.describe(e), e);
    }
    try {
      long base = LibC.mmap(0, size, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd, 0);
      if (base == -1 || base == 0) {
        throw new TransferException(ErrorCode.MEMORY, "mmap of " + path + " failed");
      }
      return new CxlDevice(path, base, size);
    } catch (LastErrorException e) {
      throw new TransferException(ErrorCode.MEMORY, "mmap of " + size + " bytes of " + path
          + " failed: " + LibC.describe(e), e);
    } finally {
      try {
        LibC.close(fd); // the mapping keeps the file
      } catch (LastErrorException ignored) {
        // nothing to do
      }
    }
  }

  private static long sizeOf(Path p) {
    try {
      if (Files.isRegularFile(p)) {
        return Files.size(p);
      }
      // A DAX character device: /sys/dev/char/<major>:<minor>/size (bytes).
      Object rdev = Files.getAttribute(p, "unix:rdev");
      long dev = ((Number) rdev).longValue();
      long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
      long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
      Path sys = Path.of("/sys/dev/char/" + major + ":" + minor + "/size");
      if (Files.isReadable(sys)) {
        return Long.parseLong(Files.readString(sys).trim());
      }
      return 0;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /** The device path as configured (published as {@code cxl_name}). */
  public String path() {
    return path;
  }

  /** Address of the mapping in this process (published as {@code cxl_base_addr}). */
  public long base() {
    return base;
  }

  /** Mapped bytes. */
  public long size() {
    return size;
  }

  /** True when {@code [offset, offset + length)} lies inside the device (overflow-safe). */
  public boolean containsOffset(long offset, long length) {
    return io.te4j.api.AddressRanges.contains(0, size, offset, length);
  }

  /** True when {@code [address, address + length)} lies inside the mapping (overflow-safe). */
  public boolean containsAddress(long address, long length) {
    return io.te4j.api.AddressRanges.contains(base, size, address, length);
  }

  /** Unmaps the device. Idempotent; callers make sure no copy is running. */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      LibC.munmap(base, size);
    }
  }
}
