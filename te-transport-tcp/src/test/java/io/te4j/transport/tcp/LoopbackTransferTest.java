package io.te4j.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferOpcode;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.testkit.TestContext;
import io.te4j.testkit.TestMemory;
import io.te4j.testkit.TestRegion;
import io.te4j.testkit.TestSlice;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Two transports in one JVM, real sockets: WRITE and READ with the bytes compared. */
@Timeout(60)
class LoopbackTransferTest {
  private static final long LOCAL = 0x1000_0000L;
  private static final long REMOTE = 0x2000_0000L;
  private static final int SIZE = 16 << 20;

  private final Random rnd = new Random(42);
  private TestRegion local;
  private TestRegion remote;
  private TcpTransport target;
  private TcpTransport initiator;
  private SegmentDescriptor peer;

  @BeforeEach
  void setUp() throws IOException {
    TestMemory targetMemory = new TestMemory();
    remote = targetMemory.add(REMOTE, SIZE, true);
    TestMemory initiatorMemory = new TestMemory();
    local = initiatorMemory.add(LOCAL, SIZE, true);
    target = TcpTestSupport.started(new TestContext(targetMemory));
    initiator = TcpTestSupport.started(
        new TestContext(initiatorMemory).set(TcpTransport.LANES_SETTING, "3"));
    peer = TcpTestSupport.descriptorOf(target);
  }

  @AfterEach
  void tearDown() {
    initiator.close();
    target.close();
  }

