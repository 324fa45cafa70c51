package io.te4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.core.transfer.Batch;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code te bench}: the counterpart of the reference's {@code transfer_engine_bench}. A target
 * serves a buffer; an initiator moves blocks to or from it in batches from several threads and
 * reports throughput, transfers per second and batch latency. With no {@code --mode} it runs both:
 * the target in a child JVM, the initiator here, on loopback with P2P metadata, and measures the
 * baselines (a raw Java socket copy, iperf3 when installed) in the same run.
 */
final class BenchCommand {
  static final Set<String> OPTIONS = Set.of("mode", "operation", "protocol", "metadata-server",
      "local-server-name", "segment-id", "block-size", "batch-size", "threads", "duration",
      "buffer-size", "baseline", "report-interval", "segment-file");
  static final Set<String> FLAGS = Set.of("json", "exit-on-stdin-eof");

  private final Options o;
  private final PrintStream out;
  private final PrintStream err;

  BenchCommand(Options options, PrintStream out, PrintStream err) {
    this.o = options;
    this.out = out;
    this.err = err;
  }

  int run() throws Exception {
    if (o.has("segment-file")) {
      // An NVMe-oF file segment needs no target process: this engine publishes it (P2P answers
      // its own keys) and drives it.
      return runInitiator(NvmeofCommand.BENCH_SEGMENT, List.of());
    }
    String mode = o.get("mode", "");
    switch (mode) {
      case "target":
        return runTarget();
      case "initiator":
        return runInitiator(o.get("segment-id", null), List.of());
      case "":
        return runBoth();
      default:
        throw new Options.UsageException("--mode is target or initiator (or absent for both)");
    }
  }

  private Engine startEngine() {
    return Engine.builder().localHostname(o.get("local-server-name", "127.0.0.1"))
        .metadataServer(o.get("metadata-server", "P2PHANDSHAKE"))
        .protocol(protocol()).start();
  }

  private String protocol() {
    return o.get("protocol", o.has("segment-file") ? "nvmeof" : "tcp");
  }

  private long bufferSize() {
    return o.size("buffer-size", 256L << 20);
  }

  /** Serves a managed buffer until killed (or until stdin closes, for a child of {@link #runBoth}). */
  private int runTarget() throws Exception {
    try (Engine engine = startEngine(); ManagedBuffer buffer = engine.allocate(bufferSize())) {
      out.println(engine.segmentName());
      out.flush();
      err.println("target " + engine.segmentName() + " serving " + buffer.length()
          + " bytes at 0x" + Long.toHexString(buffer.address()));
      if (o.flag("exit-on-stdin-eof")) {
        while (System.in.read() >= 0) {
          // until the parent goes away
        }
      } else {
        new CountDownLatch(1).await();
      }
    }
    return 0;
  }

  private int runBoth() throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.add("bench");
    cmd.add("--mode");
    cmd.add("target");
    cmd.add("--exit-on-stdin-eof");
    for (String name : List.of("protocol", "metadata-server", "local-server-name",
        "buffer-size")) {
      if (o.has(name)) {
        cmd.add("--" + name);
        cmd.add(o.get(name, ""));
      }
    }
    Process child = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try {
      BufferedReader r = new BufferedReader(
          new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
      String segment = r.readLine();
      if (segment == null || segment.isBlank()) {
        err.println("the target process did not start");
        return 1;
      }
      List<String> baselines = List.of(o.get("baseline", "socket,iperf3").split(","));
      return runInitiator(segment.trim(), baselines);
    } finally {
      child.getOutputStream().close();
      if (!child.waitFor(10, TimeUnit.SECONDS)) {
        child.destroyForcibly();
      }
    }
  }

