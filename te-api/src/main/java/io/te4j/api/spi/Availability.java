package io.te4j.api.spi;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;

/**
 * The availability contract of every provider: probe once, keep why it failed, say so on demand.
 * A provider whose native library, device or driver is missing is still found by {@code
 * ServiceLoader}; it answers {@code false} here and the engine reports the cause when it is asked
 * for.
 */
public interface Availability {
  /**
   * True when this provider can create working instances on this machine: by default, when
   * {@link #unavailabilityCause()} gives no cause.
   */
  default boolean isAvailable() {
    return unavailabilityCause() == null;
  }

  /** Why {@link #isAvailable()} is false, or null when it is true. */
  Throwable unavailabilityCause();

  /**
   * Returns normally when available.
   *
   * @throws TransferException with {@link ErrorCode#TRANSPORT_UNAVAILABLE} and the cause otherwise
   */
  default void ensureAvailability() {
    if (!isAvailable()) {
      Throwable cause = unavailabilityCause();
      throw new TransferException(
          ErrorCode.TRANSPORT_UNAVAILABLE,
          getClass().getSimpleName() + " is unavailable: "
              + (cause == null ? "no reason given" : cause.getMessage()),
          cause);
    }
  }

  /**
   * The kill switch shared by every provider: the system property {@code te4j.<kind>.<name>.disabled}
   * set to {@code true} makes the provider unavailable with a cause naming the property.
   *
   * @return the cause to report, or null when the switch is off
   */
  static Throwable killSwitch(String kind, String name) {
    String property = "te4j." + kind + "." + name + ".disabled";
    if (Boolean.getBoolean(property)) {
      return new UnsupportedOperationException("disabled by -D" + property + "=true");
    }
    return null;
  }
}
