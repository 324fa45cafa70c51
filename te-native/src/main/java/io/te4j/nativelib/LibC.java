package io.te4j.nativelib;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;

/**
 * The libc calls te4j makes, in one place for the engine and every transport: direct-mapped by
 * JNA (one JNI call each, no reflection, no per-call allocation). Pointers, sizes and offsets are
 * {@code long}: 64-bit Linux only (the class fails to initialise elsewhere). Functions that can
 * fail throw {@link LastErrorException}, whose {@link #describe} text names the errno. Thread-safe.
 */
public final class LibC {
  public static final int O_RDONLY = 0;
  public static final int O_RDWR = 2;
  public static final int O_CLOEXEC = 0x80000;
  public static final short POLLIN = 1;
  public static final int PROT_READ = 1;
  public static final int PROT_WRITE = 2;
  public static final int MAP_SHARED = 0x01;
  public static final int MAP_PRIVATE = 0x02;
  public static final int MAP_ANONYMOUS = 0x20;
  public static final int MAP_NORESERVE = 0x4000;
  public static final int MFD_CLOEXEC = 0x1;
  public static final int EPERM = 1;
  public static final int ESRCH = 3;
  public static final int EINTR = 4;
  public static final int EFAULT = 14;

  static {
    if (!Platform.isLinux() || Native.POINTER_SIZE != 8) {
      throw new UnsupportedOperationException("te4j's native calls need 64-bit Linux");
    }
    Native.register(LibC.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
  }

  private LibC() {}

  public static native int open(String path, int flags) throws LastErrorException;

  public static native int close(int fd) throws LastErrorException;

  public static native int ftruncate(int fd, long length) throws LastErrorException;

  public static native int memfd_create(String name, int flags) throws LastErrorException;

  public static native long mmap(long addr, long length, int prot, int flags, int fd, long offset)
      throws LastErrorException;

  public static native int munmap(long addr, long length) throws LastErrorException;

  public static native int getpid();

  /** {@code fds} is the address of a {@code struct pollfd} array (8 bytes each). */
  public static native int poll(long fds, long count, int timeoutMillis) throws LastErrorException;

  /** {@code iov}s are addresses of {@code struct iovec} arrays (16 bytes each). */
  public static native long process_vm_readv(int pid, long localIov, long localCount,
      long remoteIov, long remoteCount, long flags) throws LastErrorException;

  public static native long process_vm_writev(int pid, long localIov, long localCount,
      long remoteIov, long remoteCount, long flags) throws LastErrorException;

  public static native long memset(long dst, int value, long length);

  public static native long memmove(long dst, long src, long length);

  public static native String strerror(int errno);

  /** Closes a descriptor, ignoring errors (nothing is left to do about them). */
  public static void closeQuietly(int fd) {
    try {
      close(fd);
    } catch (LastErrorException ignored) {
      // already closed
    }
  }

  /** {@code "<strerror text> (errno N)"}. */
  public static String describe(LastErrorException e) {
    return describe(e.getErrorCode());
  }

  /** {@code "<strerror text> (errno N)"}. */
  public static String describe(int errno) {
    String text;
    try {
      text = strerror(errno);
    } catch (RuntimeException | LinkageError e) {
      text = null;
    }
    return (text == null ? "error" : text) + " (errno " + errno + ")";
  }

  /**
   * A descriptor that becomes readable when process {@code pid} exits, or -1 when this kernel or
   * libc has none (pidfd_open: Linux 5.3, glibc 2.36). Bound apart from the rest, so an older libc
   * costs only this call.
   */
  public static int pidfdOpen(int pid) {
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
