package io.te4j.core.observe;

import io.te4j.api.ErrorCode;

/**
 * Told what an engine did, for metrics and tracing: each batch when it ends and each lookup of a
 * peer's descriptor (in P2P mode a handshake with the peer). Called on the thread that ended the
 * batch (often a transport's I/O thread): keep it short and never block; an exception it throws
 * is logged and otherwise ignored. Added with {@link io.te4j.core.Engine#addObserver}.
 */
public interface TransferObserver {
  /** A batch ended: completed, failed or timed out. */
  void batchEnded(BatchOutcome outcome);

  /**
   * A peer's descriptor was looked up in the metadata store (in P2P mode: fetched from the peer
   * over its handshake port).
   *
   * @param peer the peer's segment name
   * @param nanos how long the lookup took
   * @param error null when it succeeded, else why it failed
   */
  default void peerLookedUp(String peer, long nanos, ErrorCode error) {}
}
