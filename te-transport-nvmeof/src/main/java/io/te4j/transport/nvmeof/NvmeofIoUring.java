package io.te4j.transport.nvmeof;

import com.sun.jna.NativeLibrary;
import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.nativelib.NativeLibraries;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Whether the io_uring data path of the NVMe-oF transport works on this machine: probed once per
 * JVM, the cause kept (the availability contract of STYLE.md, as Netty's {@code Epoll}).
 *
 * <p>The probe loads {@code libte4jnvmeof.so} through {@link NativeLibraries} (java.library.path,
 * then the {@code linux-x86_64} classifier JAR on the class path), checks its ABI version, and
 * has it set up a ring, check the opcodes it needs and complete a NOP. When anything fails, or
 * {@value #DISABLED_PROPERTY} is {@code true}, {@link NvmeofTransport} moves bytes with
 * positional {@link java.nio.channels.FileChannel} I/O instead, and says why in its {@link
 * NvmeofTransport#fallbackCause()}.
 */
public final class NvmeofIoUring {
  /** The library's name: {@code libte4jnvmeof.so}. */
  public static final String LIBRARY = "te4jnvmeof";
  /** Kill switch: {@code true} forces the FileChannel path (system property or environment). */
  public static final String DISABLED_PROPERTY = "te4j.nvmeof.iouring.disabled";

  private static final Throwable LIBRARY_FAILURE;
  private static final Throwable PROBE_FAILURE;
  private static final boolean LIBURING;

  static {
    Throwable lib = loadLibrary();
    Throwable probe = lib;
    boolean liburing = false;
    if (lib == null) {
      probe = probeRing();
      liburing = UringNative.te4j_nvmeof_uses_liburing() == 1;
    }
    LIBRARY_FAILURE = lib;
    PROBE_FAILURE = probe;
    LIBURING = liburing;
  }

  private NvmeofIoUring() {}

  /** True when io_uring I/O works here and the kill switch is off. */
  public static boolean isAvailable() {
    return unavailabilityCause() == null;
  }

  /** Why {@link #isAvailable()} is false, or null. */
  public static Throwable unavailabilityCause() {
    if (Boolean.getBoolean(DISABLED_PROPERTY)) {
      return new UnsupportedOperationException("disabled by -D" + DISABLED_PROPERTY + "=true");
    }
    return PROBE_FAILURE;
  }

  /**
   * Returns normally when available.
   *
   * @throws TransferException TRANSPORT_UNAVAILABLE with the cause otherwise
   */
  public static void ensureAvailability() {
    Throwable cause = unavailabilityCause();
    if (cause != null) {
      throw new TransferException(ErrorCode.TRANSPORT_UNAVAILABLE,
          "io_uring is unavailable: " + cause.getMessage(), cause);
    }
  }

  /** True when the library was built on liburing, false for raw system calls (or not loaded). */
  public static boolean usesLiburing() {
    return LIBURING;
  }

  /** Null when the library is loaded (its file functions usable), else why not. */
  static Throwable libraryFailure() {
    return LIBRARY_FAILURE;
  }

  /** The probe's failure, ignoring the kill switch (transports read it through settings). */
  static Throwable probeFailure() {
    return PROBE_FAILURE;
  }

  private static Throwable loadLibrary() {
    try {
      ClassLoader cl = NvmeofIoUring.class.getClassLoader();
      UringNative.Probe probe = NativeLibraries.load(LIBRARY, UringNative.Probe.class, cl);
      int abi = probe.te4j_nvmeof_abi_version();
      if (abi != UringNative.ABI_VERSION) {
        return new UnsatisfiedLinkError("lib" + LIBRARY + ".so has ABI version " + abi
            + ", this te-transport-nvmeof needs " + UringNative.ABI_VERSION
            + ": use the classifier JAR of the same version");
      }
      // Same file: the direct-mapped binding for the hot path.
      Path path = NativeLibraries.locate(LIBRARY, cl);
      UringNative.bind(NativeLibrary.getInstance(path.toString()));
      return null;
    } catch (LinkageError | RuntimeException e) {
      return e;
    }
  }

  private static Throwable probeRing() {
    int rc;
    try {
      rc = UringNative.te4j_nvmeof_probe();
    } catch (LinkageError e) {
      return e;
    }
    if (rc >= 0) {
      return null;
    }
    int errno = -rc;
    String hint;
    switch (errno) {
      case 1: // EPERM
        hint = "; io_uring is switched off (sysctl kernel.io_uring_disabled) or blocked by a"
            + " seccomp filter, as container runtimes often do";
        break;
      case 38: // ENOSYS
        hint = "; the kernel has no io_uring";
        break;
      case 95: // EOPNOTSUPP
        hint = "; the kernel lacks an io_uring feature te4j needs (5.11 or later is required)";
        break;
      default:
        hint = "";
    }
    return new IOException("io_uring probe failed: " + UringNative.strerror(errno) + " (errno "
        + errno + ")" + hint);
  }
}
