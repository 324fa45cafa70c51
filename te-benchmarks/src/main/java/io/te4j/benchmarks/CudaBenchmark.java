package io.te4j.benchmarks;

import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.core.TransferEngine;
import io.te4j.core.config.EngineConfig;
import io.te4j.core.transfer.Batch;
import io.te4j.transport.cuda.CudaLayout;
import io.te4j.transport.cuda.CudaRuntime;
import io.te4j.transport.cuda.JnaCudaRuntime;
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
 * What GPU memory costs the engine, over the CUDA runtime named by {@code -Dte4j.cuda.cudart} (the
 * fake of te-transport-cuda's tests here, a GPU's runtime there): a TCP batch of 16 slices of 64
 * KiB from host memory and from GPU memory (staged through the thread's pinned buffer), so the
 * difference is the staging's cost per slice; and one {@code transfer_write_on_cuda} toward TCP, a
 * host function on the caller's stream starting the transfer and holding the stream, waited for.
 * Run with {@code -prof gc}: {@code gc.alloc.rate.norm} per op.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class CudaBenchmark {
  private static final long SLICE = 64 << 10;
  private static final int SLICES = 16;

  @Param({"host", "gpu"})
  public String memory;

  private final CudaRuntime cuda = new JnaCudaRuntime();
  private Engine target;
  private TransferEngine initiator;
  private ManagedBuffer dst;
  private long src;
  private long stream;
  private List<TransferRequest> requests;

  @Setup(Level.Trial)
  public void start() {
    target = Engine.builder().localHostname("127.0.0.1").protocol("tcp").start();
    initiator = new TransferEngine();
    initiator.initialize(EngineConfig.builder().localHostname("127.0.0.1")
        .metadataServer("P2PHANDSHAKE").protocol("tcp"));
    dst = target.allocate(SLICE * SLICES);
    long[] p = {0};
    if (memory.equals("gpu")) {
      check(cuda.malloc(p, SLICE * SLICES));
      initiator.getEngine().register(p[0], SLICE * SLICES, "cuda:0", false);
    } else {
      p[0] = initiator.getEngine().allocate(SLICE * SLICES).address();
    }
    src = p[0];
    long[] s = {0};
    check(cuda.streamCreateWithFlags(s, CudaLayout.STREAM_NON_BLOCKING));
    stream = s[0];
    requests = new ArrayList<>(SLICES);
    for (int i = 0; i < SLICES; i++) {
      requests.add(new TransferRequest(TransferOpcode.WRITE, src + i * SLICE,
          dst.address() + i * SLICE, SLICE));
    }
  }

  private static void check(int rc) {
    if (rc != 0) {
      throw new IllegalStateException("CUDA error " + rc + " (is -Dte4j.cuda.cudart set to the "
          + "fake runtime, te-transport-cuda/target/fakecuda/libte_fakecudart.so, or a GPU's?)");
    }
  }

  @TearDown(Level.Trial)
  public void stop() {
    initiator.getEngine().close();
    dst.close();
    target.close();
    cuda.streamDestroy(stream);
    if (memory.equals("gpu")) {
      cuda.free(src);
    }
  }

  /** 16 slices of 64 KiB over TCP, waited for: per slice, divide by 16. */
  @Benchmark
  public TransferState tcpBatchOf16Slices() {
    Engine e = initiator.getEngine();
    Batch b = e.submit(target.segmentName(), requests, "tcp");
    TransferState s = e.await(b);
    e.freeBatch(b.id());
    return s;
  }

  /** One 64 KiB {@code transfer_write_on_cuda} toward TCP, until the stream passed it. */
  @Benchmark
  public int onCudaTowardTcp() {
    initiator.transferWriteOnCuda(target.segmentName(), src, dst.address(), SLICE, stream).join();
    return cuda.streamSynchronize(stream);
  }
}
