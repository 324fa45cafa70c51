package io.te4j.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * A COMPLETED write means the bytes are in target memory: 400 writes of 2.4 MB, each checked by
 * reading the target's memory directly the moment the write completes, while three other threads
 * keep writing elsewhere.
 */
class VisibilityIT {
  private static final int SIZE = 2_400_000;

  @Test
  void completedWritesAreVisibleAtOnce() throws Exception {
    try (Engine target = Engines.tcp(); Engine initiator = Engines.tcp();
        ManagedBuffer dst = target.allocate(4L * 8 << 20);
        ManagedBuffer src = initiator.allocate(4L * 8 << 20)) {
      AtomicBoolean stop = new AtomicBoolean();
      ExecutorService noise = Executors.newFixedThreadPool(3);
      try {
        Future<?>[] noisy = new Future<?>[3];
        for (int t = 1; t <= 3; t++) {
          long off = t * (8L << 20);
          noisy[t - 1] = noise.submit(() -> {
            while (!stop.get()) {
              TransferState s = initiator.await(initiator.submit(target.segmentName(),
                  List.of(TransferRequest.write(src.address() + off, dst.address() + off, SIZE)),
                  ""));
              assertEquals(TransferState.COMPLETED, s);
            }
            return null;
          });
        }
        Random rnd = new Random(1);
        byte[] data = new byte[SIZE];
        for (int i = 0; i < 400; i++) {
          rnd.nextBytes(data);
          initiator.write(src.address(), data, 0, SIZE);
          TransferState s = initiator.await(initiator.submit(target.segmentName(),
              List.of(TransferRequest.write(src.address(), dst.address(), SIZE)), ""));
          assertEquals(TransferState.COMPLETED, s, "write " + i);
          assertArrayEquals(data, target.read(dst.address(), SIZE), "write " + i);
        }
        stop.set(true);
        for (Future<?> f : noisy) {
          f.get();
        }
      } finally {
        stop.set(true);
        noise.shutdownNow();
      }
    }
  }
}
