package io.te4j.transport.shm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.testkit.ChildJvm;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * With libte4jcopy deleted from the class path the shm transport still moves bytes through mapped
 * memory files, and says why it runs without the library (in its log, and through {@link CopyRoutines#unavailabilityCause()}).
 */
class NativeFallbackIT {
  @Test
  void transportWorksAndSaysWhyWithoutTheLibrary() throws Exception {
    String cp = Arrays.stream(ChildJvm.classPath().split(File.pathSeparator))
        .filter(e -> !Files.exists(Path.of(e, "META-INF/native/linux-x86_64/libte4jcopy.so")))
        .collect(Collectors.joining(File.pathSeparator));
    try (ChildJvm jvm = ChildJvm.start(cp, FallbackMain.class, List.of("-Xmx256m"), List.of(),
        "READY", Duration.ofSeconds(60))) {
      assertEquals("READY false true", jvm.readyLine(), "library absent, transfers intact");
      String cause = jvm.nextLine(Duration.ofSeconds(30));
      assertTrue(cause != null && cause.contains("libte4jcopy.so not found"), cause);
      // FallbackMain ends by itself; once it has, its log is complete.
      assertTrue(jvm.process().waitFor(60, TimeUnit.SECONDS), "FallbackMain did not end");
      String log = jvm.stderr();
      assertTrue(log.contains("libte4jcopy not used"), log);
    }
  }
}
