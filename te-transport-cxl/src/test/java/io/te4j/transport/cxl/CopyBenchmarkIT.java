package io.te4j.transport.cxl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.nativelib.NativeMemory;
import io.te4j.testkit.contract.TargetJvm;
import io.te4j.transport.shm.CopyRoutines;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Throughput of cxl and shm transfers between two processes beside a C {@code memcpy} of the same
 * sizes in the same run (libte4jcxl's loop). Prints a table and writes it to {@code
 * <build dir>/cxl-bench.txt}; asserts only that transfers completed. Run with {@code
 * -Dtest.excludedGroups= -Dtest.groups=benchmark -Dit.test=CopyBenchmarkIT}.
 */
@Tag("benchmark")
class CopyBenchmarkIT {
  private static final long BUF = 128L << 20;
  private static final long[] SIZES = {4096, 64 << 10, 1 << 20, 64 << 20};
  private static final long TOTAL = 1L << 30;
  private static final long WARM_UP_NANOS = 500_000_000L;
  private static final long MEASURE_NANOS = 1_500_000_000L;
  private static String segment;

  @Test
  void throughputBesideMemcpy() throws Exception {
    StringBuilder out = new StringBuilder();
    out.append(String.format("%-8s %-5s %9s %12s %12s %8s %14s%n", "path", "op", "size",
        "GB/s", "memcpy GB/s", "ratio", "transfers/s"));
    long a = NativeMemory.mapAnonymous(64L << 20);
    long b = NativeMemory.mapAnonymous(64L << 20);
    NativeMemory.fill(a, 64L << 20, (byte) 1);
    NativeMemory.fill(b, 64L << 20, (byte) 2);
    double[] memcpy = new double[SIZES.length];
    for (int i = 0; i < SIZES.length; i++) {
      long iters = Math.max(4, TOTAL / SIZES[i]);
      // The same footprint as the transfers below: 256 distinct blocks, at most 64 MiB.
      long span = Math.min(64L << 20, Math.max(1, Math.min(256, (64L << 20) / SIZES[i])) * SIZES[i]);
      long ns = CopyRoutines.benchMemcpy(b, a, SIZES[i], iters, span); // also warms up
      iters = Math.max(iters, (long) (iters * (MEASURE_NANOS / (double) ns)));
      ns = CopyRoutines.benchMemcpy(b, a, SIZES[i], iters, span);
      memcpy[i] = SIZES[i] * (double) iters / ns;
    }
    NativeMemory.unmap(a, 64L << 20);
    NativeMemory.unmap(b, 64L << 20);

    Path dev = CxlFiles.device("bench", 2 * BUF + (1 << 20));
    try {
      for (boolean writeBack : new boolean[] {true, false}) {
        System.setProperty(CxlTransport.WRITEBACK, writeBack ? "1" : "0");
        try (TargetJvm t = TargetJvm.start("cxl", BUF, List.of(CxlTransport.DEV_PATH + "=" + dev,
            "memory=" + CxlTargetMemory.class.getName()), List.of());
            Engine e = CxlFiles.engine(dev, "cxl")) {
          long local = CxlFiles.base(e) + BUF + (1 << 20); // past the target's ranges
          e.register(local, BUF);
          measure(out, writeBack ? "cxl" : "cxl-nowb", e, t, local, memcpy);
        } finally {
          System.clearProperty(CxlTransport.WRITEBACK);
        }
      }
      try (TargetJvm t = TargetJvm.start("shm,tcp", BUF, List.of(), List.of());
          Engine e = Engine.builder().localHostname("127.0.0.1").metadataServer("P2PHANDSHAKE")
              .protocol("shm,tcp").transferTimeout(Duration.ofSeconds(60)).start()) {
        long local = e.allocate(BUF).address();
        measure(out, "shm", e, t, local, memcpy);
      }
    } finally {
      Files.deleteIfExists(dev);
    }
    out.append("native copies: ").append(CopyRoutines.isNativeAvailable()).append('\n');
    System.out.print(out);
    Path report = Path.of(System.getProperty("user.dir"), System.getProperty("te.build.dir",
        "target"), "cxl-bench.txt");
    Files.createDirectories(report.getParent());
    Files.writeString(report, out.toString());
  }

  private static void measure(StringBuilder out, String path, Engine e, TargetJvm t, long local,
      double[] memcpy) {
    segment = t.segment();
    for (int i = 0; i < SIZES.length; i++) {
      long size = SIZES[i];
      // Small transfers go in batches of 256 over distinct offsets (1 MiB at 4 KiB).
      int perBatch = (int) Math.max(1, Math.min(256, (64L << 20) / size));
      for (boolean write : new boolean[] {true, false}) {
        List<TransferRequest> batch = new ArrayList<>();
        for (int k = 0; k < perBatch; k++) {
          long off = (k * size) % BUF;
          batch.add(write ? TransferRequest.write(local + off, t.remote() + off, size)
              : TransferRequest.read(local + off, t.remote() + off, size));
        }
        runFor(e, batch, WARM_UP_NANOS);
        long start = System.nanoTime();
        long batches = runFor(e, batch, MEASURE_NANOS);
        long ns = System.nanoTime() - start;
        long transfers = batches * perBatch;
        double gbps = size * (double) transfers / ns;
        out.append(String.format("%-8s %-5s %9d %12.2f %12.2f %8.2f %14.0f%n", path,
            write ? "write" : "read", size, gbps, memcpy[i], gbps / memcpy[i],
            transfers * 1e9 / ns));
      }
    }
  }

  /** Submits the batch over and over for at least {@code nanos}; returns how many times. */
  private static long runFor(Engine e, List<TransferRequest> batch, long nanos) {
    String transport = e.transportNames().iterator().next();
    long start = System.nanoTime();
    long n = 0;
    do {
      io.te4j.core.transfer.Batch b = e.submit(segment, batch, transport);
      assertEquals(TransferState.COMPLETED, e.await(b));
      e.freeBatch(b.id());
      n++;
    } while (System.nanoTime() - start < nanos);
    return n;
  }
}
