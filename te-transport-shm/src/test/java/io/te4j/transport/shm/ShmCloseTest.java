package io.te4j.transport.shm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.BufferDescriptor;
import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.nativelib.NativeMemory;
import io.te4j.testkit.TestContext;
import io.te4j.testkit.TestMemory;
import io.te4j.testkit.TestRegion;
import io.te4j.testkit.TestSlice;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A closed shm transport maps nothing any more: a copy submitted while (or after) it closes fails
 * and leaves no mapping of the peer's memory behind, where it used to map the peer anew into a
 * peer table nobody would drop again.
 */
class ShmCloseTest {
  private static final int SIZE = 1 << 20;

  private final long[] targetFile = NativeMemory.mapMemoryFile("te4j-shm-close-test", SIZE);
  private final long local = NativeMemory.mapAnonymous(SIZE);
  private final ShmTransport target = new ShmTransport(new TestContext(new TestMemory()));
  private ShmTransport initiator;

  @AfterEach
  void release() {
    if (initiator != null) {
      initiator.close();
    }
    target.close();
    NativeMemory.unmap(targetFile[0], SIZE);
    NativeMemory.closeFd((int) targetFile[1]);
    NativeMemory.unmap(local, SIZE);
  }

  @Test
  void aCopyAfterCloseFailsAndMapsNothing() throws Exception {
    TestRegion targetRegion =
        new TestRegion(targetFile[0], NativeMemory.view(targetFile[0], SIZE), true);
    SegmentDescriptor.Builder published = SegmentDescriptor.builder("shm-close-target", "tcp");
    target.start(published);
    BufferDescriptor buffer = target.describe(targetRegion,
        new BufferDescriptor("cpu:0", targetFile[0], SIZE, List.of(), List.of(), Map.of()));
    SegmentDescriptor peer = published.buffers(List.of(buffer)).build();
    String inodes = "inode " + peer.attributes().get(ShmTransport.ALIVE_INODE) + " |inode "
        + buffer.attributes().get(ShmTransport.FILE_INODE) + " ";

    TestMemory memory = new TestMemory();
    TestRegion mine = memory.add(new TestRegion(local, NativeMemory.view(local, SIZE), true));
    initiator = new ShmTransport(new TestContext(memory));
    initiator.start(SegmentDescriptor.builder("shm-close-initiator", "tcp"));
    byte[] data = new byte[4096];
    new java.util.Random(9).nextBytes(data);
    mine.put(local, data);
    TestSlice first = TestSlice.write(mine, local, peer, targetFile[0] + 8192, 4096, 5000);
    initiator.submit(first);
    assertTrue(first.await(5000).ok(), first.await(5000)::toString);
    assertArrayEquals(data, targetRegion.get(targetFile[0] + 8192, 4096));
    assertTrue(mapsPeer(inodes), "the first copy mapped the peer's memory file");

    initiator.close();
    assertFalse(mapsPeer(inodes), "close unmapped it");
    TestSlice late = TestSlice.write(mine, local, peer, targetFile[0], 4096, 5000);
    initiator.submit(late);
    TestSlice.Outcome o = late.await(5000);
    assertFalse(o.ok());
    assertEquals(ErrorCode.TRANSFER_FAILED, o.code(), o::toString);
    assertFalse(mapsPeer(inodes), () -> "mapped again after close: " + initiator.describePeers());
  }

  private static boolean mapsPeer(String inodes) {
    String mapped = PeerMapping.describeMapped();
    for (String inode : inodes.split("\\|")) {
      if (mapped.contains(inode)) {
        return true;
      }
    }
    return false;
  }
}
