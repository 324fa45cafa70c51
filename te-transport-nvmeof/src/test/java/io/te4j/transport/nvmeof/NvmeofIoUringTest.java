package io.te4j.transport.nvmeof;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.te4j.api.ErrorCode;
import io.te4j.api.SegmentDescriptor;
import io.te4j.api.TransferException;
import io.te4j.nativelib.NativeLibraries;
import io.te4j.testkit.TestContext;
import io.te4j.testkit.TestMemory;
import org.junit.jupiter.api.Test;

/** The native library and the availability contract (probe once, keep the cause, kill switch). */
class NvmeofIoUringTest {
  @Test
  void theLibraryBuiltByThisModuleLoadsFromTheClassPath() {
    assertEquals("linux-x86_64", NativeLibraries.platform(), "the library is built for linux-x86_64 only");
    assertNull(NvmeofIoUring.libraryFailure(), () -> "libte4jnvmeof.so did not load: "
        + NvmeofIoUring.libraryFailure());
    assertEquals(UringNative.ABI_VERSION, UringNative.te4j_nvmeof_abi_version());
    assertEquals("Invalid argument", UringNative.strerror(UringNative.EINVAL));
  }

  @Test
  void availabilityIsProbedOnceWithItsCauseKept() {
    Throwable cause = NvmeofIoUring.unavailabilityCause();
    assertEquals(cause == null, NvmeofIoUring.isAvailable());
    if (cause != null) {
      TransferException e = org.junit.jupiter.api.Assertions.assertThrows(TransferException.class,
          NvmeofIoUring::ensureAvailability);
      assertEquals(ErrorCode.TRANSPORT_UNAVAILABLE, e.errorCode());
    } else {
      NvmeofIoUring.ensureAvailability();
    }
  }

  @Test
  void theKillSwitchPropertyMakesItUnavailableAndSaysSo() {
    String old = System.getProperty(NvmeofIoUring.DISABLED_PROPERTY);
    System.setProperty(NvmeofIoUring.DISABLED_PROPERTY, "true");
    try {
      assertFalse(NvmeofIoUring.isAvailable());
      assertTrue(NvmeofIoUring.unavailabilityCause().getMessage()
          .contains(NvmeofIoUring.DISABLED_PROPERTY));
    } finally {
      if (old == null) {
        System.clearProperty(NvmeofIoUring.DISABLED_PROPERTY);
      } else {
        System.setProperty(NvmeofIoUring.DISABLED_PROPERTY, old);
      }
    }
  }

  @Test
  void aTransportOnTheFallbackKeepsWhy() {
    TestContext ctx = new TestContext(new TestMemory())
        .set(NvmeofTransport.IOURING_DISABLED_SETTING, "true");
    NvmeofTransport t = new NvmeofTransport(ctx);
    try {
      t.start(SegmentDescriptor.builder("h:1", "nvmeof"));
      assertFalse(t.usesIoUring());
      assertNotNull(t.fallbackCause());
      assertTrue(t.fallbackCause().getMessage().contains(NvmeofTransport.IOURING_DISABLED_SETTING),
          t.fallbackCause().getMessage());
    } finally {
      t.close();
    }
  }

  @Test
  void aTransportOnIoUringHasNoFallbackCauseAndStopsItsRingThreadOnClose() throws Exception {
    assertTrue(NvmeofIoUring.isAvailable(), () -> "io_uring unavailable here: "
        + NvmeofIoUring.unavailabilityCause());
    TestContext ctx = new TestContext(new TestMemory());
    NvmeofTransport t = new NvmeofTransport(ctx);
    t.start(SegmentDescriptor.builder("h:1", "nvmeof"));
    assertTrue(t.usesIoUring());
    assertNull(t.fallbackCause());
    assertEquals(1, ctx.threads().size(), "one ring thread");
    t.close();
    t.close(); // idempotent
    assertTrue(ctx.aliveThreads(5_000).isEmpty(), "ring thread stopped");
  }

  @Test
  void malformedSettingsNameTheSetting() {
    TestContext ctx = new TestContext(new TestMemory())
        .set(NvmeofTransport.QUEUE_DEPTH_SETTING, "lots");
    io.te4j.api.TransferException e = org.junit.jupiter.api.Assertions.assertThrows(
        io.te4j.api.TransferException.class, () -> new NvmeofTransport(ctx));
    assertEquals(io.te4j.api.ErrorCode.INVALID_CONFIGURATION, e.errorCode());
    assertTrue(e.getMessage().contains(NvmeofTransport.QUEUE_DEPTH_SETTING), e.getMessage());
    TestContext ctx2 = new TestContext(new TestMemory())
        .set(NvmeofTransport.DIRECT_IO_SETTING, "maybe");
    assertTrue(org.junit.jupiter.api.Assertions.assertThrows(io.te4j.api.TransferException.class,
        () -> new NvmeofTransport(ctx2)).getMessage().contains(NvmeofTransport.DIRECT_IO_SETTING));
  }
}
