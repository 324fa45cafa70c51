package io.te4j.transport.cuda;

import io.te4j.api.BufferDescriptor;
import io.te4j.api.MemoryKind;
import io.te4j.api.SegmentDescriptor;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Peers' GPU buffers mapped into this process through their IPC handles (CUDA.md 2.2): opened on
 * first use, once per buffer however many threads ask, and closed when the peer is forgotten, its
 * descriptor changes or the transport closes; a mapping in use by a copy is closed once that copy
 * has ended.
 */
final class PeerMappings {
  private final CudaRuntime cuda;
  private final Map<String, Peer> peers = new ConcurrentHashMap<>();

  PeerMappings(CudaRuntime cuda) {
    this.cuda = cuda;
  }

  /** A peer buffer mapped here. */
  final class Mapping extends Shared {
    /** The mapped allocation's base in this process. */
    final long base;
    /** This process's address of the peer's buffer address 0: {@link #pointer} adds the address. */
    private final long shift;
    /** The peer's device, as its buffer's location (or name) says, or -1. */
    final int device;

    /**
     * @param offset where the buffer starts in the allocation ({@code ipc_offset}; 0 for the
     *     reference)
     */
    Mapping(long base, long offset, BufferDescriptor buffer) {
      this.base = base;
      this.shift = base + offset - buffer.address();
      int published = MemoryKind.ofBuffer(buffer).index();
      this.device = published >= 0 ? published : MemoryKind.of(buffer.name()).index();
    }

    /** This process's address of the peer's {@code address} (inside the buffer). */
    long pointer(long address) {
      return address + shift;
    }

    @Override
    void freed() {
      cuda.ipcCloseMemHandle(base);
    }
  }

  private final class Peer {
    final SegmentDescriptor descriptor;
    final Map<Long, Mapping> byAddress = new ConcurrentHashMap<>();

    Peer(SegmentDescriptor descriptor) {
      this.descriptor = descriptor;
    }

    void retire() {
      byAddress.values().forEach(Mapping::retire);
    }
  }

  /**
   * The mapping of {@code buffer} of {@code target}, acquired for one copy (the caller releases
   * it).
   *
   * @throws CudaException when the buffer publishes no usable handle or it cannot be opened
   */
  Mapping acquire(SegmentDescriptor target, BufferDescriptor buffer) {
    for (;;) {
      Peer p = peer(target);
      Mapping m = p.byAddress.computeIfAbsent(buffer.address(), a -> open(target, buffer));
      if (m.acquire()) {
        return m;
      }
      p.byAddress.remove(buffer.address(), m); // closed meanwhile: open it again
    }
  }

  private Peer peer(SegmentDescriptor target) {
    Peer p = peers.get(target.name());
    if (p != null && (p.descriptor == target || p.descriptor.equals(target))) {
      return p;
    }
    Peer fresh = new Peer(target);
    Peer before = p == null ? peers.putIfAbsent(target.name(), fresh)
        : peers.replace(target.name(), p, fresh) ? null : peers.get(target.name());
    if (p != null && before == null) {
      p.retire(); // the descriptor changed: its old buffers may be gone
    }
    return before == null ? fresh : before;
  }

  private Mapping open(SegmentDescriptor target, BufferDescriptor buffer) {
    Object hex = buffer.attributes().get(NvlinkTransport.SHM_NAME);
    byte[] handle = IpcHandleHex.decode(hex);
    if (handle == null) {
      throw new CudaException("segment " + target.name() + " buffer at 0x"
          + Long.toHexString(buffer.address()) + (hex == null ? " publishes no IPC handle"
          : " has a malformed IPC handle (shm_name must be 128 hex characters)"), 0);
    }
    long offset = offsetOf(buffer);
    long[] base = {0};
    int rc = cuda.ipcOpenMemHandle(base, handle, CudaLayout.IPC_LAZY_ENABLE_PEER_ACCESS);
    if (rc != 0) {
      throw new CudaException("cudaIpcOpenMemHandle for segment " + target.name() + " buffer 0x"
          + Long.toHexString(buffer.address()) + ": " + CudaErrors.describe(cuda, rc), rc);
    }
    long[] start = {0};
    long[] size = {0};
    rc = cuda.memGetAddressRange(start, size, base[0]);
    if (rc != 0 || offset < 0 || Long.compareUnsigned(buffer.length(), size[0]) > 0
        || offset > size[0] - buffer.length()) {
      cuda.ipcCloseMemHandle(base[0]);
      throw new CudaException("segment " + target.name() + " buffer 0x"
          + Long.toHexString(buffer.address()) + " of " + buffer.length() + " bytes at offset "
          + offset + " does not lie inside the allocation its handle maps (" + size[0]
          + " bytes" + (rc != 0 ? ", cuMemGetAddressRange returned " + rc : "") + ")", rc);
    }
    return new Mapping(base[0], offset, buffer);
  }

  private static long offsetOf(BufferDescriptor buffer) {
    Object o = buffer.attributes().get(NvlinkTransport.IPC_OFFSET);
    if (o == null) {
      return 0;
    }
    return o instanceof Number && !(o instanceof Double) && !(o instanceof Float)
        ? ((Number) o).longValue() : -1;
  }

  /** Closes {@code segment}'s mappings (once their copies end). */
  void forget(String segment) {
    Peer p = peers.remove(segment);
    if (p != null) {
      p.retire();
    }
  }

  void closeAll() {
    for (String s : peers.keySet()) {
      forget(s);
    }
  }

  /** Mapped peer buffers, for tests and {@code te} diagnostics. */
  int mappedBuffers() {
    int n = 0;
    for (Peer p : peers.values()) {
      n += p.byAddress.size();
    }
    return n;
  }
}
