package io.te4j.core.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.api.spi.TransferSlice;
import org.junit.jupiter.api.Test;

/**
 * The engine's counters: a batch adds its completed slices and bytes once its last slice is back
 * (late ones after an abort too); failed slices count as failed, their bytes not at all.
 */
class TransferMetricsTest extends HeldSlicesTestBase {
  @Test
  void aBatchCountsWhatCompletedWhenItsLastSliceIsBack() {
    TransferMetrics m = batches.metrics();
    Batch b = submit(TransferRequest.write(address, 0, 100), TransferRequest.write(address + 100,
        0, 200), TransferRequest.read(address + 300, 0, 300));
    assertEquals(3, transport.held.size());
    transport.held.get(0).complete();
    transport.held.get(1).fail(TransferState.FAILED, ErrorCode.TRANSFER_FAILED, "broke");
    assertEquals(0, m.completedSlices(), "nothing counted before the batch ends");
    assertEquals(1, m.failedSlices());
    transport.held.get(2).complete();
    assertEquals(TransferState.FAILED, b.state());
    assertEquals(2, m.completedSlices());
    assertEquals(400, m.bytes());
    assertEquals(1, m.failedSlices());
  }

  @Test
  void anAbortedBatchCountsItsLateSlicesWhenTheyComeBack() {
    TransferMetrics m = batches.metrics();
    Batch b = submit(TransferRequest.write(address, 0, 64), TransferRequest.write(address + 64,
        0, 64));
    TransferSlice late = transport.held.get(1);
    transport.held.get(0).complete();
    assertTrue(b.abort(TransferState.TIMEOUT, ErrorCode.TRANSFER_TIMEOUT, "deadline"));
    assertEquals(0, m.completedSlices());
    late.complete(); // after the abort: the bytes did move
    assertEquals(2, m.completedSlices());
    assertEquals(128, m.bytes());
  }
}
