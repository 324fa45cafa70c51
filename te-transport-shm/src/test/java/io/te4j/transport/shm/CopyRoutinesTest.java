package io.te4j.transport.shm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
}
