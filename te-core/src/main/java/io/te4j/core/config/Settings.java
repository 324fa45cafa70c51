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

  /** The names the caller set explicitly (the builder's), in no particular order. */
  public java.util.Set<String> explicitNames() {
    return explicit.keySet();
  }

  /**
   * Where {@code name}'s value comes from: {@code builder}, {@code system property}, {@code
   * environment} (with the variable's name), or null when nothing sets it.
   */
  public String source(String name) {
    String v = explicit.get(name);
    if (v != null && !v.isBlank()) {
      return "builder";
    }
    if (!consultSystem) {
      return null;
    }
    v = System.getProperty(name);
    if (v != null && !v.isBlank()) {
      return "system property";
    }
    for (String env : new String[] {name, SettingSource.environmentName(name)}) {
      v = System.getenv(env);
      if (v != null && !v.isBlank()) {
        return "environment " + env;
      }
    }
    return null;
  }

  /** True when system properties and the environment count (not an isolated test's settings). */
  public boolean consultsSystem() {
    return consultSystem;
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
