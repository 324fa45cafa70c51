package io.te4j.testplugin;

import io.te4j.api.ErrorCode;
import io.te4j.api.HostPort;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.MemoryRegistry;
import io.te4j.api.spi.PeerRpc;
import io.te4j.api.spi.TransferSlice;
import io.te4j.api.spi.Transport;
import io.te4j.api.spi.TransportContext;
import io.te4j.api.spi.inflight.InFlightTable;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Copies between engines of one JVM, through the registered memory each engine exposes. Written
 * against te-api alone, as a third party would write a transport; it checks the target range
 * against the target's registered, remote-accessible memory like every transport must.
 *
 * <p>Before the first copy to a peer it greets it with a connection handshake (frame type 0) over
 * the peer's handshake port, as a hardware transport exchanges queue pair numbers: it serves that
 * frame type itself, through {@link TransportContext#serveFrames}, and sends it through {@link
 * TransportContext#rpc}.
 *
 * <p>Memory is never touched after it was unregistered: each copy publishes the ranges it touches
 * in the {@link InFlightTable} of the engine owning them (its own for the local range, the
 * target's for the far one) and then checks the range is still registered; unregistering waits
 * until no copy holds the memory, as te-api's table provides.
 */
public final class InProcessTransport implements Transport {
  static final String NAME = "inproc";
  private static final ConcurrentHashMap<String, InProcessTransport> ENGINES =
      new ConcurrentHashMap<>();
  /** Threads copying at once, at most (each pins a slot per table it publishes in). */
  private static final int COPYING_THREADS = 256;

  private final TransportContext context;
  /** The ranges of this engine's memory that copies touch now, its own or a peer's. */
  private final InFlightTable touching = new InFlightTable(COPYING_THREADS);
  private volatile boolean closed;
  /** Peers greeted so far: a handshake each. */
  private final java.util.Set<String> greeted = ConcurrentHashMap.newKeySet();
  private AutoCloseable frames;

  InProcessTransport(TransportContext context) {
    this.context = context;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void start(SegmentDescriptor.Builder localDescriptor) {
    ENGINES.put(context.localSegmentName(), this);
    localDescriptor.attribute("inproc_jvm", ProcessHandle.current().pid());
    frames = context.serveFrames(PeerRpc.CONNECTION, (body, peer) ->
        body.startsWith("{\"inproc_hello\":") ? "{\"inproc_welcome\":\""
            + context.localSegmentName() + "\"}" : null);
  }

  /** The peers this transport has greeted (handshakes it sent and had answered). */
  public java.util.Set<String> greetedPeers() {
    return java.util.Collections.unmodifiableSet(greeted);
  }

  @Override
  public boolean canReach(SegmentDescriptor target) {
    return ENGINES.containsKey(target.name());
  }

  @Override
  public void submit(TransferSlice slice) {
    String peer = slice.target().name();
    if (!greeted.contains(peer)) {
      HostPort at = context.peerRpcAddress(peer);
      String reply = context.rpc().call(at.host(), at.port(), PeerRpc.CONNECTION,
          "{\"inproc_hello\":\"" + context.localSegmentName() + "\"}");
      if (!reply.equals("{\"inproc_welcome\":\"" + peer + "\"}")) {
        slice.fail(TransferState.FAILED, ErrorCode.REJECT_HANDSHAKE, "handshake with " + peer
            + " answered " + reply);
        return;
      }
      greeted.add(peer);
    }
    InProcessTransport target = ENGINES.get(peer);
    if (target == null) {
      slice.fail(TransferState.FAILED, ErrorCode.TRANSFER_FAILED, peer + " is gone");
      return;
    }
    long length = slice.length();
    int mine = touching.enter(slice.localAddress(), length);
    try {
      int theirs = target.touching.enter(slice.targetOffset(), length);
      try {
        copy(slice, target);
      } finally {
        target.touching.exit(theirs);
      }
    } finally {
      touching.exit(mine);
    }
  }

  /** Copies once both ranges are published; ends the slice. */
  private void copy(TransferSlice slice, InProcessTransport target) {
    MemoryRegistry remote = target.context.memory();
    MemoryRegion region = target.closed ? null
        : remote.find(slice.targetOffset(), slice.length());
    if (region == null || !region.remoteAccessible() || slice.length() > Integer.MAX_VALUE) {
      slice.fail(TransferState.FAILED, ErrorCode.ADDRESS_NOT_REGISTERED,
          "target range not registered at " + slice.target().name());
      return;
    }
    if (context.memory().find(slice.localAddress(), slice.length()) != slice.localRegion()) {
      slice.fail(TransferState.FAILED, ErrorCode.ADDRESS_NOT_REGISTERED,
          "local memory unregistered");
      return;
    }
    ByteBuffer local = window(slice.localRegion(), slice.localAddress(), slice.length());
    ByteBuffer far = window(region, slice.targetOffset(), slice.length());
    if (local == null || far == null) {
      slice.fail(TransferState.FAILED, ErrorCode.INVALID_ARGUMENT, "range crosses a chunk");
      return;
    }
    if (slice.opcode() == TransferOpcode.WRITE) {
      far.put(local);
    } else {
      local.put(far);
    }
    slice.complete();
  }

  /** Returns once no copy, this engine's or a peer's, touches {@code region}. */
  @Override
  public void unregistered(MemoryRegion region) {
    touching.awaitRelease(region.address(), region.length(),
        System.nanoTime() + context.transferTimeoutNanos());
  }

  private static ByteBuffer window(MemoryRegion region, long address, long length) {
    long offset = address - region.address();
    int chunk = (int) (offset >>> MemoryRegion.CHUNK_SHIFT);
    int within = (int) (offset & (MemoryRegion.CHUNK_SIZE - 1));
    ByteBuffer b = region.chunk(chunk).duplicate();
    if (within + length > b.capacity()) {
      return null;
    }
    b.position(within).limit(within + (int) length);
    return b;
  }

  @Override
  public void close() {
    closed = true;
    ENGINES.remove(context.localSegmentName(), this);
    // Copies already under way finish before the engine frees the memory they touch.
    touching.awaitRelease(0, -1L, System.nanoTime() + context.transferTimeoutNanos());
    if (frames != null) {
      try {
        frames.close();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
