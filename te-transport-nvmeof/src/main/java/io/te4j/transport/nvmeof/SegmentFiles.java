package io.te4j.transport.nvmeof;

import io.te4j.api.SegmentDescriptor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The opened files of one file segment, in segment order, with reference counting: the transport's
 * cache holds one reference and every slice in flight another, so files are closed only after the
 * last I/O on them completed, even when the segment was forgotten or re-resolved meanwhile.
 */
final class SegmentFiles {
  final SegmentDescriptor descriptor;
  final LocalFile[] files;
  /** Sum of the declared lengths. */
  final long totalLength;
  private final IoBackend backend;
  private final AtomicInteger refs = new AtomicInteger(1);

  SegmentFiles(SegmentDescriptor descriptor, LocalFile[] files, IoBackend backend) {
    this.descriptor = descriptor;
    this.files = files;
    this.backend = backend;
    LocalFile last = files[files.length - 1];
    this.totalLength = last.start + last.length;
  }

  /** The file holding segment offset {@code offset} (which is below {@link #totalLength}). */
  LocalFile fileAt(long offset) {
    int lo = 0;
    int hi = files.length - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (files[mid].start <= offset) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return files[lo];
  }

  /** Takes a reference; false when the files are already closed. */
  boolean retain() {
    for (;;) {
      int r = refs.get();
      if (r == 0) {
        return false;
      }
      if (refs.compareAndSet(r, r + 1)) {
        return true;
      }
    }
  }

  /** Drops a reference; the last one closes the files. */
  void release() {
    if (refs.decrementAndGet() == 0) {
      for (LocalFile f : files) {
        backend.close(f);
      }
    }
  }
}
