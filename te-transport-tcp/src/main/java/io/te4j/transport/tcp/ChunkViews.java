package io.te4j.transport.tcp;

import io.te4j.api.spi.DeviceMemoryAccess;
import io.te4j.api.spi.MemoryRegion;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.IdentityHashMap;

/**
 * One thread's reusable {@link ByteBuffer#duplicate()}s of registered chunk buffers, so moving
 * bytes never touches the shared buffers' position or limit and never allocates after the first
 * use of a chunk. Owned by exactly one thread; not thread-safe.
 *
 * <p>The cache is dropped when the transport's memory generation changes (a region was
 * unregistered), so it does not keep views of memory the engine let go of.
 *
 * <p>Device memory has no chunks: its bytes pass through this thread's staging buffer (pinned host
 * memory, made on first use and kept until the thread leaves), {@value #STAGING_BYTES} bytes at a
 * time, as the reference bounces GPU memory over TCP (CUDA.md 2.5).
 */
final class ChunkViews {
  /** A cache that grows past this is cleared (guards against regions that mint new chunks). */
  private static final int MAX_VIEWS = 256;
  /** Bytes of device memory staged at a time. */
  static final int STAGING_BYTES = 1 << 20;

  private final IdentityHashMap<ByteBuffer, ByteBuffer> views = new IdentityHashMap<>();
  private final MemoryViews shared;
  private int seenGeneration;
  private DeviceMemoryAccess.Staging staging;
  private DeviceMemoryAccess stagingAccess;

  ChunkViews(MemoryViews shared) {
    this.shared = shared;
    this.seenGeneration = shared.generation.get();
  }

  /** This thread's view of chunk {@code index} of {@code region}; position and limit are free. */
  ByteBuffer view(MemoryRegion region, int index) {
    int generation = shared.generation.get();
    if (generation != seenGeneration) {
      views.clear();
      seenGeneration = generation;
    }
    ByteBuffer chunk = region.chunk(index);
    ByteBuffer view = views.get(chunk);
    if (view == null) {
      if (views.size() >= MAX_VIEWS) {
        views.clear();
      }
      view = chunk.duplicate();
      views.put(chunk, view);
    }
    return view;
  }

  /**
   * The staging buffer holding device bytes {@code [offset, offset + n)} of {@code region}, {@code
   * n} at most {@link #STAGING_BYTES}: its position 0, its limit n.
   */
  ByteBuffer stageFrom(MemoryRegion region, long offset, long length) throws IOException {
    DeviceMemoryAccess.Staging s = staging(region);
    int n = (int) Math.min(length, STAGING_BYTES);
    s.fromDevice(region.address() + offset, n);
    return s.buffer().clear().limit(n);
  }

  /**
   * The staging buffer to receive device bytes {@code [offset, offset + n)} of {@code region}
   * into, {@code n} at most {@link #STAGING_BYTES}; {@link #commit} then copies them there.
   */
  ByteBuffer stageFor(MemoryRegion region, long length) throws IOException {
    int n = (int) Math.min(length, STAGING_BYTES);
    return staging(region).buffer().clear().limit(n);
  }

  /** Copies the staging buffer's first {@code n} bytes to {@code offset} of device region. */
  void commit(MemoryRegion region, long offset, int n) throws IOException {
    staging(region).toDevice(region.address() + offset, n);
  }

  private DeviceMemoryAccess.Staging staging(MemoryRegion region) throws IOException {
    DeviceMemoryAccess d = shared.device(region.kind());
    if (d == null) {
      throw new IOException("the tcp transport cannot reach " + region.kind() + " (no device "
          + "module for it on the class path, or its device is unavailable)");
    }
    if (staging == null || stagingAccess != d) {
      releaseStaging();
      staging = d.staging(STAGING_BYTES);
      stagingAccess = d;
    }
    return staging;
  }

  private void releaseStaging() {
    if (staging != null) {
      staging.close();
      staging = null;
      stagingAccess = null;
    }
  }

  /** Drops every view and the staging buffer (the owner thread is leaving). */
  void clear() {
    views.clear();
    releaseStaging();
  }
}
