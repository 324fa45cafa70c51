package io.te4j.transport.nvmeof;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;

/**
 * libte4jnvmeof's functions (src/main/c/te4jnvmeof.c), bound with JNA direct mapping: primitive
 * arguments, no per-call allocation, which matters on the per-slice submit path. Every function
 * returns a value {@code >= 0} on success and {@code -errno} on failure.
 *
 * <p>The methods are usable only after {@link #bind} succeeded; {@link NvmeofIoUring} does that
 * once, through {@link io.te4j.nativelib.NativeLibraries}.
 */
final class UringNative {
  /** The ABI the Java side speaks; the library reports its own (TE_ABI_VERSION). */
  static final int ABI_VERSION = 5;

  static final int OP_READ = 0;
  static final int OP_WRITE = 1;
  static final int SETUP_COOP_TASKRUN = 0x100;

  static final int EINTR = 4;
  static final int EBADF = 9;
  static final int EAGAIN = 11;
  static final int ENOENT = 2;
  static final int EACCES = 13;
  static final int EBUSY = 16;
  static final int EINVAL = 22;
  static final int ENOSPC = 28;
  static final int ECANCELED = 125;

  private UringNative() {}

  /** The interface binding {@link io.te4j.nativelib.NativeLibraries#load} makes first. */
  interface Probe extends Library {
    int te4j_nvmeof_abi_version();
  }

  /** Binds the static methods below to {@code library}. */
  static void bind(NativeLibrary library) {
    Native.register(UringNative.class, library);
  }

  static native int te4j_nvmeof_abi_version();

  static native int te4j_nvmeof_uses_liburing();

  static native int te4j_nvmeof_strerror(int errnum, byte[] buf, int len);

  static native int te4j_nvmeof_probe();

  static native long te4j_nvmeof_ring_create(int entries, int cqEntries);

  static native int te4j_nvmeof_ring_destroy(long ring);

  static native int te4j_nvmeof_submit(long ring, long userData, int op, int fd, long addr,
      int len, long offset);

  /** As {@link #te4j_nvmeof_submit} without the system call: the next reap pushes it. */
  static native int te4j_nvmeof_queue(long ring, long userData, int op, int fd, long addr,
      int len, long offset);

  static native int te4j_nvmeof_cancel(long ring, long target, long tag);

  /** Wakes the ring thread (eventfd write); the one function any thread may call on a ring. */
  static native int te4j_nvmeof_wake(long ring);

  /** IORING_SETUP_* flags of the ring beyond CQSIZE (COOP_TASKRUN = 0x100). */
  static native int te4j_nvmeof_ring_flags(long ring);

  static native int te4j_nvmeof_reap(long ring, long out, int max, long timeoutNanos);

  static native int te4j_nvmeof_open(String path, int direct, int readOnly);

  static native int te4j_nvmeof_close(int fd);

  static native int te4j_nvmeof_writable(int fd);

  static native int te4j_nvmeof_file_info(int fd, long[] info);

  /** The C library's message for errno value {@code errno}. */
  static String strerror(int errno) {
    byte[] buf = new byte[128];
    te4j_nvmeof_strerror(errno, buf, buf.length);
    int n = 0;
    while (n < buf.length && buf[n] != 0) {
      n++;
    }
    return new String(buf, 0, n, java.nio.charset.StandardCharsets.US_ASCII);
  }
}
