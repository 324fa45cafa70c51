package io.te4j.transport.cuda;

import com.sun.jna.Memory;
import io.te4j.api.BufferDescriptor;
import io.te4j.api.ErrorCode;
import io.te4j.api.MemoryKind;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferException;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.Transport;
import io.te4j.api.spi.TransportContext;
import io.te4j.api.spi.TransferSlice;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GPU memory of peers on this host, over NVLink or PCIe (CUDA.md 2.2, 2.3): registered device
 * memory is published with the CUDA IPC handle of its allocation as {@code shm_name}, exactly as
 * the reference does, so C++ peers open ours and we theirs; a peer's buffers are mapped here on
 * first use and copied with {@code cudaMemcpyAsync} on the engine's streams, or on the caller's
 * stream for {@code *_on_cuda}. Local host memory may be a copy's source or destination too: it is
 * pinned at registration.
 *
 * <p>A plain transfer reads and writes device memory as it is when the copy runs on an engine
 * stream: the caller synchronises its own producer work first, or passes its stream.
 */
final class NvlinkTransport implements Transport {
  private static final Logger LOG = LoggerFactory.getLogger(NvlinkTransport.class);
  /** The buffer field carrying the IPC handle as hex (the reference's name). */
  static final String SHM_NAME = "shm_name";
  /**
   * te4j's buffer field: where the buffer starts inside the allocation its handle maps, for
   * memory registered at an interior pointer (the reference's nvlink then publishes the pointer
   * with the allocation's handle, and its peers land off by that much; nvlink_intra publishes the
   * allocation). Absent for 0; the reference ignores it.
   */
  static final String IPC_OFFSET = "ipc_offset";

  private final TransportContext context;
  private final CudaRuntime cuda;
  private final int slot;
  private final CopyEngine copies;
  private final PeerMappings peers;
  /** The regions' state, so that closing lets go of what their unregistration would have. */
  private final java.util.Set<LocalMemory> registered =
      java.util.concurrent.ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  NvlinkTransport(TransportContext context, CudaRuntime cuda) {
    this.context = context;
    this.cuda = cuda;
    this.slot = context.registrationSlot();
    int[] count = {0};
    int rc = cuda.getDeviceCount(count);
    if (rc != 0 || count[0] <= 0) {
      throw new TransferException(ErrorCode.TRANSPORT_UNAVAILABLE,
          "nvlink: no CUDA device: cudaGetDeviceCount " + CudaErrors.describe(cuda, rc));
    }
    this.copies = new CopyEngine(cuda, count[0], context.setting(NvlinkSettings.STREAMS),
        context.threadFactory("nvlink-completions"));
    this.peers = new PeerMappings(cuda);
  }

  @Override
  public String name() {
    return NvlinkTransportProvider.NAME;
  }

  @Override
  public void start(SegmentDescriptor.Builder localDescriptor) {
    // Nothing to add: the buffers carry the handles (describe).
  }

  /** This transport's state for a registered region. */
  final class LocalMemory extends Shared {
    /** The GPU of device memory; -1 for host memory. */
    final int device;
    /** Hex IPC handle of the allocation, or null (host memory, or not exportable). */
    final String handle;
    /** Where the region starts in its allocation. */
    final long offset;
    private final long pinned;

    LocalMemory(int device, String handle, long offset, long pinned) {
      this.device = device;
      this.handle = handle;
      this.offset = offset;
      this.pinned = pinned;
    }

    @Override
    void freed() {
      if (pinned != 0) {
        cuda.hostUnregister(pinned);
      }
    }
  }

