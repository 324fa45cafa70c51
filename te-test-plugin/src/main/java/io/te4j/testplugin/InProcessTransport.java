package io.te4j.testplugin;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.MemoryRegistry;
import io.te4j.api.spi.TransferSlice;
import io.te4j.api.spi.Transport;
import io.te4j.api.spi.TransportContext;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Copies between engines of one JVM, through the registered memory each engine exposes. Written
 * against te-api alone, as a third party would write a transport; it checks the target range
 * against the target's registered, remote-accessible memory like every transport must.
 */
public final class InProcessTransport implements Transport {
  static final String NAME = "inproc";
  private static final ConcurrentHashMap<String, MemoryRegistry> ENGINES = new ConcurrentHashMap<>();

  private final TransportContext context;

  InProcessTransport(TransportContext context) {
    this.context = context;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void start(SegmentDescriptor.Builder localDescriptor) {
    ENGINES.put(context.localSegmentName(), context.memory());
    localDescriptor.attribute("inproc_jvm", ProcessHandle.current().pid());
  }

  @Override
  public boolean canReach(SegmentDescriptor target) {
    return ENGINES.containsKey(target.name());
  }

  @Override
  public void submit(TransferSlice slice) {
    MemoryRegistry remote = ENGINES.get(slice.target().name());
    MemoryRegion region = remote == null ? null : remote.find(slice.targetOffset(), slice.length());
    if (region == null || !region.remoteAccessible() || slice.length() > Integer.MAX_VALUE) {
      slice.fail(TransferState.FAILED, ErrorCode.ADDRESS_NOT_REGISTERED,
          "target range not registered at " + slice.target().name());
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
    ENGINES.remove(context.localSegmentName(), context.memory());
  }
}
