package io.te4j.transport.cuda;

/** How a CUDA error reads in te4j's messages: {@code 700 cudaErrorIllegalAddress (an illegal ...)}. */
final class CudaErrors {
  private CudaErrors() {}

  static String describe(CudaRuntime cuda, int error) {
    try {
      return error + " " + cuda.errorName(error) + " (" + cuda.errorString(error) + ")";
    } catch (RuntimeException | UnsatisfiedLinkError e) {
      return Integer.toString(error);
    }
  }

  /**
   * Nothing when {@code rc} is 0, else a {@link CudaException} naming {@code call} and the error.
   */
  static void check(CudaRuntime cuda, int rc, String call) {
    if (rc != 0) {
      throw new CudaException(call + ": " + describe(cuda, rc), rc);
    }
  }
}