  /**
   * Finds what the memory is ({@code cudaPointerGetAttributes}) and refuses a location that says
   * otherwise: device memory registered as host memory would crash any CPU copy. Device memory
   * gets its allocation's IPC handle; host memory is pinned.
   */
  @Override
  public Object register(MemoryRegion region) {
    MemoryKind kind = region.kind();
    if (!canMove(kind)) {
      return null;
    }
    Memory attributes = new Memory(CudaLayout.POINTER_ATTRIBUTES_BUFFER);
    attributes.clear();
    int rc = cuda.pointerGetAttributes(Memory.nativeValue(attributes), region.address());
    int type = rc == 0 ? attributes.getInt(CudaLayout.PA_TYPE) : CudaLayout.MEMORY_UNREGISTERED;
    int device = attributes.getInt(CudaLayout.PA_DEVICE);
    String where = "0x" + Long.toHexString(region.address());
    if (kind.isHost()) {
      if (type == CudaLayout.MEMORY_DEVICE) {
        throw new TransferException(ErrorCode.INVALID_ARGUMENT, where + " is device memory of "
            + "cuda:" + device + ", registered as " + region.location() + ": register it as cuda:"
            + device);
      }
      return track(new LocalMemory(-1, null, 0, pin(region)));
    }
    if (type != CudaLayout.MEMORY_DEVICE) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, where + " registered as "
          + region.location() + " is not CUDA device memory (cudaPointerGetAttributes: "
          + (rc != 0 ? CudaErrors.describe(cuda, rc) : "type " + type) + ")");
    }
    if (kind.index() >= 0 && kind.index() != device) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, where + " is memory of cuda:"
          + device + ", registered as " + region.location());
    }
    long[] base = {0};
    long[] size = {0};
    rc = cuda.memGetAddressRange(base, size, region.address());
    if (rc != 0 || region.address() - base[0] > size[0] - region.length()) {
      throw new TransferException(ErrorCode.INVALID_ARGUMENT, where + " + " + region.length()
          + " does not lie inside one CUDA allocation" + (rc != 0 ? " (cuMemGetAddressRange "
          + "returned " + rc + ")" : " (0x" + Long.toHexString(base[0]) + " + " + size[0] + ")"));
    }
    Memory handle = new Memory(CudaLayout.IPC_HANDLE_BYTES);
    rc = cuda.ipcGetMemHandle(Memory.nativeValue(handle), base[0]);
    String hex = null;
    if (rc == 0) {
      hex = IpcHandleHex.encode(handle.getByteArray(0, CudaLayout.IPC_HANDLE_BYTES));
    } else {
      LOG.warn("nvlink: {} cannot be exported (cudaIpcGetMemHandle {}): peers cannot reach it",
          where, CudaErrors.describe(cuda, rc));
    }
    return track(new LocalMemory(device, hex, region.address() - base[0], 0));
  }

  private LocalMemory track(LocalMemory m) {
    registered.add(m);
    return m;
  }

  /** Pins host memory for asynchronous copies; 0 when it was pinned already or cannot be. */
  private long pin(MemoryRegion region) {
    int rc = cuda.hostRegister(region.address(), region.length(), 0);
    if (rc != 0) {
      LOG.debug("nvlink: host memory 0x{} not pinned ({}): copies from it are staged by CUDA",
          Long.toHexString(region.address()), CudaErrors.describe(cuda, rc));
      return 0;
    }
    return region.address();
  }

  @Override
  public BufferDescriptor describe(MemoryRegion region, BufferDescriptor base) {
    Object a = region.attachment(slot);
    if (!(a instanceof LocalMemory) || ((LocalMemory) a).handle == null) {
      return base; // host memory: no handle, so the reference's peers skip it (CUDA.md 2.6)
    }
    LocalMemory m = (LocalMemory) a;
    Map<String, Object> attributes = new LinkedHashMap<>(base.attributes());
    attributes.put(SHM_NAME, m.handle);
    if (m.offset != 0) {
      attributes.put(IPC_OFFSET, m.offset);
    }
    return new BufferDescriptor(base.name(), base.address(), base.length(), base.remoteKeys(),
        base.localKeys(), attributes);
  }

  @Override
  public void unregistered(MemoryRegion region) {
    Object a = region.attachment(slot);
    if (a instanceof LocalMemory) {
      LocalMemory m = (LocalMemory) a;
      registered.remove(m);
      m.retire();
      try {
        if (!m.awaitFreed(context.transferTimeoutNanos() + 1_000_000_000L)) {
          LOG.error("nvlink: copies on 0x{} did not end; its memory is let go anyway",
              Long.toHexString(region.address()));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public boolean canReach(SegmentDescriptor target) {
    String p = target.protocol();
    if (p.equals("nvlink") || p.equals("nvlink_intra")) {
      return true;
    }
    for (BufferDescriptor b : target.buffers()) {
      if (b.attributes().containsKey(SHM_NAME)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public boolean canMove(MemoryKind kind) {
    return kind.isHost() || kind.family().equals("cuda");
  }

  /** A peer publishing GPU buffers is reached here rather than through a host transport. */
  @Override
  public boolean prefers(SegmentDescriptor target) {
    return target.hasDeviceBuffers() && canReach(target);
  }

  /** Copies of a request with a stream are enqueued on that stream ({@code *_on_cuda}). */
  @Override
  public boolean ordersOnStreams() {
    return true;
  }

  @Override
  public void submit(TransferSlice slice) {
    submitAll(new TransferSlice[] {slice}, 1);
  }

  /**
   * Enqueues one copy per slice; consecutive slices on one stream share a completion event.
   * Nothing here blocks: {@code cudaMemcpyAsync} only queues.
   */
  @Override
  public void submitAll(TransferSlice[] slices, int count) {
    CopyEngine.Group group = null;
    long callerStream = 0;
    int callerDevice = -1;
    int[] error = {0};
    for (int i = 0; i < count; i++) {
      TransferSlice s = slices[i];
      long generation = s.generation();
      if (closed) {
        s.fail(generation, TransferState.FAILED, ErrorCode.ENGINE_CLOSED,
            "the nvlink transport is closed");
        continue;
      }
      Object a = s.localRegion().attachment(slot);
      LocalMemory local = a instanceof LocalMemory ? (LocalMemory) a : null;
      if (local == null || !local.acquire()) {
        s.fail(generation, TransferState.FAILED, ErrorCode.ADDRESS_NOT_REGISTERED,
            "local memory 0x" + Long.toHexString(s.localAddress()) + " is not registered");
        continue;
      }
      PeerMappings.Mapping remote = mapping(s, generation);
      if (remote == null) {
        local.release();
        continue;
      }
      long stream = s.stream();
      int device;
      if (stream != 0) {
        if (stream != callerStream) {
          callerStream = stream;
          callerDevice = copies.deviceOf(stream, error);
        }
        device = callerDevice;
        if (device < 0) {
          fail(s, generation, local, remote, ErrorCode.INVALID_ARGUMENT, "stream 0x"
              + Long.toHexString(stream) + " is not a CUDA stream of this process: "
              + "cudaStreamGetDevice " + CudaErrors.describe(cuda, error[0]));
          continue;
        }
      } else {
        device = local.device >= 0 ? local.device
            : remote.device >= 0 && remote.device < copies.deviceCount() ? remote.device : 0;
        stream = group != null && !group.callersStream && group.device == device
            ? group.stream : copies.stream(device);
      }
      if (group == null || group.stream != stream) {
        if (group != null) {
          copies.close(group);
        }
        group = copies.open(device, stream, s.stream() != 0);
      }
      long far = remote.pointer(s.targetOffset());
      boolean write = s.opcode() == TransferOpcode.WRITE;
      int rc = cuda.memcpyAsync(write ? far : s.localAddress(), write ? s.localAddress() : far,
          s.length(), CudaLayout.MEMCPY_DEFAULT, stream);
      if (rc != 0) {
        fail(s, generation, local, remote, ErrorCode.TRANSFER_FAILED,
            "cudaMemcpyAsync: " + CudaErrors.describe(cuda, rc));
        continue;
      }
      group.add(s, generation, local, remote);
    }
    if (group != null) {
      copies.close(group);
    }
  }

  /** The target buffer holding the slice, mapped here; null after failing the slice. */
  private PeerMappings.Mapping mapping(TransferSlice s, long generation) {
    SegmentDescriptor target = s.target();
    BufferDescriptor b = target.bufferContaining(s.targetOffset(), s.length());
    if (b == null) {
      s.fail(generation, TransferState.FAILED, ErrorCode.ADDRESS_NOT_REGISTERED, "segment "
          + target.name() + " has no buffer holding 0x" + Long.toHexString(s.targetOffset())
          + " + " + s.length());
      return null;
    }
    try {
      return peers.acquire(target, b);
    } catch (CudaException e) {
      s.fail(generation, TransferState.FAILED, e.error() == 0 ? ErrorCode.ADDRESS_NOT_REGISTERED
          : ErrorCode.TRANSFER_FAILED, e.getMessage());
      return null;
    }
  }

  private static void fail(TransferSlice s, long generation, Shared local, Shared remote,
      ErrorCode code, String message) {
    local.release();
    remote.release();
    s.fail(generation, TransferState.FAILED, code, message);
  }

  @Override
  public void forget(String segmentName) {
    peers.forget(segmentName);
  }

  /** Peer buffers mapped here now. */
  int mappedBuffers() {
    return peers.mappedBuffers();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    copies.close(); // no copy runs after this
    peers.closeAll();
    registered.forEach(LocalMemory::retire); // host memory still registered is unpinned
    registered.clear();
  }
}
