package io.te4j.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.TransferSlice;
import io.te4j.testkit.TestContext;
import io.te4j.testkit.TestMemory;
import io.te4j.testkit.TestRegion;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * After warm-up, moving a slice allocates nothing on the transport's data-path threads (lane
 * sender and receiver, target worker) nor in submit: measured with the JVM's per-thread
 * allocation counters.
 */
@Timeout(60)
class HotPathAllocationTest {
  private static final long LOCAL = 0x1000_0000L;
  private static final long REMOTE = 0x2000_0000L;

  /** A slice that ends without allocating, so only the transport's allocations are counted. */
  private static final class CountingSlice implements TransferSlice {
    private final TransferOpcode opcode;
    private final MemoryRegion region;
    private final long offset;
    private final SegmentDescriptor target;
    private final AtomicInteger completed;
    private final AtomicInteger failed;
    private final CountDownLatch done;
    private final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);

    CountingSlice(TransferOpcode opcode, MemoryRegion region, long offset,
        SegmentDescriptor target, AtomicInteger completed, AtomicInteger failed,
        CountDownLatch done) {
      this.opcode = opcode;
      this.region = region;
      this.offset = offset;
      this.target = target;
      this.completed = completed;
      this.failed = failed;
      this.done = done;
    }

    @Override
    public TransferOpcode opcode() {
      return opcode;
    }

    @Override
    public long localAddress() {
      return LOCAL + offset;
    }

    @Override
    public MemoryRegion localRegion() {
      return region;
    }

    @Override
    public long targetOffset() {
      return REMOTE + offset;
    }

    @Override
    public long length() {
      return 4096;
    }

    @Override
    public SegmentDescriptor target() {
      return target;
    }

    @Override
    public long deadlineNanos() {
      return deadline;
    }

    @Override
    public long generation() {
      return 1;
    }

    @Override
    public boolean complete(long generation) {
      completed.incrementAndGet();
      done.countDown();
      return true;
    }

    @Override
    public boolean fail(long generation, TransferState state, ErrorCode code, String message) {
      failed.incrementAndGet();
      done.countDown();
      return true;
    }
  }

  private static long allocated(com.sun.management.ThreadMXBean mx, List<Thread> threads) {
    long sum = 0;
    for (Thread t : threads) {
      long b = mx.getThreadAllocatedBytes(t.getId());
      sum += Math.max(0, b);
    }
    return sum;
  }

  private static void runBatch(TcpTransport initiator, List<CountingSlice> slices,
      CountDownLatch done) throws InterruptedException {
    for (CountingSlice s : slices) {
      initiator.submit(s);
    }
    assertTrue(done.await(30, TimeUnit.SECONDS));
  }

  @Test
  void dataPathAllocatesNothingPerSlice() throws Exception {
    assertTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean);
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    assertTrue(mx.isThreadAllocatedMemorySupported(), "per-thread allocation counters");
    mx.setThreadAllocatedMemoryEnabled(true);

    TestMemory targetMemory = new TestMemory();
    targetMemory.add(REMOTE, 8 << 20, true);
    TestMemory memory = new TestMemory();
    TestRegion local = memory.add(LOCAL, 8 << 20, true);
    TestContext targetContext = new TestContext(targetMemory);
    TestContext context = new TestContext(memory);
    try (TcpTransport target = TcpTestSupport.started(targetContext);
        TcpTransport initiator = new TcpTransport(context)) {
      SegmentDescriptor d = TcpTestSupport.descriptorOf(target);
      int perBatch = 1000;
      AtomicInteger completed = new AtomicInteger();
      AtomicInteger failed = new AtomicInteger();
      // Warm-up: connections, views, JIT.
      for (int round = 0; round < 3; round++) {
        CountDownLatch done = new CountDownLatch(perBatch);
        List<CountingSlice> slices = slices(local, d, perBatch, completed, failed, done);
        runBatch(initiator, slices, done);
      }
      CountDownLatch done = new CountDownLatch(perBatch * 2);
      List<CountingSlice> slices = slices(local, d, perBatch * 2, completed, failed, done);
      List<Thread> dataThreads = new ArrayList<>();
      for (Thread t : context.threads()) {
        if (t.getName().contains("tcp-send") || t.getName().contains("tcp-recv")) {
          dataThreads.add(t);
        }
      }
      for (Thread t : targetContext.threads()) {
        if (t.getName().contains("tcp-target")) {
          dataThreads.add(t);
        }
      }
      long before = allocated(mx, dataThreads);
      long[] startBytes = new long[dataThreads.size()];
      for (int i = 0; i < startBytes.length; i++) {
        startBytes[i] = mx.getThreadAllocatedBytes(dataThreads.get(i).getId());
      }
      long submitBefore = mx.getThreadAllocatedBytes(Thread.currentThread().getId());
      for (CountingSlice s : slices) {
        initiator.submit(s);
      }
      long submitBytes = mx.getThreadAllocatedBytes(Thread.currentThread().getId()) - submitBefore;
      assertTrue(done.await(30, TimeUnit.SECONDS));
      long dataBytes = allocated(mx, dataThreads) - before;
      StringBuilder perThread = new StringBuilder();
      for (int i = 0; i < startBytes.length; i++) {
        Thread t = dataThreads.get(i);
        perThread.append("\n  ").append(t.getName()).append(": ")
            .append(mx.getThreadAllocatedBytes(t.getId()) - startBytes[i]);
      }
      assertEquals(0, failed.get());
      assertEquals(perBatch * 5, completed.get());
      // One 16-byte object per slice per thread would be 2000 * 16 * threads: far above these.
      assertTrue(submitBytes < 4096, "submit allocated " + submitBytes + " bytes for 2000 slices");
      assertTrue(dataBytes < 16 * 1024,
          "data-path threads allocated " + dataBytes + " bytes for 2000 slices:" + perThread);
    }
  }

  private static List<CountingSlice> slices(TestRegion local, SegmentDescriptor d, int n,
      AtomicInteger completed, AtomicInteger failed, CountDownLatch done) {
    List<CountingSlice> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      TransferOpcode op = (i & 1) == 0 ? TransferOpcode.WRITE : TransferOpcode.READ;
      out.add(new CountingSlice(op, local, (i % 1024) * 4096L, d, completed, failed, done));
    }
    return out;
  }
}
