package io.te4j.transport.nvmeof;

import java.nio.channels.FileChannel;

/**
 * One file of a segment as this host opened it: where it lies in the segment, and the handles of
 * whichever I/O backend opened it. Handles are set once before the {@link SegmentFiles} is shared
 * and closed when its last user lets go.
 */
final class LocalFile {
  /** Position in the segment's file list. */
  final int index;
  /** The path opened on this host. */
  final String path;
  /** The descriptor's {@code file_path}, for messages. */
  final String publishedPath;
  /** First segment offset of this file. */
  final long start;
  /** Declared length: bytes of the file that belong to the segment. */
  final long length;

  // io_uring backend
  int fd = -1;
  int directFd = -1;
  boolean writable;
  boolean blockDevice;
  /** O_DIRECT alignment of memory addresses, and of file offsets and lengths. */
  long memAlign = 4096;
  long offAlign = 4096;
  /**
   * What file offsets and lengths of an I/O sent with O_DIRECT are multiples of: {@link #offAlign}
   * and the page size. A direct I/O of whole pages never shares a page with a buffered one of
   * other bytes; one of 512-byte blocks could, and a buffered write dirtying that page while the
   * direct one is in flight may be written back over it.
   */
  long directAlign = 4096;
  /** Set once O_DIRECT failed with EINVAL despite the alignment: buffered from then on. */
  volatile boolean directOff;

  // FileChannel backend
  FileChannel channel;

  LocalFile(int index, String path, String publishedPath, long start, long length) {
    this.index = index;
    this.path = path;
    this.publishedPath = publishedPath;
    this.start = start;
    this.length = length;
  }

  /** "#1 /mnt/x/f2" (with the published path when it differs). */
  String label() {
    return "file #" + index + " " + path + (path.equals(publishedPath) ? ""
        : " (file_path " + publishedPath + ")");
  }
}
