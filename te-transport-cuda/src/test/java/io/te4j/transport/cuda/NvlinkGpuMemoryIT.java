package io.te4j.transport.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.BufferDescriptor;
import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferException;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.Transport;
import io.te4j.core.Engine;
import io.te4j.core.transfer.Batch;
import io.te4j.nativelib.NativeMemory;
import io.te4j.testkit.TestSlice;
import io.te4j.testkit.contract.ChildTargetPair;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * GPU memory on both sides of {@code nvlink}, two JVMs over the fake runtime: device to device on
 * each GPU, interior pointers published with their offsets, registrations whose location lies,
 * hostile handles in a peer's descriptor, injected CUDA failures, and nothing left behind.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NvlinkGpuMemoryIT {
  private static final int MIB = 1 << 20;
  private final CudaRuntime cuda = new JnaCudaRuntime();
  private ChildTargetPair pair;
  private Engine engine;
  private long remote;

  @BeforeAll
  void open() throws Exception {
    pair = CudaTargetMemory.pair();
    engine = pair.initiator();
    remote = pair.remote();
  }

  @AfterAll
  void close() throws Exception {
    if (pair != null) {
      pair.close();
    }
  }

  private long deviceMalloc(int device, long bytes) {
    assertEquals(0, cuda.setDevice(device));
    long[] p = {0};
    assertEquals(0, cuda.malloc(p, bytes), "cudaMalloc");
    assertEquals(0, cuda.setDevice(0));
    return p[0];
  }

  private void upload(long device, byte[] data) {
    com.sun.jna.Memory host = new com.sun.jna.Memory(data.length);
    host.write(0, data, 0, data.length);
    assertEquals(0, cuda.memcpyAsync(device, com.sun.jna.Pointer.nativeValue(host), data.length,
        CudaLayout.MEMCPY_HOST_TO_DEVICE, 0));
    assertEquals(0, cuda.streamSynchronize(0));
  }

  private byte[] download(long device, int n) {
    byte[] out = new byte[n];
    new CudaTargetMemory().read(device, out);
    return out;
  }

  private static long crc(byte[] b) {
    CRC32 c = new CRC32();
    c.update(b);
    return c.getValue();
  }

  private Batch run(TransferRequest r) {
    return engine.submitAndWait(pair.segment(), List.of(r), "nvlink");
  }

  @Test
  void deviceToDeviceOnEveryGpuBothWays() throws Exception {
    Random rnd = new Random(7);
    for (int device = 0; device < 2; device++) {
      long allocation = deviceMalloc(device, 4 * MIB + 4096);
      long mine = allocation + 4096; // an interior pointer, as caching allocators hand out
      engine.register(mine, 4 * MIB, "cuda:" + device, true);
      try {
        for (int n : new int[] {1, 4093, MIB + 3, 4 * MIB}) {
          byte[] data = new byte[n];
          rnd.nextBytes(data);
          upload(mine, data);
          long at = remote + 8 * MIB * device + rnd.nextInt(MIB);
          Batch w = run(TransferRequest.write(mine, at, n));
          assertEquals(TransferState.COMPLETED, w.state(), () -> w.errorMessage(0));
          assertEquals(crc(data), pair.targetCrc(at, n), "the target sees " + n + " bytes");
          upload(mine, new byte[n]);
          Batch r = run(TransferRequest.read(mine, at, n));
          assertEquals(TransferState.COMPLETED, r.state(), () -> r.errorMessage(0));
          assertArrayEquals(data, download(mine, n), "cuda:" + device + " round trip of " + n);
        }
      } finally {
        engine.unregister(mine);
        assertEquals(0, cuda.free(allocation));
      }
    }
  }

  @Test
  void buffersArePublishedWithTheirAllocationsHandleAndOffset() {
    SegmentDescriptor target = engine.segment(pair.segment());
    assertEquals("nvlink", target.protocol());
    List<BufferDescriptor> buffers = target.buffers();
    assertEquals(3, buffers.size(), "the main buffer and two adjacent ones; not the local-only one");
    Object handle = buffers.get(0).attributes().get(NvlinkTransport.SHM_NAME);
    for (BufferDescriptor b : buffers) {
      assertEquals("cuda:0", b.name());
      Object h = b.attributes().get(NvlinkTransport.SHM_NAME);
      assertTrue(h instanceof String && ((String) h).matches("[0-9A-F]{128}"), "shm_name " + h);
      assertEquals(handle, h, "one allocation, one handle");
    }
    assertNull(buffers.get(0).attributes().get(NvlinkTransport.IPC_OFFSET), "at the base: none");
    long mainLength = pair.remoteLength();
    assertEquals(mainLength + 64 * 1024,
        ((Number) buffers.get(1).attributes().get(NvlinkTransport.IPC_OFFSET)).longValue());
    assertEquals(mainLength + 128 * 1024,
        ((Number) buffers.get(2).attributes().get(NvlinkTransport.IPC_OFFSET)).longValue());
  }

  @Test
  void registrationsWhoseLocationLiesAreRefused() throws Exception {
    int before = engine.memory().regions().size();
    long allocation = deviceMalloc(0, MIB);
    long host = NativeMemory.mapAnonymous(MIB);
    try {
      assertRefused("register it as cuda:0", () -> engine.register(allocation, MIB));
      assertRefused("is not CUDA device memory",
          () -> engine.register(host, MIB, "cuda:0", true));
      assertRefused("is memory of cuda:0, registered as cuda:1",
          () -> engine.register(allocation, MIB, "cuda:1", true));
      assertRefused("does not lie inside one CUDA allocation",
          () -> engine.register(allocation + 4096, MIB, "cuda:0", true));
      assertEquals(before, engine.memory().regions().size(), "nothing stayed registered");
      if (FakeCuda.active()) {
        assertEquals(0, FakeCuda.controls().tefake_live(FakeCuda.HOST_REGISTRATIONS)
            - pinnedHostRegions(), "no pin left behind by a refusal");
      }
      engine.register(allocation, MIB, "cuda:0", true);
      engine.unregister(allocation);
    } finally {
      NativeMemory.unmap(host, MIB);
      assertEquals(0, cuda.free(allocation));
    }
  }

  /** Host regions this engine registered (each pinned once). */
  private int pinnedHostRegions() {
    int n = 0;
    for (MemoryRegion r : engine.memory().regions()) {
      n += r.kind().isHost() ? 1 : 0;
    }
    return n;
  }

  private static void assertRefused(String why, Runnable registration) {
    TransferException e = assertThrows(TransferException.class, registration::run);
    assertEquals(ErrorCode.INVALID_ARGUMENT, e.errorCode(), e.getMessage());
    assertTrue(e.getMessage().contains(why), e.getMessage());
  }

  @Test
  void hostileHandlesFailTheirSliceAndTouchNothing() throws Exception {
    SegmentDescriptor real = engine.segment(pair.segment());
    BufferDescriptor main = real.buffers().get(0);
    String handle = (String) main.attributes().get(NvlinkTransport.SHM_NAME);
    byte[] before = new byte[4096];
    new Random(3).nextBytes(before);
    long probe = remote + 40 * MIB;
    long mine = pair.local();
    engine.write(mine, before, 0, before.length);
    assertEquals(TransferState.COMPLETED, run(TransferRequest.write(mine, probe, 4096)).state());
    Map<String, Object> cases = new LinkedHashMap<>();
    cases.put("odd length", handle.substring(1));
    cases.put("not hex", "G" + handle.substring(1));
    cases.put("too long", handle + "00");
    cases.put("empty", "");
    cases.put("a number", 42);
    cases.put("garbage that is hex", "0".repeat(128));
    Transport nvlink = engine.transport("nvlink");
    MemoryRegion region = engine.memory().find(mine, 4096);
    List<String> outcomes = new ArrayList<>();
    for (Map.Entry<String, Object> c : cases.entrySet()) {
      Map<String, Object> a = new LinkedHashMap<>(main.attributes());
      a.put(NvlinkTransport.SHM_NAME, c.getValue());
      outcomes.add(c.getKey() + ": " + submitTo(nvlink, region, mine, real, main, a, probe));
    }
    Map<String, Object> none = new LinkedHashMap<>(main.attributes());
    none.remove(NvlinkTransport.SHM_NAME);
    outcomes.add("no handle: " + submitTo(nvlink, region, mine, real, main, none, probe));
    BufferDescriptor longer = new BufferDescriptor(main.name(), main.address(),
        main.length() + 64L * MIB, List.of(), List.of(), main.attributes());
    outcomes.add("a length past the allocation: " + submitTo(nvlink, region, mine, real, longer,
        main.attributes(), probe));
    Map<String, Object> negative = new LinkedHashMap<>(main.attributes());
    negative.put(NvlinkTransport.IPC_OFFSET, -4096L);
    outcomes.add("a negative offset: " + submitTo(nvlink, region, mine, real, main, negative,
        probe));
    for (String o : outcomes) {
      assertTrue(o.contains("FAILED"), o);
    }
    assertTrue(outcomes.get(5).contains("cudaIpcOpenMemHandle"), outcomes.get(5));
    assertTrue(outcomes.get(7).contains("does not lie inside the allocation"), outcomes.get(7));
    assertEquals(crc(before), pair.targetCrc(probe, 4096), "the target's bytes are unchanged");
  }

  /**
   * One slice straight to the transport, to a copy of {@code real} whose only buffer is {@code
   * buffer} with {@code attributes}; returns its outcome.
   */
  private String submitTo(Transport nvlink, MemoryRegion region, long mine, SegmentDescriptor real,
      BufferDescriptor buffer, Map<String, Object> attributes, long at) throws Exception {
    SegmentDescriptor hostile = real.toBuilder()
        .buffers(List.of(new BufferDescriptor(buffer.name(), buffer.address(), buffer.length(),
            List.of(), List.of(), attributes)))
        .build();
    nvlink.forget(real.name()); // the real descriptor's mappings go; the hostile one is mapped anew
    TestSlice slice = TestSlice.write(region, mine, hostile, at, 4096, 5_000);
    nvlink.submit(slice);
    TestSlice.Outcome o = slice.await();
    nvlink.forget(real.name());
    return o.toString();
  }

  @Test
  void aFailingCopyAndALostDeviceFailTheirTransfersAndTheEngineGoesOn() throws Exception {
    FakeCuda.assumeActive();
    long mine = pair.local();
    FakeCuda.controls().tefake_fail_next_copies(1, 2 /* cudaErrorMemoryAllocation */);
    Batch failed = run(TransferRequest.write(mine, remote, 4096));
    assertEquals(TransferState.FAILED, failed.state());
    assertEquals(ErrorCode.TRANSFER_FAILED, failed.errorCode(0));
    assertTrue(failed.errorMessage(0).contains("cudaErrorMemoryAllocation"),
        failed.errorMessage(0));
    assertEquals(TransferState.COMPLETED, run(TransferRequest.write(mine, remote, 4096)).state(),
        "the next copy works");

    FakeCuda.controls().tefake_set_jitter_us(300_000); // copies wait: the device is lost meanwhile
    try {
      Batch lost = engine.submit(pair.segment(), List.of(TransferRequest.write(mine, remote, MIB)),
          "nvlink");
      Thread.sleep(50);
      FakeCuda.controls().tefake_set_sticky(700); // cudaErrorIllegalAddress
      TransferState s = engine.await(lost);
      assertEquals(TransferState.FAILED, s, lost::toString);
      assertTrue(lost.errorMessage(0).contains("cudaErrorIllegalAddress"), lost.errorMessage(0));
    } finally {
      FakeCuda.controls().tefake_set_sticky(0);
      FakeCuda.controls().tefake_set_jitter_us(0);
    }
    Batch after = run(TransferRequest.write(mine, remote, 4096));
    assertEquals(TransferState.COMPLETED, after.state(), () -> after.errorMessage(0));
  }

  @Test
  void forgettingThePeerClosesItsMappingsAndClosingLeavesNothing() throws Exception {
    FakeCuda.assumeActive();
    assertEquals(TransferState.COMPLETED,
        run(TransferRequest.write(pair.local(), remote, 4096)).state());
    FakeCuda.Controls fake = FakeCuda.controls();
    assertTrue(fake.tefake_live(FakeCuda.IPC_MAPPINGS) > 0, "the target's buffer is mapped");
    NvlinkTransport nvlink = (NvlinkTransport) engine.transport("nvlink");
    nvlink.forget(pair.segment());
    assertEquals(0, nvlink.mappedBuffers());
    assertEquals(0, fake.tefake_live(FakeCuda.IPC_MAPPINGS), "every mapping closed");

    int streams = fake.tefake_live(FakeCuda.STREAMS);
    try (Engine second = pair.startInitiator(java.time.Duration.ofSeconds(5))) {
      long host = NativeMemory.mapAnonymous(MIB);
      second.register(host, MIB);
      Batch b = second.submitAndWait(pair.segment(),
          List.of(TransferRequest.write(host, remote, MIB)), "nvlink");
      assertEquals(TransferState.COMPLETED, b.state());
      assertTrue(fake.tefake_live(FakeCuda.STREAMS) > streams, "the second engine's streams");
    }
    assertEquals(streams, fake.tefake_live(FakeCuda.STREAMS), "its streams destroyed");
    assertEquals(0, fake.tefake_live(FakeCuda.IPC_MAPPINGS), "its mappings closed");
    assertEquals(pinnedHostRegions(), fake.tefake_live(FakeCuda.HOST_REGISTRATIONS),
        "its host memory unpinned");
    assertEquals(0, fake.tefake_violations(), "no CUDA call from a host function");
    assertFalse(nvlink.mappedBuffers() > 0);
  }

  /**
   * A slice is seen to end only once its copy let go of the mapping: forgetting the peer right
   * after a transfer closes the mapping at once, every time (the copy engine used to end the
   * slices first and release the mapping after, so a forget could find it still held).
   */
  @Test
  void aMappingIsFreeOnceTheTransferUsingItIsSeenToEnd() throws Exception {
    FakeCuda.assumeActive(); // counts the process's IPC mappings
    NvlinkTransport nvlink = (NvlinkTransport) engine.transport("nvlink");
    for (int round = 0; round < 300; round++) {
      Batch b = run(TransferRequest.write(pair.local(), remote, 4096));
      assertEquals(TransferState.COMPLETED, b.state(), () -> b.errorMessage(0));
      nvlink.forget(pair.segment());
      int r = round;
      assertEquals(0, FakeCuda.controls().tefake_live(FakeCuda.IPC_MAPPINGS),
          () -> "a mapping still open after round " + r);
    }
  }

  @Test
  void sixtyFourThreadsAtOnceOpenTheHandleOnce() throws Exception {
    FakeCuda.assumeActive(); // counts the process's IPC mappings
    NvlinkTransport nvlink = (NvlinkTransport) engine.transport("nvlink");
    nvlink.forget(pair.segment());
    assertEquals(0, FakeCuda.controls().tefake_live(FakeCuda.IPC_MAPPINGS));
    long opensBefore = FakeCuda.controls().tefake_ipc_opens();
    int threads = 64;
    java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(threads);
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(threads);
    try {
      List<java.util.concurrent.Future<TransferState>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        long at = remote + t * 4096L;
        long mine = pair.local() + t * 4096L;
        results.add(pool.submit(() -> {
          start.await();
          return run(TransferRequest.write(mine, at, 4096)).state();
        }));
      }
      for (java.util.concurrent.Future<TransferState> f : results) {
        assertEquals(TransferState.COMPLETED, f.get(60, java.util.concurrent.TimeUnit.SECONDS));
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(1, FakeCuda.controls().tefake_ipc_opens() - opensBefore,
        "the target's allocation opened once");
    assertEquals(1, FakeCuda.controls().tefake_live(FakeCuda.IPC_MAPPINGS), "one mapping");
    assertEquals(1, nvlink.mappedBuffers());
  }
}
