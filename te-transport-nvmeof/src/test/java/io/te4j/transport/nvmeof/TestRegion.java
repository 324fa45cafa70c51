package io.te4j.transport.nvmeof;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.te4j.api.spi.MemoryRegion;
import java.nio.ByteBuffer;

/**
 * Registered memory for tests: one direct buffer, 4096-aligned, at its REAL native address (as
 * the engine's regions are), so io_uring reads and writes it for real.
 */
final class TestRegion implements MemoryRegion {
  private final ByteBuffer buffer;
  private final long address;

  TestRegion(int bytes) {
    this.buffer = ByteBuffer.allocateDirect(bytes + 8192).alignedSlice(4096).slice(0, bytes);
    this.address = Pointer.nativeValue(Native.getDirectBufferPointer(buffer));
  }

  @Override
  public long address() {
    return address;
  }

  @Override
  public long length() {
    return buffer.capacity();
  }

  @Override
  public String location() {
    return "cpu:0";
  }

  @Override
  public boolean remoteAccessible() {
    return true;
  }

  @Override
  public ByteBuffer chunk(int index) {
    if (index != 0) {
      throw new IndexOutOfBoundsException(index);
    }
    return buffer;
  }

  byte[] get(int offset, int len) {
    byte[] out = new byte[len];
    buffer.get(offset, out);
    return out;
  }

  void put(int offset, byte[] data) {
    buffer.put(offset, data);
  }

  byte[] snapshot() {
    return get(0, buffer.capacity());
  }
}
