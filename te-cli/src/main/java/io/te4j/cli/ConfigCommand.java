package io.te4j.cli;

import io.te4j.core.config.Settings;
import io.te4j.core.config.SettingsCatalog;
import io.te4j.core.inject.ProviderRegistry;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code te config}: every setting the engine and the installed transports and stores declare,
 * with its value here, where that value comes from and what it does; {@code --markdown} prints
 * the README's table instead. Malformed values and unknown {@code te4j.*} names are reported as
 * an engine would report them when it starts.
 */
final class ConfigCommand {
  static final String USAGE = String.join("\n",
      "  config    [--set NAME=VALUE]... [--markdown]",
      "            every setting with its value, where it comes from (builder, system property,",
      "            environment, default) and what it does; --set tries a value as a builder would;",
      "            --markdown prints the README's configuration table");

  private final List<String> args;
  private final PrintStream out;
  private final PrintStream err;

  ConfigCommand(List<String> args, PrintStream out, PrintStream err) {
    this.args = args;
    this.out = out;
    this.err = err;
  }

  int run() {
    Map<String, String> explicit = new LinkedHashMap<>();
    boolean markdown = false;
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (a.equals("--markdown")) {
        markdown = true;
      } else if (a.equals("--set") || a.startsWith("--set=")) {
        String kv = a.equals("--set") ? (i + 1 < args.size() ? args.get(++i) : null)
            : a.substring("--set=".length());
        int eq = kv == null ? -1 : kv.indexOf('=');
        if (eq <= 0) {
          throw new Options.UsageException("--set needs NAME=VALUE");
        }
        explicit.put(kv.substring(0, eq), kv.substring(eq + 1));
      } else {
        throw new Options.UsageException("config: unknown argument '" + a + "'");
      }
    }
    SettingsCatalog catalog = catalog();
    if (markdown) {
      out.print(catalog.markdown());
      return 0;
    }
    Settings settings = Settings.withSystem(explicit);
    List<SettingsCatalog.Row> rows = catalog.rows(settings);
    int name = 7;
    int value = 5;
    int source = 6;
    for (SettingsCatalog.Row r : rows) {
      name = Math.max(name, r.name().length());
      value = Math.max(value, Math.min(40, r.value().length()));
      source = Math.max(source, r.source().length());
    }
    String format = "%-" + name + "s  %-" + value + "s  %-" + source + "s  %s%n";
    out.printf(format, "setting", "value", "source", "what it does (read by)");
    for (SettingsCatalog.Row r : rows) {
      out.printf(format, r.name(), r.value(), r.source(), r.doc() + " (" + r.owner() + ")");
    }
    int rc = 0;
    try {
      for (String unknown : catalog.check(settings)) {
        err.println("te: " + unknown);
      }
    } catch (io.te4j.api.TransferException e) {
      err.println("te: " + e.getMessage());
      rc = 1;
    }
    return rc;
  }

  /** The catalog of an engine started from this class path. */
  static SettingsCatalog catalog() {
    ClassLoader cl = ConfigCommand.class.getClassLoader();
    return SettingsCatalog.of(ProviderRegistry.transports(cl).values(),
        ProviderRegistry.metadataStores(cl).values());
  }
}