  private TestSlice.Outcome run(TestSlice slice) throws Exception {
    initiator.submit(slice);
    TestSlice.Outcome o = slice.await(20_000);
    assertEquals(1, slice.ends(), "ended exactly once");
    return o;
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 4096, 1 << 20, 3 << 20})
  void writeThenReadOneSlice(int n) throws Exception {
    byte[] data = TcpTestSupport.random(rnd, n);
    long src = LOCAL + 17;
    long dst = REMOTE + 4099;
    local.put(src, data);
    assertTrue(run(TestSlice.write(local, src, peer, dst, n, 20_000)).ok());
    assertArrayEquals(data, remote.get(dst, n));

    long back = LOCAL + (8 << 20) + 3;
    assertTrue(run(TestSlice.read(local, back, peer, dst, n, 20_000)).ok());
    assertArrayEquals(data, local.get(back, n));
  }

  /** As the engine does it: 1 MiB slices of one 3 MiB request, spread over the lanes. */
  @Test
  void splitRequestOverLanes() throws Exception {
    int n = 3 << 20;
    byte[] data = TcpTestSupport.random(rnd, n);
    local.put(LOCAL, data);
    long piece = 1 << 20; // the engine cuts at maxSliceBytes(); any size below it works too
    List<TestSlice> slices = new ArrayList<>();
    for (long off = 0; off < n; off += piece) {
      slices.add(TestSlice.write(local, LOCAL + off, peer, REMOTE + off, piece, 20_000));
    }
    slices.forEach(initiator::submit);
    for (TestSlice s : slices) {
      assertTrue(s.await(20_000).ok());
    }
    assertArrayEquals(data, remote.get(REMOTE, n));

    slices.clear();
    long back = LOCAL + (4 << 20);
    for (long off = 0; off < n; off += piece) {
      slices.add(TestSlice.read(local, back + off, peer, REMOTE + off, piece, 20_000));
    }
    slices.forEach(initiator::submit);
    for (TestSlice s : slices) {
      assertTrue(s.await(20_000).ok());
    }
    assertArrayEquals(data, local.get(back, n));
  }

  /** Many threads, many small slices, all lanes busy; every byte checked afterwards. */
  @Test
  void manyConcurrentSlices() throws Exception {
    int threads = 4;
    int perThread = 240; // 4 * 240 * 8 KiB fits below the read-back half at 8 MiB
    int stride = 8192;
    byte[] all = TcpTestSupport.random(rnd, threads * perThread * stride);
    local.put(LOCAL, all);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<List<TestSlice>>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        futures.add(pool.submit(() -> {
          Random r = new Random(thread);
          List<TestSlice> mine = new ArrayList<>();
          go.await();
          for (int i = 0; i < perThread; i++) {
            long off = (long) (thread * perThread + i) * stride;
            int len = 1 + r.nextInt(stride);
            TestSlice s = TestSlice.write(local, LOCAL + off, peer, REMOTE + off, len, 30_000);
            mine.add(s);
            initiator.submit(s);
          }
          return mine;
        }));
      }
      go.countDown();
      List<TestSlice> writes = new ArrayList<>();
      for (Future<List<TestSlice>> f : futures) {
        writes.addAll(f.get());
      }
      for (TestSlice s : writes) {
        TestSlice.Outcome o = s.await(30_000);
        assertTrue(o.ok(), o.toString());
        assertEquals(1, s.ends());
      }
      // Read every written range back into the upper half of local memory.
      long back = LOCAL + (8 << 20);
      List<TestSlice> reads = new ArrayList<>();
      for (TestSlice w : writes) {
        long off = w.targetOffset() - REMOTE;
        reads.add(TestSlice.read(local, back + off, peer, w.targetOffset(), w.length(), 30_000));
      }
      reads.forEach(initiator::submit);
      for (int i = 0; i < reads.size(); i++) {
        TestSlice r = reads.get(i);
        TestSlice.Outcome o = r.await(30_000);
        assertTrue(o.ok(), o.toString());
        long off = r.targetOffset() - REMOTE;
        byte[] expected = new byte[(int) r.length()];
        System.arraycopy(all, (int) off, expected, 0, expected.length);
        assertArrayEquals(expected, remote.get(r.targetOffset(), expected.length), "write " + i);
        assertArrayEquals(expected, local.get(back + off, expected.length), "read " + i);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * A range across the 1 GiB chunk boundary on both sides: the transport must move it piecewise
   * through two chunk buffers. Sparse files on tmpfs keep this cheap.
   */
  @Test
  void rangeAcrossChunkBoundary() throws Exception {
    Path dir = Files.isDirectory(Paths.get("/dev/shm")) ? Paths.get("/dev/shm")
        : Paths.get(System.getProperty("java.io.tmpdir"));
    Path file = Files.createTempFile(dir, "te4j-tcp-chunks", ".bin");
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      long gib = MemoryRegion.CHUNK_SIZE;
      int tail = 1 << 20;
      raf.setLength(2 * (gib + tail));
      FileChannel fc = raf.getChannel();
      ByteBuffer[] targetChunks = {
          fc.map(FileChannel.MapMode.READ_WRITE, 0, gib),
          fc.map(FileChannel.MapMode.READ_WRITE, gib, tail)};
      ByteBuffer[] localChunks = {
          fc.map(FileChannel.MapMode.READ_WRITE, gib + tail, gib),
          fc.map(FileChannel.MapMode.READ_WRITE, 2 * gib + tail, tail)};
      long bigRemote = 0x40_0000_0000L;
      long bigLocal = 0x80_0000_0000L;
      TestMemory targetMemory = new TestMemory();
      TestRegion bigTarget = targetMemory.add(new TestRegion(bigRemote, targetChunks, true));
      TestMemory initiatorMemory = new TestMemory();
      TestRegion bigSource = initiatorMemory.add(new TestRegion(bigLocal, localChunks, true));
      try (TcpTransport t = TcpTestSupport.started(new TestContext(targetMemory));
          TcpTransport i = TcpTestSupport.started(new TestContext(initiatorMemory))) {
        SegmentDescriptor d = TcpTestSupport.descriptorOf(t);
        int n = 256 << 10;
        byte[] data = TcpTestSupport.random(rnd, n);
        long src = bigLocal + gib - 100_000; // crosses the local boundary
        long dst = bigRemote + gib - 200_000; // crosses the remote boundary elsewhere
        bigSource.put(src, data);
        TestSlice w = TestSlice.write(bigSource, src, d, dst, n, 20_000);
        i.submit(w);
        assertTrue(w.await(20_000).ok());
        assertArrayEquals(data, bigTarget.get(dst, n));
        long back = bigLocal + gib - 50_000;
        TestSlice r = new TestSlice(TransferOpcode.READ, bigSource, back, d, dst, n, 20_000);
        i.submit(r);
        assertTrue(r.await(20_000).ok());
        assertArrayEquals(data, bigSource.get(back, n));
      }
    } finally {
      Files.deleteIfExists(file);
    }
  }
}
