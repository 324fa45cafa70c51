package io.te4j.transport.shm;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds out whether a range of this process's memory is a shared mapping of a memory file another
 * process of this host can map as well: a {@code memfd} (the engine's managed arenas, or the
 * application's own) or a file on {@code /dev/shm}. Reads {@code /proc/self/maps} (and, for a
 * memfd, {@code /proc/self/fd} to find a descriptor the peer can open as {@code
 * /proc/<pid>/fd/<n>}). Runs when memory is registered, never on the transfer path.
 */
final class MemoryFiles {
  /** Where a peer finds the memory: a path to open, the file offset of the range, the inode. */
  record Backing(String path, long fileOffset, long inode) {}

  private MemoryFiles() {}

  /**
   * The memory file behind {@code [address, address + length)}, or null when the range is not
   * inside one shared, writable mapping of a memfd or a {@code /dev/shm} file.
   */
  static Backing find(long address, long length) {
    try {
      return parse(mapsLine(address), address, length);
    } catch (RuntimeException e) {
      return null; // an unexpected maps format: peers use cross-memory attach
    }
  }

  private static Backing parse(String line, long address, long length) {
    if (line == null) {
      return null;
    }
    // start-end perms offset dev inode path
    String[] f = line.split("\\s+", 6);
    if (f.length < 6 || !f[1].startsWith("rw") || f[1].charAt(3) != 's') {
      return null;
    }
    String[] range = f[0].split("-");
    long start = Long.parseUnsignedLong(range[0], 16);
    long end = Long.parseUnsignedLong(range[1], 16);
    if (Long.compareUnsigned(length, end - address) > 0) {
      return null; // spans several mappings: left to cross-memory attach
    }
    long fileOffset = Long.parseUnsignedLong(f[2], 16) + (address - start);
    long inode = Long.parseLong(f[4]);
    String path = f[5].trim();
    if (path.startsWith("/memfd:")) {
      String fd = descriptorOf(path, inode);
      return fd == null ? null
          : new Backing("/proc/" + ProcessHandle.current().pid() + "/fd/" + fd, fileOffset, inode);
    }
    if (path.startsWith("/dev/shm/") && !path.endsWith(" (deleted)")) {
      return new Backing(path, fileOffset, inode);
    }
    return null;
  }

  private static String mapsLine(long address) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
        int dash = line.indexOf('-');
        int space = line.indexOf(' ');
        long start = Long.parseUnsignedLong(line.substring(0, dash), 16);
        long end = Long.parseUnsignedLong(line.substring(dash + 1, space), 16);
        if (Long.compareUnsigned(start, address) <= 0 && Long.compareUnsigned(address, end) < 0) {
          return line;
        }
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
    return null;
  }

  /** An open descriptor of this process naming the memfd {@code mapsPath} with that inode. */
  private static String descriptorOf(String mapsPath, long inode) {
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
      for (Path fd : fds) {
        try {
          if (Files.readSymbolicLink(fd).toString().equals(mapsPath)
              && ((Number) Files.getAttribute(fd, "unix:ino")).longValue() == inode) {
            return fd.getFileName().toString();
          }
        } catch (IOException | RuntimeException closedMeanwhile) {
          // the stream's own descriptor, or one closed while we looked
        }
      }
    } catch (IOException e) {
      return null;
    }
    return null;
  }

  /** The inode of the file open as {@code fd} in this process, or -1. */
  static long inodeOf(int fd) {
    try {
      return ((Number) Files.getAttribute(Path.of("/proc/self/fd/" + fd), "unix:ino")).longValue();
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
