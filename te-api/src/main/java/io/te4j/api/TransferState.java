package io.te4j.api;

/** The state of a transfer or a batch, with the reference's numeric values (WIRE.md section 6). */
public enum TransferState {
  WAITING(0),
  PENDING(1),
  INVALID(2),
  CANCELED(3),
  COMPLETED(4),
  TIMEOUT(5),
  FAILED(6);

  private final int code;

  TransferState(int code) {
    this.code = code;
  }

  /** The reference's numeric value of this state. */
  public int code() {
    return code;
  }

  /** True for states that never change again. */
  public boolean isTerminal() {
    return this == COMPLETED || this == TIMEOUT || this == FAILED || this == CANCELED
        || this == INVALID;
  }
}
