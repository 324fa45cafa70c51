package io.te4j.transport.cxl;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;

/**
 * The libc calls the cxl and shm transports need, direct-mapped by JNA (one JNI call each, no
 * reflection). Offsets and sizes are {@code long} (64-bit Linux only). Thread-safe.
 */
final class Sys {
  static final int O_RDWR = 2;
  static final int O_CLOEXEC = 0x80000;
  static final short POLLIN = 1;
  static final int PROT_READ = 1;
  static final int PROT_WRITE = 2;
  static final int MAP_SHARED = 1;
  static final int ESRCH = 3;
  static final int EFAULT = 14;
  static final int EPERM = 1;

  static {
    if (!Platform.isLinux() || Native.POINTER_SIZE != 8) {
      throw new UnsupportedOperationException("needs 64-bit Linux");
    }
    Native.register(Sys.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
  }

  private Sys() {}

  static native int open(String path, int flags) throws LastErrorException;

  static native int close(int fd) throws LastErrorException;

  static native long mmap(long addr, long length, int prot, int flags, int fd, long offset)
      throws LastErrorException;

  static native int munmap(long addr, long length) throws LastErrorException;

  static native int getpid();

  /** {@code fds} is the address of a {@code struct pollfd} array (8 bytes each). */
  static native int poll(long fds, long count, int timeoutMillis) throws LastErrorException;

  /** {@code iov}s are addresses of {@code struct iovec} arrays (16 bytes each). */
  static native long process_vm_readv(int pid, long localIov, long localCount, long remoteIov,
      long remoteCount, long flags) throws LastErrorException;

  static native long process_vm_writev(int pid, long localIov, long localCount, long remoteIov,
      long remoteCount, long flags) throws LastErrorException;

  static native String strerror(int errno);

  /** Closes a descriptor, ignoring errors (nothing to do about them). */
  static void closeQuietly(int fd) {
    try {
      close(fd);
    } catch (LastErrorException ignored) {
      // already closed
    }
  }

  static String describe(LastErrorException e) {
    return strerror(e.getErrorCode()) + " (errno " + e.getErrorCode() + ")";
  }

  /**
   * A descriptor that becomes readable when process {@code pid} exits, or -1 when this kernel or
   * libc has none (pidfd_open: Linux 5.3, glibc 2.36). Bound apart from the rest so that an older
   * libc costs only this call.
   */
  static int pidfdOpen(int pid) {
    if (PidFd.CAUSE != null) {
      return -1;
    }
    try {
      return PidFd.pidfd_open(pid, 0);
    } catch (LastErrorException e) {
      return -1;
    }
  }

  private static final class PidFd {
    static final Throwable CAUSE;

    static {
      Throwable cause = null;
      try {
        Native.register(PidFd.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
      } catch (Throwable t) {
        cause = t;
      }
      CAUSE = cause;
    }

    static native int pidfd_open(int pid, int flags) throws LastErrorException;
  }
}
