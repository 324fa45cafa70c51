package io.te4j.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Library;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Builds a real shared library with gcc and loads it the way transports will. */
class NativeLibrariesTest {
  /** The binding of the test library. */
  public interface Adder extends Library {
    int te4j_test_add(int a, int b);
  }

  private static Path compile(Path dir, String name) throws Exception {
    Path c = dir.resolve(name + ".c");
    Files.writeString(c, "int te4j_test_add(int a, int b) { return a + b; }\n");
    Path so = dir.resolve("lib" + name + ".so");
    Process p = new ProcessBuilder("gcc", "-shared", "-fPIC", "-o", so.toString(), c.toString())
        .inheritIO().start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "gcc failed");
    return so;
  }

  @Test
  void extractsFromTheClassPathAndBindsWithJna(@TempDir Path dir) throws Exception {
    String name = "te4jtestadd" + ProcessHandle.current().pid();
    Path so = compile(dir, name);
    Path jarRoot = dir.resolve("cp");
    Path res = jarRoot.resolve("META-INF/native/" + NativeLibraries.platform());
    Files.createDirectories(res);
    Files.copy(so, res.resolve(so.getFileName()));
    try (URLClassLoader cl = new URLClassLoader(new URL[] {jarRoot.toUri().toURL()}, null)) {
      Adder adder = NativeLibraries.load(name, Adder.class, cl);
      assertEquals(42, adder.te4j_test_add(40, 2));
      Path located = NativeLibraries.locate(name, cl);
      assertTrue(located.startsWith(NativeLibraries.workDir()), located.toString());
    }
  }

  @Test
  void missingLibraryExplainsEveryAttempt() throws Exception {
    try (URLClassLoader empty = new URLClassLoader(new URL[0], null)) {
      UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class,
          () -> NativeLibraries.locate("te4j_does_not_exist", empty));
      assertTrue(e.getMessage().contains("java.library.path"), e.getMessage());
      assertTrue(e.getMessage().contains("META-INF/native/linux-x86_64/libte4j_does_not_exist.so"),
          e.getMessage());
      assertEquals(2, e.getSuppressed().length);
    }
  }

  @Test
  void platformUsesMavenClassifierSpelling() {
    assertEquals("linux-x86_64", NativeLibraries.platform());
  }
}
