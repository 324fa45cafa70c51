package io.te4j.tests;

import io.te4j.api.BufferDescriptor;
import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferException;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.TransferSlice;
import io.te4j.api.spi.Transport;
import io.te4j.api.spi.TransportContext;
import io.te4j.api.spi.TransportProvider;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A transport that moves nothing and records what the engine asks of it about memory: it attaches
 * a handle of its own to each region it is given, publishes the handle's key, checks every slice
 * carries its region's handle, and refuses regions whose location is {@code refuse:<its name>}.
 * Two providers, {@code rec-a} and {@code rec-b}, so that an engine runs it twice.
 */
final class RecordingTransport implements Transport {
  /** What a transport keeps per registered region (an RDMA memory region, say). */
  record Handle(String transport, long address, int key) {}

  private static final Map<String, RecordingTransport> BY_ENGINE = new LinkedHashMap<>();
  private static int nextKey = 1;

  final String name;
  final TransportContext context;
  /**
   * "+address" registered, "-address" let go, "slice address" a slice with its handle, "forget
   * segment" a peer's descriptor changed or it went away.
   */
  final List<String> log = new CopyOnWriteArrayList<>();

  RecordingTransport(String name, TransportContext context) {
    this.name = name;
    this.context = context;
  }

  /** The instance named {@code name} of the engine whose segment is {@code segment}. */
  static synchronized RecordingTransport of(String segment, String name) {
    return BY_ENGINE.get(segment + "/" + name);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void start(SegmentDescriptor.Builder localDescriptor) {
    synchronized (RecordingTransport.class) {
      BY_ENGINE.put(context.localSegmentName() + "/" + name, this);
    }
    // A field of its own, published again later (see RegistrationHandlesIT): this first edit
    // comes before the engine publishes anything.
    context.republish(b -> b.attribute(name + "_epoch", 1));
  }

  @Override
  public Object register(MemoryRegion region) {
    if (region.location().equals("refuse:" + name)) {
      throw new TransferException(ErrorCode.MEMORY, name + " refuses 0x"
          + Long.toHexString(region.address()));
    }
    log.add("+" + Long.toHexString(region.address()));
    synchronized (RecordingTransport.class) {
      return new Handle(name, region.address(), nextKey++);
    }
  }

  @Override
  public BufferDescriptor describe(MemoryRegion region, BufferDescriptor base) {
    Handle h = (Handle) region.attachment(context.registrationSlot());
    Map<String, Object> attrs = new LinkedHashMap<>(base.attributes());
    attrs.put(name + "_key", h.key());
    return new BufferDescriptor(base.name(), base.address(), base.length(), base.remoteKeys(),
        base.localKeys(), attrs);
  }

  @Override
  public void unregistered(MemoryRegion region) {
    log.add("-" + Long.toHexString(region.address()));
  }

  @Override
  public boolean canReach(SegmentDescriptor target) {
    return true;
  }

  /** Completes a slice whose region carries this transport's handle for it; fails any other. */
  @Override
  public void submit(TransferSlice slice) {
    Object h = slice.localRegion().attachment(context.registrationSlot());
    if (h instanceof Handle && ((Handle) h).transport().equals(name)
        && ((Handle) h).address() == slice.localRegion().address()) {
      log.add("slice " + Long.toHexString(slice.localAddress()));
      slice.complete();
    } else {
      slice.fail(TransferState.FAILED, ErrorCode.TRANSFER_FAILED, "no handle: " + h);
    }
  }

  @Override
  public void forget(String segmentName) {
    log.add("forget " + segmentName);
  }

  @Override
  public void close() {}

  /** Found by ServiceLoader; started only when named (never by {@code auto}). */
  abstract static class Provider implements TransportProvider {
    @Override
    public boolean isConfigured(TransportContext context) {
      return false;
    }

    @Override
    public Transport create(TransportContext context) {
      return new RecordingTransport(name(), context);
    }
  }

  /** {@code rec-a}. */
  public static final class ProviderA extends Provider {
    @Override
    public String name() {
      return "rec-a";
    }
  }

  /** {@code rec-b}. */
  public static final class ProviderB extends Provider {
    @Override
    public String name() {
      return "rec-b";
    }
  }
}
