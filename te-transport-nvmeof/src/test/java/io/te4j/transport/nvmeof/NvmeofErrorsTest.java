package io.te4j.transport.nvmeof;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferState;
import io.te4j.testkit.TestContext;
import io.te4j.testkit.TestMemory;
import io.te4j.testkit.TestRegion;
import io.te4j.testkit.TestSlice;
import io.te4j.transport.nvmeof.Fixtures.Backend;
import io.te4j.transport.nvmeof.Fixtures.Fs;
import io.te4j.transport.nvmeof.Fixtures.Segment;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What goes wrong, and that it goes wrong cleanly: the right error code and a message that says
 * what happened, each slice ended exactly once, and no byte changed outside the request, in memory
 * or in the files.
 */
class NvmeofErrorsTest {
  private Path dir;
  private NvmeofTransport transport;
  private final TestMemory memory = new TestMemory();

  @AfterEach
  void cleanUp() {
    if (transport != null) {
      transport.close();
    }
    Fixtures.deleteTree(dir);
  }

  private Segment segment(Backend backend) throws Exception {
    dir = Fixtures.newDir(Fs.BUILD_DIR);
    transport = Fixtures.transport(new TestContext(memory), backend);
    return new Segment(dir, "err", NvmeofTransportTest.SIZES, 11);
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void aMissingFileIsDeviceNotFound(Backend backend) throws Exception {
    segment(backend);
    SegmentDescriptor d = NvmeofSegments.descriptor("missing", "elsewhere",
        List.of(FileSpec.of(dir.resolve("absent").toString(), 4096)));
    TestRegion region = Fixtures.region(memory, 4096);
    TestSlice s = TestSlice.read(region, region.address(), d, 0, 4096);
    transport.submit(s);
    TestSlice.Outcome o = s.await();
    assertEquals(ErrorCode.DEVICE_NOT_FOUND, o.code(), o::toString);
    assertTrue(o.message().contains("no entry for this host")
        && o.message().contains("127.0.0.1") && o.message().contains("does not exist"),
        o.message());
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void aPathMappedForThisHostMustExistEvenWhenFilePathDoes(Backend backend) throws Exception {
    Segment seg = segment(backend);
    SegmentDescriptor d = NvmeofSegments.descriptor("mapped-missing", "elsewhere",
        List.of(new FileSpec(seg.files.get(0).toString(), 4096,
            Map.of("127.0.0.1", dir.resolve("not-mounted").toString()))));
    TestRegion region = Fixtures.region(memory, 4096);
    TestSlice s = TestSlice.read(region, region.address(), d, 0, 4096);
    transport.submit(s);
    TestSlice.Outcome o = s.await();
    assertEquals(ErrorCode.DEVICE_NOT_FOUND, o.code(), o::toString);
    assertTrue(o.message().contains("maps this host ('127.0.0.1')"), o.message());
    assertArrayEquals(new byte[4096], region.snapshot(), "nothing was read from file_path");
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void theMachineHostNameSelectsItsLocalPath(Backend backend) throws Exception {
    Segment seg = segment(backend);
    List<String> names = transport.hostNames();
    String machine = names.get(names.size() - 1);
    SegmentDescriptor d = NvmeofSegments.descriptor("by-host-name", "server-a",
        List.of(new FileSpec("/mnt/server-a/only-there", 8192,
            Map.of("some-other-host", "/nowhere", machine, seg.files.get(2).toString()))));
    TestRegion region = Fixtures.region(memory, 8192);
    TestSlice s = TestSlice.read(region, region.address(), d, 0, 8192);
    transport.submit(s);
    assertTrue(s.await().ok(), () -> s.outcome().getNow(null) + " with host names " + names);
    assertArrayEquals(Arrays.copyOfRange(seg.model, (int) seg.starts[2],
        (int) seg.starts[2] + 8192), region.snapshot());
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void readsAndWritesPastTheSegmentEndAreRejectedUntouched(Backend backend) throws Exception {
    Segment seg = segment(backend);
    TestRegion region = Fixtures.region(memory, 1 << 16);
    byte[] before = region.snapshot();
    long total = seg.total();
    long[][] bad = {{total - 100, 200}, {total, 1}, {Long.MAX_VALUE - 10, 100}};
    for (long[] r : bad) {
      for (TransferOpcode op : TransferOpcode.values()) {
        TestSlice s =
            new TestSlice(op, region, region.address(), seg.descriptor, r[0], r[1], 30_000);
        transport.submit(s);
        TestSlice.Outcome o = s.await();
        assertEquals(ErrorCode.INVALID_ARGUMENT, o.code(), () -> op + " " + Arrays.toString(r));
        assertTrue(o.message().contains("beyond the " + total + " bytes"), o.message());
      }
    }
    assertArrayEquals(before, region.snapshot(), "memory untouched");
    assertArrayEquals(seg.model, seg.onDisk(), "files untouched");
    for (int i = 0; i < seg.files.size(); i++) {
      assertEquals(seg.sizes[i], Files.size(seg.files.get(i)), "file " + i + " not extended");
    }
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void aFileTruncatedUnderUsFailsReadsPastItsEndWithoutGarbage(Backend backend)
      throws Exception {
    Segment seg = segment(backend);
    TestRegion region = Fixtures.region(memory, 1 << 18);
    byte[] guard = new byte[1 << 18];
    new Random(12).nextBytes(guard);
    region.put(region.address(), guard);
    // Open the files first (one read), then shrink file #1 from 70,333 to 10,000 bytes.
    TestSlice first = TestSlice.read(region, region.address(), seg.descriptor, 0, 4096);
    transport.submit(first);
    assertTrue(first.await().ok());
    System.arraycopy(seg.model, 0, guard, 0, 4096);
    try (RandomAccessFile f = new RandomAccessFile(seg.files.get(1).toFile(), "rw")) {
      f.setLength(10_000);
    }
    long b = seg.starts[1];
    int local = 50_000;
    int[][] failing = {{(int) b + 5_000, 20_000}, {(int) b - 3_000, 30_000}, {(int) b + 10_000,
        1}};
    for (int[] r : failing) {
      TestSlice s = TestSlice.read(region, region.address() + local, seg.descriptor, r[0], r[1]);
      transport.submit(s);
      TestSlice.Outcome o = s.await();
      assertEquals(TransferState.FAILED, o.state(), o::toString);
      assertEquals(ErrorCode.TRANSFER_FAILED, o.code(), o::toString);
      assertTrue(o.message().contains("read past end of file")
          && o.message().contains("shorter than the segment declares"), o.message());
      byte[] now = region.snapshot();
      assertArrayEquals(Arrays.copyOfRange(guard, 0, local), Arrays.copyOfRange(now, 0, local),
          "memory before the request untouched");
      assertArrayEquals(Arrays.copyOfRange(guard, local + r[1], guard.length),
          Arrays.copyOfRange(now, local + r[1], now.length), "memory after the request untouched");
      // Whatever did arrive inside the request is real file content, never garbage.
      for (int i = 0; i < r[1]; i++) {
        long segOff = r[0] + i;
        boolean stillInFile = segOff < b + 10_000;
        if (now[local + i] != guard[local + i] && !stillInFile) {
          throw new AssertionError("byte at segment offset " + segOff + " came from nowhere");
        }
      }
      System.arraycopy(now, local, guard, local, r[1]);
    }
    // What is left of the file reads fine; so does the next file.
    TestSlice ok = TestSlice.read(region, region.address(), seg.descriptor, b, 10_000);
    transport.submit(ok);
    assertTrue(ok.await().ok(), ok.outcome().getNow(null)::toString);
    assertArrayEquals(Arrays.copyOfRange(seg.model, (int) b, (int) b + 10_000),
        region.get(region.address(), 10_000));
    TestSlice next = TestSlice.read(region, region.address(), seg.descriptor, seg.starts[2], 4096);
    transport.submit(next);
    assertTrue(next.await().ok());
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void aWriteIntoATruncatedFileChangesOnlyTheRequestedBytes(Backend backend) throws Exception {
    Segment seg = segment(backend);
    TestRegion region = Fixtures.region(memory, 4096);
    byte[] data = new byte[100];
    new Random(13).nextBytes(data);
    region.put(region.address(), data);
    TestSlice open = TestSlice.read(region, region.address() + 1000, seg.descriptor, 0, 10);
    transport.submit(open);
    assertTrue(open.await().ok());
    Path fileB = seg.files.get(1);
    try (RandomAccessFile f = new RandomAccessFile(fileB.toFile(), "rw")) {
      f.setLength(10_000);
    }
    TestSlice w =
        TestSlice.write(region, region.address(), seg.descriptor, seg.starts[1] + 20_000, 100);
    transport.submit(w);
    assertTrue(w.await().ok(), w.outcome().getNow(null)::toString);
    byte[] b = Files.readAllBytes(fileB);
    assertEquals(20_100, b.length, "the file grew to the end of the write, no further");
    assertArrayEquals(Arrays.copyOfRange(seg.model, (int) seg.starts[1],
        (int) seg.starts[1] + 10_000), Arrays.copyOfRange(b, 0, 10_000), "kept part unchanged");
    assertArrayEquals(new byte[10_000], Arrays.copyOfRange(b, 10_000, 20_000), "a hole of zeros");
    assertArrayEquals(data, Arrays.copyOfRange(b, 20_000, 20_100));
    assertArrayEquals(Arrays.copyOfRange(seg.model, 0, (int) seg.starts[1]),
        Files.readAllBytes(seg.files.get(0)), "other files untouched");
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void memoryNoLongerRegisteredIsNeverTouched(Backend backend) throws Exception {
    Segment seg = segment(backend);
    TestRegion region = Fixtures.region(memory, 8192);
    byte[] before = region.snapshot();
    memory.remove(region);
    TestSlice s = TestSlice.read(region, region.address(), seg.descriptor, 0, 8192);
    transport.submit(s);
    TestSlice.Outcome o = s.await();
    assertEquals(ErrorCode.ADDRESS_NOT_REGISTERED, o.code(), o::toString);
    assertArrayEquals(before, region.snapshot());
    TestSlice w = TestSlice.write(region, region.address(), seg.descriptor, 0, 8192);
    transport.submit(w);
    assertEquals(ErrorCode.ADDRESS_NOT_REGISTERED, w.await().code());
    assertArrayEquals(seg.model, seg.onDisk());
  }

  @ParameterizedTest
  @EnumSource(Backend.class)
  void aSliceAlreadyPastItsDeadlineTimesOutOrCompletesButEndsOnce(Backend backend)
      throws Exception {
    Segment seg = segment(backend);
    TestRegion region = Fixtures.region(memory, 4096);
    TestSlice s =
        new TestSlice(TransferOpcode.READ, region, region.address(), seg.descriptor, 0, 4096, -1);
    transport.submit(s);
    TestSlice.Outcome o = s.await();
    if (backend == Backend.FILE_CHANNEL) {
      // Checked before the first I/O step.
      assertEquals(TransferState.TIMEOUT, o.state(), o::toString);
      assertEquals(ErrorCode.TRANSFER_TIMEOUT, o.code());
    } else {
      // A fast local read may beat the deadline scan; either way it ends once.
      assertTrue(o.ok() || o.state() == TransferState.TIMEOUT, o::toString);
    }
    Thread.sleep(50); // a second end, if any, would come from the next deadline scan
    assertEquals(1, s.ends());
  }

  /** A FIFO with no writer: an io_uring read on it waits until cancelled. */
  private SegmentDescriptor hangingSegment() throws Exception {
    Path fifo = dir.resolve("fifo");
    Process p = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assertTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, "mkfifo failed");
    return NvmeofSegments.descriptor("hang", "here", List.of(FileSpec.of(fifo.toString(), 4096)));
  }

  @Test
  void aHungIoFailsAtItsDeadlineAndIsCancelled() throws Exception {
    segment(Backend.IO_URING);
    SegmentDescriptor d = hangingSegment();
    TestRegion region = Fixtures.region(memory, 4096);
    long t0 = System.nanoTime();
    TestSlice s = new TestSlice(TransferOpcode.READ, region, region.address(), d, 0, 4096, 300);
    transport.submit(s);
    TestSlice.Outcome o = s.await();
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertEquals(TransferState.TIMEOUT, o.state(), o::toString);
    assertEquals(ErrorCode.TRANSFER_TIMEOUT, o.code());
    assertTrue(ms >= 290 && ms < 2_000, "timed out at the deadline: " + ms + " ms");
    // The cancelled read released its slot: unregistering the region does not wait.
    memory.remove(region);
    long t1 = System.nanoTime();
    transport.unregistered(region);
    assertTrue(System.nanoTime() - t1 < TimeUnit.SECONDS.toNanos(1), "region idle at once");
    assertEquals(1, s.ends());
  }

  @Test
  void closeFailsInFlightIoPromptly() throws Exception {
    segment(Backend.IO_URING);
    SegmentDescriptor d = hangingSegment();
    TestRegion region = Fixtures.region(memory, 4 * 4096);
    TestSlice[] hung = new TestSlice[4];
    for (int i = 0; i < hung.length; i++) {
      hung[i] = TestSlice.read(region, region.address() + i * 4096L, d, 0, 4096);
      transport.submit(hung[i]);
    }
    Thread.sleep(50);
    for (TestSlice s : hung) {
      assertFalse(s.outcome().isDone(), "still waiting on the FIFO");
    }
    long t0 = System.nanoTime();
    transport.close();
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertTrue(ms < 1_000, "close returned promptly: " + ms + " ms");
    for (TestSlice s : hung) {
      TestSlice.Outcome o = s.outcome().getNow(null);
      assertTrue(o != null && o.code() == ErrorCode.ENGINE_CLOSED, String.valueOf(o));
      assertEquals(1, s.ends());
    }
    TestSlice after = TestSlice.read(region, region.address(), d, 0, 4096);
    transport.submit(after);
    assertEquals(ErrorCode.ENGINE_CLOSED, after.await().code());
  }

  @Test
  void unregisteringMemoryUnderAHungIoCancelsItAfterTheTransferTimeout() throws Exception {
    dir = Fixtures.newDir(Fs.BUILD_DIR);
    TestContext ctx = new TestContext(memory);
    ctx.transferTimeoutMillis(200);
    transport = Fixtures.transport(ctx, Backend.IO_URING);
    SegmentDescriptor d = hangingSegment();
    TestRegion region = Fixtures.region(memory, 4096);
    TestSlice s = TestSlice.read(region, region.address(), d, 0, 4096); // its own deadline: 30 s
    transport.submit(s);
    Thread.sleep(50);
    memory.remove(region);
    long t0 = System.nanoTime();
    transport.unregistered(region);
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertTrue(ms >= 190 && ms < 3_000, "waited the transfer timeout, then cancelled: " + ms);
    TestSlice.Outcome o = s.await();
    assertEquals(ErrorCode.TRANSFER_FAILED, o.code(), o::toString);
    assertTrue(o.message().contains("cancel"), o.message());
  }

  @Test
  void unregisteringMemoryFromACompletionCallbackWaitsWithoutStalling() throws Exception {
    Segment seg = segment(Backend.IO_URING);
    SegmentDescriptor fifo = hangingSegment();
    TestRegion hungRegion = Fixtures.region(memory, 4096);
    TestRegion quick = Fixtures.region(memory, 4096);
    // Without reaping on its own, the ring thread would wait out this timeout.
    TestContext ctx = new TestContext(memory);
    ctx.transferTimeoutMillis(60_000);
    transport.close();
    transport = Fixtures.transport(ctx, Backend.IO_URING);
    TestSlice hung = TestSlice.read(hungRegion, hungRegion.address(), fifo, 0, 4096);
    transport.submit(hung);
    java.util.concurrent.CompletableFuture<Long> unregistered =
        new java.util.concurrent.CompletableFuture<>();
    TestSlice trigger = TestSlice.read(quick, quick.address(), seg.descriptor, 0, 4096);
    java.util.concurrent.CountDownLatch inCallback = new java.util.concurrent.CountDownLatch(1);
    // Runs on the ring thread, inside complete().
    trigger.onEnd(() -> {
      inCallback.countDown();
      memory.remove(hungRegion);
      long t0 = System.nanoTime();
      transport.unregistered(hungRegion);
      unregistered.complete(System.nanoTime() - t0);
    });
    transport.submit(trigger);
    assertTrue(inCallback.await(10, TimeUnit.SECONDS));
    Thread.sleep(100);
    assertFalse(unregistered.isDone(), "waits while the read on the region is in flight");
    byte[] payload = new byte[4096];
    new Random(14).nextBytes(payload);
    try (var out = Files.newOutputStream(dir.resolve("fifo"))) {
      out.write(payload);
    }
    long waited = unregistered.get(10, TimeUnit.SECONDS);
    assertTrue(waited < TimeUnit.SECONDS.toNanos(10), "returned once the read finished");
    assertTrue(trigger.await().ok());
    assertTrue(hung.await().ok(), hung.outcome().getNow(null)::toString);
    assertArrayEquals(payload, hungRegion.snapshot());
  }

  @Test
  void closingFromACompletionCallbackFailsTheRestAndStopsTheRingThread() throws Exception {
    Segment seg = segment(Backend.IO_URING);
    SegmentDescriptor fifo = hangingSegment();
    transport.close();
    TestContext ctx = new TestContext(memory);
    transport = Fixtures.transport(ctx, Backend.IO_URING);
    TestRegion region = Fixtures.region(memory, 2 * 4096);
    TestSlice hung = TestSlice.read(region, region.address(), fifo, 0, 4096);
    transport.submit(hung);
    TestSlice trigger = TestSlice.read(region, region.address() + 4096, seg.descriptor, 0, 4096);
    NvmeofTransport t = transport;
    trigger.onEnd(t::close); // on the ring thread, inside complete()
    transport.submit(trigger);
    assertTrue(trigger.await().ok());
    TestSlice.Outcome o = hung.await();
    assertEquals(ErrorCode.ENGINE_CLOSED, o.code(), o::toString);
    assertTrue(ctx.aliveThreads(6_000).isEmpty(), "ring thread stopped");
  }
}
