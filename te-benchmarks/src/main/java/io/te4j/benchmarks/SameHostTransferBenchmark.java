package io.te4j.benchmarks;

import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.transfer.Batch;
import io.te4j.nativelib.NativeMemory;
import io.te4j.transport.cxl.CxlTransport;
import io.te4j.transport.shm.CopyRoutines;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One batch of {@code batch} blocks of {@code block} bytes between two engines of this JVM over
 * {@code shm} (the target's managed buffer, a memory file the initiator maps) or {@code cxl} (a
 * {@code /dev/shm} file standing in for the device), beside {@link #memcpy}: a C memcpy of the same
 * blocks between the same buffers, measured in the same run. With {@code -prof gc}, {@code
 * gc.alloc.rate.norm} is what one batch allocates.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class SameHostTransferBenchmark {
  @Param({"shm", "cxl"})
  public String path;

  @Param({"4096:256", "1048576:4"})
  public String blockAndBatch;

  @Param({"WRITE", "READ"})
  public TransferOpcode opcode;

  private Path device;
  private Engine target;
  private Engine initiator;
  private long local;
  /** The target's buffer as the initiator names it (an address, or a device offset for cxl). */
  private long remoteAddress;
  /** The target's buffer in this process. */
  private long remoteBase;
  private long block;
  private int batch;
  private long bytes;
  private List<TransferRequest> requests;

  @Setup(Level.Trial)
  public void start() throws IOException {
    String[] p = blockAndBatch.split(":");
    block = Long.parseLong(p[0]);
    batch = Integer.parseInt(p[1]);
    bytes = block * batch;
    local = NativeMemory.mapAnonymous(bytes);
    NativeMemory.fill(local, bytes, (byte) 1);
    long remote;
    if (path.equals("cxl")) {
      device = Path.of("/dev/shm", "te4j-jmh-" + ProcessHandle.current().pid());
      try (RandomAccessFile f = new RandomAccessFile(device.toFile(), "rw")) {
        f.setLength(bytes);
      }
      target = engine("cxl").setting(CxlTransport.DEV_PATH, device.toString()).start();
      initiator = engine("cxl").setting(CxlTransport.DEV_PATH, device.toString()).start();
      remote = ((Number) target.localDescriptor().attributes().get("cxl_base_addr")).longValue();
      target.register(remote, bytes);
      remoteAddress = 0; // a device offset
    } else {
      target = engine("shm,tcp").start();
      initiator = engine("shm,tcp").start();
      remote = target.allocate(bytes).address();
      remoteAddress = remote;
    }
    NativeMemory.fill(remote, bytes, (byte) 2);
    initiator.register(local, bytes, "cpu:0", false);
    requests = new ArrayList<>(batch);
    for (int i = 0; i < batch; i++) {
      requests.add(new TransferRequest(opcode, local + i * block, remoteAddress + i * block,
          block));
    }
    remoteBase = remote;
  }

  private static Engine.Builder engine(String protocol) {
    return Engine.builder().localHostname("127.0.0.1").metadataServer("P2PHANDSHAKE")
        .protocol(protocol);
  }

  @TearDown(Level.Trial)
  public void stop() throws IOException {
    initiator.close();
    target.close();
    NativeMemory.unmap(local, bytes);
    if (device != null) {
      Files.deleteIfExists(device);
    }
  }

  /** Bytes per op are block x batch; ops/s x that = throughput. */
  @Benchmark
  public TransferState transfer() {
    Batch b = initiator.submit(target.segmentName(), requests, path);
    TransferState s = initiator.await(b);
    initiator.freeBatch(b.id());
    if (s != TransferState.COMPLETED) {
      throw new IllegalStateException(b.errorMessage());
    }
    return s;
  }

  /** The baseline: a C memcpy of the same blocks between the same two buffers. */
  @Benchmark
  public long memcpy() {
    return opcode == TransferOpcode.WRITE
        ? CopyRoutines.benchMemcpy(remoteBase, local, block, batch, bytes)
        : CopyRoutines.benchMemcpy(local, remoteBase, block, batch, bytes);
  }
}
