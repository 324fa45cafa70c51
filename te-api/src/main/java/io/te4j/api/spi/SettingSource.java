package io.te4j.api.spi;

import java.util.Locale;
import java.util.Objects;

/**
 * Where named settings come from. The engine's source looks in the builder's values first, then
 * in {@link #system()}; a provider asked for its availability before any engine exists uses
 * {@link #system()} alone. One lookup order for every setting, kill switches included.
 */
@FunctionalInterface
public interface SettingSource {
  /** The value of {@code name}, trimmed, or null when nothing sets it (blank counts as unset). */
  String get(String name);

  /**
   * True when {@code name} is set to {@code 1}, {@code true}, {@code yes} or {@code on} (any
   * case); false when unset or set to anything else.
   */
  default boolean isOn(String name) {
    String v = get(name);
    if (v == null) {
      return false;
    }
    switch (v.toLowerCase(Locale.ROOT)) {
      case "1":
      case "true":
      case "yes":
      case "on":
        return true;
      default:
        return false;
    }
  }

  /**
   * System properties, then the environment: the variable of the same name, then, for a dotted
   * name, its {@link #environmentName environment spelling} ({@code te4j.tcp.lanes} is also read
   * from {@code TE4J_TCP_LANES}).
   */
  static SettingSource system() {
    return SystemSettings.INSTANCE;
  }

  /**
   * How a dotted setting is spelt as an environment variable: upper case, every character that is
   * not a letter or digit replaced by {@code _} ({@code te4j.transport.shm.disabled} becomes {@code
   * TE4J_TRANSPORT_SHM_DISABLED}). {@code MC_*} names are their own spelling.
   */
  static String environmentName(String name) {
    StringBuilder b = new StringBuilder(name.length());
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      b.append(Character.isLetterOrDigit(c) ? Character.toUpperCase(c) : '_');
    }
    return b.toString();
  }

  /** The {@link #system()} source. */
  final class SystemSettings implements SettingSource {
    static final SystemSettings INSTANCE = new SystemSettings();

    private SystemSettings() {}

    @Override
    public String get(String name) {
      Objects.requireNonNull(name, "name");
      String v = System.getProperty(name);
      if (isBlank(v)) {
        v = System.getenv(name);
      }
      if (isBlank(v) && name.indexOf('.') >= 0) {
        v = System.getenv(environmentName(name));
      }
      return isBlank(v) ? null : v.trim();
    }

    private static boolean isBlank(String v) {
      return v == null || v.isBlank();
    }
  }
}
