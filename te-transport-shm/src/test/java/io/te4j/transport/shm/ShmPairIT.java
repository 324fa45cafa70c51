package io.te4j.transport.shm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.transfer.Batch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * The same-host pair suite over {@code shm}, target in a child JVM. Its buffer is managed memory,
 * a memory file: this engine maps it and copies with plain memory copies.
 */
class ShmPairIT extends SameHostPairSuite {
  /** The inode of the target's memory file, while it lives. */
  private Object targetInode;

  @Override
  protected String transport() {
    return "shm";
  }

  /** How the target gets its memory (see {@link PeerMain}). */
  String targetMemory() {
    return "shm";
  }

  @Override
  protected void startPair() throws Exception {
    target = PeerProcess.start(List.of(), targetMemory(), Long.toString(BUFFER));
    engine = Engine.builder().localHostname("127.0.0.1").metadataServer("P2PHANDSHAKE")
        .protocol("shm,tcp").transferTimeout(Duration.ofSeconds(30)).start();
    local = engine.allocate(BUFFER).address();
    targetInode = engine.segment(target.segment).buffers().get(0).attributes()
        .get(ShmTransport.FILE_INODE);
  }

  /** True when the target's memory is a memory file this engine can map. */
  boolean targetHasMemoryFile() {
    return true;
  }

  /** Which path the suite's copies took: the mapped file, or cross-memory attach. */
  @Test
  @Order(7)
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
  }

  @Override
  protected void afterTargetDied() throws Exception {
    // A cached descriptor still names the dead pid: the copy must fail, not write elsewhere;
    // once the engine looked the segment up again, the submit itself fails.
    try {
      Batch b = engine.submit(target.segment,
          List.of(TransferRequest.write(local, remote, 4096)), "shm");
      assertEquals(TransferState.FAILED, engine.await(b));
    } catch (io.te4j.api.TransferException expected) {
      assertEquals(io.te4j.api.ErrorCode.METADATA, expected.errorCode());
    }
    if (targetInode != null) {
      // The dead process's memory file is unmapped here (the pidfd watcher saw it exit).
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (mapsInode(targetInode) && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertFalse(mapsInode(targetInode), "the dead target's memory file is still mapped");
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
