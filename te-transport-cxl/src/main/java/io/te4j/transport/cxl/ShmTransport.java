package io.te4j.transport.cxl;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.te4j.api.BufferDescriptor;
import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.TransferSlice;
import io.te4j.api.spi.Transport;
import io.te4j.api.spi.TransportContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code shm} transport: engines on one host move bytes with one kernel copy, by cross-memory
 * attach ({@code process_vm_readv}/{@code process_vm_writev}), instead of through TCP.
 *
 * <p>{@link #start} publishes {@code shm_host_id} ({@code /etc/machine-id} and the boot id), {@code
 * shm_pid} and {@code shm_pid_start} (the process's start time, so a recycled pid is noticed). A
 * target is reachable when its host id equals ours. Before each copy the initiator checks that the
 * target range lies inside one buffer the target published (overflow-safe; published buffers are
 * its remote-accessible regions), and that the local range is still registered. The target process
 * takes no part, so a target that unregisters memory after its descriptor was read is protected
 * only by the kernel: a range no longer mapped fails with EFAULT and nothing is written.
 *
 * <p>Selection: the engine picks transports by the target's {@code protocol}, so run {@code
 * protocol("shm,tcp")} (shm first: peers on other hosts are still reached over tcp, since shm
 * cannot reach them), or pin it with the transport hint {@code shm}.
 *
 * <p>Threading: {@link #submit} copies on the caller's thread and completes the slice before it
 * returns. {@link #unregistered} waits for copies touching the region.
 */
public final class ShmTransport implements Transport {
  static final String HOST_ID = "shm_host_id";
  static final String PID = "shm_pid";
  static final String PID_START = "shm_pid_start";
  private static final long REVERIFY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
  private static final Logger LOG = LoggerFactory.getLogger(ShmTransport.class);

  private final TransportContext context;
  private final InFlight inFlight = new InFlight();
  private final ConcurrentHashMap<String, Peer> peers = new ConcurrentHashMap<>();
  private final ThreadLocal<Memory> iovecs = ThreadLocal.withInitial(() -> new Memory(32));
  private final LongAdder bytesMoved = new LongAdder();
  private final LongAdder copies = new LongAdder();
  private final String hostId = HostIdentity.get();
  private final int pid = Sys.getpid();
  private volatile boolean closed;

  /** A target process as last verified. */
  private static final class Peer {
    final int pid;
    final String startTime;
    volatile long verifiedAt;

    Peer(int pid, String startTime, long verifiedAt) {
      this.pid = pid;
      this.startTime = startTime;
      this.verifiedAt = verifiedAt;
    }
  }

  ShmTransport(TransportContext context) {
    this.context = context;
  }

  @Override
  public String name() {
    return "shm";
  }

  @Override
  public void start(SegmentDescriptor.Builder localDescriptor) {
    localDescriptor.attribute(HOST_ID, hostId);
    localDescriptor.attribute(PID, pid);
    String start = startTime(pid);
    if (start != null) {
      localDescriptor.attribute(PID_START, start);
    }
    LOG.info("shm: host {} pid {}; cross-memory attach to engines on this host", hostId, pid);
  }

  @Override
  public boolean canReach(SegmentDescriptor target) {
    return !closed && hostId.equals(target.attributes().get(HOST_ID))
        && target.attributes().get(PID) instanceof Number;
  }

  /**
   * A TCP peer on this host is reached through its memory instead of the loopback: the case the
   * reference's users complain about. Other protocols (cxl) already move bytes in memory.
   */
  @Override
  public boolean prefers(SegmentDescriptor target) {
    return "tcp".equals(target.protocol()) && canReach(target);
  }

  @Override
  public void unregistered(MemoryRegion region) {
    if (!inFlight.awaitQuiet(region.address(), region.length(),
        System.nanoTime() + context.transferTimeoutNanos())) {
      LOG.warn("shm: a copy still touched 0x{} after the transfer timeout",
          Long.toHexString(region.address()));
    }
  }

  @Override
  public void forget(String segmentName) {
    peers.remove(segmentName);
  }

  @Override
  public void submit(TransferSlice slice) {
    SegmentDescriptor target = slice.target();
    long remote = slice.targetOffset();
    long length = slice.length();
    BufferDescriptor b = target.bufferContaining(remote, length);
    if (b == null || b.attributes().containsKey("offset") || b.attributes().containsKey("file_path")) {
      slice.fail(TransferState.FAILED, ErrorCode.ADDRESS_NOT_REGISTERED, "shm: 0x"
          + Long.toHexString(remote) + "+" + length + " is not inside one buffer segment '"
          + target.name() + "' published");
      return;
    }
    Peer peer = peer(target);
    if (peer == null) {
      slice.fail(TransferState.FAILED, ErrorCode.TRANSFER_FAILED, "shm: the process of segment '"
          + target.name() + "' is gone");
      return;
    }
    long local = slice.localAddress();
    int slot;
    try {
      slot = inFlight.enter(local, length);
    } catch (IllegalStateException e) {
      slice.fail(TransferState.FAILED, ErrorCode.TRANSFER_FAILED, e.getMessage());
      return;
    }
    String error;
    try {
      if (closed) {
        error = "shm transport closed";
      } else if (context.memory().find(local, length) == null) {
        slice.fail(TransferState.FAILED, ErrorCode.ADDRESS_NOT_REGISTERED, "shm: local 0x"
            + Long.toHexString(local) + "+" + length + " was unregistered");
        return;
      } else {
        error = copy(peer.pid, slice.opcode() == TransferOpcode.WRITE, local, remote, length);
      }
    } finally {
      inFlight.exit(slot);
    }
    if (error == null) {
      bytesMoved.add(length);
      copies.increment();
      slice.complete();
    } else {
      peers.remove(target.name());
      slice.fail(TransferState.FAILED, ErrorCode.TRANSFER_FAILED, error);
    }
  }

  /** Moves all bytes or returns why not. */
  private String copy(int targetPid, boolean write, long local, long remote, long length) {
    Memory iov = iovecs.get();
    long base = Pointer.nativeValue(iov);
    long done = 0;
    while (done < length) {
      iov.setLong(0, local + done);
      iov.setLong(8, length - done);
      iov.setLong(16, remote + done);
      iov.setLong(24, length - done);
      long n;
      try {
        n = write ? Sys.process_vm_writev(targetPid, base, 1, base + 16, 1, 0)
            : Sys.process_vm_readv(targetPid, base, 1, base + 16, 1, 0);
      } catch (LastErrorException e) {
        int errno = e.getErrorCode();
        return "shm: process_vm_" + (write ? "writev" : "readv") + " to pid " + targetPid
            + " failed: " + Sys.describe(e) + (errno == Sys.ESRCH ? " (the peer process is gone)"
                : errno == Sys.EFAULT ? " (the range is not mapped in the peer)" : "");
      }
      if (n <= 0) {
        return "shm: no progress copying to pid " + targetPid;
      }
      done += n;
    }
    return null;
  }

  /** The verified target process, or null when its pid no longer names the same process. */
  private Peer peer(SegmentDescriptor target) {
    Peer p = peers.get(target.name());
    long now = System.nanoTime();
    if (p != null && now - p.verifiedAt < REVERIFY_NANOS) {
      return p;
    }
    int targetPid = ((Number) target.attributes().get(PID)).intValue();
    Object published = target.attributes().get(PID_START);
    String start = startTime(targetPid);
    if (start == null || (published != null && !published.toString().equals(start))) {
      peers.remove(target.name());
      return null;
    }
    if (p == null || p.pid != targetPid) {
      p = new Peer(targetPid, start, now);
      peers.put(target.name(), p);
      LOG.info("shm: segment '{}' is pid {} on this host: copies by process_vm_readv/writev",
          target.name(), targetPid);
    } else {
      p.verifiedAt = now;
    }
    return p;
  }

  /** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or null. */
  static String startTime(int pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return f[19];
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** Bytes moved by cross-memory attach since start. */
  public long bytesMoved() {
    return bytesMoved.sum();
  }

  /** Slices moved by cross-memory attach since start. */
  public long copies() {
    return copies.sum();
  }

  @Override
  public void close() {
    closed = true;
    inFlight.awaitQuiet(0, -1L, System.nanoTime() + context.transferTimeoutNanos());
    peers.clear();
  }
}
