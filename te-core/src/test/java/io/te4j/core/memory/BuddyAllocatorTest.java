package io.te4j.core.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

class BuddyAllocatorTest {
  private static final long BASE = 0x7f00_0000_0000L;
  private static final long SIZE = 1L << 20;
  private static final long MIN = 4096;

  @Test
  void roundsUpToPowersOfTwoAndSplits() {
    BuddyAllocator a = new BuddyAllocator(BASE, SIZE, MIN);
    long first = a.allocate(1);
    assertEquals(MIN, a.used());
    long second = a.allocate(MIN + 1);
    assertEquals(MIN + 2 * MIN, a.used());
    assertNotEquals(first, second);
    assertEquals(0, (second - BASE) % (2 * MIN), "a block is aligned to its size");
    assertEquals(2 * MIN, a.blockSizeFor(MIN + 1));
    assertEquals(SIZE, a.blockSizeFor(SIZE));
    // Half the arena is left at most; a full-size request cannot succeed now.
    assertEquals(-1, a.allocate(SIZE));
    assertEquals(BuddyAllocator.OK, a.free(first, 1));
    assertEquals(BuddyAllocator.OK, a.free(second, MIN + 1));
    assertTrue(a.isEmpty());
    assertEquals(BASE, a.allocate(SIZE), "freed buddies coalesce back into one block");
  }

  @Test
  void rejectsImpossibleRequests() {
    BuddyAllocator a = new BuddyAllocator(BASE, SIZE, MIN);
    assertEquals(-1, a.allocate(0));
    assertEquals(-1, a.allocate(-1));
    assertEquals(-1, a.allocate(SIZE + 1));
    assertEquals(-1, a.allocate(Long.MAX_VALUE));
    assertEquals(BASE, a.allocate(SIZE));
    assertEquals(-1, a.allocate(1), "the arena is full");
    assertEquals(SIZE, a.used());
    assertThrows(IllegalArgumentException.class, () -> new BuddyAllocator(BASE, 3 * MIN, MIN));
    assertThrows(IllegalArgumentException.class, () -> new BuddyAllocator(BASE, SIZE, 3000));
    assertThrows(IllegalArgumentException.class, () -> new BuddyAllocator(BASE, MIN, SIZE));
    assertThrows(IllegalArgumentException.class, () -> new BuddyAllocator(-MIN, 2 * MIN, MIN));
    assertThrows(IllegalArgumentException.class, () -> new BuddyAllocator(BASE, 1L << 40, 1));
  }

  @Test
  void misuseIsAnErrorCodeAndChangesNothing() {
    BuddyAllocator a = new BuddyAllocator(BASE, SIZE, MIN);
    long block = a.allocate(3 * MIN); // a 16 KiB block
    long other = a.allocate(MIN);
    long used = a.used();
    int invalid = ErrorCode.INVALID_ARGUMENT.code();

    assertEquals(invalid, a.free(block, MIN), "length rounding to a smaller block");
    assertEquals(invalid, a.free(block, 8 * MIN), "length rounding to a larger block");
    assertEquals(invalid, a.free(block, 0));
    assertEquals(invalid, a.free(block, -1));
    assertEquals(invalid, a.free(block + MIN, MIN), "inside a block, not its start");
    assertEquals(invalid, a.free(block + 1, 3 * MIN), "misaligned");
    assertEquals(invalid, a.free(BASE - MIN, MIN), "below the arena");
    assertEquals(invalid, a.free(BASE + SIZE, MIN), "above the arena");
    assertEquals(used, a.used());

    assertEquals(BuddyAllocator.OK, a.free(block, 4 * MIN), "any length of the same block size");
    assertEquals(BuddyAllocator.ALREADY_FREE, a.free(block, 3 * MIN), "double free");
    assertEquals(BuddyAllocator.ALREADY_FREE, a.free(block + MIN, MIN), "inside free space");
    assertEquals(MIN, a.used());

    // Still exact afterwards: the remaining block frees and the arena coalesces fully.
    assertEquals(BuddyAllocator.OK, a.free(other, MIN));
    assertEquals(BuddyAllocator.ALREADY_FREE, a.free(other, MIN));
    assertTrue(a.isEmpty());
    assertEquals(BASE, a.allocate(SIZE));
    assertEquals(-1, a.allocate(1));
    assertEquals(BuddyAllocator.OK, a.free(BASE, SIZE));
  }

  @Test
  void doubleFreeAfterReuseWithAnotherSizeIsCaught() {
    BuddyAllocator a = new BuddyAllocator(BASE, SIZE, MIN);
    long big = a.allocate(SIZE / 2);
    assertEquals(BuddyAllocator.OK, a.free(big, SIZE / 2));
    long small = a.allocate(MIN);
    assertEquals(big, small, "the freed memory is reused");
    assertEquals(ErrorCode.INVALID_ARGUMENT.code(), a.free(big, SIZE / 2));
    assertEquals(MIN, a.used());
    assertEquals(BuddyAllocator.OK, a.free(small, MIN));
    assertTrue(a.isEmpty());
  }

