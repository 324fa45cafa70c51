package io.te4j.benchmarks;

import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.transfer.Batch;
import io.te4j.transport.rdma.NullNicVerbs;
import io.te4j.transport.rdma.verbs.Completions;
import io.te4j.transport.rdma.verbs.NativeVerbs;
import io.te4j.transport.rdma.verbs.VerbsLayout;
import io.te4j.transport.rdma.verbs.WorkRequests;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * te4j's own cost per RDMA slice, with a null NIC ({@link NullNicVerbs}: the real libte4jrdma
 * post and poll into a stub whose work requests complete at once; RDMA.md 4.2 item 11):
 *
 * <ul>
 *   <li>{@link #engineBatch}: a batch of 128 x 64 KiB WRITEs between two engines of this JVM,
 *       through engine, transport, posting and polling threads; one operation is one slice, so
 *       the score is slices per second end to end, and {@code -prof gc} gives bytes allocated per
 *       slice;
 *   <li>{@link #postAndPoll}: what one posting thread does per slice, alone: fill a work request
 *       in native memory, post chains of 128 in one call, poll the completions 64 at a time;
 *   <li>{@link #cPostAndPoll}: its baseline, the same work in C (the stub's {@code
 *       null_c_post_and_poll}), measured in the same run.
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED",
    "-Dte4j.rdma.verbs=io.te4j.transport.rdma.NullNicVerbs"})
public class RdmaNullNicBenchmark {
  private static final int BATCH = 128;
  private static final int SLICE = 64 << 10;

  private Engine target;
  private Engine initiator;
  private List<TransferRequest> requests;
  private final NativeVerbs verbs = new NativeVerbs();
  private NullNicVerbs.Stub stub;
  private long cq;
  private long qp;
  private WorkRequests wrs;
  private Completions wcs;

  @Setup(Level.Trial)
  public void start() {
    target = Engine.builder().protocol("rdma").metadataServer("P2PHANDSHAKE")
        .localHostname("127.0.0.1").start();
    initiator = Engine.builder().protocol("rdma").metadataServer("P2PHANDSHAKE")
        .localHostname("127.0.0.1").start();
    long remote = target.allocate((long) BATCH * SLICE).address();
    long local = initiator.allocate((long) BATCH * SLICE).address();
    requests = new ArrayList<>();
    for (int i = 0; i < BATCH; i++) {
      requests.add(TransferRequest.write(local + (long) i * SLICE, remote + (long) i * SLICE, SLICE));
    }
    stub = new NullNicVerbs().stubLibrary();
    cq = stub.null_cq_create(4096);
    qp = stub.null_qp_create(cq);
    wrs = new WorkRequests(BATCH);
    wcs = new Completions(64);
  }

  @TearDown(Level.Trial)
  public void stop() {
    initiator.close();
    target.close();
    stub.null_qp_destroy(qp);
    stub.null_cq_destroy(cq);
  }

  private final java.util.concurrent.atomic.AtomicLong slices = new java.util.concurrent.atomic.AtomicLong();
  private long cpuAtStart;

  @Setup(Level.Iteration)
  public void startCount() {
    slices.set(0);
    cpuAtStart = processCpuNanos();
  }

  /** CPU time of the whole process (every thread: engine, poster, poller) per slice moved. */
  @TearDown(Level.Iteration)
  public void printCpuPerSlice() {
    long n = slices.get();
    if (n > 0) {
      System.out.printf("%n  process CPU per slice: %.0f ns (%d slices)%n",
          (processCpuNanos() - cpuAtStart) / (double) n, n);
    }
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime();
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void engineBatch() {
    slices.addAndGet(BATCH);
    Batch b = initiator.submitAndWait(target.segmentName(), requests, "rdma");
    if (b.state() != TransferState.COMPLETED) {
      throw new IllegalStateException(b.errorMessage());
    }
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public int postAndPoll() {
    for (int i = 0; i < BATCH; i++) {
      wrs.set(i, i, VerbsLayout.WR_RDMA_WRITE, 0x10000L + (long) i * SLICE, SLICE, 1,
          0x20000L + (long) i * SLICE, 2);
    }
    int rc = verbs.postSend(qp, wrs, BATCH);
    if (rc != BATCH) {
      throw new IllegalStateException("post returned " + rc);
    }
    int done = 0;
    while (done < BATCH) {
      done += verbs.pollCq(cq, wcs, 64);
    }
    return done;
  }

  @Benchmark
  @OperationsPerInvocation(BATCH * 64)
  public long cPostAndPoll() {
    return stub.null_c_post_and_poll(qp, cq, BATCH, 64);
  }
}
