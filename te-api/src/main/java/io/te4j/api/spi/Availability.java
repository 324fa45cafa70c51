package io.te4j.api.spi;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;

/**
 * The availability contract of every provider: probe once, keep why it failed, say so on demand.
 * A provider whose native library, device or driver is missing is still found by {@code
 * ServiceLoader}; its availability says {@code false} and the engine reports the cause when asked.
 * {@link ProbedAvailability} is the implementation providers use.
 */
public interface Availability {
  /**
   * True when instances can work on this machine: by default, when {@link #unavailabilityCause()}
   * gives no cause.
   */
  default boolean isAvailable() {
    return unavailabilityCause() == null;
  }

  /** Why {@link #isAvailable()} is false, or null when it is true (system settings). */
  Throwable unavailabilityCause();

  /**
   * Why the provider cannot work for an engine whose settings are {@code settings} (a kill switch
   * set on its builder counts), or null. The default ignores the settings.
   */
  default Throwable unavailabilityCause(SettingSource settings) {
    return unavailabilityCause();
  }

  /**
   * Returns normally when available.
   *
   * @throws TransferException with {@link ErrorCode#TRANSPORT_UNAVAILABLE} and the cause otherwise
   */
  default void ensureAvailability() {
    Throwable cause = unavailabilityCause();
    if (cause != null) {
      throw new TransferException(
          ErrorCode.TRANSPORT_UNAVAILABLE, "unavailable: " + cause.getMessage(), cause);
    }
  }
}
