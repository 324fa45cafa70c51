package io.te4j.api.spi.inflight;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferState;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.api.spi.TransferSlice;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class InFlightTableTest {
  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

  @Test
  void claimCopiesTheSliceAndCompleteEndsItOnce() {
    InFlightTable table = new InFlightTable(4);
    Slice s = new Slice(TransferOpcode.READ, 0x1000, 64, 12345);
    long t = table.claim(s);
    assertNotEquals(InFlightTable.NONE, t);
    assertTrue(table.isActive(t));
    assertTrue(table.isRead(t));
    assertEquals(0x1000, table.localAddress(t));
    assertEquals(64, table.length(t));
    assertEquals(777, table.targetOffset(t));
    assertEquals(12345, table.deadlineNanos(t));
    assertSame(s, table.slice(t));
    assertEquals(1, table.occupied());

    assertTrue(table.complete(t));
    assertEquals(List.of("completed#1"), s.ends);
    assertEquals(0, table.occupied());
    assertFalse(table.isActive(t));
    assertFalse(table.complete(t), "a second end of the same ticket does nothing");
    assertFalse(table.fail(t, TransferState.FAILED, ErrorCode.TRANSFER_FAILED, "late"));
    assertEquals(List.of("completed#1"), s.ends);
  }

  @Test
  void aFullTableGivesNoTicket() {
    InFlightTable table = new InFlightTable(2);
    long a = table.claim(new Slice(TransferOpcode.WRITE, 0x1000, 8, 0));
    long b = table.claim(new Slice(TransferOpcode.WRITE, 0x2000, 8, 0));
    assertEquals(InFlightTable.NONE, table.claim(new Slice(TransferOpcode.WRITE, 0x3000, 8, 0)));
    assertEquals(InFlightTable.NONE, table.claimRange(0x4000, 8));
    table.complete(a);
    assertNotEquals(InFlightTable.NONE, table.claimRange(0x4000, 8));
    table.complete(b);
  }

  /** The race of item 6, made deterministic: a late end aimed at a reused slot does nothing. */
  @Test
  void aLateEndNeverEndsTheSlotsNextUse() {
    InFlightTable table = new InFlightTable(1);
    Slice slice = new Slice(TransferOpcode.WRITE, 0x1000, 8, 100);
    long first = table.claim(slice);
    // The watchdog ends the first use; the holder lets go once its I/O came back.
    assertTrue(table.abort(first, TransferState.TIMEOUT, ErrorCode.TRANSFER_TIMEOUT, "late"));
    assertEquals(1, table.occupied(), "an aborted slot stays held until its holder releases it");
    assertFalse(table.complete(first), "the holder's end finds the slice already ended");
    assertEquals(0, table.occupied());

    // The engine reuses the slice object; the same slot is claimed again.
    slice.generation++;
    long second = table.claim(slice);
    assertEquals(InFlightTable.slot(first), InFlightTable.slot(second));
    assertNotEquals(first, second);

    // Every late call with the first ticket is a no-op.
    assertFalse(table.abort(first, TransferState.FAILED, ErrorCode.TRANSFER_FAILED, "stale"));
    assertFalse(table.complete(first));
    assertFalse(table.fail(first, TransferState.FAILED, ErrorCode.TRANSFER_FAILED, "stale"));
    table.release(first);
    assertTrue(table.isActive(second));
    assertEquals(1, table.occupied());

    assertTrue(table.complete(second));
    assertEquals(List.of("TIMEOUT#1", "completed#2"), slice.ends);
  }

  @Test
  void abortRacingTheHolderEndsTheSliceExactlyOnce() throws Exception {
    InFlightTable table = new InFlightTable(64);
    for (int round = 0; round < 2_000; round++) {
      Slice s = new Slice(TransferOpcode.READ, 0x1000, 8, 0);
      long t = table.claim(s);
      CountDownLatch go = new CountDownLatch(1);
      Thread aborter = new Thread(() -> {
        await(go);
        table.abort(t, TransferState.FAILED, ErrorCode.ENGINE_CLOSED, "closed");
      });
      aborter.start();
      go.countDown();
      table.complete(t);
      aborter.join();
      table.release(t);
      assertEquals(1, s.ends.size(), s.ends.toString());
      assertEquals(0, table.occupied());
    }
  }

  /** Claims and frees from several threads never hand one slot to two holders at once. */
  @Test
  void concurrentClaimsNeverShareASlot() throws Exception {
    InFlightTable table = new InFlightTable(8);
    java.util.concurrent.atomic.AtomicIntegerArray holders =
        new java.util.concurrent.atomic.AtomicIntegerArray(8);
    java.util.concurrent.atomic.AtomicInteger clashes =
        new java.util.concurrent.atomic.AtomicInteger();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      threads.add(new Thread(() -> {
        for (int i = 0; i < 50_000; i++) {
          long ticket = table.claimRange(0x1000, 8);
          if (ticket == InFlightTable.NONE) {
            continue;
          }
          int slot = InFlightTable.slot(ticket);
          if (holders.getAndIncrement(slot) != 0) {
            clashes.incrementAndGet();
          }
          holders.decrementAndGet(slot);
          table.release(ticket);
        }
      }));
    }
    threads.forEach(Thread::start);
    for (Thread t : threads) {
      t.join();
    }
    assertEquals(0, clashes.get());
    assertEquals(0, table.occupied());
    List<Long> all = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      all.add(table.claimRange(0x1000, 8));
    }
    assertFalse(all.contains(InFlightTable.NONE), "every slot came back");
    assertEquals(InFlightTable.NONE, table.claimRange(0x1000, 8));
  }

  /**
   * Four threads each hold at most one slot of 64: a claim must never find the table full, not
   * even while another claimer moves the freed slots back into the free stack.
   */
  @Test
  void aClaimNeverFailsWhileSlotsAreFree() throws Exception {
    InFlightTable table = new InFlightTable(64);
    java.util.concurrent.atomic.AtomicInteger refused =
        new java.util.concurrent.atomic.AtomicInteger();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      threads.add(new Thread(() -> {
        for (int i = 0; i < 200_000; i++) {
          long ticket = table.claimRange(0x1000, 8);
          if (ticket == InFlightTable.NONE) {
            refused.incrementAndGet();
          } else {
            table.release(ticket);
          }
        }
      }));
    }
    threads.forEach(Thread::start);
    for (Thread t : threads) {
      t.join();
    }
    assertEquals(0, refused.get(), "claims refused with at most 4 of 64 slots held");
    assertEquals(0, table.occupied());
  }

  @Test
  void expiredActiveSlotsAreVisitedAndAborted() {
    InFlightTable table = new InFlightTable(4);
    Slice early = new Slice(TransferOpcode.WRITE, 0x1000, 8, 100);
    Slice late = new Slice(TransferOpcode.WRITE, 0x2000, 8, 1_000);
    long e = table.claim(early);
    long l = table.claim(late);
    long range = table.claimRange(0x3000, 8);
    List<Long> seen = new ArrayList<>();
    table.forEachExpired(500, seen::add);
    assertEquals(List.of(e), seen);

    assertEquals(1, table.abortExpired(500, "too slow"));
    assertEquals(List.of("TIMEOUT#1"), early.ends);
    assertEquals(0, table.abortExpired(500, "too slow"), "an aborted slot is not aborted again");
    assertTrue(table.holds(0x1000, 1), "the aborted slot holds its memory until released");
    table.release(e);
    assertFalse(table.holds(0x1000, 1));

    List<Long> active = new ArrayList<>();
    table.forEachActive(active::add);
    assertEquals(List.of(l, range), active);
    table.complete(l);
    table.release(range);
    assertEquals(0, table.occupied());
  }

  @Test
  void holdsMatchesOverlappingRangesOnly() {
    InFlightTable table = new InFlightTable(4);
    long t = table.claim(new Slice(TransferOpcode.WRITE, 0x1000, 0x100, 0));
    assertTrue(table.holds(0x10ff, 1));
    assertTrue(table.holds(0x0f00, 0x101));
    assertFalse(table.holds(0x1100, 0x100));
    assertFalse(table.holds(0x0f00, 0x100));
    assertTrue(table.holds(0, -1L), "the whole address space");
    List<Long> holding = new ArrayList<>();
    table.forEachHolding(0x1080, 4, holding::add);
    assertEquals(List.of(t), holding);
    table.complete(t);
    assertFalse(table.holds(0, -1L));
  }

  @Test
  void awaitReleaseWaitsForTheHolderAndGivesUpAtTheDeadline() throws Exception {
    InFlightTable table = new InFlightTable(4);
    long t = table.claimRange(0x1000, 0x100);
    long start = System.nanoTime();
    assertFalse(table.awaitRelease(0x1000, 0x100, start + 30_000_000L));
    assertTrue(System.nanoTime() - start >= 30_000_000L);
    assertTrue(table.awaitRelease(0x2000, 0x100, start), "other memory is not waited for");

    Thread holder = new Thread(() -> {
      sleep(50);
      table.release(t);
    });
    holder.start();
    assertTrue(table.awaitRelease(0x1000, 0x100, System.nanoTime() + 10 * SECOND));
    holder.join();
  }

  @Test
  void anInterruptDoesNotCutTheWaitShortAndIsKept() {
    InFlightTable table = new InFlightTable(1);
    long t = table.claimRange(0x1000, 8);
    Thread.currentThread().interrupt();
    long start = System.nanoTime();
    assertFalse(table.awaitRelease(0x1000, 8, start + 20_000_000L));
    assertTrue(System.nanoTime() - start >= 20_000_000L);
    assertTrue(Thread.interrupted(), "the interrupt is restored");
    table.release(t);
  }

  @Test
  void pinnedSlotsPublishWhileTouchingOnly() throws Exception {
    InFlightTable table = new InFlightTable(2);
    int slot = table.enter(0x1000, 0x100);
    assertTrue(table.holds(0x1000, 1));
    table.exit(slot);
    assertFalse(table.holds(0x1000, 1));
    assertEquals(slot, table.enter(0x5000, 8), "a thread keeps its pinned slot");
    table.exit(slot);
    assertEquals(1, table.occupied());

    // A second thread pins the other slot; a third finds none until the second has died.
    Thread second = new Thread(() -> table.exit(table.enter(0x2000, 8)));
    second.start();
    second.join();
    AtomicBoolean pinned = new AtomicBoolean();
    Thread third = new Thread(() -> {
      int s = table.enter(0x3000, 8);
      assertTrue(table.holds(0x3000, 8));
      table.exit(s);
      pinned.set(true);
    });
    third.start();
    third.join();
    assertTrue(pinned.get(), "the dead thread's slot was taken over");
    assertEquals(2, table.occupied());
  }

  @Test
  void tooManyLiveThreadsAreRefusedClearly() throws Exception {
    InFlightTable table = new InFlightTable(1);
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch done = new CountDownLatch(1);
    Thread holder = new Thread(() -> {
      int s = table.enter(0x1000, 8);
      entered.countDown();
      await(done);
      table.exit(s);
    });
    holder.start();
    entered.await();
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> table.enter(0x2000, 8));
    assertTrue(e.getMessage().contains("live threads"), e.getMessage());
    done.countDown();
    holder.join();
  }

  @Test
  void tagsAndAttachmentsStayWithTheSlotAndAreClearedWhenItIsFreed() {
    InFlightTable table = new InFlightTable(1);
    long t = table.claim(new Slice(TransferOpcode.WRITE, 0x1000, 8, 0));
    table.setTag(t, 3);
    table.attach(t, "files");
    assertEquals(3, table.tag(t));
    assertEquals("files", table.attachment(t));
    table.complete(t);
    long u = table.claim(new Slice(TransferOpcode.WRITE, 0x1000, 8, 0));
    assertEquals(0, table.tag(u));
    assertNull(table.attachment(u));
  }

  @Test
  void incarnationBitsDifferBetweenUses() {
    InFlightTable table = new InFlightTable(1);
    long a = table.claimRange(0x1000, 8);
    table.release(a);
    long b = table.claimRange(0x1000, 8);
    assertNotEquals(InFlightTable.incarnation(a, 20), InFlightTable.incarnation(b, 20));
    assertTrue(InFlightTable.incarnation(b, 20) < (1 << 20));
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A slice that records each end with the generation it was meant for. */
  static final class Slice implements TransferSlice {
    final TransferOpcode opcode;
    final long address;
    final long length;
    final long deadline;
    long generation = 1;
    final List<String> ends = java.util.Collections.synchronizedList(new ArrayList<>());

    Slice(TransferOpcode opcode, long address, long length, long deadline) {
      this.opcode = opcode;
      this.address = address;
      this.length = length;
      this.deadline = deadline;
    }

    @Override
    public TransferOpcode opcode() {
      return opcode;
    }

    @Override
    public long localAddress() {
      return address;
    }

    @Override
    public MemoryRegion localRegion() {
      return null;
    }

    @Override
    public long targetOffset() {
      return 777;
    }

    @Override
    public long length() {
      return length;
    }

    @Override
    public SegmentDescriptor target() {
      return null;
    }

    @Override
    public long deadlineNanos() {
      return deadline;
    }

    @Override
    public long generation() {
      return generation;
    }

    @Override
    public synchronized boolean complete(long gen) {
      if (gen != generation || ended(gen)) {
        return false;
      }
      ends.add("completed#" + gen);
      return true;
    }

    @Override
    public synchronized boolean fail(long gen, TransferState state, ErrorCode code,
        String message) {
      if (gen != generation || ended(gen)) {
        return false;
      }
      ends.add(state + "#" + gen);
      return true;
    }

    private boolean ended(long gen) {
      return ends.stream().anyMatch(e -> e.endsWith("#" + gen));
    }
  }
}
