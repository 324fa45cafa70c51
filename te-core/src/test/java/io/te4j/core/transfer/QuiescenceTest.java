package io.te4j.core.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.api.spi.TransferSlice;
import io.te4j.nativelib.NativeMemory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * A batch's memory may be reused once the batch is quiescent: no transport holds a slice of it. A
 * batch that ends on its own is quiescent as it ends; one ended early (its deadline, engine close)
 * only once its last slice came back.
 */
class QuiescenceTest extends HeldSlicesTestBase {
  @Test
  void anAbortedBatchIsQuiescentOnlyOnceItsLastSliceCameBack() throws Exception {
    Batch b = submit(TransferRequest.read(address, 0, 64), TransferRequest.read(address + 64, 0,
        64));
    assertTrue(b.abort(TransferState.TIMEOUT, ErrorCode.TRANSFER_TIMEOUT, "deadline"));
    assertEquals(TransferState.TIMEOUT, b.state());
    assertFalse(b.isQuiescent(), "two slices are still out");
    assertFalse(b.awaitQuiescent(TimeUnit.MILLISECONDS.toNanos(50)));

    // The peer wakes up: its late answers land, then the slices come back.
    NativeMemory.fill(address, 128, (byte) 7);
    TransferSlice first = transport.held.get(0);
    assertTrue(first.complete(first.generation()));
    assertFalse(b.isQuiescent(), "one slice is still out");
    TransferSlice second = transport.held.get(1);
    assertTrue(second.fail(second.generation(), TransferState.FAILED, ErrorCode.SOCKET_FAIL, "x"));

    assertTrue(b.isQuiescent());
    assertTrue(b.awaitQuiescent(0));
    assertTrue(b.quiescence().toCompletableFuture().isDone());
    assertEquals(TransferState.TIMEOUT, b.state(), "late results do not change the state");
  }

  @Test
  void aBatchThatEndsOnItsOwnIsQuiescentBeforeItsStateShows() {
    Batch b = submit(TransferRequest.write(address, 0, 64));
    AtomicBoolean quiescentWhenEnded = new AtomicBoolean();
    b.future().thenRun(() -> quiescentWhenEnded.set(b.isQuiescent()));
    assertFalse(b.isQuiescent());
    TransferSlice s = transport.held.get(0);
    assertTrue(s.fail(s.generation(), TransferState.FAILED, ErrorCode.TRANSFER_FAILED, "refused"));
    assertEquals(TransferState.FAILED, b.state());
    assertTrue(quiescentWhenEnded.get(), "whoever sees FAILED may reuse the memory at once");
  }

  @Test
  void batchesThatHandOutNothingAreQuiescentAtOnce() {
    assertTrue(batches.rejected("peer", 3, 1_000, ErrorCode.METADATA, "no peer")
        .isQuiescent());
    Batch unregistered = submit(TransferRequest.write(address + LENGTH, 0, 64));
    assertEquals(TransferState.FAILED, unregistered.state());
    assertTrue(unregistered.isQuiescent());
    assertTrue(transport.held.isEmpty());
  }
}
