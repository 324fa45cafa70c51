package io.te4j.transport.cxl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * With libte4jcxl deleted from the class path the cxl transport still moves bytes, and says why it
 * runs without the library (in its log, and through {@link CopyRoutines#unavailabilityCause()}).
 */
class NativeFallbackIT {
  @Test
  void transportWorksAndSaysWhyWithoutTheLibrary() throws Exception {
    Path dev = CxlFiles.device("fallback", 64L << 20);
    String cp = Arrays.stream(PeerProcess.classPath().split(File.pathSeparator))
        .filter(e -> !Files.exists(Path.of(e, "META-INF/native/linux-x86_64/libte4jcxl.so")))
        .collect(Collectors.joining(File.pathSeparator));
    try (PeerProcess p = PeerProcess.launch(cp,
        List.of(), FallbackMain.class.getName(),
        dev.toString())) {
      assertEquals("READY false true", p.ready, "library absent, transfers intact");
      String cause = p.nextLine(30);
      assertTrue(cause != null && cause.contains("libte4jcxl.so not found"), cause);
      p.process.waitFor();
      String log = Files.readString(p.log.toPath());
      assertTrue(log.contains("libte4jcxl not used"), log);
    } finally {
      Files.deleteIfExists(dev);
    }
  }
}
