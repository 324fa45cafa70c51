package io.te4j.nativelib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class NativeMemoryTest {
  private static final int LENGTH = 3 * 4096;
  private long base;

  @BeforeEach
  void map() {
    base = NativeMemory.mapAnonymous(LENGTH);
  }

  @AfterEach
  void unmap() {
    NativeMemory.unmap(base, LENGTH);
  }

  @Test
  void mappingIsPageAlignedAndZeroFilled() {
    assertNotEquals(0, base);
    assertEquals(0, base & 4095);
    byte[] got = new byte[LENGTH];
    NativeMemory.read(base, got, 0, LENGTH);
    assertArrayEquals(new byte[LENGTH], got);
  }

  @Test
  void writeThenReadRoundTrips() {
    byte[] data = new byte[5000];
    new Random(1).nextBytes(data);
    NativeMemory.write(base + 100, data, 10, 4000);
    byte[] got = new byte[4100];
    NativeMemory.read(base + 100, got, 50, 4000);
    assertArrayEquals(Arrays.copyOfRange(data, 10, 4010), Arrays.copyOfRange(got, 50, 4050));
    // Nothing before the written range changed.
    byte[] before = new byte[100];
    NativeMemory.read(base, before, 0, 100);
    assertArrayEquals(new byte[100], before);
  }

  @Test
  void arrayBoundsAreChecked() {
    byte[] small = new byte[10];
    assertThrows(IndexOutOfBoundsException.class, () -> NativeMemory.write(base, small, 5, 6));
    assertThrows(IndexOutOfBoundsException.class, () -> NativeMemory.read(base, small, -1, 2));
    assertThrows(IllegalArgumentException.class, () -> NativeMemory.write(0, small, 0, 10));
  }

  @Test
  void fillSetsExactlyTheRange() {
    NativeMemory.fill(base + 10, 20, (byte) 0x5a);
    byte[] got = new byte[40];
    NativeMemory.read(base, got, 0, 40);
    for (int i = 0; i < 40; i++) {
      assertEquals(i >= 10 && i < 30 ? (byte) 0x5a : 0, got[i], "byte " + i);
    }
  }

  @Test
  void copyMovesBytesIncludingOverlappingRanges() {
    byte[] data = new byte[256];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) i;
    }
    NativeMemory.write(base, data, 0, 256);
    NativeMemory.copy(base + 8192, base, 256);
    byte[] got = new byte[256];
    NativeMemory.read(base + 8192, got, 0, 256);
    assertArrayEquals(data, got);

    // Overlapping forward copy must behave like memmove, not corrupt.
    NativeMemory.copy(base + 16, base, 256);
    NativeMemory.read(base + 16, got, 0, 256);
    assertArrayEquals(data, got);
  }

  @Test
  void viewSeesNativeWritesAndNativeReadsSeeViewWrites() {
    ByteBuffer view = NativeMemory.view(base + 4096, 4096);
    assertTrue(view.isDirect());
    assertEquals(4096, view.capacity());
    assertEquals(base + 4096, NativeMemory.addressOf(view));

    NativeMemory.write(base + 4096 + 7, new byte[] {1, 2, 3}, 0, 3);
    assertEquals(1, view.get(7));
    assertEquals(3, view.get(9));

    view.put(100, (byte) 42);
    byte[] one = new byte[1];
    NativeMemory.read(base + 4096 + 100, one, 0, 1);
    assertEquals(42, one[0]);
  }

  @Test
  void addressOfDirectBufferMatchesItsMemory() {
    ByteBuffer direct = ByteBuffer.allocateDirect(64);
    long address = NativeMemory.addressOf(direct);
    direct.put(5, (byte) 77);
    byte[] one = new byte[1];
    NativeMemory.read(address + 5, one, 0, 1);
    assertEquals(77, one[0]);
    assertThrows(
        IllegalArgumentException.class, () -> NativeMemory.addressOf(ByteBuffer.allocate(64)));
  }

  @Test
  void impossibleMappingFailsWithMemoryError() {
    TransferException e =
        assertThrows(TransferException.class, () -> NativeMemory.mapAnonymous(1L << 62));
    assertEquals(ErrorCode.MEMORY, e.errorCode());
    assertTrue(e.getMessage().contains("errno"), e.getMessage());
  }
}
