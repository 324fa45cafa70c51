package io.te4j.core.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.core.memory.MemoryRegistryImpl.RegionSpec;
import io.te4j.nativelib.NativeMemory;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MemoryRegistryImplTest {
  // Registration touches no memory, so plain numbers serve as addresses here.
  private static final long A = 0x10_0000L;
  private static final long LEN = 0x1_0000L;

  /**
   * Records listener calls, one event per region ({@code ?} preparing, {@code +} added, {@code -}
   * removed); refuses regions whose location is "refuse" when preparing, "late" once added.
   */
  private static final class RecordingListener implements MemoryRegistryImpl.Listener {
    final List<String> events = new ArrayList<>();

    @Override
    public void preparing(List<RegisteredRegion> regions) {
      for (RegisteredRegion r : regions) {
        if (r.location().equals("refuse")) {
          throw new TransferException(
              ErrorCode.MEMORY, "transport refuses 0x" + Long.toHexString(r.address()));
        }
        events.add("?" + Long.toHexString(r.address()));
      }
    }

    @Override
    public void added(List<RegisteredRegion> regions) {
      for (RegisteredRegion r : regions) {
        if (r.location().equals("late")) {
          throw new TransferException(ErrorCode.METADATA, "descriptor refused");
        }
        events.add("+" + Long.toHexString(r.address()));
      }
    }

    @Override
    public void removed(List<RegisteredRegion> regions) {
      for (RegisteredRegion r : regions) {
        events.add("-" + Long.toHexString(r.address()));
      }
    }
  }

  private static void assertError(ErrorCode code, Executable call) {
    TransferException e = assertThrows(TransferException.class, call);
    assertEquals(code, e.errorCode(), e.getMessage());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "same start,        0,        0x100",
    "same range,        0,        0x10000",
    "inside,            0x100,    0x100",
    "straddling start, -0x80,     0x100",
    "straddling end,    0xff80,   0x100",
    "enclosing,        -0x1000,   0x20000",
  })
  void overlapIsRejected(String shape, String offset, String length) {
    MemoryRegistryImpl registry = new MemoryRegistryImpl();
    RegisteredRegion first = registry.register(A, LEN, "cpu:0", true);
    long start = A + Long.decode(offset);
    long len = Long.decode(length);
    assertError(ErrorCode.ADDRESS_OVERLAPPED, () -> registry.register(start, len, "cpu:0", true));
    assertEquals(List.of(first), registry.registeredRegions());
  }

  @Test
  void adjacentRegionsAreAllowedButFindNeverSpansThem() {
    MemoryRegistryImpl registry = new MemoryRegistryImpl();
    RegisteredRegion low = registry.register(A, LEN, "cpu:0", true);
    RegisteredRegion high = registry.register(A + LEN, LEN, "cpu:0", false);
    RegisteredRegion below = registry.register(A - LEN, LEN, "cpu:0", true);

    assertEquals(List.of(below, low, high), registry.registeredRegions());
    assertSame(low, registry.find(A, LEN));
    assertSame(low, registry.find(A + LEN - 1, 1));
    assertSame(high, registry.find(A + LEN, 1));
    assertSame(below, registry.find(A - 1, 1));
    assertNull(registry.find(A + LEN - 1, 2), "a span across two adjacent regions has no region");
    assertNull(registry.find(A - 1, 2));
    assertNull(registry.find(A + 2 * LEN, 1));
    assertNull(registry.find(A - LEN - 1, 1));
    assertFalse(high.remoteAccessible());
  }

  @Test
  void badArgumentsAreRejected() {
    MemoryRegistryImpl registry = new MemoryRegistryImpl();
    assertError(ErrorCode.INVALID_ARGUMENT, () -> registry.register(A, 0, "cpu:0", true));
    assertError(ErrorCode.INVALID_ARGUMENT, () -> registry.register(A, -5, "cpu:0", true));
    assertError(ErrorCode.INVALID_ARGUMENT, () -> registry.register(0, LEN, "cpu:0", true));
    assertError(ErrorCode.INVALID_ARGUMENT, () -> registry.register(A, LEN, null, true));
    assertError(ErrorCode.INVALID_ARGUMENT, () -> registry.register(A, LEN, "  ", true));
    assertError(
        ErrorCode.INVALID_ARGUMENT,
        () -> registry.register(A, MemoryRegistryImpl.MAX_REGION_LENGTH + 1, "cpu:0", true));
    assertError(
        ErrorCode.INVALID_ARGUMENT,
        () -> registry.register(ByteBuffer.allocate(16), "cpu:0", true));
    assertError(
        ErrorCode.INVALID_ARGUMENT,
        () -> registry.register(ByteBuffer.allocateDirect(16).asReadOnlyBuffer(), "cpu:0", true));
    assertEquals(0, registry.size());
  }

  @Test
  void rangesWrappingPast2To64AreRejectedAndNeverFound() {
    MemoryRegistryImpl registry = new MemoryRegistryImpl();
    long top = -0x1000L; // 0xffff_ffff_ffff_f000
    assertError(ErrorCode.INVALID_ARGUMENT, () -> registry.register(top, 0x2000, "cpu:0", true));
    assertError(ErrorCode.INVALID_ARGUMENT, () -> registry.register(top, 0x1000, "cpu:0", true));
    RegisteredRegion high = registry.register(top, 0xfff, "cpu:0", true);
    RegisteredRegion low = registry.register(A, LEN, "cpu:0", true);
    // Unsigned order: the 0xffff... region sorts last.
    assertEquals(List.of(low, high), registry.registeredRegions());
    assertSame(high, registry.find(top, 0xfff));
    assertNull(registry.find(top + 0x10, Long.MAX_VALUE));
    assertNull(registry.find(top + 0x10, -1L));
    assertNull(registry.find(A + 1, -1L), "a length wrapping past 2^64 is never contained");
    assertNull(registry.find(A, LEN + 1));
  }

  @Test
  void failingRegisterAllLeavesTheRegistryUnchanged() {
    RecordingListener listener = new RecordingListener();
    MemoryRegistryImpl registry = new MemoryRegistryImpl(listener);
    RegisteredRegion existing = registry.register(A, LEN, "cpu:0", true);
    listener.events.clear();

    long b = A + 4 * LEN;
    // The third spec overlaps the first spec of the same call.
    List<RegionSpec> specs =
        List.of(
            new RegionSpec(b, LEN, "cpu:0", true),
            new RegionSpec(b + 2 * LEN, LEN, "cpu:0", true),
            new RegionSpec(b + LEN / 2, LEN, "cpu:0", true));
    assertError(ErrorCode.ADDRESS_OVERLAPPED, () -> registry.registerAll(specs));
    assertEquals(List.of(existing), registry.registeredRegions());
    assertNull(registry.find(b, 1));
    assertNull(registry.find(b + 2 * LEN, 1));
    assertTrue(listener.events.isEmpty(), "every spec is checked before the listener hears of any");

    // A spec overlapping an existing region, and a spec with a bad length, fail the same way.
    assertError(
        ErrorCode.ADDRESS_OVERLAPPED,
        () ->
            registry.registerAll(
                List.of(
                    new RegionSpec(b, LEN, "cpu:0", true), new RegionSpec(A, 1, "cpu:0", true))));
    assertError(
        ErrorCode.INVALID_ARGUMENT,
        () ->
            registry.registerAll(
                List.of(
                    new RegionSpec(b, LEN, "cpu:0", true),
                    new RegionSpec(b + LEN, 0, "cpu:0", true))));
    assertEquals(List.of(existing), registry.registeredRegions());

    // And a good list registers everything, in order.
    List<RegisteredRegion> all =
        registry.registerAll(
            List.of(
                new RegionSpec(b + LEN, LEN, "cuda:0", false),
                new RegionSpec(b, LEN, "cpu:0", true)));
    assertEquals(2, all.size());
    assertEquals(b + LEN, all.get(0).address());
    assertEquals("cuda:0", all.get(0).location());
    assertEquals(3, registry.size());
  }

  @Test
  void listenerRefusalRollsBackTheRegistration() {
    RecordingListener listener = new RecordingListener();
    MemoryRegistryImpl registry = new MemoryRegistryImpl(listener);
    TransferException e =
        assertThrows(TransferException.class, () -> registry.register(A, LEN, "refuse", true));
    assertEquals(ErrorCode.MEMORY, e.errorCode());
    assertEquals(0, registry.size());
    assertNull(registry.find(A, 1));
    assertTrue(listener.events.isEmpty(), listener.events.toString());

    // Refused while preparing a batch: nothing is registered, nothing is said removed (the
    // listener undoes its own partial work).
    assertThrows(
        TransferException.class,
        () ->
            registry.registerAll(
                List.of(
                    new RegionSpec(A, LEN, "cpu:0", true),
                    new RegionSpec(A + LEN, LEN, "refuse", true))));
    assertEquals(0, registry.size());
    assertEquals(List.of("?" + Long.toHexString(A)), listener.events);
    listener.events.clear();

    // Refused once added (the descriptor could not be published): the whole call is rolled back
    // and the listener hears of it.
    TransferException late = assertThrows(
        TransferException.class,
        () ->
            registry.registerAll(
                List.of(
                    new RegionSpec(A, LEN, "cpu:0", true),
                    new RegionSpec(A + LEN, LEN, "late", true))));
    assertEquals(ErrorCode.METADATA, late.errorCode());
    assertEquals(0, registry.size());
    assertNull(registry.find(A, 1));
    assertEquals(List.of("?" + Long.toHexString(A), "?" + Long.toHexString(A + LEN),
        "+" + Long.toHexString(A), "-" + Long.toHexString(A), "-" + Long.toHexString(A + LEN)),
        listener.events);

    // The range is free again afterwards.
    assertNotNull(registry.register(A, LEN, "cpu:0", true));
  }

  @Test
  void listenerSeesTheRegionInFindAndMayNotReenter() {
    List<Throwable> seen = new ArrayList<>();
    MemoryRegistryImpl[] holder = new MemoryRegistryImpl[1];
    holder[0] =
        new MemoryRegistryImpl(
            new MemoryRegistryImpl.Listener() {
              @Override
              public void preparing(List<RegisteredRegion> regions) {
                RegisteredRegion r = regions.get(0);
                assertNull(holder[0].find(r.address(), r.length()), "not findable yet");
              }

              @Override
              public void added(List<RegisteredRegion> regions) {
                RegisteredRegion r = regions.get(0);
                assertSame(r, holder[0].find(r.address(), r.length()));
                try {
                  holder[0].register(r.address() + 2 * r.length(), r.length(), "cpu:0", true);
                } catch (IllegalStateException e) {
                  seen.add(e);
                }
              }

              @Override
              public void removed(List<RegisteredRegion> regions) {}
            });
    holder[0].register(A, LEN, "cpu:0", true);
    assertEquals(1, seen.size());
    assertEquals(1, holder[0].size());
  }

  @Test
  void unregisterAllIsAllOrNothing() {
    RecordingListener listener = new RecordingListener();
    MemoryRegistryImpl registry = new MemoryRegistryImpl(listener);
    RegisteredRegion a = registry.register(A, LEN, "cpu:0", true);
    RegisteredRegion b = registry.register(A + LEN, LEN, "cpu:0", true);
    RegisteredRegion c = registry.register(A + 4 * LEN, LEN, "cpu:0", true);
    listener.events.clear();

    assertError(ErrorCode.ADDRESS_NOT_REGISTERED, () -> registry.unregisterAll(List.of(A, A + 1)));
    assertError(
        ErrorCode.ADDRESS_NOT_REGISTERED, () -> registry.unregisterAll(List.of(A, A + 2 * LEN)));
    assertError(ErrorCode.INVALID_ARGUMENT, () -> registry.unregisterAll(List.of(A, A + LEN, A)));
    assertEquals(List.of(a, b, c), registry.registeredRegions());
    assertTrue(listener.events.isEmpty());

    assertEquals(List.of(c, a), registry.unregisterAll(List.of(A + 4 * LEN, A)));
    assertEquals(List.of(b), registry.registeredRegions());
    assertNull(registry.find(A, 1));
    assertEquals(
        List.of("-" + Long.toHexString(A + 4 * LEN), "-" + Long.toHexString(A)), listener.events);

    assertSame(b, registry.unregister(A + LEN));
    assertError(ErrorCode.ADDRESS_NOT_REGISTERED, () -> registry.unregister(A + LEN));
    assertEquals(0, registry.size());
  }

  @Test
  void byteBufferRegistrationKeepsTheBufferReachable() throws Exception {
    MemoryRegistryImpl registry = new MemoryRegistryImpl();
    ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
    long address = NativeMemory.addressOf(buffer);
    buffer.position(100); // position and limit do not matter: the whole capacity is registered
    RegisteredRegion region = registry.register(buffer, "cpu:0", true);
    assertEquals(address, region.address());
    assertEquals(1 << 20, region.length());
    assertSame(buffer, region.owner());
    ReferenceQueue<ByteBuffer> queue = new ReferenceQueue<>();
    WeakReference<ByteBuffer> ref = new WeakReference<>(buffer, queue);
    buffer = null;
    region = null;

    assertFalse(collected(queue, 5), "a registered buffer must stay reachable");
    assertNotNull(ref.get());
    // The memory is still valid: write through the chunk, read by address.
    RegisteredRegion found = registry.findContaining(address + 1000, 4);
    assertNotNull(found);
    found.chunk(0).duplicate().put(1000, new byte[] {9, 8, 7, 6});
    byte[] got = new byte[4];
    NativeMemory.read(address + 1000, got, 0, 4);
    assertArrayEquals(new byte[] {9, 8, 7, 6}, got);
    found = null;

    // Once unregistered nothing holds it: the same GC loop does collect it (so the check above
    // can fail).
    registry.unregister(address);
    assertTrue(collected(queue, 50), "an unregistered buffer is collectable");
    assertNull(ref.get());
  }

  /** Runs the GC up to {@code rounds} times, waiting on the queue after each; true if enqueued. */
  private static boolean collected(ReferenceQueue<?> queue, int rounds)
      throws InterruptedException {
    for (int i = 0; i < rounds; i++) {
      System.gc();
      if (queue.remove(100) != null) {
        return true;
      }
    }
    return false;
  }

  @Test
  void regionOfThreeGibibytesHasThreeChunksAndIsFoundBeyondTwoGibibytes() {
    long length = 3L << 30;
    long base = NativeMemory.mapAnonymous(length, true);
    try {
      MemoryRegistryImpl registry = new MemoryRegistryImpl();
      RegisteredRegion region = registry.register(base, length, "cpu:0", true);
      assertEquals(3, region.chunkCount());
      for (int i = 0; i < 3; i++) {
        assertEquals(1L << 30, region.chunk(i).capacity());
        assertEquals(base + ((long) i << 30), NativeMemory.addressOf(region.chunk(i)));
      }
      long far = base + (5L << 29) + 12345; // 2.5 GiB in
      assertSame(region, registry.find(far, 4096));
      assertSame(region, registry.find(base + length - 1, 1));
      assertNull(registry.find(base + length - 1, 2));

      // Touch one page beyond 2 GiB through the chunk, read it back by address.
      ByteBuffer chunk = region.chunk(2).duplicate();
      int offset = (int) (far - base - (2L << 30));
      chunk.putLong(offset, 0x0123456789abcdefL);
      byte[] got = new byte[8];
      NativeMemory.read(far, got, 0, 8);
      assertEquals(0x01, got[0]);
      assertEquals((byte) 0xef, got[7]);
    } finally {
      NativeMemory.unmap(base, length);
    }
  }

  @Test
  void lastChunkIsShorter() {
    MemoryRegistryImpl registry = new MemoryRegistryImpl();
    long length = (1L << 30) + 4096;
    RegisteredRegion region = registry.register(A, length, "cpu:0", true);
    assertEquals(2, region.chunkCount());
    assertEquals(1L << 30, region.chunk(0).capacity());
    assertEquals(4096, region.chunk(1).capacity());
    assertEquals(0, region.chunk(1).position());
  }
}
