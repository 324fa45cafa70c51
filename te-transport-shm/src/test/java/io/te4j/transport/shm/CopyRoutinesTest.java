package io.te4j.transport.shm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.nativelib.NativeMemory;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The native copies (built by this module's build) against byte arrays, edges and alignments. */
class CopyRoutinesTest {
  @Test
  void nativeLibraryIsLoadedInTheBuild() {
    assertTrue(CopyRoutines.isNativeAvailable(), () -> String.valueOf(
        CopyRoutines.unavailabilityCause()));
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"copy", "writeBack", "java"})
  void copiesAreExactAtEverySizeAndAlignment(String routine) {
    int max = (2 << 20) + 256;
    long src = NativeMemory.mapAnonymous(max + 128);
    long dst = NativeMemory.mapAnonymous(max + 128);
    try {
      Random rnd = new Random(3);
      int[] sizes = {1, 15, 16, 63, 64, 255, 256, 257, 511, 512, 577, 4096, 65_537, (256 << 10) + 5, 1 << 20, (1 << 20) + 13, max};
      for (int size : sizes) {
        for (int srcOff : new int[] {0, 3}) {
          for (int dstOff : new int[] {0, 7, 16, 60}) {
            byte[] data = new byte[size];
            rnd.nextBytes(data);
            NativeMemory.write(src + srcOff, data, 0, size);
            NativeMemory.fill(dst, max + 128, (byte) 0x55);
            if (routine.equals("writeBack")) {
              CopyRoutines.copyAndWriteBack(dst + dstOff, src + srcOff, size);
            } else if (routine.equals("java")) {
              CopyRoutines.javaCopy(dst + dstOff, src + srcOff, size);
            } else {
              CopyRoutines.copy(dst + dstOff, src + srcOff, size);
              CopyRoutines.writeBack(dst + dstOff, size);
            }
            byte[] back = new byte[size];
            NativeMemory.read(dst + dstOff, back, 0, size);
            assertArrayEquals(data, back, "size " + size + " src+" + srcOff + " dst+" + dstOff);
            byte[] after = new byte[32];
            NativeMemory.read(dst + dstOff + size, after, 0, after.length);
            byte[] guard = new byte[32];
            java.util.Arrays.fill(guard, (byte) 0x55);
            assertArrayEquals(guard, after, "no byte past the end, size " + size);
          }
        }
      }
    } finally {
      NativeMemory.unmap(src, max + 128);
      NativeMemory.unmap(dst, max + 128);
    }
  }

  /**
   * A run whose source and destination fill at most 3/8 of the largest cache stays in it; a
   * machine that publishes no cache sizes (some VMs have no {@code cpu0/cache} in sysfs) counts
   * as 1 MiB of cache.
   */
  @Test
  void runsUpToThreeSixteenthsOfTheLargestCacheAreCopiedThroughIt() throws Exception {
    long largest = 0;
    java.nio.file.Path caches = java.nio.file.Path.of("/sys/devices/system/cpu/cpu0/cache");
    if (java.nio.file.Files.isDirectory(caches)) {
      try (var indexes = java.nio.file.Files.newDirectoryStream(caches, "index*")) {
        for (java.nio.file.Path index : indexes) {
          String size = java.nio.file.Files.readString(index.resolve("size")).trim();
          long unit = size.endsWith("K") ? 1024 : size.endsWith("M") ? 1024 * 1024 : 1;
          largest = Math.max(largest,
              Long.parseLong(unit == 1 ? size : size.substring(0, size.length() - 1)) * unit);
        }
      }
    }
    long expected = largest > 0 ? largest : 1L << 20;
    assertEquals(expected, CopyRoutines.lastLevelCacheBytes());
    assertEquals(expected / 16 * 3, CopyRoutines.cachedRunLimit());
  }

  /** Both choices of a run, cached and streaming, copy every byte of every entry, and no more. */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(longs = {0, Long.MAX_VALUE})
  void aRunOfCopiesIsExactWhetherItStaysInTheCacheOrStreams(long declaredTotal) {
    int entries = 4;
    long block = (1 << 20) + 13;
    long span = entries * (block + 64);
    long src = NativeMemory.mapAnonymous(span);
    long dst = NativeMemory.mapAnonymous(span);
    long table = NativeMemory.mapAnonymous(32L * entries);
    try {
      byte[] data = new byte[(int) span];
      new Random(5).nextBytes(data);
      NativeMemory.write(src, data, 0, data.length);
      NativeMemory.fill(dst, span, (byte) 0x55);
      java.nio.ByteBuffer t = NativeMemory.view(table, 32 * entries)
          .order(java.nio.ByteOrder.nativeOrder());
      for (int i = 0; i < entries; i++) {
        long at = i * (block + 64) + 7;
        t.putLong(32 * i, dst + at).putLong(32 * i + 8, src + at).putLong(32 * i + 16, block)
            .putLong(32 * i + 24, 0);
      }
      CopyRoutines.copyMany(table, entries, declaredTotal);
      byte[] back = new byte[(int) span];
      NativeMemory.read(dst, back, 0, back.length);
      for (int i = 0; i < entries; i++) {
        int at = (int) (i * (block + 64));
        for (int b = 0; b < block + 64; b++) {
          boolean copied = b >= 7 && b < 7 + block;
          byte want = copied ? data[at + b] : (byte) 0x55;
          if (back[at + b] != want) {
            throw new AssertionError("entry " + i + " byte " + b + ": " + back[at + b] + ", want "
                + want);
          }
        }
      }
    } finally {
      NativeMemory.unmap(src, span);
      NativeMemory.unmap(dst, span);
      NativeMemory.unmap(table, 32L * entries);
    }
  }
}
