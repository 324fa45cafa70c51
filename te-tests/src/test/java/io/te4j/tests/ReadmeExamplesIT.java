package io.te4j.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every Java example of the README, taken from its text, compiled as printed (imports and all)
 * against the published modules, and run: what it prints is what the README says it prints.
 */
class ReadmeExamplesIT {
  private static final Pattern BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);
  private static final Pattern CLASS = Pattern.compile("public class (\\w+)");
  /** What each example prints, as a pattern. A new example needs its line here. */
  private static final Map<String, String> PRINTS = Map.of(
      "HelloTe4j", "hello, te4j",
      "HelloParity", "transferSyncWrite: 0",
      "EngineWithMetrics", "scrape http://127\\.0\\.0\\.1:\\d+/metrics");

  @TempDir
  Path dir;

  @Test
  void everyExampleCompilesAsPrintedAndRuns() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"));
    Map<String, Path> sources = new LinkedHashMap<>();
    Matcher m = BLOCK.matcher(readme);
    while (m.find()) {
      Matcher name = CLASS.matcher(m.group(1));
      assertTrue(name.find(), "a README example that is not a whole program:\n" + m.group(1));
      Path file = dir.resolve("src").resolve(name.group(1) + ".java");
      Files.createDirectories(file.getParent());
      Files.writeString(file, m.group(1));
      sources.put(name.group(1), file);
    }
    assertEquals(PRINTS.keySet(), sources.keySet(), "the README's examples");

    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    Path classes = Files.createDirectories(dir.resolve("classes"));
    List<String> args = new ArrayList<>(List.of("--release", "17", "-Xlint:all,-path", "-Werror",
        "-classpath", System.getProperty("java.class.path"), "-d", classes.toString()));
    sources.values().forEach(p -> args.add(p.toString()));
    ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
    int rc = javac.run(null, diagnostics, diagnostics, args.toArray(String[]::new));
    assertEquals(0, rc, diagnostics.toString(StandardCharsets.UTF_8));

    try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()},
        getClass().getClassLoader())) {
      for (String example : sources.keySet()) {
        String printed = run(loader.loadClass(example).getMethod("main", String[].class));
        assertNotNull(printed);
        assertTrue(printed.strip().matches(PRINTS.get(example)), example + " printed: " + printed);
      }
    }
  }

  /** Runs {@code main} and returns what it printed on System.out. */
  private static String run(Method main) throws Exception {
    PrintStream before = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      main.invoke(null, (Object) new String[0]);
    } finally {
      System.setOut(before);
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
