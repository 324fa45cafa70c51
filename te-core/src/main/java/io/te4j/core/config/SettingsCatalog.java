package io.te4j.core.config;

import io.te4j.api.spi.MetadataStoreProvider;
import io.te4j.api.spi.ProbedAvailability;
import io.te4j.api.spi.Setting;
import io.te4j.api.spi.SettingSource;
import io.te4j.api.spi.TransportProvider;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Every setting an engine knows, concluded in one place: the engine's own ({@link
 * EngineConfig#SETTINGS}), each installed transport's and store's ({@code settings()}), and each
 * one's kill switch. The engine {@link #check checks} them all when it starts; {@code te config}
 * prints them with their values and sources; the README's table is {@link #markdown()}.
 */
public final class SettingsCatalog {
  /** A setting and who declares it: {@code engine}, {@code transport tcp}, {@code metadata etcd}. */
  public record Entry(String owner, Setting<?> setting) {}

  /** One setting as {@code te config} shows it. */
  public record Row(String name, String value, String source, String owner, String doc) {}

  private final Map<String, Entry> byName = new LinkedHashMap<>();

  private SettingsCatalog() {}

  /** The catalog of an engine with these providers installed. */
  public static SettingsCatalog of(Collection<TransportProvider> transports,
      Collection<MetadataStoreProvider> stores) {
    SettingsCatalog c = new SettingsCatalog();
    for (Setting<?> s : EngineConfig.SETTINGS) {
      c.add("engine", s);
    }
    for (TransportProvider p : new LinkedHashSet<>(transports)) {
      String owner = "transport " + p.name();
      p.settings().forEach(s -> c.add(owner, s));
      c.add(owner, killSwitch("transport", p.name()));
    }
    for (MetadataStoreProvider p : new LinkedHashSet<>(stores)) {
      String owner = "metadata " + p.scheme();
      p.settings().forEach(s -> c.add(owner, s));
      c.add(owner, killSwitch("metadata", p.scheme()));
    }
    return c;
  }

  private static Setting<Boolean> killSwitch(String kind, String name) {
    return Setting.flag(ProbedAvailability.always(kind, name).killSwitch(), false,
        "switches the " + name + " " + (kind.equals("transport") ? "transport" : "metadata store")
            + " off");
  }

  private void add(String owner, Setting<?> s) {
    byName.putIfAbsent(s.name(), new Entry(owner, s));
  }

  /** Every setting, the engine's first, then by provider. */
  public List<Entry> entries() {
    return List.copyOf(byName.values());
  }

  /**
   * Concludes {@code settings}: every declared setting must parse; names the user set under
   * {@code te4j.} that nobody declares are returned, each with the nearest known name.
   *
   * @return one line per unknown key, for a warning (empty when all are known)
   * @throws io.te4j.api.TransferException INVALID_CONFIGURATION naming the first malformed key
   */
  public List<String> check(Settings settings) {
    for (Entry e : byName.values()) {
      e.setting().valueIn(settings);
    }
    List<String> unknown = new ArrayList<>();
    for (String key : userKeys(settings)) {
      if (!byName.containsKey(key)) {
        unknown.add("unknown setting " + key + " (set by " + settings.source(key) + ")"
            + nearest(key).map(n -> "; did you mean " + n + "?").orElse(""));
      }
    }
    return unknown;
  }

  /** The {@code te4j.*} names set by the builder, system properties or {@code TE4J_*} variables. */
  private Set<String> userKeys(Settings settings) {
    Set<String> keys = new TreeSet<>();
    for (String k : settings.explicitNames()) {
      if (k.startsWith("te4j.")) {
        keys.add(k);
      }
    }
    if (settings.consultsSystem()) {
      for (String k : System.getProperties().stringPropertyNames()) {
        if (k.startsWith("te4j.")) {
          keys.add(k);
        }
      }
      Map<String, String> byEnv = new LinkedHashMap<>();
      byName.keySet().forEach(n -> byEnv.put(SettingSource.environmentName(n), n));
      for (String env : System.getenv().keySet()) {
        if (env.startsWith("TE4J_")) {
          // A known name spelt for the environment is known; anything else is shown as written.
          keys.add(byEnv.getOrDefault(env, env));
        }
      }
    }
    return keys;
  }

  /** The known name closest to {@code key} (edit distance), when it is close enough to help. */
  Optional<String> nearest(String key) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    String k = key.toLowerCase(Locale.ROOT);
    for (String known : byName.keySet()) {
      int d = distance(k, known.toLowerCase(Locale.ROOT));
      if (d < bestDistance) {
        bestDistance = d;
        best = known;
      }
    }
    return best != null && bestDistance <= Math.max(3, key.length() / 3)
        ? Optional.of(best) : Optional.empty();
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  /** Every setting with its value in {@code settings} and where that value comes from. */
  public List<Row> rows(Settings settings) {
    List<Row> rows = new ArrayList<>();
    for (Entry e : byName.values()) {
      Setting<?> s = e.setting();
      String raw = s.rawIn(settings);
      String source = settings.source(s.name());
      for (int i = 0; source == null && raw != null && i < s.aliases().size(); i++) {
        source = settings.source(s.aliases().get(i));
      }
      String shown = raw == null ? s.defaultText() : isSecret(s.name()) ? "(set, not shown)" : raw;
      rows.add(new Row(s.name(), shown, raw == null ? "default" : source, e.owner(), s.doc()));
    }
    return rows;
  }

  /** Passwords and secrets are never printed, only whether they are set. */
  private static boolean isSecret(String name) {
    String n = name.toLowerCase(java.util.Locale.ROOT);
    return n.contains("password") || n.endsWith("secret");
  }

  /** The README's configuration table: a row per setting, its default, owner and meaning. */
  public String markdown() {
    StringBuilder b = new StringBuilder();
    b.append("| setting | default | values | read by | meaning |\n");
    b.append("|---|---|---|---|---|\n");
    for (Entry e : byName.values()) {
      Setting<?> s = e.setting();
      b.append("| `").append(s.name()).append('`');
      if (!s.aliases().isEmpty()) {
        b.append(" (also `").append(String.join("`, `", s.aliases())).append("`)");
      }
      b.append(" | ").append(cell(s.defaultText())).append(" | ").append(cell(s.range()))
          .append(" | ").append(e.owner()).append(" | ").append(cell(s.doc())).append(" |\n");
    }
    return b.toString();
  }

  private static String cell(String text) {
    return text.replace("|", "\\|");
  }
}
