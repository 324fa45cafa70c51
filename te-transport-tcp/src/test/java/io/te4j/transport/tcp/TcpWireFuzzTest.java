package io.te4j.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.te4j.api.AddressRanges;
import io.te4j.api.PeerAccess;
import io.te4j.api.TransferOpcode;
import io.te4j.api.spi.MemoryRegion;
import io.te4j.testkit.TestMemory;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * What a peer sends to the TCP data port (a 24-byte request header) and what a target answers (an
 * 8-byte status frame), as arbitrary bytes. The target's last gate must never pass a range that is
 * not wholly inside the registered region, nor an access the region refuses peers, whatever the
 * header says (overflow, wrap, huge sizes, opcodes); a status frame decodes to a code or is told
 * apart by its magic. Regression inputs run in CI
 * ({@code TcpWireFuzzTestInputs/} beside this class); a long run is {@code JAZZER_FUZZ=1}.
 */
class TcpWireFuzzTest {
  /** A long run ({@code JAZZER_FUZZ=1}) stops at 10 million inputs or after this long. */
  static final String LONG_RUN = "8m";
  static final long LONG_RUN_INPUTS = 10_000_000L;

  private static final long BASE = 0x7f00_0000_0000L;
  private static final TestMemory MEMORY = new TestMemory();

  static {
    MEMORY.add(BASE, 1 << 20, true);
    MEMORY.add(BASE + (2 << 20), 4096, false); // registered, but local only
    MEMORY.add(BASE + (3 << 20), 4096, PeerAccess.READ_ONLY);
    MEMORY.add(BASE + (4 << 20), 4096, PeerAccess.WRITE_ONLY);
  }

  @FuzzTest(maxDuration = LONG_RUN, maxExecutions = LONG_RUN_INPUTS)
  void requestHeaders(byte[] bytes) {
    ByteBuffer header = TcpWire.newHeaderBuffer();
    header.put(Arrays.copyOf(bytes, header.capacity())).flip();
    long size = TcpWire.headerSize(header);
    long address = TcpWire.headerAddress(header);
    TransferOpcode opcode = (TcpWire.headerOpcode(header) & ~TcpWire.V2_FLAG) == TcpWire.OP_WRITE
        ? TransferOpcode.WRITE : TransferOpcode.READ;
    MemoryRegion region = MEMORY.find(address, size);
    if (TcpTarget.check(region, opcode, address, size) == null) {
      assertTrue(region.remoteAccessible(), "served a local-only region");
      assertTrue(region.peerAccess().allows(opcode), "served a " + opcode + " the region refuses");
      assertTrue(AddressRanges.fits(address, size), "served a range that wraps");
      assertTrue(Long.compareUnsigned(address, region.address()) >= 0
          && Long.compareUnsigned(address + size - region.address(), region.length()) <= 0,
          "served a range outside its region");
    }
  }

  @FuzzTest(maxDuration = LONG_RUN, maxExecutions = LONG_RUN_INPUTS)
  void statusFrames(byte[] bytes) {
    long frame = ByteBuffer.wrap(Arrays.copyOf(bytes, 8)).order(java.nio.ByteOrder.LITTLE_ENDIAN)
        .getLong();
    if (TcpWire.hasStatusMagic(frame)) {
      int code = TcpWire.statusCode(frame);
      assertEquals(frame, TcpWire.statusFrame(code), "a status frame re-encodes to itself");
    }
  }
}