  @Test
  void randomBlocksFreedInRandomOrderCoalesceToAnEmptyArena() {
    Random random = new Random(42);
    BuddyAllocator a = new BuddyAllocator(BASE, 16 * SIZE, MIN);
    Map<Long, Long> live = new TreeMap<>();
    for (int failures = 0; failures < 20; ) {
      long length = 1 + random.nextInt(64 * 1024);
      long address = a.allocate(length);
      if (address == -1) {
        failures++;
        continue;
      }
      live.put(address, length);
    }
    assertTrue(live.size() > 100, "filled with many blocks: " + live.size());
    assertNoOverlap(a, live);

    List<Map.Entry<Long, Long>> order = new ArrayList<>(live.entrySet());
    Collections.shuffle(order, random);
    for (Map.Entry<Long, Long> e : order) {
      assertEquals(BuddyAllocator.OK, a.free(e.getKey(), e.getValue()));
    }
    assertTrue(a.isEmpty());
    assertEquals(0, a.used());
    assertEquals(BASE, a.allocate(16 * SIZE), "everything coalesced into one block");
  }

  /** Random allocations, frees and misuse against a model: never overlap, never corrupt. */
  @RepeatedTest(25)
  void liveBlocksNeverOverlapUnderRandomUseAndMisuse(RepetitionInfo info) {
    Random random = new Random(1000 + info.getCurrentRepetition());
    BuddyAllocator a = new BuddyAllocator(BASE, SIZE, MIN);
    TreeMap<Long, Long> live = new TreeMap<>(); // address -> requested length
    List<long[]> freed = new ArrayList<>();
    for (int step = 0; step < 2000; step++) {
      int op = random.nextInt(10);
      if (op < 5) {
        long length = 1 + (long) (Math.pow(random.nextDouble(), 3) * SIZE / 2);
        long address = a.allocate(length);
        if (address != -1) {
          assertEquals(null, live.put(address, length), "handed out a live block twice");
        }
      } else if (op < 8 && !live.isEmpty()) {
        Long address = pick(live, random);
        long length = live.remove(address);
        assertEquals(BuddyAllocator.OK, a.free(address, length));
        freed.add(new long[] {address, length});
      } else if (op == 8 && !freed.isEmpty()) {
        long[] f = freed.get(random.nextInt(freed.size()));
        int result = a.free(f[0], f[1]);
        if (live.containsKey(f[0])) {
          // Reused since: only the block size decides whether this frees the live block.
          if (result == BuddyAllocator.OK) {
            assertEquals(a.blockSizeFor(f[1]), a.blockSizeFor(live.remove(f[0])));
          } else {
            assertEquals(BuddyAllocator.INVALID, result);
          }
        } else {
          assertNotEquals(BuddyAllocator.OK, result, "double free accepted");
        }
      } else if (!live.isEmpty()) {
        Long address = pick(live, random);
        long length = live.get(address);
        long block = a.blockSizeFor(length);
        int result;
        if (block > MIN && random.nextBoolean()) {
          // An address inside the block, not its start.
          long inside = MIN * (1 + random.nextInt((int) (block / MIN) - 1));
          result = a.free(address + inside, length);
        } else {
          // A length that rounds to another block size.
          result = a.free(address, block < SIZE ? block + 1 : block / 2);
        }
        assertEquals(BuddyAllocator.INVALID, result, "misuse accepted");
      }
      assertNoOverlap(a, live);
    }
    for (Map.Entry<Long, Long> e : live.entrySet()) {
      assertEquals(BuddyAllocator.OK, a.free(e.getKey(), e.getValue()));
    }
    assertTrue(a.isEmpty());
    assertEquals(BASE, a.allocate(SIZE));
  }

  private static Long pick(TreeMap<Long, Long> live, Random random) {
    int skip = random.nextInt(live.size());
    for (Long key : live.keySet()) {
      if (skip-- == 0) {
        return key;
      }
    }
    throw new AssertionError();
  }

  /** Blocks lie inside the arena, aligned to their size, disjoint, and add up to used(). */
  private static void assertNoOverlap(BuddyAllocator a, Map<Long, Long> live) {
    long end = BASE;
    long total = 0;
    for (Map.Entry<Long, Long> e : new TreeMap<>(live).entrySet()) {
      long block = a.blockSizeFor(e.getValue());
      long start = e.getKey();
      assertTrue(start >= end, "overlap at 0x" + Long.toHexString(start));
      assertEquals(0, (start - a.base()) % block, "misaligned block");
      end = start + block;
      total += block;
    }
    assertTrue(end <= a.base() + a.size());
    assertEquals(total, a.used());
  }
}
