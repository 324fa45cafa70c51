package io.te4j.core.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.api.spi.TransferSlice;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Slices are pooled: a late end aimed at a slice's earlier use (a watchdog that lost the race, a
 * peer's late answer) must never end the object's next use. Played out step by step, with a
 * transport that keeps the slices it is handed and ends them when the test says.
 */
class SliceGenerationTest extends HeldSlicesTestBase {
  @Test
  void aLateEndOfAnEarlierUseDoesNothingToTheNextUse() {
    Batch first = submit(TransferRequest.write(address, 0, 64));
    TransferSlice slice = transport.held.get(0);
    long firstUse = slice.generation();
    assertTrue(slice.complete(firstUse));
    assertEquals(TransferState.COMPLETED, first.state());
    assertFalse(slice.complete(firstUse), "a use ends once");

    Batch second = submit(TransferRequest.write(address, 0, 64));
    assertSame(slice, transport.held.get(1), "the pool handed the same object out again");
    long secondUse = slice.generation();
    assertTrue(secondUse != firstUse);

    // The late answers of the first use: a completion and a timeout.
    assertFalse(slice.complete(firstUse));
    assertFalse(slice.fail(firstUse, TransferState.TIMEOUT, ErrorCode.TRANSFER_TIMEOUT, "late"));
    assertEquals(TransferState.PENDING, second.state(), "the next use is untouched");

    assertTrue(slice.fail(secondUse, TransferState.FAILED, ErrorCode.TRANSFER_FAILED, "now"));
    assertEquals(TransferState.FAILED, second.state());
    assertEquals(ErrorCode.TRANSFER_FAILED, second.errorCode());
    assertFalse(slice.complete(secondUse));
    assertEquals(TransferState.FAILED, second.state());
  }

  @Test
  void theRequestsStreamReachesTheSlice() {
    batches.submit("peer", target, (t, hint, regions, n) -> transport, "",
        List.of(TransferRequest.write(address, 0, 64).onStream(0x7f00_1234L)), memory,
        TimeUnit.SECONDS.toNanos(30));
    assertEquals(0x7f00_1234L, transport.held.get(0).stream());
    submit(TransferRequest.write(address, 0, 64));
    assertEquals(0, transport.held.get(1).stream(), "no handle: 0");
  }
}
