package io.te4j.benchmarks;

import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.core.transfer.Batch;
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
 * One batch of {@code batch} blocks of {@code block} bytes between two engines on loopback, waited
 * for. Run with {@code -prof gc}: {@code gc.alloc.rate.norm} is the bytes allocated per batch, the
 * engine's per-transfer garbage. Compare the ops/s with {@link SocketCopyBenchmark} of the same
 * bytes in the same run.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class TcpTransferBenchmark {
  @Param({"4096:128", "65536:16", "1048576:4", "4194304:1"})
  public String blockAndBatch;

  @Param({"WRITE", "READ"})
  public TransferOpcode opcode;

  private Engine target;
  private Engine initiator;
  private ManagedBuffer dst;
  private ManagedBuffer src;
  private List<TransferRequest> requests;

  @Setup(Level.Trial)
  public void start() {
    String[] p = blockAndBatch.split(":");
    long block = Long.parseLong(p[0]);
    int batch = Integer.parseInt(p[1]);
    target = Engine.builder().localHostname("127.0.0.1").protocol("tcp").start();
    initiator = Engine.builder().localHostname("127.0.0.1").protocol("tcp").start();
    dst = target.allocate(block * batch);
    src = initiator.allocate(block * batch);
    requests = new ArrayList<>(batch);
    for (int i = 0; i < batch; i++) {
      requests.add(new TransferRequest(opcode, src.address() + i * block, dst.address() + i * block,
          block));
    }
  }

  @TearDown(Level.Trial)
  public void stop() {
    src.close();
    dst.close();
    initiator.close();
    target.close();
  }

  /** Bytes per op are block x batch; ops/s x that = throughput. */
  @Benchmark
  public TransferState batch() {
    // Named: with shm on the class path a same-host peer is otherwise reached over shm.
    Batch b = initiator.submit(target.segmentName(), requests, "tcp");
    TransferState s = initiator.await(b);
    initiator.freeBatch(b.id());
    if (s != TransferState.COMPLETED) {
      throw new IllegalStateException(b.errorMessage());
    }
    return s;
  }
}
