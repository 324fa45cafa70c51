package io.te4j.transport.nvmeof;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.te4j.api.TransferRequest;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * A measurement, not a test: the engine with the nvmeof transport against fio on the same file,
 * same block size, same queue depth, O_DIRECT, io_uring, random offsets, in one run, alternating.
 *
 * <p>The engine side keeps {@code qd} single-request batches in flight from one thread, each
 * resubmitted from its completion, as fio keeps {@code iodepth} I/Os in flight.
 *
 * <pre>
 * java -cp ... io.te4j.transport.nvmeof.NvmeofFioComparison FILE [SIZE_MIB=1024] [SECONDS=5]
 *     [ROUNDS=3]
 * </pre>
 */
public final class NvmeofFioComparison {
  private NvmeofFioComparison() {}

  public static void main(String[] args) throws Exception {
    Path file = Path.of(args[0]);
    long size = (args.length > 1 ? Long.parseLong(args[1]) : 1024) << 20;
    int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
    if (!Files.exists(file) || Files.size(file) < size) {
      System.err.println("filling " + file + " with " + (size >> 20) + " MiB");
      fio(file, "write", 1 << 20, 8, size, 0);
    }
    // -Dcmp.bs=4096,131072 -Dcmp.qd=32 -Dcmp.ops=read narrow the table down.
    int[] blocks = ints(System.getProperty("cmp.bs", "4096,131072,1048576"));
    int[] depths = ints(System.getProperty("cmp.qd", "1,32"));
    String[] ops = System.getProperty("cmp.ops", "read,write").split(",");
    List<String> rows = new ArrayList<>();
    rows.add(String.format(Locale.ROOT, "| %-5s | %-6s | %-2s | %12s | %12s | %6s | %10s | %10s |",
        "op", "bs", "qd", "fio MB/s", "te MB/s", "te/fio", "fio IOPS", "te IOPS"));
    rows.add("|-------|--------|----|--------------|--------------|--------|------------|------------|");
    try (Engine engine = Engine.builder().localHostname("127.0.0.1")
        .metadataServer("P2PHANDSHAKE").protocol("nvmeof").start()) {
      Fixtures.publish(engine, "fio-cmp", List.of(FileSpec.of(file.toString(), size)));
      // Warm-up: JIT and the file's metadata.
      te(engine, "read", 4096, 32, size, 2);
      te(engine, "write", 4096, 32, size, 2);
      for (String op : ops) {
        for (int bs : blocks) {
          for (int qd : depths) {
            // Alternating, so drift of the shared machine hits both alike; medians reported.
            double[] fs = new double[rounds];
            double[] ts = new double[rounds];
            for (int i = 0; i < rounds; i++) {
              if (i % 2 == 0) {
                fs[i] = fio(file, "rand" + op, bs, qd, size, seconds);
                ts[i] = te(engine, op, bs, qd, size, seconds);
              } else {
                ts[i] = te(engine, op, bs, qd, size, seconds);
                fs[i] = fio(file, "rand" + op, bs, qd, size, seconds);
              }
            }
            double f = median(fs);
            double t = median(ts);
            String row = String.format(Locale.ROOT,
                "| %-5s | %-6s | %-2d | %12.1f | %12.1f | %6.2f | %10.0f | %10.0f |", op,
                bs >= 1 << 20 ? (bs >> 20) + "M" : (bs >> 10) + "K", qd, f / 1e6, t / 1e6, t / f,
                f / bs, t / bs);
            System.err.println(row + "   (fio " + all(fs) + ", te " + all(ts) + ")");
            rows.add(row);
          }
        }
      }
    }
    System.out.println(String.join("\n", rows));
  }

  private static String all(double[] bytesPerSec) {
    StringBuilder sb = new StringBuilder();
    for (double v : bytesPerSec) {
      sb.append(sb.length() == 0 ? "" : "/").append(String.format(Locale.ROOT, "%.0f", v / 1e6));
    }
    return sb.toString();
  }

  private static int[] ints(String csv) {
    return java.util.Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    java.util.Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  /** Bytes per second fio reports for one job ({@code seconds} 0: a plain sequential fill). */
  public static double fio(Path file, String rw, int bs, int qd, long size, int seconds)
      throws Exception {
    List<String> cmd = new ArrayList<>(List.of("fio", "--name=cmp", "--filename=" + file,
        "--rw=" + rw, "--bs=" + bs, "--iodepth=" + qd, "--ioengine=io_uring", "--direct=1",
        "--size=" + size, "--numjobs=1", "--output-format=json", "--randrepeat=0"));
    if (seconds > 0) {
      cmd.add("--runtime=" + seconds);
      cmd.add("--time_based");
    }
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(seconds + 600L, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("fio failed: " + out);
    }
    JsonNode job = new ObjectMapper().readTree(out.substring(out.indexOf('{'))).get("jobs")
        .get(0);
    return job.get(rw.contains("read") ? "read" : "write").get("bw_bytes").asDouble();
  }

  /** Bytes per second the engine moves keeping {@code qd} random {@code bs} requests in flight. */
  public static double te(Engine engine, String op, int bs, int qd, long size, int seconds)
      throws Exception {
    boolean read = op.equals("read");
    long blocks = size / bs;
    LongAdder bytes = new LongAdder();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    CountDownLatch drained = new CountDownLatch(qd);
    try (ManagedBuffer local = engine.allocate((long) qd * bs)) {
      long t0 = System.nanoTime();
      for (int i = 0; i < qd; i++) {
        long addr = local.address() + (long) i * bs;
        issue(engine, read, addr, bs, blocks, bytes, stop, failure, drained);
      }
      Thread.sleep(seconds * 1000L);
      stop.set(true);
      long moved = bytes.sum();
      double elapsed = (System.nanoTime() - t0) / 1e9;
      if (!drained.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("requests did not drain");
      }
      if (failure.get() != null) {
        throw new IllegalStateException("transfer failed", failure.get());
      }
      return moved / elapsed;
    }
  }

  private static void issue(Engine engine, boolean read, long addr, int bs, long blocks,
      LongAdder bytes, AtomicBoolean stop, AtomicReference<Throwable> failure,
      CountDownLatch drained) {
    if (stop.get() || failure.get() != null) {
      drained.countDown();
      return;
    }
    long offset = ThreadLocalRandom.current().nextLong(blocks) * bs;
    TransferRequest r = read ? TransferRequest.read(addr, offset, bs)
        : TransferRequest.write(addr, offset, bs);
    engine.transfer("nvmeof/fio-cmp", List.of(r)).whenComplete((v, e) -> {
      if (e != null) {
        failure.compareAndSet(null, e);
      } else {
        bytes.add(bs);
      }
      issue(engine, read, addr, bs, blocks, bytes, stop, failure, drained);
    });
  }
}
