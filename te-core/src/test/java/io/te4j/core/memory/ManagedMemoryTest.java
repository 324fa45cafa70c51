package io.te4j.core.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.nativelib.NativeMemory;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ManagedMemoryTest {
  private static final long ARENA = 1L << 20;

  private final MemoryRegistryImpl registry = new MemoryRegistryImpl();
  private final ManagedMemory managed = new ManagedMemory(registry, ARENA, true);

  @AfterEach
  void close() {
    managed.close();
    assertEquals(0, registry.size(), "close unregisters every arena");
  }

  @Test
  void allocatedMemoryIsRegisteredWritableAndReadable() {
    long address = managed.allocate(1000);
    assertNotEquals(0, address);
    RegisteredRegion region = registry.findContaining(address, 1000);
    assertNotNull(region, "managed memory is registered");
    assertEquals(ManagedMemory.LOCATION, region.location());
    assertTrue(region.remoteAccessible());
    assertSame(managed, region.owner());
    assertTrue(managed.isManaged(address));

    byte[] data = new byte[1000];
    new Random(7).nextBytes(data);
    NativeMemory.write(address, data, 0, data.length);
    byte[] got = new byte[1000];
    NativeMemory.read(address, got, 0, got.length);
    assertArrayEquals(data, got);
    // The region's chunk sees the same bytes.
    assertEquals(data[17], region.chunk(0).get((int) (address - region.address()) + 17));

    assertEquals(0, managed.free(address, 1000));
    assertEquals(1, managed.arenaCount(), "the last arena is kept warm");
    assertEquals(0, managed.usedBytes());
  }

  @Test
  void arenasAreMemoryFilesAnotherProcessCanOpenAndTheirDescriptorsAreClosedWithThem()
      throws Exception {
    long address = managed.allocate(ARENA + 1); // a dedicated arena, returned when freed
    String line = mapsLine(address);
    assertTrue(line.contains("/memfd:te4j-managed"), line);
    assertTrue(line.split("\\s+")[1].contains("s"), "a shared mapping: " + line);
    long inode = Long.parseLong(line.split("\\s+")[4]);
    assertEquals(1, memoryFileDescriptors(inode), "the descriptor stays open for peers");
    NativeMemory.write(address, new byte[] {42}, 0, 1);
    // What a peer process does: open the file through /proc and see the same bytes.
    java.nio.file.Path viaProc = java.nio.file.Path.of("/proc/self/fd/" + fdOf(inode));
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(viaProc)) {
      java.nio.ByteBuffer one = java.nio.ByteBuffer.allocate(1);
      ch.read(one, 0);
      assertEquals(42, one.get(0));
    }
    assertEquals(0, managed.free(address, ARENA + 1));
    assertEquals(0, memoryFileDescriptors(inode), "the arena's descriptor is closed with it");
  }

  @Test
  void shareableOffGivesAnonymousMemory() throws Exception {
    try (ManagedMemory anonymous = new ManagedMemory(new MemoryRegistryImpl(), ARENA, false)) {
      long address = anonymous.allocate(100);
      String line = mapsLine(address);
      assertTrue(!line.contains("memfd") && line.split("\\s+")[1].contains("p"), line);
    }
  }

  /** The /proc/self/maps line of the mapping holding {@code address}. */
  private static String mapsLine(long address) throws java.io.IOException {
    for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/maps"))) {
      String[] range = line.substring(0, line.indexOf(' ')).split("-");
      if (Long.compareUnsigned(Long.parseUnsignedLong(range[0], 16), address) <= 0
          && Long.compareUnsigned(address, Long.parseUnsignedLong(range[1], 16)) < 0) {
        return line;
      }
    }
    throw new AssertionError("0x" + Long.toHexString(address) + " is not mapped");
  }

  private static long memoryFileDescriptors(long inode) throws java.io.IOException {
    return fdsOf(inode).count();
  }

  private static String fdOf(long inode) throws java.io.IOException {
    return fdsOf(inode).findFirst().orElseThrow();
  }

  private static java.util.stream.Stream<String> fdsOf(long inode) throws java.io.IOException {
    List<String> found = new ArrayList<>();
    try (java.nio.file.DirectoryStream<java.nio.file.Path> fds =
        java.nio.file.Files.newDirectoryStream(java.nio.file.Path.of("/proc/self/fd"))) {
      for (java.nio.file.Path fd : fds) {
        try {
          if (java.nio.file.Files.readSymbolicLink(fd).toString().startsWith("/memfd:")
              && ((Number) java.nio.file.Files.getAttribute(fd, "unix:ino")).longValue() == inode) {
            found.add(fd.getFileName().toString());
          }
        } catch (java.io.IOException gone) {
          // the directory stream's own descriptor, closed meanwhile
        }
      }
    }
    return found.stream();
  }

  @Test
  void emptyArenasAreReturnedAndUnregistered() {
    long whole = managed.allocate(ARENA); // fills the first arena
    long next = managed.allocate(4096); // needs a second one
    assertEquals(2, managed.arenaCount());
    assertEquals(2, registry.size());
    RegisteredRegion second = registry.findContaining(next, 4096);
    assertNotNull(second);
    assertNull(registry.findContaining(whole, ARENA + 1));

    assertEquals(0, managed.free(next, 4096));
    assertEquals(1, managed.arenaCount(), "the empty second arena was returned");
    assertNull(registry.find(next, 1), "and unregistered");
    assertEquals(1, registry.size());

    assertEquals(0, managed.free(whole, ARENA));
    assertEquals(1, managed.arenaCount(), "the last standard arena stays");
    assertEquals(whole, managed.allocate(ARENA), "the warm arena is reused");
  }

  @Test
  void bigAllocationGetsItsOwnArenaOfTheNextPowerOfTwo() {
    long small = managed.allocate(100);
    long big = managed.allocate(3 * ARENA);
    assertNotEquals(0, big);
    assertEquals(2, managed.arenaCount());
    RegisteredRegion region = registry.findContaining(big, 3 * ARENA);
    assertNotNull(region);
    assertEquals(4 * ARENA, region.length());
    assertEquals(big, region.address());
    NativeMemory.fill(big + 3 * ARENA - 10, 10, (byte) 3);

    assertEquals(0, managed.free(big, 3 * ARENA));
    assertEquals(1, managed.arenaCount(), "a dedicated arena is returned when empty");
    assertNull(registry.find(big, 1));
    assertEquals(0, managed.free(small, 100));

    // Even when it is the only arena left.
    long alone = managed.allocate(2 * ARENA);
    assertEquals(2, managed.arenaCount());
    assertEquals(0, managed.free(alone, 2 * ARENA));
    assertEquals(1, managed.arenaCount());
  }

  @Test
  void misuseIsAnErrorCodeNeverCorruption() {
    long a = managed.allocate(8192);
    long b = managed.allocate(8192);
    int invalid = ErrorCode.INVALID_ARGUMENT.code();

    assertEquals(0, managed.allocate(0));
    assertEquals(0, managed.allocate(-1));
    assertEquals(0, managed.allocate(Long.MAX_VALUE));
    assertEquals(invalid, managed.free(a, 4096), "wrong length");
    assertEquals(invalid, managed.free(a + 4096, 4096), "not a block start");
    assertEquals(ErrorCode.ADDRESS_NOT_REGISTERED.code(), managed.free(12345, 8), "unknown");
    assertEquals(0, managed.free(a, 8192));
    assertEquals(invalid, managed.free(a, 8192), "double free");
    assertEquals(8192, managed.usedBytes());

    // b is intact and still freeable; then the whole arena is available again.
    NativeMemory.fill(b, 8192, (byte) 1);
    assertEquals(0, managed.free(b, 8192));
    assertEquals(0, managed.usedBytes());
    long whole = managed.allocate(ARENA);
    assertNotEquals(0, whole);
    assertEquals(1, managed.arenaCount());
    assertEquals(0, managed.free(whole, ARENA));
  }

  @Test
  void closeReturnsEverythingAndLaterCallsFailCleanly() {
    long a = managed.allocate(5000);
    managed.allocate(3 * ARENA);
    assertEquals(2, registry.size());
    managed.close();
    assertEquals(0, managed.arenaCount());
    assertEquals(0, registry.size());
    assertEquals(0, managed.allocate(10));
    assertEquals(ErrorCode.ENGINE_CLOSED.code(), managed.free(a, 5000));
    managed.close(); // idempotent
  }

  @Test
  void refusedRegistrationFailsTheAllocationAndLeaksNothing() {
    MemoryRegistryImpl refusing =
        new MemoryRegistryImpl(
            new MemoryRegistryImpl.Listener() {
              @Override
              public void added(List<RegisteredRegion> regions) {
                throw new TransferException(ErrorCode.MEMORY, "no");
              }

              @Override
              public void removed(List<RegisteredRegion> regions) {}
            });
    try (ManagedMemory m = new ManagedMemory(refusing, ARENA, true)) {
      assertEquals(0, m.allocate(100));
      assertEquals(0, m.arenaCount());
      assertEquals(0, refusing.size());
    }
  }

  @Test
  void arenaSizeMustBeAPowerOfTwo() {
    assertThrows(IllegalArgumentException.class, () -> new ManagedMemory(registry, 3 << 20, true));
    assertThrows(IllegalArgumentException.class, () -> new ManagedMemory(registry, 1024, true));
  }

  @Test
  void concurrentAllocationsNeverShareBytes() throws Exception {
    int threads = 4;
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int id = t;
        results.add(pool.submit(() -> churn(id, start)));
      }
      start.countDown();
      for (Future<Integer> f : results) {
        assertTrue(f.get(60, TimeUnit.SECONDS) > 0);
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(0, managed.usedBytes());
    assertEquals(1, managed.arenaCount(), "every extra arena was returned");
    assertEquals(1, registry.size());
  }

  /** Allocates, stamps, checks and frees; a stamp changed by another thread fails the test. */
  private int churn(int id, CountDownLatch start) throws InterruptedException {
    Random random = new Random(100 + id);
    List<long[]> live = new ArrayList<>();
    int allocations = 0;
    start.await();
    for (int i = 0; i < 400; i++) {
      if (live.size() < 20 && (live.isEmpty() || random.nextBoolean())) {
        long length = 1 + random.nextInt(random.nextInt(10) == 0 ? (int) ARENA : 64 * 1024);
        long address = managed.allocate(length);
        assertNotEquals(0, address);
        byte stamp = (byte) (id * 64 + i);
        NativeMemory.fill(address, length, stamp);
        live.add(new long[] {address, length, stamp});
        allocations++;
      } else {
        long[] block = live.remove(random.nextInt(live.size()));
        checkStamp(block);
        assertEquals(0, managed.free(block[0], block[1]));
      }
    }
    for (long[] block : live) {
      checkStamp(block);
      assertEquals(0, managed.free(block[0], block[1]));
    }
    return allocations;
  }

  private static void checkStamp(long[] block) {
    int length = (int) block[1];
    byte[] got = new byte[length];
    NativeMemory.read(block[0], got, 0, length);
    for (int i = 0; i < length; i++) {
      if (got[i] != (byte) block[2]) {
        throw new AssertionError(
            "byte "
                + i
                + " of block 0x"
                + Long.toHexString(block[0])
                + " overwritten: "
                + got[i]
                + " != "
                + (byte) block[2]);
      }
    }
  }
}
