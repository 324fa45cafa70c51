package io.te4j.cli;

import io.te4j.core.config.Settings;
import io.te4j.core.config.SettingsCatalog;
import io.te4j.core.inject.ProviderRegistry;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code te config}: every setting the engine and the installed transports and stores declare,
 * with its value here, where that value comes from and what it does; {@code --markdown} prints
 * the README's table instead. Malformed values and unknown {@code te4j.*} names are reported as
 * an engine would report them when it starts.
 */
@Command(name = "config", mixinStandardHelpOptions = true,
    description = "Lists every setting of the engine and of the transports and stores on the "
        + "class path: its value here, where the value comes from (builder, system property, "
        + "environment, default) and what it does.")
final class ConfigCommand implements Callable<Integer> {
  @Option(names = "--set", paramLabel = "NAME=VALUE",
      description = "Tries a value as an engine builder would set it (repeatable); a malformed "
          + "one is reported as the engine would report it.")
  Map<String, String> explicit = new LinkedHashMap<>();

  @Option(names = "--markdown", description = "Prints the README's configuration table instead.")
  boolean markdown;

  private final PrintStream out;
  private final PrintStream err;

  ConfigCommand(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  @Override
  public Integer call() {
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
