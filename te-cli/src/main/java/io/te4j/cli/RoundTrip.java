package io.te4j.cli;

import io.te4j.api.TransferOpcode;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.transfer.Batch;
import io.te4j.nativelib.NativeMemory;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** {@code te bench --verify}: a write and read-back of a seeded pattern, compared byte for byte. */
final class RoundTrip {
  private RoundTrip() {}

  /**
   * The round trip of {@code --verify}: writes a seeded pattern from {@code local} over the first
   * {@code span} bytes of the target, clears {@code local}, reads the span back and compares.
   *
   * @return bytes verified, or -1 (with the reason on stderr) when a transfer failed or a byte
   *     differed
   */
  static long verify(Engine engine, String segment, String protocol, long local, long remote,
      long block, long span, PrintStream err) {
    final int chunk = (int) Math.min(span, 1 << 20);
    final long seed = System.nanoTime();
    byte[] expected = new byte[chunk];
    for (long off = 0; off < span; off += chunk) {
      int n = (int) Math.min(chunk, span - off);
      pattern(seed, off, expected, n);
      NativeMemory.write(local + off, expected, 0, n);
    }
    for (TransferOpcode op : new TransferOpcode[] {TransferOpcode.WRITE, TransferOpcode.READ}) {
      if (op == TransferOpcode.READ) {
        NativeMemory.fill(local, span, (byte) 0);
      }
      List<TransferRequest> requests = new ArrayList<>();
      for (long off = 0; off < span; off += block) {
        requests.add(new TransferRequest(op, local + off, remote + off, Math.min(block,
            span - off)));
      }
      Batch b = engine.submit(segment, requests, protocol);
      TransferState s = engine.await(b);
      engine.freeBatch(b.id());
      if (s != TransferState.COMPLETED) {
        err.println("verify: " + op + " batch " + s + ": " + b.errorMessage());
        return -1;
      }
    }
    byte[] got = new byte[chunk];
    for (long off = 0; off < span; off += chunk) {
      int n = (int) Math.min(chunk, span - off);
      pattern(seed, off, expected, n);
      NativeMemory.read(local + off, got, 0, n);
      int at = Arrays.mismatch(expected, 0, n, got, 0, n);
      if (at >= 0) {
        err.println("verify: byte " + (off + at) + " of the target came back as " + got[at]
            + ", " + expected[at] + " was written");
        return -1;
      }
    }
    return span;
  }

  /** The verify pattern for the chunk at {@code offset}: reproducible from the seed alone. */
  private static void pattern(long seed, long offset, byte[] into, int n) {
    Random rnd = new Random(seed ^ (offset * 0x9E3779B97F4A7C15L));
    if (n == into.length) {
      rnd.nextBytes(into);
    } else {
      byte[] part = new byte[n];
      rnd.nextBytes(part);
      System.arraycopy(part, 0, into, 0, n);
    }
  }
}
