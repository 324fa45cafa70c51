package io.te4j.transport.shm;

/**
 * The transport contract over {@code shm} for a target whose memory is anonymous (no memory file
 * to map): every copy goes through cross-memory attach.
 */
class ShmAttachContractIT extends ShmContractIT {
  @Override
  String targetMemory() {
    return "anon";
  }

  @Override
  boolean targetHasMemoryFile() {
    return false;
  }
}
