package io.te4j.transport.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Memory;
import io.te4j.api.TransferException;
import io.te4j.core.TransferEngine;
import io.te4j.core.config.EngineConfig;
import io.te4j.testkit.contract.ChildTargetPair;
import io.te4j.testkit.contract.TargetJvm;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code *_on_cuda} of the parity face over the fake runtime, two JVMs each (CUDA.md 3.5): toward
 * nvlink the copies are enqueued on the caller's stream; toward TCP a host function starts the
 * transfer and holds the stream. Either way the transfer sees the stream's earlier work and its
 * later work sees the transfer: a slow producer copy before and an overwriting copy after would
 * show in the target's bytes otherwise. Failures complete the future and the JVM goes on.
 */
class OnCudaIT {
  private static final int N = 16 << 20;
  private final CudaRuntime cuda = new JnaCudaRuntime();
  private FakeCuda.Controls fake;
  private AutoCloseable target;
  private TransferEngine engine;
  private long stream;

  /** Each test holds a stream back or loses the device: the fake's controls. */
  @org.junit.jupiter.api.BeforeEach
  void fake() {
    FakeCuda.assumeActive();
    fake = FakeCuda.controls();
  }

  @AfterEach
  void close() throws Exception {
    if (fake == null) {
      return;
    }
    fake.tefake_set_jitter_us(0);
    fake.tefake_set_sticky(0);
    if (engine != null) {
      engine.getEngine().close();
    }
    if (target != null) {
      target.close();
    }
    if (stream != 0) {
      assertEquals(0, cuda.streamDestroy(stream));
    }
  }

  private long newStream() {
    long[] s = {0};
    assertEquals(0, cuda.streamCreateWithFlags(s, CudaLayout.STREAM_NON_BLOCKING));
    stream = s[0];
    return stream;
  }

  private long deviceWith(byte[] data) {
    long[] p = {0};
    assertEquals(0, cuda.malloc(p, data.length));
    Memory host = new Memory(data.length);
    host.write(0, data, 0, data.length);
    assertEquals(0, cuda.memcpyAsync(p[0], Memory.nativeValue(host), data.length,
        CudaLayout.MEMCPY_HOST_TO_DEVICE, 0));
    assertEquals(0, cuda.streamSynchronize(0));
    return p[0];
  }

  private TransferEngine start(String protocol, String timeoutSeconds) {
    TransferEngine e = new TransferEngine();
    assertEquals(0, e.initialize(EngineConfig.builder().localHostname("127.0.0.1")
        .metadataServer("P2PHANDSHAKE").protocol(protocol)
        .setting("MC_TRANSFER_TIMEOUT", timeoutSeconds)));
    return e;
  }

  private static long crc(byte[] b) {
    CRC32 c = new CRC32();
    c.update(b);
    return c.getValue();
  }

  /**
   * A producer copy held back (its stream paused, as behind a long kernel), the transfer, then a
   * copy that zeroes the source: the target must hold the producer's bytes. A transfer not ordered
   * after the producer would send the source's zeros at once; one not holding the stream would
   * race the zeroing copy (a stalled target makes that race certain).
   */
  private CompletableFuture<Void> produceTransferOverwrite(long source, String segment,
      long remote, byte[] pattern, TargetJvm stalled, String hint) throws Exception {
    long produced = deviceWith(pattern);
    long zeros = deviceWith(new byte[N]);
    long s = newStream();
    fake.tefake_pause_stream(s, 1);
    assertEquals(0, cuda.memcpyAsync(source, produced, N, CudaLayout.MEMCPY_DEFAULT, s));
    CompletableFuture<Void> f = engine.transferWriteOnCuda(segment, source, remote, N, s, hint);
    assertEquals(0, cuda.memcpyAsync(source, zeros, N, CudaLayout.MEMCPY_DEFAULT, s));
    Thread.sleep(200); // a transfer that did not wait for the stream would be over by now
    if (stalled != null) {
      stalled.pause(); // the transfer cannot end yet: the stream must not run past it meanwhile
    }
    fake.tefake_pause_stream(s, 0);
    if (stalled != null) {
      Thread.sleep(300);
      stalled.resume();
    }
    assertEquals(0, cuda.streamSynchronize(s));
    if (stalled != null) { // else the copies are on the stream and the future follows their event
      assertTrue(f.isDone(), "the stream ran past the transfer only once it ended");
    }
    return f;
  }

