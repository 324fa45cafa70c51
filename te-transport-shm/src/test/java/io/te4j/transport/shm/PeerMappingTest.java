package io.te4j.transport.shm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.nativelib.NativeMemory;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PeerMappingTest {
  private final Path file = Path.of("/dev/shm", "te4j-peermap-" + ProcessHandle.current().pid());

  @AfterEach
  void delete() throws Exception {
    Files.deleteIfExists(file);
  }

  private long inode() throws Exception {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.setLength(3 * 4096);
      f.seek(4096 + 100);
      f.write(77);
    }
    return ((Number) Files.getAttribute(file, "unix:ino")).longValue();
  }

  @Test
  void mapsTheFileAtAnUnalignedOffset() throws Exception {
    long inode = inode();
    PeerMapping m = PeerMapping.map(file.toString(), 4096 + 100, inode, 0x1000, 10);
    assertTrue(m.acquire());
    byte[] one = new byte[1];
    NativeMemory.read(m.address, one, 0, 1);
    assertEquals(77, one[0], "the buffer's first byte");
    m.release();
    m.retire();
    assertTrue(m.isUnmapped());
  }

  @Test
  void anotherFileThanTheOnePublishedIsRefused() throws Exception {
    long inode = inode();
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> PeerMapping.map(file.toString(), 0, inode + 1, 0x1000, 10));
    assertTrue(e.getMessage().contains("the peer published"), e.getMessage());
    assertThrows(IllegalStateException.class,
        () -> PeerMapping.map("/dev/shm/te4j-no-such-file", 0, inode, 0x1000, 10));
  }

  @Test
  void retiredWhileInUseIsUnmappedByTheLastUser() throws Exception {
    PeerMapping m = PeerMapping.map(file.toString(), 0, inode(), 0x1000, 4096);
    assertTrue(m.acquire());
    assertTrue(m.acquire());
    m.retire();
    assertFalse(m.acquire(), "no new user once retired");
    m.release();
    assertFalse(m.isUnmapped(), "one copy still runs");
    m.release();
    assertTrue(m.isUnmapped());
    m.retire(); // idempotent
    assertTrue(m.isUnmapped());
  }
}
