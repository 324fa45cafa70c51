package io.te4j.api.spi;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * The availability helper every provider uses: a probe run once, on first use, whose failure is
 * kept as the cause; and the provider's kill switch, {@code te4j.<kind>.<name>.disabled}, read like
 * every other setting (the engine's builder, a system property, the environment: {@code
 * TE4J_<KIND>_<NAME>_DISABLED}). Thread-safe.
 */
public final class ProbedAvailability implements Availability {
  private final String kind;
  private final String name;
  private final Supplier<Throwable> probe;
  private volatile Probed probed;

  /** The probe's outcome; a holder, because a null cause is a valid, cached answer. */
  private static final class Probed {
    final Throwable cause;

    Probed(Throwable cause) {
      this.cause = cause;
    }
  }

  private ProbedAvailability(String kind, String name, Supplier<Throwable> probe) {
    this.kind = Objects.requireNonNull(kind, "kind");
    this.name = Objects.requireNonNull(name, "name");
    this.probe = Objects.requireNonNull(probe, "probe");
  }

  /**
   * Availability decided by {@code probe}: it returns why the provider cannot work here, or null.
   * It runs once, on first use; a probe that throws is unavailable with what it threw.
   *
   * @param kind {@code transport} or {@code metadata}
   * @param name the provider's name or scheme
   */
  public static ProbedAvailability of(String kind, String name, Supplier<Throwable> probe) {
    return new ProbedAvailability(kind, name, probe);
  }

  /** A provider that works wherever Java runs, short of its kill switch. */
  public static ProbedAvailability always(String kind, String name) {
    return new ProbedAvailability(kind, name, () -> null);
  }

  /** The kill switch's name: {@code te4j.<kind>.<name>.disabled}. */
  public String killSwitch() {
    return "te4j." + kind + "." + name + ".disabled";
  }

  /** With the system's settings (system properties, environment). */
  @Override
  public Throwable unavailabilityCause() {
    return unavailabilityCause(SettingSource.system());
  }

  @Override
  public Throwable unavailabilityCause(SettingSource settings) {
    if (settings.isOn(killSwitch())) {
      return new UnsupportedOperationException(
          kind + " " + name + " disabled by " + killSwitch() + "=true");
    }
    Probed p = probed;
    if (p == null) {
      synchronized (this) {
        p = probed;
        if (p == null) {
          Throwable cause;
          try {
            cause = probe.get();
          } catch (RuntimeException | LinkageError e) {
            cause = e;
          }
          p = new Probed(cause);
          probed = p;
        }
      }
    }
    return p.cause;
  }
}
