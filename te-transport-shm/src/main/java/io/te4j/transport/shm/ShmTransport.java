package io.te4j.transport.shm;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.te4j.api.BufferDescriptor;
import io.te4j.api.ErrorCode;
import io.te4j.api.MemoryKind;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.Setting;
import io.te4j.api.spi.TransferSlice;
import io.te4j.api.spi.TransportContext;
import io.te4j.nativelib.LibC;
import io.te4j.nativelib.NativeMemory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code shm} transport: engines on one host move bytes through memory instead of through TCP.
 *
 * <p>Two paths, chosen per target buffer. A buffer the target published with {@code shm_file}
 * (its memory is a shared mapping of a memfd, such as every managed buffer, or of a {@code
 * /dev/shm} file: see {@link MemoryFiles}) is mapped here once, after checking the file's inode,
 * and copied with plain memory copies ({@link CopyRoutines}). Other memory is copied with one
 * kernel copy by cross-memory attach ({@code process_vm_readv}/{@code process_vm_writev}); a buffer
 * whose file cannot be opened falls back to it too. {@link #mappedBytes} and {@link #attachBytes}
 * count each path; the first use of each logs a line.
 *
 * <p>{@link #start} publishes {@code shm_host_id} ({@code /etc/machine-id} and the boot id), {@code
 * shm_pid} and {@code shm_pid_start} (the process's start time, so a recycled pid is noticed). A
 * target is reachable when its host id equals ours. Before each copy the initiator checks that the
 * target range lies inside one buffer the target published (overflow-safe; published buffers are
 * its remote-accessible regions), and that the local range is still registered. The target process
 * takes no part: like any initiator holding a descriptor, one whose descriptor is stale (the target
 * unregistered memory since) may still write memory the target keeps mapped; ranges no longer
 * mapped fail with EFAULT (cross-memory attach).
 *
 * <p>A target process is watched through a pidfd (one thread, {@code te4j-shm-peers}, polling
 * them): when it exits, its transfers fail at once and its mappings are released; without pidfds
 * its identity is re-read from {@code /proc} every 100 ms.
 *
 * <p>Selection: started beside any protocol and preferred for same-host TCP peers (the engine asks
 * {@link #prefers}); pinned with the transport hint {@code shm}.
 *
 * <p>Threading: {@link #submit} and {@link #submitAll} copy on the caller's thread and finish
 * the slices before they return (a batch's copies into mapped buffers in one native call). {@link #unregistered} waits for copies touching the region.
 */
public final class ShmTransport extends MemoryCopyTransport {
  static final String HOST_ID = "shm_host_id";
  static final String PID = "shm_pid";
  static final String PID_START = "shm_pid_start";
  /** Setting that turns cross-memory attach off: only memory files are used, else TCP. */
  public static final String ATTACH_DISABLED = "te4j.shm.attach.disabled";
  static final Setting<Boolean> ATTACH_OFF = Setting.flag(ATTACH_DISABLED, false,
      "no cross-memory attach: same-host peers whose memory has no memory file are reached over"
          + " TCP (also chosen per peer when the kernel refuses attach)");
  /** What {@link ShmTransportProvider#settings()} declares. */
  static final java.util.List<Setting<?>> SETTINGS =
      java.util.List.of(ATTACH_OFF, CopyRoutines.NATIVE_OFF, CopyRoutines.CACHED_RUN);
  /** Buffer attributes: the memory file a peer maps, the buffer's offset in it, its inode. */
  static final String FILE = "shm_file";
  static final String FILE_OFFSET = "shm_file_offset";
  static final String FILE_INODE = "shm_file_inode";
  /** The liveness word's memory file, its inode, and the engine instance it holds while open. */
  static final String ALIVE = "shm_alive";
  static final String ALIVE_INODE = "shm_alive_inode";
  static final String INSTANCE = "shm_instance";
  private static final long REVERIFY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
  private static final Logger LOG = LoggerFactory.getLogger(ShmTransport.class);

  private final ConcurrentHashMap<String, Peer> peers = new ConcurrentHashMap<>();
  private final ThreadLocal<IoVectors> iovecs = ThreadLocal.withInitial(IoVectors::new);
  /** Peers dropped since the watcher last looked, whose pidfds it must close. */
  private final java.util.concurrent.ConcurrentLinkedQueue<Peer> retiredPidfds =
      new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final boolean attachDisabled;
  private final LongAdder attachBytes = new LongAdder();
  private final LongAdder mappedBytes = new LongAdder();
  private final Object watcherLock = new Object();
  private Thread watcher;
  private final String hostId = HostIdentity.get();
  private final int pid = LibC.getpid();
  private long aliveAddress;
  private int aliveFd = -1;
  private long instance;

  /** A thread's two {@code struct iovec}s (local, remote) for cross-memory attach. */
  private static final class IoVectors {
    final Memory memory = new Memory(40);
    final long address = Pointer.nativeValue(memory);
    /** Two iovecs at 0 and 16, a pollfd at 32. */
    final java.nio.ByteBuffer buffer =
        memory.getByteBuffer(0, 40).order(java.nio.ByteOrder.nativeOrder());
  }

  /** A target process as last verified, and its buffers mapped here. */
  private static final class Peer {
    final String segment;
    final int pid;
    final String startTime;
    /** Readable once the process exited; -1 without pidfds. Closed by the watcher only. */
    final int pidfd;
    /** False when cross-memory attach to this process is refused (or turned off). */
    final boolean attachAllowed;
    volatile long verifiedAt;
    /** Set when the process exited or the peer was dropped: no copy may start any more. */
    volatile boolean gone;
    /** Copy-on-write under the peer's monitor; read without locks. */
    volatile PeerMapping[] mappings = new PeerMapping[0];
    /** The engine instance the descriptor named ({@value #INSTANCE}), or 0 when it named none. */
    final long instance;
    /** The peer's liveness word mapped here, or null (older peer, or the file was not there). */
    final PeerMapping aliveMapping;
    final java.nio.ByteBuffer aliveWord;

    Peer(String segment, int pid, String startTime, int pidfd, boolean attachAllowed,
        long verifiedAt, long instance, PeerMapping aliveMapping) {
      this.segment = segment;
      this.pid = pid;
      this.startTime = startTime;
      this.pidfd = pidfd;
      this.attachAllowed = attachAllowed;
      this.instance = instance;
      this.aliveMapping = aliveMapping;
      this.aliveWord = aliveMapping == null ? null
          : NativeMemory.view(aliveMapping.address, 8).order(java.nio.ByteOrder.nativeOrder());
      this.verifiedAt = verifiedAt;
    }

    PeerMapping mappingOf(long bufferAddress) {
      for (PeerMapping m : mappings) {
        if (m.bufferAddress == bufferAddress) {
          return m;
        }
      }
      return null;
    }

    /**
     * Marks the peer gone and releases its mappings (each when its last copy ends).
     *
     * @return true the first time
     */
    boolean drop() {
      synchronized (this) {
        if (gone) {
          return false;
        }
        gone = true;
        for (PeerMapping m : mappings) {
          m.retire();
        }
        mappings = new PeerMapping[0];
        if (aliveMapping != null) {
          aliveMapping.retire();
        }
      }
      return true;
    }
  }

  /** Drops a peer; its pidfd is left to the watcher thread to close. */
  private void drop(Peer p) {
    if (p.drop() && p.pidfd >= 0) {
      retiredPidfds.add(p);
    }
  }

  ShmTransport(TransportContext context) {
    super(context);
    attachDisabled = context != null && context.setting(ATTACH_OFF);
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
    // The liveness word: this engine's instance id while it runs, 0 once it closed. Peers map it
    // and read it once per hand-over, so an engine closed in a process that lives on (and one
    // started again there, with new memory) gets no bytes meant for it.
    try {
      long[] file = NativeMemory.mapMemoryFile("te4j-shm-alive", 4096);
      aliveAddress = file[0];
      aliveFd = (int) file[1];
      instance = java.util.concurrent.ThreadLocalRandom.current().nextLong() | 1;
      NativeMemory.view(aliveAddress, 8).order(java.nio.ByteOrder.nativeOrder()).putLong(0, instance);
      localDescriptor.attribute(ALIVE, "/proc/" + pid + "/fd/" + aliveFd);
      localDescriptor.attribute(ALIVE_INODE, MemoryFiles.inodeOf(aliveFd));
      localDescriptor.attribute(INSTANCE, instance);
    } catch (RuntimeException e) {
      LOG.warn("shm: no liveness word ({}); peers rely on the process being alive", e.toString());
    }
    LOG.info("shm: host {} pid {}; engines on this host are reached through their memory files "
        + "or by cross-memory attach", hostId, pid);
  }

  @Override
  public boolean canReach(SegmentDescriptor target) {
    if (closed || !hostId.equals(target.attributes().get(HOST_ID))
        || !(target.attributes().get(PID) instanceof Number)) {
      return false;
    }
    // Memory without a file to map needs cross-memory attach: without it, TCP takes the peer.
    List<BufferDescriptor> buffers = target.buffers();
    for (int i = 0, n = buffers.size(); i < n; i++) { // no iterator: called per batch
      if (!buffers.get(i).attributes().containsKey(FILE)) {
        Peer p = peer(target);
        return p != null && p.attachAllowed;
      }
    }
    return true;
  }

  /**
   * A TCP peer on this host is reached through its memory instead of the loopback: the case the
   * reference's users complain about. Other protocols (cxl) already move bytes in memory.
   */
  @Override
  public boolean prefers(SegmentDescriptor target) {
    // A peer publishing GPU memory is left to its protocol (TCP stages it; shm cannot reach it).
    return "tcp".equals(target.protocol()) && !target.hasDeviceBuffers() && canReach(target);
  }

  /**
   * Adds {@code shm_file}, {@code shm_file_offset} and {@code shm_file_inode} to a buffer whose
   * memory is a shared mapping of a memory file, so that peers on this host can map it. Peers on
   * other hosts and the reference engine ignore the fields.
   */
  @Override
  public BufferDescriptor describe(MemoryRegion region, BufferDescriptor base) {
    if (base.attributes().containsKey("offset") || base.attributes().containsKey("file_path")) {
      return base; // a cxl or nvmeof buffer: not process memory
    }
    MemoryFiles.Backing backing = MemoryFiles.find(region.address(), region.length());
    if (backing == null) {
      return base;
    }
    Map<String, Object> attrs = new LinkedHashMap<>(base.attributes());
    attrs.put(FILE, backing.path());
    attrs.put(FILE_OFFSET, backing.fileOffset());
    attrs.put(FILE_INODE, backing.inode());
    return new BufferDescriptor(base.name(), base.address(), base.length(), base.remoteKeys(),
        base.localKeys(), attrs);
  }

  @Override
  public void forget(String segmentName) {
    Peer p = peers.remove(segmentName);
    if (p != null) {
      drop(p);
    }
  }

  @Override
  protected void copied(long bytes) {
    mappedBytes.add(bytes);
  }

  @Override
  protected ErrorCode closedCode() {
    return ErrorCode.TRANSFER_FAILED;
  }

  /**
   * Checks the slice's target range; a copy into a mapped buffer goes into {@code batch}, any
   * other is done now by cross-memory attach; a slice that cannot go is failed.
   */
  @Override
  protected void stage(TransferSlice slice, CopyBatch batch) {
    if (closed) { // before any peer is looked up: a closed transport maps nothing any more
      slice.fail(TransferState.FAILED, closedCode(), "shm transport closed");
      return;
    }
    SegmentDescriptor target = slice.target();
    long remote = slice.targetOffset();
    long length = slice.length();
    BufferDescriptor b;
    Peer peer;
    PeerMapping mapping;
    boolean held = false;
    if (target == batch.lastTarget && !((Peer) batch.lastPeer).gone
        && ((BufferDescriptor) batch.lastBuffer).contains(remote, length)) {
      // The same buffer as the slice before: checked, its peer alive, its mapping found and
      // held by the batch until its copies ran.
      b = (BufferDescriptor) batch.lastBuffer;
      peer = (Peer) batch.lastPeer;
      mapping = (PeerMapping) batch.lastMapping;
      held = mapping != null;
    } else {
      b = target.bufferContaining(remote, length);
      if (b == null || b.attributes().containsKey("offset")
          || b.attributes().containsKey("file_path")) {
        slice.fail(TransferState.FAILED, ErrorCode.ADDRESS_NOT_REGISTERED, "shm: 0x"
            + Long.toHexString(remote) + "+" + length + " is not inside one buffer segment '"
            + target.name() + "' published");
        return;
      }
      if (!MemoryKind.ofBuffer(b).isHost()) {
        slice.fail(TransferState.FAILED, ErrorCode.MEMORY_KIND_UNSUPPORTED, "shm: buffer 0x"
            + Long.toHexString(b.address()) + " of segment '" + target.name() + "' is "
            + MemoryKind.ofBuffer(b) + ", which shared memory cannot reach (nvlink does)");
        return;
      }
      peer = peer(target);
      if (peer != null && batch.checkedPeer != peer) {
        // Once per hand-over: a process known dead gets no more bytes, even before the watcher
        // thread noticed.
        if (!alive(peer)) {
          forget(target.name());
          peer = null;
        } else {
          batch.checkedPeer = peer;
        }
      }
      if (peer == null) {
        slice.fail(TransferState.FAILED, ErrorCode.TRANSFER_FAILED, "shm: the engine of segment '"
            + target.name() + "' is gone (its process exited, or it closed)");
        return;
      }
      mapping = b.attributes().containsKey(FILE) ? mapping(peer, b) : null;
      batch.lastTarget = null;
    }
    if (mapping != null && !held && !mapping.acquire()) {
      // Retired meanwhile: the peer is gone, or the buffer was mapped anew by another thread.
      mapping = peer.gone ? null : mapping(peer, b);
      if (mapping == null || !mapping.acquire()) {
        slice.fail(TransferState.FAILED, ErrorCode.TRANSFER_FAILED, "shm: the process of "
            + "segment '" + target.name() + "' is gone");
        return;
      }
    }
    long local = slice.localAddress();
    MemoryRegion region = slice.localRegion();
    if (!region.kind().isHost()) {
      if (held && !mapping.acquire()) { // a reference of its own, released by the copy
        slice.fail(TransferState.FAILED, ErrorCode.TRANSFER_FAILED, "shm: the process of "
            + "segment '" + target.name() + "' is gone");
        return;
      }
      copyWithDevice(slice, region, mapping, mapping == null ? 0
          : mapping.address + (remote - b.address()));
      return;
    }
    if (!held) {
      batch.lastTarget = target;
      batch.lastBuffer = b;
      batch.lastPeer = peer;
      batch.lastMapping = mapping;
    }
    if (mapping != null) {
      long there = mapping.address + (remote - b.address());
      PeerMapping releaseAfter = held ? null : mapping; // one reference per batch, not per slice
      if (slice.opcode() == TransferOpcode.WRITE) {
        batch.add(slice, there, local, length, false, local, releaseAfter);
      } else {
        batch.add(slice, local, there, length, false, local, releaseAfter);
      }
      return;
    }
    if (!peer.attachAllowed) {
      slice.fail(TransferState.FAILED, ErrorCode.TRANSPORT_UNAVAILABLE, "shm: cross-memory "
          + "attach to pid " + peer.pid + " is refused or turned off, and 0x"
          + Long.toHexString(b.address()) + " of segment '" + target.name()
          + "' has no memory file to map");
      return;
    }
    attach(slice, peer, local, remote, length);
  }

  /**
   * False once the process exited (its pidfd is readable) or the engine closed (its liveness word
   * no longer holds its instance); true when neither can be told.
   */
  private boolean alive(Peer peer) {
    if (peer.gone) {
      return false;
    }
    if (peer.aliveWord != null && peer.aliveWord.getLong(0) != peer.instance) {
      return false;
    }
    if (peer.pidfd < 0) {
      return true;
    }
    IoVectors io = iovecs.get();
    io.buffer.putInt(32, peer.pidfd);
    io.buffer.putShort(36, LibC.POLLIN);
    io.buffer.putShort(38, (short) 0);
    try {
      return LibC.poll(io.address + 32, 1, 0) == 0;
    } catch (LastErrorException e) {
      return true; // EINTR: the watcher decides
    }
  }

  /**
   * Whether cross-memory attach to {@code pid} works: reads one byte of the first buffer {@code
   * target} publishes without a memory file (Yama's ptrace_scope, a seccomp filter or another
   * user refuse it with EPERM). True when no buffer needs it.
   */
  private boolean probeAttach(int pid, SegmentDescriptor target) {
    if (attachDisabled) {
      return false;
    }
    for (BufferDescriptor b : target.buffers()) {
      if (!b.attributes().containsKey(FILE) && !b.attributes().containsKey("offset")
          && b.length() > 0) {
        IoVectors io = iovecs.get();
        io.buffer.putLong(0, io.address + 32);
        io.buffer.putLong(8, 1);
        io.buffer.putLong(16, b.address());
        io.buffer.putLong(24, 1);
        try {
          LibC.process_vm_readv(pid, io.address, 1, io.address + 16, 1, 0);
          return true;
        } catch (LastErrorException e) {
          if (e.getErrorCode() == LibC.ESRCH || e.getErrorCode() == LibC.EFAULT) {
            return true; // gone or unmapped: not a refusal; the copy will say so
          }
          LOG.warn("shm: cross-memory attach to pid {} is refused ({}): its memory without a "
              + "memory file is reached over TCP", pid, LibC.describe(e));
          return false;
        }
      }
    }
    return true;
  }

  /**
   * Host memory and GPU memory ({@link #canMove}): a slice whose local memory is on a device is
   * copied by the device's runtime straight between it and the peer's mapped memory file.
   */
  @Override
  public boolean canMove(MemoryKind kind) {
    return kind.isHost() || context.deviceMemory(kind) != null;
  }

  /**
   * One slice between local device memory and the peer's buffer mapped at {@code there}, by the
   * device's runtime, now; finished after its hazard slot is cleared. A peer reached by
   * cross-memory attach ({@code mapping} null) cannot be: the kernel copies only CPU memory.
   */
  private void copyWithDevice(TransferSlice slice, MemoryRegion region, PeerMapping mapping,
      long there) {
    if (mapping == null) {
      slice.fail(TransferState.FAILED, ErrorCode.MEMORY_KIND_UNSUPPORTED, "shm: "
          + region.kind() + " memory reaches only peers whose memory is a memory file; segment '"
          + slice.target().name() + "' is reached by cross-memory attach");
      return;
    }
    long local = slice.localAddress();
    long length = slice.length();
    String error = null;
    ErrorCode code = ErrorCode.TRANSFER_FAILED;
    int slot;
    try {
      slot = inFlight.enter(local, length);
    } catch (IllegalStateException e) {
      mapping.release();
      slice.fail(TransferState.FAILED, ErrorCode.TRANSFER_FAILED, e.getMessage());
      return;
    }
    try {
      if (closed) {
        error = "shm transport closed";
      } else if (context.memory().find(local, length) == null) {
        code = ErrorCode.ADDRESS_NOT_REGISTERED;
        error = "shm: local 0x" + Long.toHexString(local) + "+" + length + " was unregistered";
      } else {
        boolean write = slice.opcode() == TransferOpcode.WRITE;
        context.deviceMemory(region.kind()).copy(write ? there : local, write ? local : there,
            length);
      }
    } catch (io.te4j.api.TransferException e) {
      error = "shm: " + e.getMessage();
    } finally {
      inFlight.exit(slot);
      mapping.release();
    }
    if (error == null) {
      mappedBytes.add(length);
      slice.complete();
    } else {
      slice.fail(TransferState.FAILED, code, error);
    }
  }

  /** One slice by cross-memory attach; finished after its hazard slot is cleared. */
  private void attach(TransferSlice slice, Peer peer, long local, long remote, long length) {
    int slot;
    try {
      slot = inFlight.enter(local, length);
    } catch (IllegalStateException e) {
      slice.fail(TransferState.FAILED, ErrorCode.TRANSFER_FAILED, e.getMessage());
      return;
    }
    String error = null;
    ErrorCode code = ErrorCode.TRANSFER_FAILED;
    try {
      if (closed || peer.gone) {
        error = closed ? "shm transport closed"
            : "shm: the process of segment '" + peer.segment + "' is gone";
      } else if (context.memory().find(local, length) == null) {
        code = ErrorCode.ADDRESS_NOT_REGISTERED;
        error = "shm: local 0x" + Long.toHexString(local) + "+" + length + " was unregistered";
      } else {
        error = copy(peer.pid, slice.opcode() == TransferOpcode.WRITE, local, remote, length);
      }
    } finally {
      inFlight.exit(slot);
    }
    if (error == null) {
      attachBytes.add(length);
      slice.complete();
    } else {
      if (code == ErrorCode.TRANSFER_FAILED) {
        forget(peer.segment);
      }
      slice.fail(TransferState.FAILED, code, error);
    }
  }

  /**
   * The mapping of buffer {@code b} of {@code peer}, made on first use; null when the buffer is to
   * be reached by cross-memory attach (its file could not be mapped: logged once).
   */
  private PeerMapping mapping(Peer peer, BufferDescriptor b) {
    Object path = b.attributes().get(FILE);
    long fileOffset = number(b.attributes().get(FILE_OFFSET));
    long inode = number(b.attributes().get(FILE_INODE));
    PeerMapping m = peer.mappingOf(b.address());
    if (m != null && m.matches(b.address(), b.length(), fileOffset, inode)) {
      return m.isUsable() ? m : null;
    }
    synchronized (peer) {
      m = peer.mappingOf(b.address());
      if (m != null && m.matches(b.address(), b.length(), fileOffset, inode)) {
        return m.isUsable() ? m : null;
      }
      if (peer.gone) {
        return null; // the caller fails the slice on peer.gone
      }
      PeerMapping made;
      try {
        made = PeerMapping.map(String.valueOf(path), fileOffset, inode, b.address(), b.length());
        LOG.info("shm: buffer 0x{} (+{}) of segment '{}' mapped from {}: plain memory copies",
            Long.toHexString(b.address()), b.length(), peer.segment, path);
      } catch (IllegalStateException e) {
        made = PeerMapping.unusable(b.address(), b.length(), fileOffset, inode);
        LOG.info("shm: buffer 0x{} of segment '{}' is copied by cross-memory attach: {}",
            Long.toHexString(b.address()), peer.segment, e.getMessage());
      }
      PeerMapping[] old = peer.mappings;
      PeerMapping[] next = new PeerMapping[old.length + (m == null ? 1 : 0)];
      int i = 0;
      for (PeerMapping o : old) {
        if (o != m) {
          next[i++] = o;
        }
      }
      next[i] = made;
      peer.mappings = next;
      if (m != null) {
        m.retire(); // the buffer was republished: the old mapping goes when its copies end
      }
      return made.isUsable() ? made : null;
    }
  }

  private static long number(Object o) {
    return o instanceof Number ? ((Number) o).longValue() : -1;
  }

  /** Moves all bytes or returns why not. */
  private String copy(int targetPid, boolean write, long local, long remote, long length) {
    IoVectors iov = iovecs.get();
    long done = 0;
    while (done < length) {
      iov.buffer.putLong(0, local + done);
      iov.buffer.putLong(8, length - done);
      iov.buffer.putLong(16, remote + done);
      iov.buffer.putLong(24, length - done);
      long base = iov.address;
      long n;
      try {
        n = write ? LibC.process_vm_writev(targetPid, base, 1, base + 16, 1, 0)
            : LibC.process_vm_readv(targetPid, base, 1, base + 16, 1, 0);
      } catch (LastErrorException e) {
        int errno = e.getErrorCode();
        return "shm: process_vm_" + (write ? "writev" : "readv") + " to pid " + targetPid
            + " failed: " + LibC.describe(e) + (errno == LibC.ESRCH ? " (the peer process is gone)"
                : errno == LibC.EFAULT ? " (the range is not mapped in the peer)" : "");
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
    if (p != null && !p.gone && (p.pidfd >= 0 || System.nanoTime() - p.verifiedAt < REVERIFY_NANOS)
        && p.pid == ((Number) target.attributes().get(PID)).intValue()
        && p.instance == number(target.attributes().get(INSTANCE))) {
      return p;
    }
    return verify(target, p);
  }

  private Peer verify(SegmentDescriptor target, Peer known) {
    long now = System.nanoTime();
    int targetPid = ((Number) target.attributes().get(PID)).intValue();
    Object published = target.attributes().get(PID_START);
    String start = startTime(targetPid);
    if (start == null || (published != null && !published.toString().equals(start))) {
      forget(target.name());
      return null;
    }
    long instance = number(target.attributes().get(INSTANCE));
    if (known != null && !known.gone && known.pid == targetPid && known.instance == instance) {
      known.verifiedAt = now;
      return known;
    }
    synchronized (peers) {
      if (closed) {
        return null; // close() dropped every peer under this lock: none may be added after it
      }
      Peer p = peers.get(target.name());
      if (p != null && !p.gone && p.pid == targetPid && p.instance == instance) {
        return p;
      }
      int pidfd = LibC.pidfdOpen(targetPid);
      // The pid may have been recycled between reading its start time and opening the pidfd.
      if (pidfd >= 0 && !start.equals(startTime(targetPid))) {
        LibC.closeQuietly(pidfd);
        return null;
      }
      Peer fresh = new Peer(target.name(), targetPid, start, pidfd,
          probeAttach(targetPid, target), now, instance, mapAliveWord(target));
      Peer old = peers.put(target.name(), fresh);
      if (old != null) {
        drop(old);
      }
      if (pidfd >= 0) {
        startWatcher();
      }
      LOG.info("shm: segment '{}' is pid {} on this host{}", target.name(), targetPid,
          pidfd >= 0 ? ", watched by a pidfd" : "");
      return fresh;
    }
  }

  /** The target engine's liveness word, mapped, or null when it publishes none or it is gone. */
  private static PeerMapping mapAliveWord(SegmentDescriptor target) {
    Object path = target.attributes().get(ALIVE);
    if (!(path instanceof String)) {
      return null;
    }
    try {
      return PeerMapping.map((String) path, 0, number(target.attributes().get(ALIVE_INODE)), 0,
          8);
    } catch (IllegalStateException e) {
      LOG.info("shm: the liveness word of segment '{}' cannot be mapped: {}", target.name(),
          e.getMessage());
      return null;
    }
  }

  private void startWatcher() {
    synchronized (watcherLock) {
      if (watcher == null && !closed) {
        watcher = context.threadFactory("shm-peers").newThread(this::watchPeers);
        watcher.setDaemon(true);
        watcher.start();
      }
    }
  }

  /**
   * The watcher thread: polls the pidfds of known peers; a readable one means the process exited,
   * so the peer is dropped and its mappings released at once. Also closes the pidfds of peers
   * dropped for other reasons (only this thread closes them, so a descriptor is never closed while
   * it is polled).
   */
  private void watchPeers() {
    java.util.List<Peer> watched = new java.util.ArrayList<>();
    Memory fds = new Memory(8L * 64);
    while (!closed) {
      // Close first, then list: a descriptor is never polled after it was closed.
      closeRetiredPidfds();
      watched.clear();
      for (Peer p : peers.values()) {
        if (p.pidfd >= 0 && !p.gone) {
          watched.add(p);
        }
      }
      if (fds.size() < 8L * watched.size()) {
        fds = new Memory(8L * watched.size() * 2);
      }
      for (int i = 0; i < watched.size(); i++) {
        fds.setInt(8L * i, watched.get(i).pidfd);
        fds.setShort(8L * i + 4, LibC.POLLIN);
        fds.setShort(8L * i + 6, (short) 0);
      }
      int ready;
      try {
        ready = watched.isEmpty() ? 0 : LibC.poll(Pointer.nativeValue(fds), watched.size(), 100);
      } catch (LastErrorException e) {
        ready = 0; // EINTR
      }
      if (watched.isEmpty()) {
        java.util.concurrent.locks.LockSupport.parkNanos(REVERIFY_NANOS);
      }
      for (int i = 0; ready > 0 && i < watched.size(); i++) {
        if (fds.getShort(8L * i + 6) != 0) {
          Peer p = watched.get(i);
          LOG.info("shm: pid {} of segment '{}' exited: its transfers fail, its mappings are "
              + "released", p.pid, p.segment);
          peers.remove(p.segment, p);
          drop(p);
        }
      }
    }
  }

  private void closeRetiredPidfds() {
    for (Peer p; (p = retiredPidfds.poll()) != null; ) {
      LibC.closeQuietly(p.pidfd);
    }
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

  /** The peers known and their mappings, for a test's failure message. */
  String describePeers() {
    StringBuilder out = new StringBuilder();
    peers.forEach((name, p) -> {
      out.append(name).append(": pid ").append(p.pid).append(" pidfd ").append(p.pidfd)
          .append(p.gone ? " gone" : "").append(" alive ").append(alive(p));
      for (PeerMapping m : p.mappings) {
        out.append("\n  ").append(m);
      }
      out.append('\n');
    });
    Thread w;
    synchronized (watcherLock) {
      w = watcher;
    }
    out.append("watcher: ").append(w == null ? "none" : w.getState());
    out.append("\nmapped in this process: ").append(PeerMapping.describeMapped());
    return out.toString();
  }

  /** Bytes moved by cross-memory attach since start. */
  public long attachBytes() {
    return attachBytes.sum();
  }

  /** Bytes moved by plain copies into and out of mapped peer buffers since start. */
  public long mappedBytes() {
    return mappedBytes.sum();
  }

  @Override
  public void close() {
    closeAndQuiesce();
    if (aliveFd >= 0) {
      // Peers read 0 from now on: no bytes come here any more.
      NativeMemory.view(aliveAddress, 8).order(java.nio.ByteOrder.nativeOrder()).putLong(0, 0);
      NativeMemory.unmap(aliveAddress, 4096);
      NativeMemory.closeFd(aliveFd);
      aliveFd = -1;
    }
    Thread w;
    synchronized (watcherLock) {
      w = watcher;
    }
    synchronized (peers) { // closed is set: verify() adds no peer after this
      for (Peer p : peers.values()) {
        drop(p);
      }
      peers.clear();
    }
    if (w != null) {
      try {
        w.join(TimeUnit.SECONDS.toMillis(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (w.isAlive()) {
        LOG.warn("shm: the peer watcher did not stop; leaving its pidfds open");
        return;
      }
    }
    closeRetiredPidfds(); // no thread polls them any more
  }
}
