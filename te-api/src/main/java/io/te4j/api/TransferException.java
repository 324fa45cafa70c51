package io.te4j.api;

/** A failure of the engine, a transport or a metadata store, carrying its {@link ErrorCode}. */
public class TransferException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorCode errorCode;

  public TransferException(ErrorCode errorCode, String message) {
    super(message);
    this.errorCode = errorCode;
  }

  public TransferException(ErrorCode errorCode, String message, Throwable cause) {
    super(message, cause);
    this.errorCode = errorCode;
  }

  /** What kind of failure this is. */
  public ErrorCode errorCode() {
    return errorCode;
  }

  @Override
  public String getMessage() {
    return errorCode + " (" + errorCode.code() + "): " + super.getMessage();
  }
}
