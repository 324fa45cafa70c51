package io.te4j.transport.nvmeof;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferOpcode;
import io.te4j.api.spi.Backpressure;
import io.te4j.testkit.TestContext;
import io.te4j.testkit.TestMemory;
import io.te4j.testkit.TestRegion;
import io.te4j.testkit.TestSlice;
import io.te4j.transport.nvmeof.Fixtures.Backend;
import io.te4j.transport.nvmeof.Fixtures.Fs;
import io.te4j.transport.nvmeof.Fixtures.Segment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bytes through a segment of three files of unequal sizes, on both data paths and on both file
 * systems: whole-segment write and read back, requests straddling file boundaries, and 1,000
 * random aligned and unaligned requests checked against a reference copy in memory.
 */
class NvmeofTransportTest {
  /** Unequal, and not all multiples of the block size: file boundaries fall mid-block. */
  static final long[] SIZES = {1_048_576 + 3 * 512, 70_000 + 333, 2_097_152};

  private Path dir;
  private NvmeofTransport transport;
  private Segment depthSegment; // made by depthFourReads
  private TestRegion depthRegion;

  static Stream<Arguments> combos() {
    List<Arguments> out = new ArrayList<>();
    for (Backend b : Backend.values()) {
      for (Fs fs : Fs.values()) {
        out.add(Arguments.of(b, fs));
      }
    }
    return out.stream();
  }

