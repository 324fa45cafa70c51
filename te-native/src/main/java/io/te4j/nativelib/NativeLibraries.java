package io.te4j.nativelib;

import com.sun.jna.Native;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one way te4j loads native code. A transport's C library {@code lib<name>.so} is looked for,
 * in order:
 *
 * <ol>
 *   <li>in the directories of {@code java.library.path} (a system install, or {@code
 *       -Djava.library.path=...} during development);
 *   <li>on the class path, at {@code META-INF/native/<platform>/lib<name>.so}, where the module's
 *       classifier JAR ({@code linux-x86_64}) puts it; it is copied to a work directory ({@code
 *       -Dte4j.native.workdir}, default {@code <java.io.tmpdir>/te4j-native-<user>}) and loaded
 *       from there, since a library inside a JAR cannot be mapped.
 * </ol>
 *
 * <p>The library is then bound with JNA: {@link #register} for direct mapping (static native
 * methods with primitive arguments, one JNI call each: what a data path wants), {@link #load} for
 * an interface binding. When every attempt fails, the {@link
 * UnsatisfiedLinkError} says what was tried, carries each attempt's failure as a suppressed
 * exception, and names a work directory mounted {@code noexec} (a common cause). Transports keep
 * that error as their unavailability cause. Results are cached per name.
 */
public final class NativeLibraries {
  /** System property naming the directory extracted libraries are written to. */
  public static final String WORK_DIR_PROPERTY = "te4j.native.workdir";

  private static final ConcurrentHashMap<String, Path> LOCATED = new ConcurrentHashMap<>();

  private NativeLibraries() {}

  /** The platform folder name as Maven classifiers spell it: {@code linux-x86_64}, ... */
  public static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    String o = os.startsWith("linux") ? "linux" : os.startsWith("mac") ? "osx" : os.replace(' ', '_');
    String a;
    switch (arch) {
      case "amd64":
      case "x86_64":
        a = "x86_64";
        break;
      case "aarch64":
      case "arm64":
        a = "aarch_64";
        break;
      default:
        a = arch;
    }
    return o + "-" + a;
  }

  /**
   * Binds {@code lib<name>.so} to a JNA interface.
   *
   * @throws UnsatisfiedLinkError with every attempt's failure attached
   */
  public static <T extends com.sun.jna.Library> T load(String name, Class<T> binding,
      ClassLoader resources) {
    Path lib = locate(name, resources);
    try {
      return Native.load(lib.toString(), binding);
    } catch (UnsatisfiedLinkError e) {
      UnsatisfiedLinkError err = new UnsatisfiedLinkError(
          "lib" + name + ".so found at " + lib + " but cannot be loaded: " + e.getMessage()
              + noexecHint(lib.getParent()));
      err.addSuppressed(e);
      throw err;
    }
  }

  /**
   * Binds the static {@code native} methods of {@code directMapped} to {@code lib<name>.so} (JNA
   * direct mapping).
   *
   * @throws UnsatisfiedLinkError with every attempt's failure attached
   */
  public static void register(String name, Class<?> directMapped, ClassLoader resources) {
    Path lib = locate(name, resources);
    try {
      Native.register(directMapped, com.sun.jna.NativeLibrary.getInstance(lib.toString()));
    } catch (UnsatisfiedLinkError e) {
      UnsatisfiedLinkError err = new UnsatisfiedLinkError(
          "lib" + name + ".so found at " + lib + " but cannot be bound: " + e.getMessage()
              + noexecHint(lib.getParent()));
      err.addSuppressed(e);
      throw err;
    }
  }

  /**
   * Where {@code lib<name>.so} is (extracting it from the class path when needed).
   *
   * @throws UnsatisfiedLinkError when it is neither on java.library.path nor on the class path
   */
  public static Path locate(String name, ClassLoader resources) {
    Path cached = LOCATED.get(name);
    if (cached != null && Files.isReadable(cached)) {
      return cached;
    }
    String file = "lib" + name + ".so";
    UnsatisfiedLinkError failure = new UnsatisfiedLinkError("lib" + name + ".so not found in "
        + "java.library.path (" + System.getProperty("java.library.path", "") + ") nor on the "
        + "class path at " + resourceName(file) + " (add the module's " + platform()
        + " classifier JAR)");
    for (String dir : System.getProperty("java.library.path", "").split(java.io.File.pathSeparator)) {
      if (dir.isBlank()) {
        continue;
      }
      Path p = Path.of(dir, file);
      if (Files.isReadable(p)) {
        LOCATED.put(name, p);
        return p;
      }
    }
    failure.addSuppressed(new IOException("not in java.library.path"));
    try {
      Path p = extract(file, resources);
      if (p != null) {
        LOCATED.put(name, p);
        return p;
      }
      failure.addSuppressed(new IOException("no class path resource " + resourceName(file)));
    } catch (IOException e) {
      failure.addSuppressed(e);
    }
    throw failure;
  }

  private static String resourceName(String file) {
    return "META-INF/native/" + platform() + "/" + file;
  }

  private static Path extract(String file, ClassLoader resources) throws IOException {
    ClassLoader cl = resources != null ? resources : NativeLibraries.class.getClassLoader();
    try (InputStream in = cl.getResourceAsStream(resourceName(file))) {
      if (in == null) {
        return null;
      }
      Path dir = workDir();
      Files.createDirectories(dir);
      // Write under a unique name, then move: concurrent JVMs never load a half-written file.
      Path tmp = Files.createTempFile(dir, file, ".tmp");
      try {
        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path target = dir.resolve(ProcessHandle.current().pid() + "-" + file);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.ATOMIC_MOVE);
        target.toFile().deleteOnExit();
        return target;
      } finally {
        Files.deleteIfExists(tmp);
      }
    }
  }

  static Path workDir() {
    String configured = System.getProperty(WORK_DIR_PROPERTY);
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured);
    }
    return Path.of(System.getProperty("java.io.tmpdir"),
        "te4j-native-" + System.getProperty("user.name", "user"));
  }

  /** " (the directory is on a noexec mount: ...)" when /proc/mounts says so, else "". */
  static String noexecHint(Path dir) {
    try {
      Path real = dir.toRealPath();
      String best = null;
      boolean noexec = false;
      for (String line : Files.readAllLines(Path.of("/proc/mounts"))) {
        String[] f = line.split(" ");
        if (f.length > 3 && real.startsWith(f[1]) && (best == null || f[1].length() > best.length())) {
          best = f[1];
          noexec = (',' + f[3] + ',').contains(",noexec,");
        }
      }
      return noexec ? " (" + dir + " is on a noexec mount, " + best + "; set -D"
          + WORK_DIR_PROPERTY + " to a directory that allows execution)" : "";
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }
}
