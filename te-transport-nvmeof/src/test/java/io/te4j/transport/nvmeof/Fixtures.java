package io.te4j.transport.nvmeof;


import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.te4j.api.SegmentDescriptor;
import io.te4j.testkit.TestContext;
import io.te4j.testkit.TestMemory;
import io.te4j.testkit.TestRegion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/** Files, segments and transports for the transport's tests. */
final class Fixtures {
  private Fixtures() {}

  /** Which data path a test runs. */
  enum Backend {
    IO_URING,
    FILE_CHANNEL
  }

  /** Where the segment's files live. */
  enum Fs {
    /** A folder under the module's build directory (ext4 on the build machines). */
    BUILD_DIR,
    /** /dev/shm. */
    TMPFS
  }

  /** A fresh empty folder on {@code fs}. */
  /** Publishes file segment {@code name} held by this engine's host; returns its descriptor. */
  static io.te4j.api.SegmentDescriptor publish(io.te4j.core.Engine engine, String name,
      List<FileSpec> files) {
    io.te4j.api.SegmentDescriptor d =
        NvmeofSegments.descriptor(name, engine.config().localHost(), files);
    engine.publishSegment(d);
    return d;
  }

  static Path newDir(Fs fs) throws IOException {
    Path parent = fs == Fs.TMPFS ? Path.of("/dev/shm")
        : Path.of(System.getProperty("te.nvmeof.test.dir", "target/nvmeof-files"));
    if (fs == Fs.TMPFS && !Files.isDirectory(parent)) {
      throw new IllegalStateException("no /dev/shm here: the tmpfs cases need it");
    }
    Files.createDirectories(parent);
    return Files.createTempDirectory(parent, "te4j-nvmeof-");
  }

  static void deleteTree(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A region of {@code bytes} fresh direct memory, 4096-aligned, at its REAL native address (as
   * the engine's regions are, so io_uring reads and writes it for real), registered in
   * {@code memory}.
   */
  static TestRegion region(TestMemory memory, int bytes) {
    ByteBuffer buffer = ByteBuffer.allocateDirect(bytes + 8192).alignedSlice(4096).slice(0, bytes);
    long address = Pointer.nativeValue(Native.getDirectBufferPointer(buffer));
    return memory.add(new TestRegion(address, buffer, true));
  }

  /**
   * A started transport on {@code backend}; fails the test when io_uring is asked for but absent
   * (a kernel without it, or with io_uring_disabled set, cannot run the io_uring cases).
   */
  static NvmeofTransport transport(TestContext ctx, Backend backend) {
    ctx.set(NvmeofTransport.IOURING_DISABLED_SETTING,
        backend == Backend.FILE_CHANNEL ? "true" : "false");
    NvmeofTransport t = new NvmeofTransport(ctx);
    t.start(SegmentDescriptor.builder("127.0.0.1:1", "nvmeof"));
    if (backend == Backend.IO_URING && !t.usesIoUring()) {
      Throwable cause = t.fallbackCause();
      t.close();
      throw new AssertionError("io_uring unavailable here: " + cause);
    }
    return t;
  }

  /** Files of random bytes with the given sizes, and the segment of them (in that order). */
  static final class Segment {
    final List<Path> files = new ArrayList<>();
    final long[] sizes;
    final long[] starts;
    final byte[] model;
    final SegmentDescriptor descriptor;

    Segment(Path dir, String name, long[] sizes, long seed) throws IOException {
      this.sizes = sizes.clone();
      this.starts = new long[sizes.length];
      long total = 0;
      for (int i = 0; i < sizes.length; i++) {
        starts[i] = total;
        total += sizes[i];
      }
      model = new byte[Math.toIntExact(total)];
      new Random(seed).nextBytes(model);
      List<FileSpec> specs = new ArrayList<>();
      for (int i = 0; i < sizes.length; i++) {
        Path f = dir.resolve("f" + i);
        Files.write(f, java.util.Arrays.copyOfRange(model, (int) starts[i],
            (int) (starts[i] + sizes[i])));
        files.add(f);
        specs.add(FileSpec.of(f.toString(), sizes[i]));
      }
      descriptor = NvmeofSegments.descriptor(name, "127.0.0.1", specs);
    }

    long total() {
      return model.length;
    }

    /** The segment's bytes as the files hold them now. */
    byte[] onDisk() throws IOException {
      byte[] out = new byte[model.length];
      for (int i = 0; i < files.size(); i++) {
        byte[] b = Files.readAllBytes(files.get(i));
        System.arraycopy(b, 0, out, (int) starts[i], (int) Math.min(b.length, sizes[i]));
      }
      return out;
    }
  }
}