  @AfterEach
  void cleanUp() {
    if (transport != null) {
      transport.close();
    }
    Fixtures.deleteTree(dir);
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("combos")
  void writeThenReadBackTheWholeSegment(Backend backend, Fs fs) throws Exception {
    dir = Fixtures.newDir(fs);
    Segment seg = new Segment(dir, "whole", SIZES, 1);
    TestMemory memory = new TestMemory();
    transport = Fixtures.transport(new TestContext(memory), backend);
    int total = (int) seg.total();
    TestRegion src = Fixtures.region(memory, total);
    TestRegion dst = Fixtures.region(memory, total);
    byte[] data = new byte[total];
    new Random(2).nextBytes(data);
    src.put(src.address(), data);

    // 256 KiB slices: several of them straddle the file boundaries.
    List<TestSlice> writes = new ArrayList<>();
    for (int off = 0; off < total; off += 256 << 10) {
      int len = Math.min(256 << 10, total - off);
      writes.add(TestSlice.write(src, src.address() + off, seg.descriptor, off, len));
    }
    submitAll(writes);
    assertArrayEquals(data, seg.onDisk(), "files hold what was written");

    List<TestSlice> reads = new ArrayList<>();
    for (int off = 0; off < total; off += 256 << 10) {
      int len = Math.min(256 << 10, total - off);
      reads.add(TestSlice.read(dst, dst.address() + off, seg.descriptor, off, len));
    }
    submitAll(reads);
    assertArrayEquals(data, dst.snapshot(), "read back what was written");
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("combos")
  void requestsStraddlingFileBoundariesBecomeOneIoPerFile(Backend backend, Fs fs)
      throws Exception {
    dir = Fixtures.newDir(fs);
    Segment seg = new Segment(dir, "straddle", SIZES, 3);
    TestMemory memory = new TestMemory();
    transport = Fixtures.transport(new TestContext(memory), backend);
    TestRegion region = Fixtures.region(memory, 1 << 20);
    byte[] fill = new byte[1 << 20];
    new Random(4).nextBytes(fill);
    region.put(region.address(), fill);

    long ab = seg.starts[1];
    long bc = seg.starts[2];
    long[][] ranges = {
      {ab - 1000, 5000}, // A | B
      {bc - 4096, 8192}, // B | C, block aligned in memory
      {ab - 10, bc - ab + 20}, // A | all of B | C
      {0, 1}, // first byte
      {seg.total() - 1, 1}, // last byte
    };
    int local = 0;
    for (long[] r : ranges) {
      TestSlice w = TestSlice.write(region, region.address() + local, seg.descriptor, r[0], r[1]);
      transport.submit(w);
      assertTrue(w.await().ok(), () -> "write " + Arrays.toString(r) + ": " + outcome(w));
      System.arraycopy(fill, local, seg.model, (int) r[0], (int) r[1]);
      local += (int) r[1] + 7;
    }
    assertArrayEquals(seg.model, seg.onDisk(), "files changed exactly where written");

    TestRegion back = Fixtures.region(memory, 1 << 20);
    local = 0;
    for (long[] r : ranges) {
      TestSlice rd = TestSlice.read(back, back.address() + local, seg.descriptor, r[0], r[1]);
      transport.submit(rd);
      assertTrue(rd.await().ok(), () -> "read " + Arrays.toString(r) + ": " + outcome(rd));
      assertArrayEquals(Arrays.copyOfRange(seg.model, (int) r[0], (int) (r[0] + r[1])),
          back.get(back.address() + local, (int) r[1]), () -> "read " + Arrays.toString(r));
      local += (int) r[1] + 7;
    }
  }

  /**
   * O_DIRECT only for whole pages: a write of 512-byte blocks goes through the page cache even
   * where the file system takes direct I/O of that alignment, since another slice in flight may
   * write other bytes of the same page buffered (and its dirty page would be written back over
   * the direct write's bytes).
   */
  @Test
  void directIoCoversWholePagesOnly() throws Exception {
    dir = Fixtures.newDir(Fs.BUILD_DIR);
    Segment seg = new Segment(dir, "pages", SIZES, 9);
    TestMemory memory = new TestMemory();
    transport = Fixtures.transport(new TestContext(memory), Backend.IO_URING);
    TestRegion region = Fixtures.region(memory, 1 << 20);
    long[][] writes = {{512, 512, 0}, {8192 + 1024, 2048, 0}, {4096, 4096, 1}, {16384, 8192, 1}};
    for (long[] w : writes) {
      long direct = transport.directIos();
      long buffered = transport.bufferedIos();
      TestSlice slice = TestSlice.write(region, region.address(), seg.descriptor, w[0], w[1]);
      transport.submit(slice);
      assertTrue(slice.await().ok(), () -> outcome(slice));
      assertEquals(w[2], transport.directIos() - direct, "direct I/Os for " + Arrays.toString(w));
      assertEquals(1 - w[2], transport.bufferedIos() - buffered,
          "buffered I/Os for " + Arrays.toString(w));
      System.arraycopy(region.get(region.address(), (int) w[1]), 0, seg.model, (int) w[0],
          (int) w[1]);
    }
    assertArrayEquals(seg.model, seg.onDisk());
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("combos")
  void thousandRandomRequestsMatchAReferenceCopy(Backend backend, Fs fs) throws Exception {
    dir = Fixtures.newDir(fs);
    Segment seg = new Segment(dir, "random", SIZES, 5);
    TestMemory memory = new TestMemory();
    transport = Fixtures.transport(new TestContext(memory), backend);
    int regionSize = 4 << 20;
    TestRegion region = Fixtures.region(memory, regionSize);
    byte[] regionModel = new byte[regionSize];
    Random rnd = new Random(6);
    rnd.nextBytes(regionModel);
    region.put(region.address(), regionModel);
    int total = (int) seg.total();

    int requests = 0;
    int aligned = 0;
    while (requests < 1000) {
      // A wave of requests that overlap neither in the segment nor in memory, all in flight.
      List<int[]> wave = new ArrayList<>();
      for (int tries = 0; tries < 64 && wave.size() < 16 && requests + wave.size() < 1000;
          tries++) {
        boolean isAligned = rnd.nextBoolean();
        int off;
        int len;
        int local;
        if (isAligned) {
          // Whole pages, or 512-byte blocks that share pages with the other requests in flight.
          int unit = rnd.nextBoolean() ? 4096 : 512;
          len = unit * (1 + rnd.nextInt(64));
          off = unit * rnd.nextInt((total - len) / unit);
          local = 4096 * rnd.nextInt((regionSize - len) / 4096);
        } else {
          len = 1 + rnd.nextInt(200_000);
          off = rnd.nextInt(total - len);
          local = rnd.nextInt(regionSize - len);
        }
        int op = rnd.nextInt(2);
        int[] req = {op, off, len, local, isAligned ? 1 : 0};
        if (wave.stream().noneMatch(o -> overlaps(o[1], o[2], off, len)
            || overlaps(o[3], o[2], local, len))) {
          wave.add(req);
        }
      }
      List<TestSlice> slices = new ArrayList<>();
      for (int[] q : wave) {
        slices.add(new TestSlice(q[0] == 0 ? TransferOpcode.READ : TransferOpcode.WRITE, region,
            region.address() + q[3], seg.descriptor, q[1], q[2], 30_000));
      }
      submitAll(slices);
      for (int[] q : wave) {
        if (q[0] == 0) {
          System.arraycopy(seg.model, q[1], regionModel, q[3], q[2]);
        } else {
          System.arraycopy(regionModel, q[3], seg.model, q[1], q[2]);
        }
        aligned += q[4];
      }
      assertArrayEquals(regionModel, region.snapshot(),
          "memory holds exactly what the reads brought (nothing outside them changed)");
      requests += wave.size();
    }
    assertTrue(aligned > 300 && aligned < 700, "mix of aligned and unaligned: " + aligned);
    assertArrayEquals(seg.model, seg.onDisk(), "files changed exactly where written");
    if (backend == Backend.IO_URING) {
      assertTrue(transport.directIos() > 0, "aligned requests used O_DIRECT");
      assertTrue(transport.bufferedIos() > 0, "unaligned requests used the page cache");
    } else {
      assertEquals(0, transport.directIos());
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void aThousandSlicesInFlightAtOnce(Backend backend) throws Exception {
    dir = Fixtures.newDir(Fs.TMPFS);
    Segment seg = new Segment(dir, "burst", SIZES, 7);
    TestMemory memory = new TestMemory();
    transport = Fixtures.transport(new TestContext(memory), backend);
    TestRegion region = Fixtures.region(memory, 1000 * 1024);
    List<TestSlice> reads = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      reads.add(
          TestSlice.read(region, region.address() + i * 1024L, seg.descriptor, i * 3001L, 1024));
    }
    submitAll(reads);
    for (int i = 0; i < 1000; i++) {
      assertArrayEquals(Arrays.copyOfRange(seg.model, i * 3001, i * 3001 + 1024),
          region.get(region.address() + i * 1024, 1024), "slice " + i);
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void moreSlicesThanTheQueueDepthWaitForRoom(Backend backend) throws Exception {
    List<TestSlice> reads = depthFourReads(backend);
    reads.forEach(transport::submit); // an application thread: waits for free slots
    for (int i = 0; i < reads.size(); i++) {
      TestSlice.Outcome o = reads.get(i).await();
      assertTrue(o.ok(), o::toString);
      assertArrayEquals(Arrays.copyOfRange(depthSegment.model, i * 4096, i * 4096 + 4096),
          depthRegion.get(depthRegion.address() + i * 4096, 4096));
      assertEquals(1, reads.get(i).ends(), "ended exactly once");
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void onATransportThreadMoreSlicesThanTheQueueDepthFailCleanly(Backend backend)
      throws Exception {
    List<TestSlice> reads = depthFourReads(backend);
    // A completion callback runs on a transport thread: there a full table refuses at once.
    Thread callback = Backpressure.transportThreads(Thread::new)
        .newThread(() -> reads.forEach(transport::submit));
    callback.start();
    callback.join(30_000);
    int ok = 0;
    for (int i = 0; i < reads.size(); i++) {
      TestSlice s = reads.get(i);
      TestSlice.Outcome o = s.await();
      if (o.ok()) {
        ok++;
        assertArrayEquals(Arrays.copyOfRange(depthSegment.model, i * 4096, i * 4096 + 4096),
            depthRegion.get(depthRegion.address() + i * 4096, 4096));
      } else {
        assertEquals(ErrorCode.TOO_MANY_REQUESTS, o.code(), o::toString);
      }
    }
    assertTrue(ok >= 4, "at least a queue's worth completed: " + ok);
    for (TestSlice s : reads) {
      assertEquals(1, s.ends(), "ended exactly once");
    }
  }

  /** 256 reads of 4 KiB through a transport whose table holds 4. */
  private List<TestSlice> depthFourReads(Backend backend) throws Exception {
    dir = Fixtures.newDir(Fs.TMPFS);
    depthSegment = new Segment(dir, "depth", SIZES, 8);
    TestMemory memory = new TestMemory();
    TestContext ctx = new TestContext(memory).set(NvmeofTransport.QUEUE_DEPTH_SETTING, "4");
    transport = Fixtures.transport(ctx, backend);
    depthRegion = Fixtures.region(memory, 256 * 4096);
    List<TestSlice> reads = new ArrayList<>();
    for (int i = 0; i < 256; i++) {
      reads.add(
          TestSlice.read(depthRegion, depthRegion.address() + i * 4096L, depthSegment.descriptor,
              i * 4096L, 4096));
    }
    return reads;
  }

  private static boolean overlaps(int a, int alen, int b, int blen) {
    return a < b + blen && b < a + alen;
  }

  private void submitAll(List<TestSlice> slices) throws Exception {
    slices.forEach(transport::submit);
    for (TestSlice s : slices) {
      TestSlice.Outcome o = s.await();
      assertTrue(o.ok(), o::toString);
      assertEquals(1, s.ends(), "ended exactly once");
    }
  }

  private static String outcome(TestSlice s) {
    return s.outcome().getNow(null) + "";
  }
}
