package io.te4j.transport.tcp;

import io.te4j.api.spi.MemoryRegion;
import java.nio.ByteBuffer;
import java.util.IdentityHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One thread's reusable {@link ByteBuffer#duplicate()}s of registered chunk buffers, so moving
 * bytes never touches the shared buffers' position or limit and never allocates after the first
 * use of a chunk. Owned by exactly one thread; not thread-safe.
 *
 * <p>The cache is dropped when the transport's memory generation changes (a region was
 * unregistered), so it does not keep views of memory the engine let go of.
 */
final class ChunkViews {
  /** A cache that grows past this is cleared (guards against regions that mint new chunks). */
  private static final int MAX_VIEWS = 256;

  private final IdentityHashMap<ByteBuffer, ByteBuffer> views = new IdentityHashMap<>();
  private final AtomicInteger memoryGeneration;
  private int seenGeneration;

  ChunkViews(AtomicInteger memoryGeneration) {
    this.memoryGeneration = memoryGeneration;
    this.seenGeneration = memoryGeneration.get();
  }

  /** This thread's view of chunk {@code index} of {@code region}; position and limit are free. */
  ByteBuffer view(MemoryRegion region, int index) {
    int generation = memoryGeneration.get();
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

  /** Drops every view (the owner thread is leaving). */
  void clear() {
    views.clear();
  }
}