  private int runInitiator(String segment, List<String> baselines) throws Exception {
    if (segment == null) {
      throw new Options.UsageException("--mode initiator needs --segment-id host:port");
    }
    TransferOpcode op = opcode(o.get("operation", "write"));
    long block = o.size("block-size", 1L << 20);
    int batchSize = o.intValue("batch-size", 4);
    int threads = o.intValue("threads", 2);
    int seconds = o.intValue("duration", 10);
    long buffer = bufferSize();
    if (batchSize < 1 || threads < 1 || seconds < 1) {
      throw new Options.UsageException("--batch-size, --threads and --duration must be positive");
    }
    long perThread = block * batchSize;
    if (perThread * threads > buffer) {
      throw new Options.UsageException("threads x batch-size x block-size (" + perThread * threads
          + ") exceeds --buffer-size " + buffer);
    }
    Result r;
    try (Engine engine = startEngine(); ManagedBuffer local = engine.allocate(buffer)) {
      if (o.has("segment-file")) {
        NvmeofCommand.publishBenchSegment(engine, o.get("segment-file", ""), perThread * threads);
      }
      var buffers = engine.segment(segment).buffers();
      long remote = buffers.isEmpty() ? 0 : buffers.get(0).address();
      if (remote == 0 && !o.has("segment-file")) {
        err.println("segment " + segment + " has no buffer");
        return 1;
      }
      r = drive(engine, segment, op, local.address(), remote, block, batchSize, threads, seconds);
    }
    ObjectNode json = r.toJson(protocol(), op, block, batchSize, threads);
    for (String b : baselines) {
      String name = b.trim().toLowerCase(Locale.ROOT);
      if (name.equals("socket")) {
        double gbps = Baselines.socketCopy(op, block, seconds);
        json.put("baseline_socket_gbps", round(gbps));
        json.put("ratio_to_socket", round(r.gbps() / gbps));
      } else if (name.equals("iperf3")) {
        Double gbps = Baselines.iperf3(seconds);
        if (gbps != null) {
          json.put("baseline_iperf3_gbps", round(gbps));
          json.put("ratio_to_iperf3", round(r.gbps() / gbps));
        }
      }
    }
    if (o.flag("json")) {
      out.println(new ObjectMapper().writeValueAsString(json));
    } else {
      out.println(human(json));
    }
    return r.errors == 0 ? 0 : 1;
  }

  private static TransferOpcode opcode(String s) {
    switch (s.toLowerCase(Locale.ROOT)) {
      case "read":
        return TransferOpcode.READ;
      case "write":
        return TransferOpcode.WRITE;
      default:
        throw new Options.UsageException("--operation is read or write");
    }
  }

