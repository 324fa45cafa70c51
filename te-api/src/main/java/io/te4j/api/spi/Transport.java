package io.te4j.api.spi;

import io.te4j.api.BufferDescriptor;
import io.te4j.api.MemoryKind;
import io.te4j.api.SegmentDescriptor;

/**
 * Moves bytes between local registered memory and target segments of one kind.
 *
 * <p>Threading: {@link #start}, {@link #register}, {@link #describe} and {@link #unregistered} are
 * called by the engine under its registration lock; {@link #submit} is called from any application thread at
 * once and must not block on the network; the transport's own threads call back {@link
 * TransferSlice#complete()} and {@link TransferSlice#fail}.
 */
public interface Transport extends AutoCloseable {
  /** The protocol name, as in descriptors: {@code tcp}, {@code rdma}, ... */
  String name();

  /**
   * Opens listeners and adds this transport's fields (data port, devices) to the engine's local
   * descriptor.
   */
  void start(SegmentDescriptor.Builder localDescriptor) throws java.io.IOException;

  /**
   * Memory is being registered, before anyone can find it: set up what this transport needs to
   * move it (an RDMA memory region on each NIC, say) and return it; the engine keeps it with the
   * region ({@link MemoryRegion#attachment}) and the transport finds it again from a slice's
   * region. Throwing refuses the registration: the transports that already took the region get
   * {@link #unregistered} and nothing is registered. The default keeps nothing.
   *
   * @return this transport's state for the region, or null
   */
  default Object register(MemoryRegion region) {
    return null;
  }

  /**
   * Memory was registered: return the buffer entry peers will see, with any transport keys added
   * (RDMA adds rkeys/lkeys). The default returns {@code base} unchanged.
   */
  default BufferDescriptor describe(MemoryRegion region, BufferDescriptor base) {
    return base;
  }

  /**
   * A region was unregistered (or its registration rolled back): {@link MemoryRegistry#find} no
   * longer returns it, and the engine unmaps or hands the memory back as soon as this returns. So
   * return only when none of this transport's threads still reads or writes the region: wait for
   * in-flight work on it (a peer's request being served, a local slice being sent or received) to
   * finish or fail, bounded by the transfer deadline; then release what {@link #register}
   * returned. The default suits transports that never touch memory after a slice ends.
   */
  default void unregistered(MemoryRegion region) {}

  /** True when this transport can move data to that segment (it published our protocol's fields). */
  boolean canReach(SegmentDescriptor target);

  /**
   * True when this transport can move memory of {@code kind}, locally and at a target. The engine
   * gives it no slice whose local region, or whose published target buffer, is of another kind:
   * those fail with {@link io.te4j.api.ErrorCode#MEMORY_KIND_UNSUPPORTED} and nothing is touched.
   * The default: host memory only.
   */
  default boolean canMove(MemoryKind kind) {
    return kind.isHost();
  }

  /**
   * True when this transport should carry traffic to {@code target} even though the target's
   * protocol names another one (a peer on the same host, reached through shared memory instead of
   * TCP). Consulted after a request's transport hint and before the target's protocol.
   */
  default boolean prefers(SegmentDescriptor target) {
    return false;
  }

  /**
   * Queues one slice. Never blocks on the network and never throws for an expected condition: a
   * failure is reported through {@link TransferSlice#fail}. When its queues are full a transport
   * may make the submitting thread wait for room, never past the slice's deadline and never on one
   * of its own threads ({@link Backpressure}).
   */
  void submit(TransferSlice slice);

  /**
   * Queues {@code slices[0, count)}, slices of one batch, as {@link #submit(TransferSlice)} would
   * each. The engine hands a batch over this way so that a transport can move many small slices at
   * once (one native call or system call for the lot); the default submits them one by one. The
   * array belongs to the engine, which reuses it once this returns: keep the slices, not the array.
   */
  default void submitAll(TransferSlice[] slices, int count) {
    for (int i = 0; i < count; i++) {
      submit(slices[i]);
    }
  }

  /**
   * True when this transport orders a slice's copy on the slice's {@link TransferSlice#stream()}
   * itself (it enqueues the copy on that CUDA stream, as the nvlink transport does). The engine
   * gives no other transport a request with a stream: those fail with INVALID_ARGUMENT, and the
   * {@code *_on_cuda} operations order them through a host function instead. The default: false.
   */
  default boolean ordersOnStreams() {
    return false;
  }

  /** The largest slice this transport wants; the engine splits larger requests. */
  default long maxSliceBytes() {
    return Long.MAX_VALUE;
  }

  /** A peer's descriptor changed or it went away: drop what is cached for it. */
  default void forget(String segmentName) {}

  /** Fails what is in flight promptly, closes sockets and threads. Idempotent. */
  @Override
  void close();
}
