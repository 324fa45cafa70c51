package io.te4j.metrics.micrometer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.te4j.api.ErrorCode;
import io.te4j.core.Engine;
import io.te4j.core.observe.BatchOutcome;
import io.te4j.core.observe.Subscription;
import io.te4j.core.observe.TransferObserver;
import io.te4j.core.transfer.TransferMetrics;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * An engine's work as Micrometer meters. Bind it to a registry ({@code new
 * EngineMetrics(engine).bindTo(registry)}) and it registers:
 *
 * <ul>
 *   <li>{@code te4j.batch} (timer with a latency histogram): batches by {@code transport}, {@code
 *       peer}, {@code opcode} (read, write, mixed) and {@code state} (completed, failed,
 *       timeout);
 *   <li>{@code te4j.transfer.bytes} (counter): bytes of completed batches, by transport, peer and
 *       opcode;
 *   <li>{@code te4j.transfer.failures} (counter): failed requests by transport, peer and {@code
 *       error_code} (the reference's names, e.g. TRANSFER_FAILED);
 *   <li>{@code te4j.peer.lookup} (timer): lookups of a peer's descriptor (handshakes in P2P mode)
 *       by peer and {@code outcome} (ok or the error code);
 *   <li>{@code te4j.engine.bytes}, {@code te4j.engine.slices} ({@code outcome} completed or
 *       failed), {@code te4j.engine.batches}: the engine's own running totals.
 * </ul>
 *
 * <p>Prometheus names them {@code te4j_batch_seconds}, {@code te4j_transfer_bytes_total} and so on.
 * Every meter carries the tag {@code engine} (the engine's segment name). Close it to stop
 * observing the engine; the meters stay in the registry.
 */
public final class EngineMetrics implements MeterBinder, TransferObserver, AutoCloseable {
  private final Engine engine;
  private final String engineName;
  private final Map<String, Timer> batchTimers = new ConcurrentHashMap<>();
  private final Map<String, Counter> byteCounters = new ConcurrentHashMap<>();
  private final Map<String, Counter> failureCounters = new ConcurrentHashMap<>();
  private final Map<String, Timer> lookupTimers = new ConcurrentHashMap<>();
  private volatile MeterRegistry registry;
  private volatile Subscription observing;

  public EngineMetrics(Engine engine) {
    this.engine = engine;
    this.engineName = engine.segmentName();
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    if (this.registry != null) {
      throw new IllegalStateException("already bound to a registry");
    }
    this.registry = registry;
    TransferMetrics totals = engine.metrics();
    FunctionCounter.builder("te4j.engine.bytes", totals, TransferMetrics::bytes)
        .description("Bytes the engine's slices moved").baseUnit("bytes")
        .tag("engine", engineName).register(registry);
    FunctionCounter.builder("te4j.engine.slices", totals, TransferMetrics::completedSlices)
        .description("Slices the engine moved").tag("engine", engineName)
        .tag("outcome", "completed").register(registry);
    FunctionCounter.builder("te4j.engine.slices", totals, TransferMetrics::failedSlices)
        .description("Slices the engine moved").tag("engine", engineName)
        .tag("outcome", "failed").register(registry);
    FunctionCounter.builder("te4j.engine.batches", totals, TransferMetrics::batches)
        .description("Batches handed to a transport").tag("engine", engineName)
        .register(registry);
    observing = engine.addObserver(this);
  }

  @Override
  public void batchEnded(BatchOutcome o) {
    MeterRegistry r = registry;
    String state = o.state().name().toLowerCase(Locale.ROOT);
    batchTimers.computeIfAbsent(o.transport() + '\0' + o.peer() + '\0' + o.opcode() + '\0'
        + state, k -> Timer.builder("te4j.batch")
            .description("Batches from submission to their end")
            .tags("engine", engineName, "transport", o.transport(), "peer", o.peer(), "opcode",
                o.opcode(), "state", state)
            .publishPercentileHistogram().register(r))
        .record(o.nanos(), TimeUnit.NANOSECONDS);
    if (o.failedEntries().isEmpty()) {
      byteCounters.computeIfAbsent(o.transport() + '\0' + o.peer() + '\0' + o.opcode(),
          k -> Counter.builder("te4j.transfer.bytes").description("Bytes of completed batches")
              .baseUnit("bytes").tags("engine", engineName, "transport", o.transport(), "peer",
                  o.peer(), "opcode", o.opcode()).register(r))
          .increment(o.bytes());
    }
    for (Map.Entry<ErrorCode, Integer> f : o.failedEntries().entrySet()) {
      failureCounters.computeIfAbsent(o.transport() + '\0' + o.peer() + '\0' + f.getKey(),
          k -> Counter.builder("te4j.transfer.failures").description("Failed requests")
              .tags("engine", engineName, "transport", o.transport(), "peer", o.peer(),
                  "error_code", f.getKey().name()).register(r))
          .increment(f.getValue());
    }
  }

  @Override
  public void peerLookedUp(String peer, long nanos, ErrorCode error) {
    String outcome = error == null ? "ok" : error.name();
    lookupTimers.computeIfAbsent(peer + '\0' + outcome, k -> Timer.builder("te4j.peer.lookup")
            .description("Lookups of a peer's descriptor (handshakes in P2P mode)")
            .tags("engine", engineName, "peer", peer, "outcome", outcome).register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  /** Stops observing the engine. */
  @Override
  public void close() {
    Subscription o = observing;
    if (o != null) {
      o.close();
    }
  }
}
