package io.te4j.cli.doctor;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * What {@code te doctor} reads of a machine: files under {@code /proc}, {@code /sys} and {@code
 * /dev}, found under a root (the real {@code /}, or a tree a test builds), and this host's name.
 */
public class Machine {
  private final Path root;

  /** The machine this process runs on. */
  public static Machine local() {
    return new Machine(Path.of("/"));
  }

  /** A machine whose files lie under {@code root} ({@code root/proc/...}). */
  public Machine(Path root) {
    this.root = root;
  }

  /** {@code path} under the root. */
  Path path(String path) {
    return root.resolve(path.startsWith("/") ? path.substring(1) : path);
  }

  /**
   * A file's text, stripped, or empty when it cannot be read. Read as a stream to its end:
   * {@code Files.readString} trusts the size procfs reports (0) and can return a fragment.
   */
  Optional<String> read(String path) {
    try (InputStream in = Files.newInputStream(path(path))) {
      return Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8).strip());
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  boolean exists(String path) {
    return Files.exists(path(path));
  }

  /** The names in a directory, sorted; empty when it is missing. */
  List<String> list(String dir) {
    List<String> names = new ArrayList<>();
    try (Stream<Path> s = Files.list(path(dir))) {
      s.forEach(p -> names.add(p.getFileName().toString()));
    } catch (IOException | RuntimeException e) {
      return List.of();
    }
    names.sort(null);
    return names;
  }

  /** Free bytes of the file system holding {@code path}, or -1. */
  long usableSpace(String path) {
    try {
      return Files.getFileStore(path(path)).getUsableSpace();
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** This host's name. */
  String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      String message = e.getMessage();
      int colon = message == null ? -1 : message.indexOf(':');
      return colon > 0 ? message.substring(0, colon) : "localhost";
    }
  }

  /** The addresses {@code host} resolves to; empty when it does not resolve. */
  List<InetAddress> resolve(String host) {
    try {
      return List.of(InetAddress.getAllByName(host));
    } catch (UnknownHostException e) {
      return List.of();
    }
  }

  /** Whether a shared library of that name is in a directory the dynamic linker searches. */
  boolean hasLibrary(String soname) {
    for (String dir : List.of("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64",
        "/usr/lib64", "/usr/lib", "/lib", "/usr/local/cuda/lib64", "/usr/local/lib")) {
      if (exists(dir + "/" + soname)) {
        return true;
      }
    }
    return false;
  }
}
