package io.te4j.transport.cuda;

import com.sun.jna.Memory;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.transfer.Batch;
import io.te4j.testkit.contract.ChildTargetPair;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;

/**
 * The Java side of the GPU check (src/gpucheck/gpu-check.sh, CUDA.md section 5): the copies
 * {@code cuda_ref.c} times, made through te4j's binding and timed the same way; the IPC handle
 * exchange with another process (a JVM or CuPy); and the engine's own throughput over nvlink and
 * over TCP from GPU memory. One JSON object per line.
 *
 * <pre>
 *   throughput              binding copies: D2D, H2D/D2H pinned, IPC-mapped D2D
 *   engine                  nvlink and staged-TCP transfers between two engines (two JVMs)
 *   leaks                   free GPU memory before and after engines moved GPU memory and closed
 *   ipc-export SIZE [FILE]  exports a filled allocation: prints its handle and CRC, then waits
 *                           until FILE exists (at most 2 minutes) or, without FILE, stdin closes
 *   ipc-open HEX SIZE       opens a handle and prints the CRC of its first SIZE bytes
 * </pre>
 */
public final class GpuCheckMain {
  private static final CudaRuntime CUDA = new JnaCudaRuntime();

  private GpuCheckMain() {}

  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "throughput":
        throughput();
        break;
      case "engine":
        engine();
        break;
      case "leaks":
        leaks();
        break;
      case "ipc-export":
        ipcExport(Long.parseLong(args[1]), args.length > 2 ? args[2] : null);
        break;
      case "ipc-open":
        ipcOpen(args[1], Integer.parseInt(args[2]));
        break;
      default:
        throw new IllegalArgumentException("unknown mode " + args[0]);
    }
    System.exit(0);
  }

  private static long malloc(long n) {
    long[] p = {0};
    check(CUDA.malloc(p, n), "cudaMalloc");
    return p[0];
  }

  private static int repsFor(long n) {
    return n >= 64L << 20 ? 2 : n >= 1 << 20 ? 20 : 200;
  }

  /** GB/s of {@code reps} copies a run, median of 10 runs after 3 warm-up runs (as cuda_ref.c). */
  private static double rate(long dst, long src, long n, long stream) {
    int reps = repsFor(n);
    double[] runs = new double[10];
    for (int r = -3; r < 10; r++) {
      long t0 = System.nanoTime();
      for (int i = 0; i < reps; i++) {
        check(CUDA.memcpyAsync(dst, src, n, CudaLayout.MEMCPY_DEFAULT, stream), "cudaMemcpyAsync");
      }
      check(CUDA.streamSynchronize(stream), "cudaStreamSynchronize");
      if (r >= 0) {
        runs[r] = (double) n * reps / (System.nanoTime() - t0);
      }
    }
    Arrays.sort(runs);
    return (runs[4] + runs[5]) / 2;
  }

  private static void report(String what, long n, double gbps) {
    System.out.printf("{\"check\":\"%s\",\"bytes\":%d,\"gbps\":%.3f}%n", what, n, gbps);
  }

  private static long stream() {
    long[] s = {0};
    check(CUDA.streamCreateWithFlags(s, CudaLayout.STREAM_NON_BLOCKING), "cudaStreamCreate");
    return s[0];
  }

  private static void throughput() throws Exception {
    long big = 1L << 30;
    long a = malloc(big);
    long b = malloc(big);
    long host = 256L << 20;
    Memory pinned = new Memory(host);
    check(CUDA.hostRegister(Memory.nativeValue(pinned), host, 0), "cudaHostRegister");
    long s = stream();
    for (long n : new long[] {4096, 1 << 20, 64L << 20, 1L << 30}) {
      report("java_d2d", n, rate(b, a, n, s));
    }
    for (long n : new long[] {4096, 1 << 20, 64L << 20}) {
      report("java_h2d_pinned", n, rate(a, Memory.nativeValue(pinned), n, s));
      report("java_d2h_pinned", n, rate(Memory.nativeValue(pinned), a, n, s));
    }
    Process child = exportingChild(64L << 20);
    try {
      String[] f = new BufferedReader(new InputStreamReader(child.getInputStream(),
          StandardCharsets.UTF_8)).readLine().split(" ");
      long[] peer = {0};
      check(CUDA.ipcOpenMemHandle(peer, IpcHandleHex.decode(f[1]),
          CudaLayout.IPC_LAZY_ENABLE_PEER_ACCESS), "cudaIpcOpenMemHandle");
      for (long n : new long[] {1 << 20, 64L << 20}) {
        report("java_ipc_d2d", n, rate(a, peer[0], n, s));
      }
      check(CUDA.ipcCloseMemHandle(peer[0]), "cudaIpcCloseMemHandle");
    } finally {
      child.getOutputStream().close();
      child.waitFor();
    }
  }

  /** This JVM again, exporting an allocation of {@code bytes}. */
  private static Process exportingChild(long bytes) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(
        java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-D" + JnaCudaRuntime.LIBRARY_PROPERTY + "=" + FakeCuda.library(),
        "-cp", System.getProperty("java.class.path"), GpuCheckMain.class.getName(),
        "ipc-export", Long.toString(bytes)));
    return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
  }

  private static void ipcExport(long bytes, String releaseFile) throws Exception {
    long p = malloc(bytes);
    byte[] data = new byte[(int) Math.min(bytes, 1 << 20)];
    new Random(1).nextBytes(data);
    Memory host = new Memory(data.length);
    host.write(0, data, 0, data.length);
    long s = stream();
    check(CUDA.memcpyAsync(p, Memory.nativeValue(host), data.length, CudaLayout.MEMCPY_DEFAULT, s),
        "cudaMemcpyAsync");
    check(CUDA.streamSynchronize(s), "cudaStreamSynchronize");
    Memory handle = new Memory(CudaLayout.IPC_HANDLE_BYTES);
    check(CUDA.ipcGetMemHandle(Memory.nativeValue(handle), p), "cudaIpcGetMemHandle");
    CRC32 crc = new CRC32();
    crc.update(data);
    System.out.println("EXPORT " + IpcHandleHex.encode(handle.getByteArray(0,
        CudaLayout.IPC_HANDLE_BYTES)) + " " + crc.getValue() + " " + data.length);
    System.out.flush();
    if (releaseFile == null) {
      while (System.in.read() >= 0) {
        // until the parent is done with it
      }
      return;
    }
    long end = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(2);
    while (!java.nio.file.Files.exists(java.nio.file.Path.of(releaseFile))
        && System.nanoTime() < end) {
      Thread.sleep(50);
    }
  }

  private static void ipcOpen(String hex, int bytes) {
    byte[] handle = IpcHandleHex.decode(hex);
    if (handle == null) {
      throw new IllegalArgumentException("not a 128-character hex handle: " + hex);
    }
    long[] peer = {0};
    int rc = CUDA.ipcOpenMemHandle(peer, handle, CudaLayout.IPC_LAZY_ENABLE_PEER_ACCESS);
    if (rc != 0) {
      System.out.printf("{\"check\":\"java_ipc_open\",\"rc\":%d}%n", rc);
      return;
    }
    byte[] out = new byte[bytes];
    new CudaTargetMemory().read(peer[0], out);
    CRC32 crc = new CRC32();
    crc.update(out);
    System.out.printf("{\"check\":\"java_ipc_open\",\"rc\":0,\"crc\":%d}%n", crc.getValue());
    check(CUDA.ipcCloseMemHandle(peer[0]), "cudaIpcCloseMemHandle");
  }

  /** G10: free GPU memory back where it was once engines moved GPU memory and closed. */
  private static void leaks() throws Exception {
    long[] free = {0};
    long[] total = {0};
    check(CUDA.memGetInfo(free, total), "cudaMemGetInfo");
    long before = free[0];
    engine();
    check(CUDA.memGetInfo(free, total), "cudaMemGetInfo");
    System.out.printf("{\"check\":\"G10\",\"free_before\":%d,\"free_after\":%d,\"delta\":%d}%n",
        before, free[0], before - free[0]);
  }

  /** Engine transfers from this JVM's GPU memory to a target engine's, in batches of 8. */
  private static void engine() throws Exception {
    for (String protocol : new String[] {"nvlink", "tcp"}) {
      try (ChildTargetPair pair = CudaTargetMemory.pair(protocol)) {
        Engine e = pair.initiator();
        long mine = malloc(64L << 20);
        e.register(mine, 64L << 20, "cuda:0", true);
        for (long n : new long[] {1 << 20, 8L << 20}) {
          List<TransferRequest> batch = new ArrayList<>();
          for (int i = 0; i < 8; i++) {
            batch.add(TransferRequest.write(mine + i * n, pair.remote() + i * n, n));
          }
          double[] runs = new double[10];
          for (int r = -3; r < 10; r++) {
            long t0 = System.nanoTime();
            Batch b = e.submitAndWait(pair.segment(), batch, protocol);
            if (b.state() != TransferState.COMPLETED) {
              throw new IllegalStateException(protocol + ": " + b.errorMessage(0));
            }
            if (r >= 0) {
              runs[r] = (double) n * 8 / (System.nanoTime() - t0);
            }
          }
          Arrays.sort(runs);
          report("engine_" + protocol + "_gpu_write", n, (runs[4] + runs[5]) / 2);
        }
        e.unregister(mine);
        check(CUDA.free(mine), "cudaFree");
      }
    }
  }

  private static void check(int rc, String call) {
    CudaErrors.check(CUDA, rc, call);
  }
}
