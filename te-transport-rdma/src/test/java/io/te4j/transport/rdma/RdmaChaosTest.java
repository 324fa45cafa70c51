package io.te4j.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.transfer.Batch;
import io.te4j.transport.rdma.soft.SoftVerbs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * RDMA.md 4.5 E: 12 threads submit batches of 128 while a seeded fault schedule fails QPs and
 * takes ports down and up; every batch completes, every byte arrives. Runs {@code
 * rdma.chaos.seconds} (10 in CI; 60 for the full run).
 */
class RdmaChaosTest {
  private static final int THREADS = 12;
  private static final int BATCH = 128;
  private static final int BLOCK = 4096;

  @Test
  void twelveThreadsOfBatchesThroughRandomFaults() throws Exception {
    long seconds = Long.getLong("rdma.chaos.seconds", 10);
    Map<String, String> settings = Map.of("te4j.rdma.portActiveDelay", "0.1");
    try (Engine a = RdmaEngines.start(settings, Duration.ofSeconds(30));
        Engine b = RdmaEngines.start(settings, Duration.ofSeconds(30))) {
      long span = (long) BATCH * BLOCK;
      long aMem = a.allocate(2 * THREADS * span).address();
      long bMem = b.allocate(THREADS * span).address();
      long end = System.nanoTime() + seconds * 1_000_000_000L;
      AtomicLong batches = new AtomicLong();
      ExecutorService pool = Executors.newFixedThreadPool(THREADS);
      List<Future<?>> runs = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        long local = aMem + 2L * t * span;
        long remote = bMem + t * span;
        Random random = new Random(t);
        runs.add(pool.submit(() -> {
          byte[] data = new byte[(int) span];
          while (System.nanoTime() < end) {
            random.nextBytes(data);
            a.write(local, data, 0, data.length);
            List<TransferRequest> writes = new ArrayList<>(BATCH);
            List<TransferRequest> reads = new ArrayList<>(BATCH);
            for (int i = 0; i < BATCH; i++) {
              writes.add(TransferRequest.write(local + (long) i * BLOCK, remote + (long) i * BLOCK, BLOCK));
              reads.add(TransferRequest.read(local + span + (long) i * BLOCK, remote + (long) i * BLOCK, BLOCK));
            }
            Batch w = a.submitAndWait(b.segmentName(), writes, "rdma");
            assertEquals(TransferState.COMPLETED, w.state(), w::errorMessage);
            Batch r = a.submitAndWait(b.segmentName(), reads, "rdma");
            assertEquals(TransferState.COMPLETED, r.state(), r::errorMessage);
            assertArrayEquals(data, a.read(local + span, data.length));
            batches.addAndGet(2);
          }
          return null;
        }));
      }
      Random faults = new Random(20261207);
      List<Nic> nics = RdmaEngines.transport(a).nics();
      int injected = 0;
      while (System.nanoTime() < end) {
        Thread.sleep(100 + faults.nextInt(200));
        Nic nic = nics.get(faults.nextInt(nics.size()));
        if (faults.nextBoolean()) {
          for (Endpoint e : nic.endpoints.values()) {
            if (e.canPost()) {
              SoftVerbs.failQp(nic.gid, e.qpNums[faults.nextInt(e.qpNums.length)]);
              injected++;
              break;
            }
          }
        } else {
          SoftVerbs.setPort(nic.gid, false); // one port at a time, back shortly
          Thread.sleep(50 + faults.nextInt(150));
          SoftVerbs.setPort(nic.gid, true);
          injected++;
        }
      }
      for (Future<?> f : runs) {
        f.get();
      }
      pool.shutdown();
      System.out.printf("RDMA chaos: %d s, %d batches of %d x %d B, %d faults injected%n", seconds,
          batches.get(), BATCH, BLOCK, injected);
      assertTrue(injected > 5, injected + " faults injected");
      assertTrue(batches.get() > THREADS, batches.get() + " batches completed");
      assertEquals(0, RdmaEngines.transport(a).inFlight(), "no slot held once all ended");
    }
  }
}
