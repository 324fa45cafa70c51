package io.te4j.core.observe;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.transfer.Batch;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import jdk.jfr.EventType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An engine's observers, and its JFR events ({@link JfrEvents}): a batch is watched only while
 * someone listens (an observer, or a JFR recording with a te4j event enabled), so an engine nobody
 * observes pays one check per batch and allocates nothing for it.
 */
public final class Observers {
  private static final Logger LOG = LoggerFactory.getLogger(Observers.class);
  private static final EventType BATCH = EventType.getEventType(JfrEvents.BatchEnded.class);
  private static final EventType FAILURE =
      EventType.getEventType(JfrEvents.TransferFailed.class);
  private static final EventType LOOKUP = EventType.getEventType(JfrEvents.PeerLookup.class);

  private final List<TransferObserver> observers = new CopyOnWriteArrayList<>();

  /** Adds an observer; closing the returned subscription removes it. */
  public Subscription add(TransferObserver observer) {
    observers.add(observer);
    return () -> observers.remove(observer);
  }

  /** Whether a batch submitted now is watched. */
  public boolean watching() {
    return !observers.isEmpty() || BATCH.isEnabled() || FAILURE.isEnabled();
  }

  /** Whether a peer lookup made now is reported. */
  public boolean watchingLookups() {
    return !observers.isEmpty() || LOOKUP.isEnabled();
  }

  /**
   * Reports {@code batch} when it ends.
   *
   * @param startNanos {@link System#nanoTime()} when it was submitted
   */
  public void watch(Batch batch, List<TransferRequest> requests, long startNanos) {
    String opcode = opcodeOf(requests);
    batch.future().thenAccept(state -> ended(batch, opcode, startNanos, state));
  }

  /** Reports a lookup of {@code peer}'s descriptor; {@code error} null when it succeeded. */
  public void lookedUp(String peer, long nanos, ErrorCode error) {
    for (TransferObserver o : observers) {
      try {
        o.peerLookedUp(peer, nanos, error);
      } catch (RuntimeException e) {
        LOG.warn("observer {} failed on a peer lookup: {}", o, e.toString());
      }
    }
    JfrEvents.lookup(peer, nanos, error);
  }

  private void ended(Batch batch, String opcode, long startNanos, TransferState state) {
    BatchOutcome outcome = new BatchOutcome(batch.id(), batch.target(),
        batch.transportName() == null ? "none" : batch.transportName(), opcode, batch.size(),
        batch.bytes(), System.nanoTime() - startNanos, state, failedEntries(batch, state));
    for (TransferObserver o : observers) {
      try {
        o.batchEnded(outcome);
      } catch (RuntimeException e) {
        LOG.warn("observer {} failed on batch {}: {}", o, batch.id(), e.toString());
      }
    }
    JfrEvents.batch(outcome, batch.errorMessage());
  }

  private static Map<ErrorCode, Integer> failedEntries(Batch batch, TransferState state) {
    if (state == TransferState.COMPLETED) {
      return Map.of();
    }
    Map<ErrorCode, Integer> byCode = new EnumMap<>(ErrorCode.class);
    for (int i = 0; i < batch.size(); i++) {
      ErrorCode code = batch.errorCode(i);
      if (code != null) {
        byCode.merge(code, 1, Integer::sum);
      }
    }
    if (byCode.isEmpty()) { // ended as a whole (rejected, timed out, engine closed)
      byCode.put(batch.errorCode() == null ? ErrorCode.TRANSFER_FAILED : batch.errorCode(),
          batch.size());
    }
    return byCode;
  }

  private static String opcodeOf(List<TransferRequest> requests) {
    TransferOpcode first = requests.isEmpty() ? TransferOpcode.WRITE : requests.get(0).opcode();
    for (int i = 1; i < requests.size(); i++) {
      if (requests.get(i).opcode() != first) {
        return "mixed";
      }
    }
    return first == TransferOpcode.READ ? "read" : "write";
  }
}
