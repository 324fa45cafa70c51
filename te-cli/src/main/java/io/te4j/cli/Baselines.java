package io.te4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.te4j.api.TransferOpcode;
import io.te4j.nativelib.NativeMemory;
import io.te4j.transport.shm.CopyRoutines;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the engine is measured against in the same run, by protocol: for tcp a plain Java socket
 * copy of the same block size (one connection, direct buffers, blocking) and iperf3 with as many
 * streams as the bench has threads and the same write size, when installed; for shm and cxl a C
 * memcpy of the same shape; for nvmeof fio on the same file, when installed; for GPU memory
 * ({@code --gpu}, nvlink) {@code cudaMemcpyAsync} device to device of the same shape.
 */
final class Baselines {
  /** Each protocol's baselines when {@code --baseline} is not given. */
  static final Map<String, List<String>> DEFAULTS = Map.of("tcp", List.of("socket", "iperf3"),
      "shm", List.of("memcpy"), "cxl", List.of("memcpy"), "nvmeof", List.of("fio"));
  /** Every baseline name {@code --baseline} takes. */
  static final Set<String> NAMES = Set.of("socket", "iperf3", "memcpy", "fio", "cudamemcpy",
      "none");
  /** What each baseline is, as the report names it, in the order reports list them. */
  static final Map<String, String> LABELS = labels();

  private Baselines() {}

  private static Map<String, String> labels() {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("socket", "raw Java socket copy");
    labels.put("iperf3", "iperf3, same write size and streams");
    labels.put("memcpy", "C memcpy, same shape");
    labels.put("fio", "fio io_uring, direct, same file");
    labels.put("cudamemcpy", "cudaMemcpyAsync device to device, same shape");
    return labels;
  }

  /** One thread of a copy baseline: copies until {@code deadline}, counting into {@code bytes}. */
  @FunctionalInterface
  interface Copier {
    void copy(int thread, long deadline, AtomicLong bytes);
  }

