package io.te4j.transport.shm;

import io.te4j.nativelib.NativeLibraries;
import io.te4j.nativelib.NativeMemory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The memory copies of the shm and cxl transports. With {@code libte4jcopy} (the module's {@code
 * linux-x86_64} classifier JAR, loaded by {@link NativeLibraries}) large copies use non-temporal
 * stores and {@link #writeBack} writes cache lines back with {@code clwb}/{@code clflushopt}/{@code
 * clflush} plus a fence. Without it copies are Java bulk copies between direct-buffer views of the
 * memory ({@link #javaCopy}) and {@link #writeBack} is only a full fence: correct between processes of one host
 * (caches are coherent), not enough for a CXL device shared by several hosts without hardware
 * coherence. The probe runs once; why the library is absent is kept and logged once.
 *
 * <p>Kill switch: {@value #NATIVE_DISABLED}{@code =true} (a system property or the environment:
 * read once, when the class loads). Every method is thread-safe and
 * allocation-free.
 */
public final class CopyRoutines {
  /**
   * Copies at least this long use non-temporal stores when the library is there: from here up
   * they beat memcpy (the blocks no longer fit the L2 cache), below it memcpy wins.
   */
  public static final long NON_TEMPORAL_THRESHOLD = 256L << 10;

  /** Setting: the most bytes a run of copies may move in all and still stay in the caches. */
  public static final String CACHED_RUN_BYTES = "te4j.copy.cachedRunBytes";
  static final io.te4j.api.spi.Setting<Long> CACHED_RUN = io.te4j.api.spi.Setting.bytes(
      CACHED_RUN_BYTES, 0, 0, Long.MAX_VALUE, "a run of copies that moves at most this many bytes"
          + " in all is copied through the caches, whatever each copy's length (its working set "
          + "fits); a larger one streams copies of 256K and more past them; 0: 3/16 of the "
          + "last-level cache (source and destination then fill 3/8 of it); read when the class "
          + "loads");

  /** Setting: {@code true} runs the copies without libte4jcopy. */
  public static final String NATIVE_DISABLED = "te4j.copy.native.disabled";
  static final io.te4j.api.spi.Setting<Boolean> NATIVE_OFF = io.te4j.api.spi.Setting.flag(
      NATIVE_DISABLED, false, "run the shm and cxl copies without libte4jcopy (Java bulk copies,"
          + " no cache write-back); read when the class loads");
  private static final Logger LOG = LoggerFactory.getLogger(CopyRoutines.class);
  private static final Throwable CAUSE;
  private static final int FEATURES;
  /** What {@link #CACHED_RUN_BYTES} says, or its default from the cache size. */
  private static final long CACHED_RUN_LIMIT;

  static {
    Throwable cause = null;
    int features = 0;
    if (NATIVE_OFF.valueIn(io.te4j.api.spi.SettingSource.system())) {
      cause = new UnsupportedOperationException("disabled by " + NATIVE_DISABLED + "=true");
    } else {
      try {
        NativeLibraries.register("te4jcopy", Lib.class, CopyRoutines.class.getClassLoader());
        if (Lib.te4jcopy_abi_version() != 5) {
          throw new UnsatisfiedLinkError("libte4jcopy ABI " + Lib.te4jcopy_abi_version() + ", want 5");
        }
        features = Lib.te4jcopy_features() | (Lib.te4jcopy_stream_width() << 8);
      } catch (Throwable t) {
        cause = t;
      }
    }
    CAUSE = cause;
    FEATURES = features;
    long limit = CACHED_RUN.valueIn(io.te4j.api.spi.SettingSource.system());
    // Measured with SameHostTransferBenchmark on a 32 MiB L3 (4 blocks per batch): cached copies
    // win 1.4x at 4 MiB a run and 1.16x at 5 MiB, tie at 6 MiB, streaming wins 1.9x at 8 MiB.
    // The cache is shared, so the crossover sits well below what the cache holds.
    CACHED_RUN_LIMIT = limit > 0 ? limit : lastLevelCacheBytes() / 16 * 3;
    if (cause == null) {
      LOG.info("libte4jcopy loaded: cpu features sse2={} clflushopt={} clwb={}, {}-bit streaming "
          + "stores", (features & 1) != 0, (features & 2) != 0, (features & 4) != 0,
          64 << (features >> 8));
    } else {
      LOG.warn("libte4jcopy not used, copies fall back to Java bulk copies without cache write-back: {}",
          cause.getMessage());
    }
  }

  private CopyRoutines() {}

  /** True when the native library is loaded. */
  public static boolean isNativeAvailable() {
    return CAUSE == null;
  }

  /** Why the native library is not used, or null. */
  public static Throwable unavailabilityCause() {
    return CAUSE;
  }

  /**
   * CPU features the library found: bit 0 sse2, 1 clflushopt, 2 clwb; bits 8+ the streaming-store
   * width (1 = 128-bit, 2 = 256-bit, 3 = 512-bit); 0 without the library.
   */
  public static int cpuFeatures() {
    return FEATURES;
  }

  /** Copies {@code length} bytes; non-temporal stores from {@link #NON_TEMPORAL_THRESHOLD} up. */
  public static void copy(long dst, long src, long length) {
    if (length <= 0) {
      return;
    }
    if (CAUSE == null) {
      if (length >= NON_TEMPORAL_THRESHOLD) {
        Lib.te4jcopy_copy_nt(dst, src, length);
      } else {
        Lib.te4jcopy_copy(dst, src, length);
      }
    } else {
      javaCopy(dst, src, length);
    }
  }

  /**
   * Copies and leaves nothing of {@code dst} dirty in this CPU's caches: streaming stores for the
   * body, write-back of the edges, a fence. Without the library: a copy and a full fence.
   */
  public static void copyAndWriteBack(long dst, long src, long length) {
    if (length <= 0) {
      return;
    }
    if (CAUSE == null) {
      Lib.te4jcopy_copy_wb(dst, src, length);
    } else {
      javaCopy(dst, src, length);
      java.lang.invoke.VarHandle.fullFence();
    }
  }

  /** Writes the cache lines of a range back to memory, then fences (see the class comment). */
  public static void writeBack(long address, long length) {
    if (CAUSE == null) {
      Lib.te4jcopy_writeback(address, length);
    } else {
      java.lang.invoke.VarHandle.fullFence();
    }
  }

  /**
   * Runs {@code count} copies described at {@code table}: entries {dst, src, length, mode} of
   * 8-byte values, mode 0 a plain copy, 1 as {@link #copyAndWriteBack}. One fence at the end.
   * Plain copies go through the caches when the run moves at most {@link #cachedRunLimit()}
   * bytes in all ({@code totalBytes}); in a larger run, those of {@link #NON_TEMPORAL_THRESHOLD}
   * and more stream past them. glibc's memcpy makes this choice per copy against its
   * non-temporal threshold; a batch's copies share the cache, so here the run decides: streaming
   * a working set that fits the cache sends it to memory and back.
   */
  public static void copyMany(long table, int count, long totalBytes) {
    if (CAUSE == null) {
      Lib.te4jcopy_copy_many(table, count,
          totalBytes <= CACHED_RUN_LIMIT ? Long.MAX_VALUE : NON_TEMPORAL_THRESHOLD);
      return;
    }
    com.sun.jna.Pointer p = new com.sun.jna.Pointer(table);
    for (int i = 0; i < count; i++) {
      long length = p.getLong(32L * i + 16);
      if (length > 0) {
        javaCopy(p.getLong(32L * i), p.getLong(32L * i + 8), length);
      }
    }
    java.lang.invoke.VarHandle.fullFence();
  }

  /** The most bytes a run of {@link #copyMany} copies moves through the caches. */
  public static long cachedRunLimit() {
    return CACHED_RUN_LIMIT;
  }

  /**
   * The largest CPU cache of this machine ({@code /sys/devices/system/cpu/cpu0/cache}), or 1 MiB
   * when it cannot be read (then a run with a copy of 256K or more always streams it, as before).
   */
  static long lastLevelCacheBytes() {
    long largest = 0;
    java.nio.file.Path dir = java.nio.file.Path.of("/sys/devices/system/cpu/cpu0/cache");
    try (java.util.stream.Stream<java.nio.file.Path> indexes = java.nio.file.Files.list(dir)) {
      for (java.nio.file.Path index : (Iterable<java.nio.file.Path>) indexes::iterator) {
        java.nio.file.Path size = index.resolve("size");
        if (index.getFileName().toString().startsWith("index")
            && java.nio.file.Files.isReadable(size)) {
          largest = Math.max(largest, io.te4j.api.spi.Setting.parseSize(
              java.nio.file.Files.readString(size).trim()));
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      largest = 0;
    }
    return largest > 0 ? largest : 1L << 20;
  }

  /**
   * A C {@code memcpy} loop for benchmarks: copies {@code length} bytes {@code iterations} times,
   * copy {@code i} at offset {@code (i * length) % span} of both buffers.
   *
   * @return the nanoseconds it took, or -1 without the library
   */
  public static long benchMemcpy(long dst, long src, long length, long iterations, long span) {
    return CAUSE == null ? Lib.te4jcopy_bench_memcpy(dst, src, length, iterations, span) : -1;
  }

  /**
   * The copy used without the library: a bulk {@code put} between direct-buffer views of the two
   * ranges (the JDK's own copy loop), in pieces of at most 1 GiB. Allocates two views per piece.
   */
  static void javaCopy(long dst, long src, long length) {
    long done = 0;
    while (done < length) {
      int piece = (int) Math.min(length - done, 1L << 30);
      NativeMemory.view(dst + done, piece).put(NativeMemory.view(src + done, piece));
      done += piece;
    }
  }

  /** Direct mapping of libte4jcopy. */
  private static final class Lib {
    private Lib() {}

    static native int te4jcopy_abi_version();

    static native int te4jcopy_features();

    static native int te4jcopy_stream_width();

    static native void te4jcopy_copy(long dst, long src, long n);

    static native void te4jcopy_copy_nt(long dst, long src, long n);

    static native void te4jcopy_copy_wb(long dst, long src, long n);

    static native void te4jcopy_writeback(long address, long n);

    static native void te4jcopy_copy_many(long table, long count, long ntThreshold);

    static native long te4jcopy_bench_memcpy(long dst, long src, long n, long iterations,
        long span);
  }
}
