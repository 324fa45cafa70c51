package io.te4j.core.config;

import io.te4j.api.spi.SettingSource;
import java.util.Map;
import java.util.Objects;

/**
 * Where an engine's settings come from: explicit values first (a builder's, a test's), then {@link
 * SettingSource#system()} (a system property of the same name, then the environment). One lookup
 * order for the whole engine, its transports and stores.
 */
public final class Settings implements SettingSource {
  private final Map<String, String> explicit;
  private final boolean consultSystem;

  private Settings(Map<String, String> explicit, boolean consultSystem) {
    this.explicit = Map.copyOf(explicit);
    this.consultSystem = consultSystem;
  }

  /** Explicit values, then system properties, then the environment. */
  public static Settings withSystem(Map<String, String> explicit) {
    return new Settings(explicit, true);
  }

  /** Only these values: for tests that must not see the machine's environment. */
  public static Settings isolated(Map<String, String> explicit) {
    return new Settings(explicit, false);
  }

  /** The value of {@code name}, or null when nothing sets it. Blank values count as unset. */
  @Override
  public String get(String name) {
    Objects.requireNonNull(name, "name");
    String v = explicit.get(name);
    if (v != null && !v.isBlank()) {
      return v.trim();
    }
    return consultSystem ? SettingSource.system().get(name) : null;
  }
}
