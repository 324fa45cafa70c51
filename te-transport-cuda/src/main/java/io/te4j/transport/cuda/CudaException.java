package io.te4j.transport.cuda;

/** A CUDA call failed; the message names the call and the CUDA error. */
public final class CudaException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int error;

  public CudaException(String message, int error) {
    super(message);
    this.error = error;
  }

  /** The {@code cudaError_t} (or {@code CUresult}) the call returned. */
  public int error() {
    return error;
  }
}
