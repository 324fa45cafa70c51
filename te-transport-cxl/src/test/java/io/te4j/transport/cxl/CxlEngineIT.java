package io.te4j.transport.cxl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.BufferDescriptor;
import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.TransferRequest;
import io.te4j.api.TransferState;
import io.te4j.core.Engine;
import io.te4j.core.transfer.Batch;
import io.te4j.nativelib.NativeMemory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The cxl transport inside one engine (the reference's own test shape), on sparse /dev/shm files. */
class CxlEngineIT {
  private static final long MIB = 1L << 20;
  private static final int DATA = 4096;

  private static Batch run(Engine e, TransferRequest r) {
    Batch b = e.submit(e.segmentName(), List.of(r), "cxl");
    e.await(b);
    return b;
  }

  private static byte[] letters(Random rnd, int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) ('a' + rnd.nextInt(26));
    }
    return b;
  }

  /**
   * The reference's cxl_transport_test: a 1 GiB device, base + 2 MiB registered (2 MiB long), ten
   * 4 KiB writes at offset 2 MiB, ten writes then ten reads at 6 MiB. The reference checks no target
   * range, so its 6 MiB writes land outside the registered buffer; here they are first rejected
   * (nothing written), and succeed once base + 6 MiB is registered too.
   */
  @Test
  void referenceCxlTestPorted() throws Exception {
    Path dev = CxlFiles.device("ref", 1L << 30);
    long src = NativeMemory.mapAnonymous(DATA);
    long dst = NativeMemory.mapAnonymous(DATA);
    try (Engine e = CxlFiles.engine(dev, "cxl")) {
      long base = CxlFiles.base(e);
      assertEquals(dev.toString(), e.localDescriptor().attributes().get("cxl_name"));
      e.register(base + 2 * MIB, 2 * MIB);
      BufferDescriptor published = e.localDescriptor().buffers().get(0);
      assertEquals(2 * MIB, published.address(), "buffers are published as device offsets");
      assertEquals(2 * MIB, ((Number) published.attributes().get("offset")).longValue());
      // The source is ordinary memory, registered for local use only.
      e.register(src, DATA, "cpu:0", false);
      e.register(dst, DATA, "cpu:0", false);
      Random rnd = new Random(48);
      for (int i = 0; i < 10; i++) {
        byte[] data = letters(rnd, DATA);
        NativeMemory.write(src, data, 0, DATA);
        assertEquals(TransferState.COMPLETED,
            run(e, TransferRequest.write(src, 2 * MIB, DATA)).state(), "write " + i);
        byte[] onDevice = new byte[DATA];
        NativeMemory.read(base + 2 * MIB, onDevice, 0, DATA);
        assertArrayEquals(data, onDevice, "device bytes after write " + i);
      }

      byte[] data = letters(rnd, DATA);
      NativeMemory.write(src, data, 0, DATA);
      Batch rejected = run(e, TransferRequest.write(src, 6 * MIB, DATA));
      assertEquals(TransferState.FAILED, rejected.state());
      assertEquals(ErrorCode.ADDRESS_NOT_REGISTERED, rejected.errorCode());
      byte[] untouched = new byte[DATA];
      NativeMemory.read(base + 6 * MIB, untouched, 0, DATA);
      assertArrayEquals(new byte[DATA], untouched, "a rejected write writes nothing");

      e.register(base + 6 * MIB, 2 * MIB);
      for (int i = 0; i < 10; i++) {
        data = letters(rnd, DATA);
        NativeMemory.write(src, data, 0, DATA);
        assertEquals(TransferState.COMPLETED,
            run(e, TransferRequest.write(src, 6 * MIB, DATA)).state(), "write " + i);
      }
      for (int i = 0; i < 10; i++) {
        NativeMemory.fill(dst, DATA, (byte) 0);
        assertEquals(TransferState.COMPLETED,
            run(e, TransferRequest.read(dst, 6 * MIB, DATA)).state(), "read " + i);
        byte[] back = new byte[DATA];
        NativeMemory.read(dst, back, 0, DATA);
        assertArrayEquals(data, back, "read " + i);
      }
    } finally {
      NativeMemory.unmap(src, DATA);
      NativeMemory.unmap(dst, DATA);
      Files.deleteIfExists(dev);
    }
  }

  /**
   * A batch of 600 slices (more than one native call's worth) mixing writes and reads of odd sizes
   * at odd offsets: every byte lands where it should and nothing beside it changes.
   */
  @Test
  void largeMixedBatchesCopyEveryByteExactly() throws Exception {
    Path dev = CxlFiles.device("batch", 64 * MIB);
    long local = NativeMemory.mapAnonymous(16 * MIB);
    try (Engine e = CxlFiles.engine(dev, "cxl")) {
      long base = CxlFiles.base(e);
      e.register(base, 32 * MIB);
      e.register(local, 16 * MIB, "cpu:0", false);
      Random rnd = new Random(600);
      byte[] device = new byte[(int) (8 * MIB)];
      rnd.nextBytes(device);
      NativeMemory.write(base, device, 0, device.length); // what the reads will fetch
      byte[] source = new byte[(int) (8 * MIB)];
      rnd.nextBytes(source);
      NativeMemory.write(local, source, 0, source.length);
      List<TransferRequest> batch = new java.util.ArrayList<>();
      byte[] expectDevice = device.clone();
      byte[] expectLocal = new byte[(int) (16 * MIB)];
      System.arraycopy(source, 0, expectLocal, 0, source.length);
      for (int i = 0; i < 600; i++) {
        int len = 1 + rnd.nextInt(6000);
        int slot = i * 6144 + rnd.nextInt(100); // disjoint 6 KiB slots, unaligned starts
        if (i % 3 == 2) {
          // read device [slot] into local [8 MiB + slot]
          batch.add(TransferRequest.read(local + 8 * MIB + slot, slot + 4 * MIB, len));
          System.arraycopy(device, (int) (4 * MIB) + slot, expectLocal, (int) (8 * MIB) + slot,
              len);
        } else {
          batch.add(TransferRequest.write(local + slot, slot, len));
          System.arraycopy(source, slot, expectDevice, slot, len);
        }
      }
      Batch b = e.submit(e.segmentName(), batch, "");
      assertEquals(TransferState.COMPLETED, e.await(b));
      byte[] onDevice = new byte[device.length];
      NativeMemory.read(base, onDevice, 0, onDevice.length);
      assertArrayEquals(expectDevice, onDevice, "device after the batch");
      byte[] mine = new byte[expectLocal.length];
      NativeMemory.read(local, mine, 0, mine.length);
      assertArrayEquals(expectLocal, mine, "local memory after the batch");
    } finally {
      NativeMemory.unmap(local, 16 * MIB);
      Files.deleteIfExists(dev);
    }
  }

  /** protocol auto starts cxl only for an engine whose settings name a device. */
  @Test
  void autoStartsCxlOnlyWhenADeviceIsConfigured() throws Exception {
    Path dev = CxlFiles.device("auto", 16 * MIB);
    try (Engine without = Engine.builder().localHostname("127.0.0.1").protocol("auto").start();
        Engine with = Engine.builder().localHostname("127.0.0.1").protocol("auto")
            .setting(CxlTransport.DEV_PATH, dev.toString()).start()) {
      assertTrue(!without.transportNames().contains("cxl"), without.transportNames().toString());
      assertTrue(with.transportNames().contains("cxl"), with.transportNames().toString());
      assertEquals(dev.toString(), with.localDescriptor().attributes().get("cxl_name"));
    } finally {
      Files.deleteIfExists(dev);
    }
  }

  /** A 5 GiB sparse device, a 4.5 GiB region, transfers at offsets beyond 4 GiB. */
  @Test
  void regionOverFourGibAndOffsetsBeyondIt() throws Exception {
    long size = 5L << 30;
    Path dev = CxlFiles.device("big", size);
    long local = NativeMemory.mapAnonymous(MIB);
    try (Engine e = CxlFiles.engine(dev, "cxl")) {
      long base = CxlFiles.base(e);
      long regionOffset = 512 * MIB;
      e.register(base + regionOffset, size - regionOffset);
      e.register(local, MIB, "cpu:0", false);
      Random rnd = new Random(5);
      for (long at : new long[] {(4L << 30) + 12345, size - MIB, (1L << 32) - 4096}) {
        byte[] data = new byte[(int) MIB];
        rnd.nextBytes(data);
        NativeMemory.write(local, data, 0, data.length);
        assertEquals(TransferState.COMPLETED,
            run(e, TransferRequest.write(local, at, MIB)).state(), "write at " + at);
        byte[] onDevice = new byte[(int) MIB];
        NativeMemory.read(base + at, onDevice, 0, onDevice.length);
        assertArrayEquals(data, onDevice, "device bytes at " + at);
        NativeMemory.fill(local, MIB, (byte) 0);
        assertEquals(TransferState.COMPLETED,
            run(e, TransferRequest.read(local, at, MIB)).state(), "read at " + at);
        byte[] back = new byte[(int) MIB];
        NativeMemory.read(local, back, 0, back.length);
        assertArrayEquals(data, back, "read at " + at);
      }
    } finally {
      NativeMemory.unmap(local, MIB);
      Files.deleteIfExists(dev);
    }
  }

  @Test
  void rejectionsWriteNothing() throws Exception {
    long size = 64 * MIB;
    Path dev = CxlFiles.device("reject", size);
    long local = NativeMemory.mapAnonymous(MIB);
    try (Engine e = CxlFiles.engine(dev, "cxl")) {
      long base = CxlFiles.base(e);
      e.register(base, 16 * MIB);
      e.register(local, 64 * 1024, "cpu:0", false);
      NativeMemory.fill(local, 64 * 1024, (byte) 7);

      // Past the end of the device, and wrapping past 2^64.
      Batch outside = run(e, TransferRequest.write(local, size - 100, 4096));
      assertEquals(TransferState.FAILED, outside.state());
      assertEquals(ErrorCode.INVALID_ARGUMENT, outside.errorCode());
      // Inside the device, outside what was registered (and straddling the end of the buffer).
      for (long at : new long[] {32 * MIB, 16 * MIB - 100}) {
        Batch b = run(e, TransferRequest.write(local, at, 4096));
        assertEquals(TransferState.FAILED, b.state(), "at " + at);
        assertEquals(ErrorCode.ADDRESS_NOT_REGISTERED, b.errorCode(), "at " + at);
      }
      assertEquals(ErrorCode.INVALID_ARGUMENT, run(e, TransferRequest.write(local, -4096, 8192))
          .errorCode(0), "a target range that wraps around");
      // Local memory that is not registered.
      Batch unregistered = run(e, TransferRequest.write(local + 64 * 1024, 0, 4096));
      assertEquals(ErrorCode.ADDRESS_NOT_REGISTERED, unregistered.errorCode(0));
      // Remote-accessible memory must lie inside the device.
      TransferException outsideDevice = assertThrows(TransferException.class,
          () -> e.register(local + 64 * 1024, 64 * 1024));
      assertEquals(ErrorCode.INVALID_ARGUMENT, outsideDevice.errorCode());
      assertEquals(1, e.localDescriptor().buffers().size(), "nothing published for it");

      byte[] whole = new byte[(int) size];
      NativeMemory.read(base, whole, 0, whole.length);
      assertArrayEquals(new byte[(int) size], whole, "no rejected request wrote a byte");
    } finally {
      NativeMemory.unmap(local, MIB);
      Files.deleteIfExists(dev);
    }
  }

  /** With tcp primary, ordinary memory registers for tcp; device memory is published as offsets. */
  @Test
  void besideTcpOnlyDeviceMemoryBecomesOffsets() throws Exception {
    Path dev = CxlFiles.device("mixed", 16 * MIB);
    long dram = NativeMemory.mapAnonymous(MIB);
    try (Engine e = CxlFiles.engine(dev, "tcp,cxl")) {
      e.register(dram, MIB);
      e.register(CxlFiles.base(e) + MIB, MIB);
      List<BufferDescriptor> buffers = e.localDescriptor().buffers();
      assertEquals(dram, buffers.get(0).address());
      assertEquals(false, buffers.get(0).attributes().containsKey("offset"));
      assertEquals(MIB, buffers.get(1).address());
      assertEquals(MIB, ((Number) buffers.get(1).attributes().get("offset")).longValue());
    } finally {
      NativeMemory.unmap(dram, MIB);
      Files.deleteIfExists(dev);
    }
  }

  @Test
  void missingDeviceFailsStartWithItsPath() {
    TransferException e = assertThrows(TransferException.class,
        () -> CxlFiles.engine(Path.of("/dev/shm/te4j-no-such-device"), "cxl"));
    assertEquals(ErrorCode.DEVICE_NOT_FOUND, e.errorCode(), e.getMessage());
  }
}
