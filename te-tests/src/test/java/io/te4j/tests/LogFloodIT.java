package io.te4j.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.ManagedBuffer;
import io.te4j.transport.tcp.TcpDescriptorFields;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A log flood: 20,000 malformed handshake frames and 5,000 refused data-port requests, while a
 * real peer transfers. The peer's transfers all complete, the log gets a bounded number of lines
 * (each kind at most a few a second, then a summary), and once the engines close no thread, file
 * descriptor or mapping of theirs is left.
 */
class LogFloodIT {
  private static final int BAD_FRAMES = 20_000;
  private static final int BAD_REQUESTS = 5_000;

  @Test
  @Timeout(180)
  void aLogFloodCostsAFewLinesWhileAPeerTransfers() throws Exception {
    long fdsBefore = openFds();
    PrintStream realErr = System.err;
    LineCounter lines = new LineCounter(realErr);
    System.setErr(new PrintStream(lines, true, StandardCharsets.UTF_8));
    long start = System.nanoTime();
    try {
      flood();
    } finally {
      System.setErr(realErr);
    }
    long seconds = (System.nanoTime() - start) / 1_000_000_000L + 2;
    long floodLines = lines.matching();
    // Two kinds (handshake refusals, data-port rejections): 5 lines and a summary a second each,
    // however many bad inputs arrive in that second.
    assertTrue(floodLines <= 2 * 6 * seconds, floodLines + " log lines in " + seconds + " s");
    assertTrue(floodLines * 20 < BAD_FRAMES + BAD_REQUESTS, floodLines + " log lines for "
        + (BAD_FRAMES + BAD_REQUESTS) + " bad inputs");
    assertTrue(floodLines > 0, "the refusals are logged at all");
    assertEquals(List.of(), Engines.engineThreads(), "engine threads left after close");
    long fdsAfter = openFds();
    assertTrue(fdsAfter <= fdsBefore + 8, "file descriptors: " + fdsBefore + " before, "
        + fdsAfter + " after");
  }

  private static void flood() throws Exception {
    try (Engine target = Engines.tcp(); Engine peer = Engines.tcp();
        ManagedBuffer dst = target.allocate(1 << 20); ManagedBuffer src = peer.allocate(1 << 20)) {
      int rpcPort = target.rpcPort();
      int dataPort = TcpDescriptorFields.dataPort(target.localDescriptor());
      AtomicBoolean flooding = new AtomicBoolean(true);
      CompletableFuture<Integer> transfers = CompletableFuture.supplyAsync(() -> {
        byte[] data = new byte[64 << 10];
        new Random(3).nextBytes(data);
        peer.write(src.address(), data, 0, data.length);
        int done = 0;
        while (flooding.get() || done < 10) {
          assertEquals(TransferState.COMPLETED, peer.submitAndWait(target.segmentName(),
              List.of(TransferRequest.write(src.address(), dst.address(), data.length)), "")
              .state());
          assertArrayEquals(data, target.read(dst.address(), data.length));
          done++;
        }
        return done;
      });
      byte[] http = "GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
      byte[] badRequest = new byte[24];
      badRequest[0] = 16; // 16 bytes read at an address nobody registered
      badRequest[15] = 0x10;
      badRequest[16] = (byte) 0x80;
      for (int i = 0; i < BAD_FRAMES + BAD_REQUESTS; i++) {
        boolean frame = i < BAD_FRAMES;
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), frame ? rpcPort : dataPort)) {
          s.setSoTimeout(5_000);
          s.getOutputStream().write(frame ? http : badRequest);
          s.getInputStream().read(); // the refusal: a close, or status 1 then a close
        }
      }
      flooding.set(false);
      assertTrue(transfers.get() >= 10);
    }
  }

  private static long openFds() throws Exception {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }

  /** Passes everything on, counting the lines that report a refusal. */
  private static final class LineCounter extends OutputStream {
    private final PrintStream out;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private long matching;

    LineCounter(PrintStream out) {
      this.out = out;
    }

    @Override
    public synchronized void write(int b) {
      out.write(b);
      if (b == '\n') {
        String s = line.toString(StandardCharsets.UTF_8);
        if (s.contains("refused") || s.contains("rejected") || s.contains("suppressed")) {
          matching++;
        }
        line.reset();
      } else {
        line.write(b);
      }
    }

    synchronized long matching() {
      return matching;
    }
  }
}
