package io.te4j.tests;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferState;
import io.te4j.api.spi.TransferSlice;
import io.te4j.api.spi.Transport;
import io.te4j.api.spi.TransportContext;
import io.te4j.api.spi.TransportProvider;
import io.te4j.nativelib.NativeMemory;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A transport whose peer stalls: it keeps every slice it is given, past any deadline, until the
 * test wakes the peer up; the late answer then lands in the slice's memory (a READ's data) and the
 * slice comes back. Started only when named ({@code stall}).
 */
final class StallingTransport implements Transport {
  private static final Map<String, StallingTransport> BY_SEGMENT = new ConcurrentHashMap<>();

  private final TransportContext context;
  final List<TransferSlice> held = new CopyOnWriteArrayList<>();

  private StallingTransport(TransportContext context) {
    this.context = context;
  }

  /** The instance of the engine whose segment is {@code segment}. */
  static StallingTransport of(String segment) {
    return BY_SEGMENT.get(segment);
  }

  /** The peer wakes up: each held slice's memory gets {@code value}, then the slice completes. */
  void wakeUp(byte value) {
    for (TransferSlice s : held) {
      NativeMemory.fill(s.localAddress(), s.length(), value);
      s.complete();
    }
    held.clear();
  }

  @Override
  public String name() {
    return "stall";
  }

  @Override
  public void start(SegmentDescriptor.Builder localDescriptor) {
    BY_SEGMENT.put(context.localSegmentName(), this);
  }

  @Override
  public boolean canReach(SegmentDescriptor target) {
    return true;
  }

  @Override
  public void submit(TransferSlice slice) {
    held.add(slice);
  }

  @Override
  public void close() {
    BY_SEGMENT.remove(context.localSegmentName());
    for (TransferSlice s : held) { // a closing transport hands back what it holds
      s.fail(TransferState.FAILED, ErrorCode.ENGINE_CLOSED, "stall transport closed");
    }
    held.clear();
  }

  /** {@code stall}; never started by {@code auto}. */
  public static final class Provider implements TransportProvider {
    @Override
    public String name() {
      return "stall";
    }

    @Override
    public boolean isConfigured(TransportContext context) {
      return false;
    }

    @Override
    public Transport create(TransportContext context) {
      return new StallingTransport(context);
    }
  }
}
