package io.te4j.core.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferState;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A batch's end and its entries' states, for every batch shape, slices ending on many threads. */
class BatchTest {
  private static Batch batch(int entries) {
    return new Batch(1, "peer", entries, Long.MAX_VALUE);
  }

  /** Ends each of {@code slices} (entry indexes, one per slice) on four threads, shuffled. */
  private static void endOnFourThreads(Batch b, List<Integer> slices, int failingEntry)
      throws InterruptedException {
    Collections.shuffle(slices, new Random(slices.size()));
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      int first = t;
      threads.add(new Thread(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = first; i < slices.size(); i += 4) {
          int entry = slices.get(i);
          if (entry == failingEntry) {
            b.sliceFailed(entry, 1, TransferState.FAILED, ErrorCode.TRANSFER_FAILED, "entry broke");
          } else {
            b.sliceCompleted(entry);
          }
        }
      }));
    }
    threads.forEach(Thread::start);
    go.countDown();
    for (Thread t : threads) {
      t.join();
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 63, 64, 65, 128, 130, 256})
  void endsWhenItsLastSliceEndsAndNotBefore(int entries) throws InterruptedException {
    Batch b = batch(entries);
    List<Integer> slices = new ArrayList<>();
    for (int i = 0; i < entries; i++) {
      int n = 1 + i % 3; // entries of one, two and three slices
      b.expectEntry(i, n);
      for (int k = 0; k < n; k++) {
        slices.add(i);
      }
    }
    b.expectSlices(0);
    int last = slices.remove(slices.size() - 1);
    endOnFourThreads(b, slices, -1);
    assertEquals(TransferState.PENDING, b.state(), "one slice is still out");
    assertEquals(TransferState.PENDING, b.state(last));
    b.sliceCompleted(last);
    assertEquals(TransferState.COMPLETED, b.future().getNow(null));
    for (int i = 0; i < entries; i++) {
      assertEquals(TransferState.COMPLETED, b.state(i), "entry " + i);
      assertNull(b.errorCode(i));
    }
  }

  @Test
  void oneFailedEntryFailsTheBatchAndOnlyItself() throws InterruptedException {
    Batch b = batch(130);
    List<Integer> slices = new ArrayList<>();
    for (int i = 0; i < 130; i++) {
      b.expectEntry(i, 2);
      slices.add(i);
      slices.add(i);
    }
    b.expectSlices(0);
    endOnFourThreads(b, slices, 77);
    assertEquals(TransferState.FAILED, b.state());
    assertEquals(ErrorCode.TRANSFER_FAILED, b.errorCode());
    assertEquals(77, b.firstFailedEntry());
    assertEquals(TransferState.FAILED, b.state(77));
    assertEquals("entry broke", b.errorMessage(77));
    assertEquals(TransferState.COMPLETED, b.state(76));
    assertNull(b.errorCode(78));
    assertTrue(b.failure().getMessage().contains("entry 77 of 130"), b.failure().getMessage());
  }

  @Test
  void emptyAndRejectedEntriesEndAtOnceAndTheRestStillCount() {
    Batch b = batch(70);
    for (int i = 0; i < 70; i++) {
      if (i == 3) {
        b.expectEntry(i, 1);
      } else if (i % 2 == 0) {
        b.expectEntry(i, 0); // zero length
      } else {
        b.rejectEntry(i, ErrorCode.ADDRESS_NOT_REGISTERED, "not registered");
      }
    }
    b.expectSlices(0);
    assertEquals(TransferState.PENDING, b.state());
    assertEquals(TransferState.COMPLETED, b.state(0));
    assertEquals(TransferState.FAILED, b.state(1));
    assertEquals(ErrorCode.ADDRESS_NOT_REGISTERED, b.errorCode(1));
    b.sliceCompleted(3);
    assertEquals(TransferState.FAILED, b.state(), "a rejected entry fails the batch");
    assertEquals(TransferState.COMPLETED, b.state(3));
  }

  @Test
  void aBatchWithNothingToSendEndsAtSetup() {
    Batch b = batch(65);
    for (int i = 0; i < 65; i++) {
      b.expectEntry(i, 0);
    }
    b.expectSlices(0);
    assertEquals(TransferState.COMPLETED, b.state());
  }

  @Test
  void anAbortedBatchKeepsWhatCompletedBeforeAndTheRestTakeItsState() {
    Batch b = batch(3);
    for (int i = 0; i < 3; i++) {
      b.expectEntry(i, 1);
    }
    b.expectSlices(0);
    b.sliceCompleted(0);
    assertTrue(b.abort(TransferState.TIMEOUT, ErrorCode.TRANSFER_TIMEOUT, "too slow"));
    b.sliceCompleted(1); // a late end changes nothing
    assertEquals(TransferState.TIMEOUT, b.state());
    assertEquals(TransferState.COMPLETED, b.state(0));
    assertEquals(TransferState.TIMEOUT, b.state(2));
    assertEquals(ErrorCode.TRANSFER_TIMEOUT, b.errorCode(2));
  }
}
