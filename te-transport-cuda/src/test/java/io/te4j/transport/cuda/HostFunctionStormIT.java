package io.te4j.transport.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The host-function callback under garbage-collection storms (CUDA.md 4.3 test 9): 20 000 host
 * functions on four streams while another thread calls {@code System.gc()} every 2 ms; every one runs,
 * in order per stream, no CUDA call is made from the runtime's thread, and the JVM is alive. A
 * callback object collected while the runtime still held its trampoline would crash it here.
 */
class HostFunctionStormIT {
  @Test
  void twentyThousandHostFunctionsThroughGcStorms() throws Exception {
    FakeCuda.assumeActive(); // counts CUDA calls from the runtime's thread (the fake can)
    CudaRuntime cuda = new JnaCudaRuntime();
    int streams = 4;
    int perStream = 5_000;
    long[] s = new long[streams];
    for (int i = 0; i < streams; i++) {
      long[] out = {0};
      assertEquals(0, cuda.streamCreateWithFlags(out, CudaLayout.STREAM_NON_BLOCKING));
      s[i] = out[0];
    }
    CountDownLatch all = new CountDownLatch(streams * perStream);
    AtomicInteger outOfOrder = new AtomicInteger();
    int[] next = new int[streams];
    Thread gc = new Thread(() -> {
      while (all.getCount() > 0) {
        System.gc();
        try {
          Thread.sleep(2);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "gc-storm");
    gc.start();
    long violationsBefore = FakeCuda.controls().tefake_violations();
    for (int k = 0; k < perStream; k++) {
      for (int i = 0; i < streams; i++) {
        int stream = i;
        int expected = k;
        long token = HostFunctions.add(() -> {
          if (next[stream]++ != expected) {
            outOfOrder.incrementAndGet();
          }
          all.countDown();
        });
        assertEquals(0, cuda.launchHostFunc(s[i], token));
      }
    }
    assertTrue(all.await(120, TimeUnit.SECONDS), all.getCount() + " host functions never ran");
    gc.join();
    for (long stream : s) {
      assertEquals(0, cuda.streamSynchronize(stream));
      assertEquals(0, cuda.streamDestroy(stream));
    }
    assertEquals(0, outOfOrder.get(), "each stream's host functions in order");
    assertEquals(0, HostFunctions.pending(), "no token left");
    assertEquals(violationsBefore, FakeCuda.controls().tefake_violations(),
        "no CUDA call from the runtime's thread");
  }
}