  /** GB/s of {@code threads} threads each running {@code copier} for {@code seconds}. */
  static double inParallel(String name, int threads, int seconds, Copier copier)
      throws InterruptedException {
    AtomicLong bytes = new AtomicLong();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    List<Thread> workers = new ArrayList<>();
    long start = System.nanoTime();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      Thread w = new Thread(() -> copier.copy(thread, deadline, bytes), "baseline-" + name + "-"
          + t);
      w.start();
      workers.add(w);
    }
    for (Thread w : workers) {
      w.join();
    }
    return bytes.get() / (double) (System.nanoTime() - start);
  }

  /**
   * GB/s of a C memcpy of the bench's shape: {@code threads} threads, each copying {@code block}
   * bytes at a time round its own {@code batch x block} range, between two buffers of this
   * process, for {@code seconds}; null without the native copy library.
   */
  static Double memcpy(long block, int batch, int threads, int seconds) throws Exception {
    if (!CopyRoutines.isNativeAvailable()) {
      return null;
    }
    long perThread = block * batch;
    long footprint = perThread * threads;
    long src = NativeMemory.mapAnonymous(footprint);
    long dst = NativeMemory.mapAnonymous(footprint);
    try {
      NativeMemory.fill(src, footprint, (byte) 0x5a);
      NativeMemory.fill(dst, footprint, (byte) 0);
      return inParallel("memcpy", threads, seconds, (t, deadline, bytes) -> {
        long offset = t * perThread;
        long iterations = Math.max(1, (4L << 20) / block); // about a millisecond's worth
        while (System.nanoTime() < deadline) {
          CopyRoutines.benchMemcpy(dst + offset, src + offset, block, iterations, perThread);
          bytes.addAndGet(iterations * block);
        }
      });
    } finally {
      NativeMemory.unmap(src, footprint);
      NativeMemory.unmap(dst, footprint);
    }
  }

  /**
   * GB/s of fio on {@code file} in the bench's shape ({@code threads} jobs, each {@code batch}
   * requests of {@code block} bytes in flight, io_uring, direct I/O, over the bench's range), or
   * null when fio is not installed or fails.
   */
  static Double fio(String file, TransferOpcode op, long block, int batch, int threads,
      int seconds) throws Exception {
    if (!onPath("fio")) {
      return null;
    }
    String rw = op == TransferOpcode.READ ? "read" : "write";
    File out = File.createTempFile("fio-", ".json");
    try {
      Process fio = new ProcessBuilder("fio", "--name=te-bench-baseline", "--filename=" + file,
          "--rw=" + rw, "--bs=" + block, "--iodepth=" + batch, "--numjobs=" + threads,
          "--size=" + block * batch, "--offset_increment=" + block * batch,
          "--ioengine=io_uring", "--direct=1", "--time_based", "--runtime=" + seconds,
          "--group_reporting", "--output-format=json")
          .redirectOutput(out).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      if (!fio.waitFor(seconds + 30L, TimeUnit.SECONDS)) {
        fio.destroyForcibly();
        return null;
      }
      JsonNode bw = new ObjectMapper().readTree(Files.readString(out.toPath()))
          .path("jobs").path(0).path(rw).path("bw_bytes");
      return fio.exitValue() == 0 && bw.isNumber() && bw.asDouble() > 0 ? bw.asDouble() / 1e9
          : null;
    } finally {
      Files.deleteIfExists(out.toPath());
    }
  }

  /**
   * GB/s of one loopback TCP connection copying {@code block}-sized direct buffers for {@code
   * seconds}; for READ the bytes flow the other way (the server sends), as in the engine.
   */
  static double socketCopy(TransferOpcode op, long block, int seconds) throws Exception {
    int size = (int) Math.min(block, 64L << 20);
    try (ServerSocketChannel server = ServerSocketChannel.open()) {
      server.bind(new InetSocketAddress("127.0.0.1", 0));
      AtomicLong received = new AtomicLong();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      Thread peer = new Thread(() -> {
        try (SocketChannel s = server.accept()) {
          pump(s, size, op == TransferOpcode.READ, deadline, received);
        } catch (IOException e) {
          // the other side closed: done
        }
      }, "baseline-socket-server");
      peer.start();
      long start = System.nanoTime();
      try (SocketChannel c = SocketChannel.open(server.getLocalAddress())) {
        pump(c, size, op == TransferOpcode.WRITE, deadline, received);
      }
      peer.join();
      double elapsed = (System.nanoTime() - start) / 1e9;
      return received.get() / elapsed / 1e9;
    }
  }

  private static void pump(SocketChannel c, int size, boolean sender, long deadline,
      AtomicLong received) throws IOException {
    c.socket().setTcpNoDelay(true);
    ByteBuffer buf = ByteBuffer.allocateDirect(size);
    if (sender) {
      while (System.nanoTime() < deadline) {
        buf.clear();
        while (buf.hasRemaining()) {
          c.write(buf);
        }
      }
      c.shutdownOutput();
    } else {
      for (int n; (n = c.read(buf.clear())) >= 0; ) {
        received.addAndGet(n);
      }
    }
  }

  /**
   * iperf3 on loopback in GB/s with {@code streams} streams ({@code -P}) writing {@code block}
   * bytes at a time ({@code -l}, at most iperf3's 1 MiB), or null when iperf3 is not installed.
   */
  static Double iperf3(int seconds, long block, int streams) throws Exception {
    if (!onPath("iperf3")) {
      return null;
    }
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Process server = new ProcessBuilder("iperf3", "-s", "-1", "-p", Integer.toString(port))
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    try {
      Thread.sleep(300);
      File out = File.createTempFile("iperf3-", ".json");
      Process client = new ProcessBuilder("iperf3", "-c", "127.0.0.1", "-p",
          Integer.toString(port), "-t", Integer.toString(seconds), "-J",
          "-l", Long.toString(Math.min(block, 1L << 20)), "-P", Integer.toString(streams))
          .redirectOutput(out).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      if (!client.waitFor(seconds + 30L, TimeUnit.SECONDS)) {
        client.destroyForcibly();
        return null;
      }
      JsonNode j = new ObjectMapper().readTree(Files.readString(out.toPath()));
      Files.deleteIfExists(out.toPath());
      JsonNode bps = j.path("end").path("sum_received").path("bits_per_second");
      return bps.isNumber() ? bps.asDouble() / 8e9 : null;
    } finally {
      server.destroyForcibly();
    }
  }

  private static boolean onPath(String exe) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (new File(dir, exe).canExecute()) {
        return true;
      }
    }
    return false;
  }
}
