package io.te4j.transport.shm;

/**
 * The same-host pair suite over {@code shm} for a target whose memory is anonymous (no memory file
 * to map): every copy goes through cross-memory attach.
 */
class ShmAttachPairIT extends ShmPairIT {
  @Override
  String targetMemory() {
    return "shm-anon";
  }

  @Override
  boolean targetHasMemoryFile() {
    return false;
  }
}