  @Test
  void towardNvlinkTheCopiesRunOnTheCallersStream() throws Exception {
    ChildTargetPair pair = CudaTargetMemory.pair();
    target = pair;
    engine = start("nvlink", "30");
    long[] mine = {0};
    assertEquals(0, cuda.malloc(mine, N));
    engine.getEngine().register(mine[0], N, "cuda:0", true);
    byte[] pattern = new byte[N];
    new Random(5).nextBytes(pattern);
    int hostFunctionsBefore = HostFunctions.pending();
    produceTransferOverwrite(mine[0], pair.segment(), pair.remote(), pattern, null,
        "nvlink").get(10, TimeUnit.SECONDS);
    assertEquals(crc(pattern), pair.targetCrc(pair.remote(), N), "ordered on the stream");
    assertEquals(hostFunctionsBefore, HostFunctions.pending(), "no host function involved");
  }

  @Test
  void towardTcpAHostFunctionHoldsTheStream() throws Exception {
    TargetJvm tcp = TargetJvm.start("tcp", 32L << 20, List.of(), List.of());
    target = tcp;
    engine = start("tcp", "30");
    long mine = engine.getEngine().allocate(N).address(); // host memory: TCP moves no GPU memory
    byte[] pattern = new byte[N];
    new Random(6).nextBytes(pattern);
    engine.getEngine().segment(tcp.segment()); // its descriptor is known: only the data stalls
    produceTransferOverwrite(mine, tcp.segment(), tcp.remote(), pattern, tcp, "tcp")
        .get(10, TimeUnit.SECONDS);
    assertEquals(crc(pattern), tcp.crc(tcp.remote(), N), "ordered through the host function");
    assertEquals(0, fake.tefake_violations(), "no CUDA call from the host function");
  }

  @Test
  void aFailureCompletesTheFutureAndTheStreamGoesOn() throws Exception {
    TargetJvm tcp = TargetJvm.start("tcp", 32L << 20, List.of(), List.of());
    target = tcp;
    engine = start("tcp", "1");
    long mine = engine.getEngine().allocate(N).address();
    long s = newStream();
    engine.getEngine().segment(tcp.segment()); // its descriptor is known: the data path stalls
    tcp.pause(); // the transfer cannot finish
    try {
      CompletableFuture<Void> f = engine.transferWriteOnCuda(tcp.segment(), mine, tcp.remote(), N,
          s, "tcp");
      assertEquals(0, cuda.streamSynchronize(s), "the stream is released at the deadline");
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> f.get(10, TimeUnit.SECONDS));
      assertInstanceOf(TransferException.class, e.getCause());
    } finally {
      tcp.resume();
    }
    TransferException unknown = assertThrows(TransferException.class,
        () -> engine.transferWriteOnCuda("127.0.0.1:1", mine, 0, 8, s),
        "an unreachable target is refused at once, before anything is enqueued");
    assertTrue(unknown.getMessage().contains("127.0.0.1:1"), unknown.getMessage());
  }

  @Test
  void aLostContextNeverRunsTheHostFunctionAndTheFutureStillEnds() throws Exception {
    TargetJvm tcp = TargetJvm.start("tcp", 32L << 20, List.of(), List.of());
    target = tcp;
    engine = start("tcp", "1");
    long mine = engine.getEngine().allocate(N).address();
    long s = newStream();
    fake.tefake_set_jitter_us(200_000);
    assertEquals(0, cuda.memcpyAsync(mine, mine, 4096, CudaLayout.MEMCPY_DEFAULT, s));
    CompletableFuture<Void> f = engine.transferWriteOnCuda(tcp.segment(), mine, tcp.remote(), N,
        s, "tcp");
    fake.tefake_set_sticky(700);
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> f.get(10, TimeUnit.SECONDS));
    assertInstanceOf(java.util.concurrent.TimeoutException.class, e.getCause());
    fake.tefake_set_sticky(0);
    assertEquals(crc(new byte[N]), tcp.crc(tcp.remote(), N), "the transfer was never started");
  }
}
