package io.te4j.api;

import java.util.Objects;

/**
 * A short message sent to a target after a transfer's data is in place there.
 *
 * @param name an identifier chosen by the sender
 * @param msg the message
 */
public record TransferNotify(String name, String msg) {
  public TransferNotify {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(msg, "msg");
  }

  /** An empty notification, as the reference's no-argument constructor. */
  public TransferNotify() {
    this("", "");
  }
}