  private Result drive(Engine engine, String segment, TransferOpcode op, long local, long remote,
      long block, int batchSize, int threads, int seconds) throws InterruptedException {
    String hint = protocol();
    AtomicBoolean stop = new AtomicBoolean();
    LongAdder bytes = new LongAdder();
    LongAdder transfers = new LongAdder();
    LongAdder errors = new LongAdder();
    LatencyHistogram[] hist = new LatencyHistogram[threads];
    Thread[] workers = new Thread[threads];
    CountDownLatch started = new CountDownLatch(threads);
    for (int t = 0; t < threads; t++) {
      LatencyHistogram h = hist[t] = new LatencyHistogram();
      long base = (long) t * block * batchSize;
      List<TransferRequest> requests = new ArrayList<>(batchSize);
      for (int i = 0; i < batchSize; i++) {
        requests.add(new TransferRequest(op, local + base + i * block, remote + base + i * block,
            block));
      }
      workers[t] = new Thread(() -> {
        started.countDown();
        while (!stop.get()) {
          long t0 = System.nanoTime();
          // The chosen protocol is pinned: a same-host peer would otherwise go through shm.
          Batch b = engine.submit(segment, requests, hint);
          TransferState s = engine.await(b);
          engine.freeBatch(b.id());
          h.record(System.nanoTime() - t0);
          if (s == TransferState.COMPLETED) {
            bytes.add(block * batchSize);
            transfers.add(batchSize);
          } else {
            errors.increment();
            err.println("\nbatch " + s + ": " + b.errorMessage());
          }
        }
      }, "bench-" + t);
      workers[t].start();
    }
    started.await();
    long start = System.nanoTime();
    long lastBytes = 0;
    long interval = Math.max(1, o.intValue("report-interval", 1));
    for (int s = 1; s <= seconds; s++) {
      Thread.sleep(1000);
      if (s % interval == 0) {
        long now = bytes.sum();
        err.printf(Locale.ROOT, "\r[%3d s] %7.3f GB/s  %9d transfers/s  %d errors   ", s,
            (now - lastBytes) / 1e9, transfers.sum() * 1000 / Math.max(1,
                (System.nanoTime() - start) / 1_000_000), errors.sum());
        lastBytes = now;
      }
    }
    stop.set(true);
    for (Thread w : workers) {
      w.join();
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    err.println();
    LatencyHistogram all = new LatencyHistogram();
    for (LatencyHistogram h : hist) {
      all.add(h);
    }
    return new Result(bytes.sum(), transfers.sum(), errors.sum(), elapsed, all);
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  private static String human(ObjectNode j) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT,
        "%s %s: block %d B, batch %d, %d threads, %.1f s%n", j.get("protocol").asText(),
        j.get("operation").asText(), j.get("block_size").asLong(), j.get("batch_size").asInt(),
        j.get("threads").asInt(), j.get("duration_s").asDouble()));
    sb.append(String.format(Locale.ROOT, "throughput  %.3f GB/s, %.0f transfers/s, %d errors%n",
        j.get("gbps").asDouble(), j.get("transfers_per_sec").asDouble(), j.get("errors").asLong()));
    ObjectNode lat = (ObjectNode) j.get("batch_latency_us");
    sb.append(String.format(Locale.ROOT,
        "batch latency (us)  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f%n",
        lat.get("p50").asDouble(), lat.get("p90").asDouble(), lat.get("p99").asDouble(),
        lat.get("p999").asDouble(), lat.get("max").asDouble()));
    if (j.has("baseline_socket_gbps")) {
      sb.append(String.format(Locale.ROOT, "raw Java socket copy  %.3f GB/s  (engine = %.2fx)%n",
          j.get("baseline_socket_gbps").asDouble(), j.get("ratio_to_socket").asDouble()));
    }
    if (j.has("baseline_iperf3_gbps")) {
      sb.append(String.format(Locale.ROOT, "iperf3 single stream  %.3f GB/s  (engine = %.2fx)%n",
          j.get("baseline_iperf3_gbps").asDouble(), j.get("ratio_to_iperf3").asDouble()));
    }
    return sb.toString().stripTrailing();
  }

  /** What one initiator run measured. */
  private static final class Result {
    final long bytes;
    final long transfers;
    final long errors;
    final double seconds;
    final LatencyHistogram latency;

    Result(long bytes, long transfers, long errors, double seconds, LatencyHistogram latency) {
      this.bytes = bytes;
      this.transfers = transfers;
      this.errors = errors;
      this.seconds = seconds;
      this.latency = latency;
    }

    double gbps() {
      return bytes / seconds / 1e9;
    }

    ObjectNode toJson(String protocol, TransferOpcode op, long block, int batch, int threads) {
      ObjectNode j = new ObjectMapper().createObjectNode();
      j.put("protocol", protocol);
      j.put("operation", op.name().toLowerCase(Locale.ROOT));
      j.put("block_size", block);
      j.put("batch_size", batch);
      j.put("threads", threads);
      j.put("duration_s", round(seconds));
      j.put("bytes", bytes);
      j.put("gbps", round(gbps()));
      j.put("transfers_per_sec", Math.round(transfers / seconds));
      j.put("batches", latency.count());
      j.put("errors", errors);
      ObjectNode lat = j.putObject("batch_latency_us");
      lat.put("p50", latency.percentile(0.50) / 1000.0);
      lat.put("p90", latency.percentile(0.90) / 1000.0);
      lat.put("p99", latency.percentile(0.99) / 1000.0);
      lat.put("p999", latency.percentile(0.999) / 1000.0);
      lat.put("max", latency.max() / 1000.0);
      return j;
    }
  }
}
