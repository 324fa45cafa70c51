package io.te4j.transport.shm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.testkit.contract.ChildTargetPair;
import io.te4j.testkit.contract.TransportContract;
import io.te4j.testkit.contract.TransportPair;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * The transport contract over {@code shm}, target in a child JVM. Its memory is a memory file:
 * this engine maps it and copies with plain memory copies.
 */
class ShmContractIT extends TransportContract {
  /** The inode of the target's memory file, while it lives. */
  private Object targetInode;

  /** How the target gets its memory (see {@link io.te4j.testkit.contract.ContractTarget}). */
  String targetMemory() {
    return "memfd";
  }

  /** True when the target's memory is a memory file this engine can map. */
  boolean targetHasMemoryFile() {
    return true;
  }

  @Override
  protected TransportPair openPair() throws Exception {
    TransportPair pair = ChildTargetPair.builder("shm").protocol("shm,tcp")
        .targetMemory(targetMemory()).open();
    targetInode = pair.initiator().segment(pair.segment()).buffers().get(0).attributes()
        .get(ShmTransport.FILE_INODE);
    return pair;
  }

  /** Which path the copies took: the mapped file, or cross-memory attach; never TCP. */
  @Test
  @Order(99)
  void copiesTookThePathTheTargetsMemoryAllows() {
    ShmTransport shm = (ShmTransport) engine.transport("shm");
    if (targetHasMemoryFile()) {
      assertNotNull(targetInode, "the target published its memory file");
      assertTrue(shm.mappedBytes() > 0);
      assertEquals(0, shm.attachBytes(), "nothing by cross-memory attach");
    } else {
      assertNull(targetInode, "anonymous memory has no file to publish");
      assertTrue(shm.attachBytes() > 0);
      assertEquals(0, shm.mappedBytes(), "nothing mapped");
    }
    assertEquals(0, engine.metrics().batchesVia("tcp"), "no batch went through tcp");
  }

  /** The dead process's memory file is unmapped here (the pidfd watcher saw it exit). */
  @Override
  protected void afterTargetDied() throws Exception {
    if (targetInode != null) {
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (mapsInode(targetInode) && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      ShmTransport shm = (ShmTransport) engine.transport("shm");
      assertFalse(mapsInode(targetInode), () -> "the dead target's memory file is still mapped; "
          + "shm peers: " + shm.describePeers());
    }
  }

  /** True when this process maps a memfd with that inode. */
  static boolean mapsInode(Object inode) throws java.io.IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
      String[] f = line.split("\\s+", 6);
      if (f.length == 6 && f[4].equals(inode.toString()) && !f[3].equals("00:00")) {
        return true;
      }
    }
    return false;
  }
}
