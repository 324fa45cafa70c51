package io.te4j.transport.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Memory;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The binding against a real GPU (tag {@code cuda}, run by the GPU check, CUDA.md section 5 G2-G4):
 * the runtime is the machine's, not the fake, and sees a device; the driver writes the CUDA 13
 * pointer attributes and no byte past them; the driver's allocation range of an interior pointer;
 * host functions run in stream order on the runtime's threads, which stay attached. On a machine
 * without a GPU every test fails, saying why.
 */
@Tag("cuda")
class CudaHardwareIT {
  private final CudaRuntime cuda = new JnaCudaRuntime();

  private static CudaProbe.Result realGpu() {
    assertFalse(FakeCuda.active(), "the GPU check binds the machine's runtime, not the fake");
    CudaProbe.Result r = CudaProbe.probe();
    assertTrue(r.available(), "no usable GPU: " + r.cause());
    return r;
  }

  @Test
  void theMachinesRuntimeSeesAGpu() {
    CudaProbe.Result r = realGpu();
    assertEquals(JnaCudaRuntime.MAJOR, r.runtimeVersion() / 1000);
    assertTrue(r.driverVersion() >= r.runtimeVersion(), "driver " + r.driverVersion()
        + " older than runtime " + r.runtimeVersion());
    assertTrue(r.gpus().get(0).unifiedAddressing(), "unified addressing");
    CudaProbe.describe(r).forEach(System.out::println);
  }

  @Test
  void theDriverWritesTheCuda13AttributesAndNothingPast() {
    realGpu();
    long[] p = {0};
    assertEquals(0, cuda.malloc(p, 4 << 20));
    try {
      Memory attributes = new Memory(CudaLayout.POINTER_ATTRIBUTES_BUFFER);
      attributes.clear();
      for (int i = CudaLayout.POINTER_ATTRIBUTES_BYTES; i < CudaLayout.POINTER_ATTRIBUTES_BUFFER;
          i++) {
        attributes.setByte(i, (byte) 0xA5);
      }
      assertEquals(0, cuda.pointerGetAttributes(Memory.nativeValue(attributes), p[0] + 4096));
      assertEquals(CudaLayout.MEMORY_DEVICE, attributes.getInt(CudaLayout.PA_TYPE));
      assertEquals(p[0] + 4096, attributes.getLong(CudaLayout.PA_DEVICE_POINTER));
      for (int i = CudaLayout.POINTER_ATTRIBUTES_BYTES; i < CudaLayout.POINTER_ATTRIBUTES_BUFFER;
          i++) {
        assertEquals((byte) 0xA5, attributes.getByte(i), "guard byte " + i);
      }
      long[] base = {0};
      long[] size = {0};
      assertEquals(0, cuda.memGetAddressRange(base, size, p[0] + 4096));
      assertEquals(p[0], base[0], "the allocation's base");
      assertTrue(size[0] >= 4 << 20, "its size " + size[0]);
    } finally {
      assertEquals(0, cuda.free(p[0]));
    }
  }

  @Test
  void hostFunctionsRunInStreamOrderOnAttachedRuntimeThreads() throws Exception {
    realGpu();
    long[] s = {0};
    assertEquals(0, cuda.streamCreateWithFlags(s, CudaLayout.STREAM_NON_BLOCKING));
    int calls = 10_000;
    Set<String> threads = ConcurrentHashMap.newKeySet();
    CountDownLatch all = new CountDownLatch(calls);
    int[] order = {0};
    boolean[] inOrder = {true};
    long start = System.nanoTime();
    for (int i = 0; i < calls; i++) {
      int expected = i;
      long token = HostFunctions.add(() -> {
        threads.add(Thread.currentThread().getName());
        inOrder[0] &= order[0]++ == expected;
        all.countDown();
      });
      assertEquals(0, cuda.launchHostFunc(s[0], token));
    }
    assertTrue(all.await(60, TimeUnit.SECONDS), "every host function ran");
    long nanos = System.nanoTime() - start;
    assertEquals(0, cuda.streamSynchronize(s[0]));
    assertEquals(0, cuda.streamDestroy(s[0]));
    assertTrue(inOrder[0], "in stream order");
    System.out.printf("host functions: %d calls, %.2f us each, runtime threads %s%n", calls,
        nanos / 1000.0 / calls, threads);
    assertTrue(threads.stream().allMatch(t -> t.startsWith("te4j-cuda-hostfn")), threads::toString);
  }
}
