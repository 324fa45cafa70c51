package io.te4j.transport.nvmeof;

import io.te4j.api.ErrorCode;

/**
 * Why a slice cannot be served (a file missing, a path unknown for this host), raised while
 * preparing it and turned into {@link io.te4j.api.spi.TransferSlice#fail}. No stack trace: it is
 * an expected outcome, reported by its code and message.
 */
final class SliceFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;

  final ErrorCode code;

  SliceFailure(ErrorCode code, String message) {
    super(message, null, false, false);
    this.code = code;
  }
}
