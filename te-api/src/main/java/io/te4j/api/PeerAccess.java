package io.te4j.api;

/**
 * What peers may do with a registered buffer, beyond the reference (which has only "remote
 * accessible or not"): a buffer a peer should only fill (a KV cache being received) is {@link
 * #WRITE_ONLY}, one it should only copy out is {@link #READ_ONLY}.
 *
 * <p>Who enforces it: a target serving requests itself refuses any other access (TCP: status 1;
 * an RDMA memory region is registered with only the matching remote access flags). Same-host and
 * CXL initiators copy themselves: they honour the mode the buffer's descriptor publishes, as
 * every te4j engine does, but the target cannot stop a hostile process of the same host (see the
 * threat model in the README).
 *
 * <p>On the wire a restricted buffer's descriptor carries {@value #ATTRIBUTE}: {@code "read"} or
 * {@code "write"}; a read-write buffer carries nothing, so descriptors stay byte for byte the
 * reference's and reference peers ignore the field.
 */
public enum PeerAccess {
  /** Local use only: not published, and every peer access is refused. */
  NONE,
  /** Peers may READ it (copy out of it), not write it. */
  READ_ONLY,
  /** Peers may WRITE it (copy into it), not read it. */
  WRITE_ONLY,
  /** Peers may read and write it: what the reference calls remote accessible. */
  READ_WRITE;

  /** The buffer attribute naming a restricted mode. */
  public static final String ATTRIBUTE = "peer_access";

  /** True when a peer's request with {@code opcode} (as the peer sends it) is allowed. */
  public boolean allows(TransferOpcode opcode) {
    return opcode == TransferOpcode.READ
        ? this == READ_ONLY || this == READ_WRITE
        : this == WRITE_ONLY || this == READ_WRITE;
  }

  /** True when peers may reach the buffer at all. */
  public boolean isRemote() {
    return this != NONE;
  }

  /** {@link #READ_WRITE} for true, {@link #NONE} for false: the reference's flag. */
  public static PeerAccess of(boolean remoteAccessible) {
    return remoteAccessible ? READ_WRITE : NONE;
  }

  /** The value of {@link #ATTRIBUTE} for this mode, or null when it publishes none. */
  public String attributeValue() {
    switch (this) {
      case READ_ONLY:
        return "read";
      case WRITE_ONLY:
        return "write";
      default:
        return null;
    }
  }

  /**
   * The mode a published buffer declares: {@link #READ_WRITE} without {@link #ATTRIBUTE} (every
   * reference peer), {@link #NONE} for a value this engine does not know (refused, not guessed).
   */
  public static PeerAccess ofBuffer(BufferDescriptor buffer) {
    Object v = buffer.attributes().get(ATTRIBUTE);
    if (v == null) {
      return READ_WRITE;
    }
    if ("read".equals(v)) {
      return READ_ONLY;
    }
    return "write".equals(v) ? WRITE_ONLY : NONE;
  }
}
