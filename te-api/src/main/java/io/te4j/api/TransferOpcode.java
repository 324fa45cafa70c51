package io.te4j.api;

/** The direction of a transfer, with the reference's wire values. */
public enum TransferOpcode {
  /** Copy from the target segment into local memory. */
  READ(0),
  /** Copy from local memory into the target segment. */
  WRITE(1);

  private final int code;

  TransferOpcode(int code) {
    this.code = code;
  }

  /** The value on the wire (WIRE.md section 6). */
  public int code() {
    return code;
  }

  /** The opcode with this wire value; anything else is an {@link IllegalArgumentException}. */
  public static TransferOpcode of(int code) {
    switch (code) {
      case 0:
        return READ;
      case 1:
        return WRITE;
      default:
        throw new IllegalArgumentException("no opcode " + code);
    }
  }
}
