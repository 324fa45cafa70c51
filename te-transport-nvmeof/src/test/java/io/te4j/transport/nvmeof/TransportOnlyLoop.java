package io.te4j.transport.nvmeof;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.TransferSlice;
import io.te4j.testkit.TestContext;
import io.te4j.testkit.TestMemory;
import io.te4j.testkit.TestRegion;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * A measurement, not a test: the transport alone (no engine, no batches, no futures) keeping
 * {@code qd} random requests in flight, each slice resubmitting itself from its completion. It
 * separates the transport's own cost per I/O from the engine's, against fio's.
 *
 * <pre>java -cp ... io.te4j.transport.nvmeof.TransportOnlyLoop FILE SIZE_MIB BS QD read|write SECONDS</pre>
 */
public final class TransportOnlyLoop {
  private TransportOnlyLoop() {}

  public static void main(String[] a) throws Exception {
    String file = a[0];
    long size = Long.parseLong(a[1]) << 20;
    int bs = Integer.parseInt(a[2]);
    int qd = Integer.parseInt(a[3]);
    boolean read = a[4].equals("read");
    int seconds = Integer.parseInt(a[5]);
    TestMemory memory = new TestMemory();
    TestContext ctx = new TestContext(memory);
    for (String key : new String[] {NvmeofTransport.DIRECT_IO_SETTING,
        NvmeofTransport.IOURING_DISABLED_SETTING, NvmeofTransport.THREADS_SETTING}) {
      if (System.getProperty(key) != null) {
        ctx.set(key, System.getProperty(key));
      }
    }
    NvmeofTransport t = new NvmeofTransport(ctx);
    t.start(SegmentDescriptor.builder("h:1", "nvmeof"));
    SegmentDescriptor d = NvmeofSegments.descriptor("loop", "h", List.of(FileSpec.of(file, size)));
    TestRegion region = Fixtures.region(memory, qd * bs);
    for (int round = 0; round < 2; round++) {
      LongAdder bytes = new LongAdder();
      AtomicBoolean stop = new AtomicBoolean();
      LoopSlice[] slices = new LoopSlice[qd];
      long t0 = System.nanoTime();
      for (int i = 0; i < qd; i++) {
        slices[i] = new LoopSlice(t, read, region, region.address() + (long) i * bs, d, bs,
            size / bs, bytes, stop);
        slices[i].next();
      }
      Thread.sleep(seconds * 1000L);
      stop.set(true);
      double secs = (System.nanoTime() - t0) / 1e9;
      System.out.printf("transport only %s bs=%d qd=%d: %.1f MB/s (%s)%n", a[4], bs, qd,
          bytes.sum() / secs / 1e6, round == 0 ? "warm-up" : "measured");
      Thread.sleep(200);
    }
    t.close();
  }

  static final class LoopSlice implements TransferSlice {
    final NvmeofTransport t;
    final TransferOpcode op;
    final MemoryRegion region;
    final long local;
    final SegmentDescriptor d;
    final int bs;
    final long blocks;
    final LongAdder bytes;
    final AtomicBoolean stop;
    long offset;

    LoopSlice(NvmeofTransport t, boolean read, MemoryRegion region, long local,
        SegmentDescriptor d, int bs, long blocks, LongAdder bytes, AtomicBoolean stop) {
      this.t = t;
      this.op = read ? TransferOpcode.READ : TransferOpcode.WRITE;
      this.region = region;
      this.local = local;
      this.d = d;
      this.bs = bs;
      this.blocks = blocks;
      this.bytes = bytes;
      this.stop = stop;
    }

    void next() {
      if (!stop.get()) {
        offset = ThreadLocalRandom.current().nextLong(blocks) * bs;
        generation++;
        t.submit(this);
      }
    }

    /** Each resubmission is a new use. */
    long generation;

    @Override
    public long generation() {
      return generation;
    }

    @Override
    public TransferOpcode opcode() {
      return op;
    }

    @Override
    public long localAddress() {
      return local;
    }

    @Override
    public MemoryRegion localRegion() {
      return region;
    }

    @Override
    public long targetOffset() {
      return offset;
    }

    @Override
    public long length() {
      return bs;
    }

    @Override
    public SegmentDescriptor target() {
      return d;
    }

    @Override
    public long deadlineNanos() {
      return System.nanoTime() + 30_000_000_000L;
    }

    @Override
    public boolean complete(long g) {
      if (g != generation) {
        return false;
      }
      bytes.add(bs);
      next();
      return true;
    }

    @Override
    public boolean fail(long g, TransferState state, ErrorCode code, String message) {
      if (g != generation) {
        return false;
      }
      System.err.println("failed: " + code + " " + message);
      stop.set(true);
      return true;
    }
  }
}
