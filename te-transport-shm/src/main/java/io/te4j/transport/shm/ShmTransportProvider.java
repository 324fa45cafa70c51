package io.te4j.transport.shm;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.te4j.api.spi.Availability;
import io.te4j.api.spi.ProbedAvailability;
import io.te4j.api.spi.Transport;
import io.te4j.api.spi.TransportContext;
import io.te4j.api.spi.TransportProvider;
import io.te4j.nativelib.LibC;

/**
 * Finds the {@code shm} transport. Available when cross-memory attach works here: probed once by
 * reading this process's own memory with {@code process_vm_readv} (a kernel without
 * CONFIG_CROSS_MEMORY_ATTACH, a seccomp filter or Yama would refuse). Kill switch {@code
 * -Dte4j.transport.shm.disabled=true}.
 */
public final class ShmTransportProvider implements TransportProvider {
  private static final ProbedAvailability AVAILABILITY =
      ProbedAvailability.of("transport", "shm", ShmTransportProvider::probe);

  /** Reads this process's own memory with {@code process_vm_readv}; null when that works. */
  private static Throwable probe() {
    try {
      Memory src = new Memory(8);
      Memory dst = new Memory(8);
      src.setLong(0, 0x5445344A53484D21L);
      Memory iov = new Memory(32);
      iov.setLong(0, Pointer.nativeValue(dst));
      iov.setLong(8, 8);
      iov.setLong(16, Pointer.nativeValue(src));
      iov.setLong(24, 8);
      long base = Pointer.nativeValue(iov);
      long n = LibC.process_vm_readv(LibC.getpid(), base, 1, base + 16, 1, 0);
      if (n != 8 || dst.getLong(0) != src.getLong(0)) {
        return new IllegalStateException("process_vm_readv probe copied " + n + " bytes wrongly");
      }
      return null;
    } catch (LastErrorException e) {
      return new IllegalStateException("process_vm_readv is refused here: " + LibC.describe(e), e);
    } catch (Throwable e) {
      return e; // not Linux, or no libc binding (LibC says which)
    }
  }

  @Override
  public String name() {
    return "shm";
  }

  @Override
  public java.util.List<io.te4j.api.spi.Setting<?>> settings() {
    return ShmTransport.SETTINGS;
  }

  /** Same-host peers are reached through shared memory whatever protocol the engine runs. */
  @Override
  public boolean startsAlongside() {
    return true;
  }

  @Override
  public Availability availability() {
    return AVAILABILITY;
  }

  @Override
  public Transport create(TransportContext context) {
    return new ShmTransport(context);
  }
}
