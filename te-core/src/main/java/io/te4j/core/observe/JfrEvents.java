package io.te4j.core.observe;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferState;
import java.util.Map;
import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * The engine's JDK Flight Recorder events, all under the category "te4j": {@code io.te4j.Batch}
 * (every batch when it ends), {@code io.te4j.TransferFailure} (each failed batch, by error code)
 * and {@code io.te4j.PeerLookup} (each lookup of a peer's descriptor: a handshake in P2P mode).
 * Enable them in a recording, e.g. {@code jcmd PID JFR.start settings=profile} plus {@code
 * +io.te4j.Batch#enabled=true}, or in a {@code .jfc} file.
 */
final class JfrEvents {
  private JfrEvents() {}

  /** What every batch event names: the batch, its peer and its transport. */
  abstract static class BatchEvent extends Event {
    @Label("Batch Id")
    long batchId;
    @Label("Peer")
    String peer;
    @Label("Transport")
    String transport;

    void of(BatchOutcome o) {
      batchId = o.batchId();
      peer = o.peer();
      transport = o.transport();
    }
  }

  @Name("io.te4j.Batch")
  @Label("te4j Batch")
  @Category("te4j")
  @Description("A batch of transfers ended")
  @StackTrace(false)
  static final class BatchEnded extends BatchEvent {
    @Label("Opcode")
    String opcode;
    @Label("Entries")
    int entries;
    @Label("Bytes")
    @DataAmount(DataAmount.BYTES)
    long bytes;
    @Label("Latency")
    @Timespan(Timespan.NANOSECONDS)
    long latency;
    @Label("State")
    String state;
  }

  @Name("io.te4j.TransferFailure")
  @Label("te4j Transfer Failure")
  @Category("te4j")
  @Description("Requests of a batch failed with this error code")
  @StackTrace(false)
  static final class TransferFailed extends BatchEvent {
    @Label("Error Code")
    String errorCode;
    @Label("Failed Entries")
    int failedEntries;
    @Label("Message")
    String message;
  }

  @Name("io.te4j.PeerLookup")
  @Label("te4j Peer Lookup")
  @Category("te4j")
  @Description("A peer's descriptor was looked up (in P2P mode: a handshake with the peer)")
  @StackTrace(false)
  static final class PeerLookup extends Event {
    @Label("Peer")
    String peer;
    @Label("Duration")
    @Timespan(Timespan.NANOSECONDS)
    long lookup;
    @Label("Error Code")
    String errorCode;
  }

  static void batch(BatchOutcome o, String message) {
    BatchEnded e = new BatchEnded();
    if (e.isEnabled()) {
      e.of(o);
      e.opcode = o.opcode();
      e.entries = o.entries();
      e.bytes = o.bytes();
      e.latency = o.nanos();
      e.state = o.state().name();
      e.commit();
    }
    if (o.state() == TransferState.COMPLETED) {
      return;
    }
    for (Map.Entry<ErrorCode, Integer> f : o.failedEntries().entrySet()) {
      TransferFailed e2 = new TransferFailed();
      if (!e2.isEnabled()) {
        return;
      }
      e2.of(o);
      e2.errorCode = f.getKey().name();
      e2.failedEntries = f.getValue();
      e2.message = message;
      e2.commit();
    }
  }

  static void lookup(String peer, long nanos, ErrorCode error) {
    PeerLookup e = new PeerLookup();
    if (e.isEnabled()) {
      e.peer = peer;
      e.lookup = nanos;
      e.errorCode = error == null ? "" : error.name();
      e.commit();
    }
  }
}
