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

  /** {@code iov}s are addresses of {@code struct iovec} arrays (16 bytes each). */
  static native long process_vm_readv(int pid, long localIov, long localCount, long remoteIov,
      long remoteCount, long flags) throws LastErrorException;

  static native long process_vm_writev(int pid, long localIov, long localCount, long remoteIov,
      long remoteCount, long flags) throws LastErrorException;

  static native String strerror(int errno);

  static String describe(LastErrorException e) {
    return strerror(e.getErrorCode()) + " (errno " + e.getErrorCode() + ")";
  }
}
