package io.te4j.core.transfer;

import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferRequest;
import io.te4j.api.spi.TransferSlice;
import io.te4j.api.spi.Transport;
import io.te4j.core.memory.MemoryRegistryImpl;
import io.te4j.nativelib.NativeMemory;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * A batch table, one registered region and a transport that keeps every slice it is handed and
 * ends nothing by itself: the test plays out the slices' ends step by step.
 */
abstract class HeldSlicesTestBase {
  static final long LENGTH = 1 << 16;

  /** Holds every slice it gets. */
  static final class HoldingTransport implements Transport {
    final List<TransferSlice> held = new CopyOnWriteArrayList<>();

    @Override
    public String name() {
      return "holding";
    }

    @Override
    public void start(SegmentDescriptor.Builder localDescriptor) {}

    @Override
    public boolean canReach(SegmentDescriptor target) {
      return true;
    }

    @Override
    public void submit(TransferSlice slice) {
      held.add(slice);
    }

    /** It keeps what it is handed, a request's stream too. */
    @Override
    public boolean ordersOnStreams() {
      return true;
    }

    @Override
    public void close() {}
  }

  final MemoryRegistryImpl memory = new MemoryRegistryImpl();
  final BatchTable batches = new BatchTable();
  final HoldingTransport transport = new HoldingTransport();
  final SegmentDescriptor target = SegmentDescriptor.builder("peer", "holding").build();
  long address;

  @BeforeEach
  void register() {
    address = NativeMemory.mapAnonymous(LENGTH);
    memory.register(address, LENGTH, "cpu:0", true);
  }

  @AfterEach
  void unregister() {
    memory.unregister(address);
    NativeMemory.unmap(address, LENGTH);
  }

  /** A batch of {@code requests} to the holding transport, with a 30 s deadline. */
  Batch submit(TransferRequest... requests) {
    return batches.submit("peer", target, (t, hint, regions, n) -> transport, "",
        List.of(requests), memory, TimeUnit.SECONDS.toNanos(30));
  }
}
