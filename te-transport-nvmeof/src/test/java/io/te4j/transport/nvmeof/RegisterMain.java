package io.te4j.transport.nvmeof;

import io.te4j.core.Engine;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Child JVM of {@link NvmeofEtcdIT}: an engine on etcd {@code args[0]} that, on the stdin line
 * {@code GO}, registers file segments {@code <args[1]>-0 .. <args[1]>-<args[2] - 1>} over file
 * {@code args[3]} as fast as it can, prints {@code DONE <registered>}, then holds them until stdin
 * closes. Prints {@code READY} first.
 */
public final class RegisterMain {
  private RegisterMain() {}

  public static void main(String[] args) throws Exception {
    int count = Integer.parseInt(args[2]);
    try (Engine engine = Engine.builder()
        .localHostname(args[1] + "-" + ProcessHandle.current().pid())
        .metadataServer(args[0]).protocol("nvmeof").start()) {
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      System.out.println("READY");
      System.out.flush();
      if (!"GO".equals(in.readLine())) {
        return;
      }
      int registered = 0;
      for (int i = 0; i < count; i++) {
        if (engine.publishNewSegment(NvmeofSegments.descriptor(args[1] + "-" + i, "h",
            List.of(FileSpec.of(args[3], 4096))))) {
          registered++;
        }
      }
      System.out.println("DONE " + registered);
      System.out.flush();
      while (in.readLine() != null) {
        // hold the segments until the test closes stdin
      }
    }
  }
}
