package io.te4j.transport.rdma.verbs;

/** A verbs call failed: which one, and the errno it gave. */
public final class VerbsException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int errno;

  public VerbsException(String call, int errno) {
    super(call + " failed: errno " + errno + " (" + describe(errno) + ")");
    this.errno = errno;
  }

  /** Verbs cannot be used here, for {@code reason} (no library, no device). */
  public VerbsException(String reason) {
    super(reason);
    this.errno = 0;
  }

  /** The errno; 0 when the call failed without one. */
  public int errno() {
    return errno;
  }

  private static String describe(int errno) {
    switch (errno) {
      case 1: return "EPERM";
      case 2: return "ENOENT";
      case 5: return "EIO";
      case 12: return "ENOMEM";
      case 13: return "EACCES";
      case 14: return "EFAULT";
      case 16: return "EBUSY";
      case 19: return "ENODEV";
      case 22: return "EINVAL";
      case 38: return "ENOSYS";
      case 95: return "EOPNOTSUPP";
      case 110: return "ETIMEDOUT";
      default: return "errno " + errno;
    }
  }
}
