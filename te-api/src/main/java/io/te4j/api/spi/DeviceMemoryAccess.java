package io.te4j.api.spi;

import java.nio.ByteBuffer;

/**
 * Reaches device memory of one family (CUDA GPU memory) through host memory, for transports that
 * move bytes with the CPU: TCP stages them through a pinned host buffer per thread, shm copies
 * them straight between a peer's mapped memory file and the device. Found by
 * {@link java.util.ServiceLoader} ({@code META-INF/services/io.te4j.api.spi.DeviceMemoryAccess});
 * the CUDA module provides one. A transport gets it from {@link TransportContext#deviceMemory}.
 */
public interface DeviceMemoryAccess {
  /** The device family: {@code cuda}. */
  String family();

  /** Whether it works on this machine (its runtime binds and sees a device). */
  Availability availability();

  /**
   * Copies {@code length} bytes from {@code src} to {@code dst}, one of them device memory of this
   * family and the other host memory this process maps (a peer's memory file, say); returns once
   * the bytes are in place. Safe from any thread.
   *
   * @throws io.te4j.api.TransferException TRANSFER_FAILED naming the device's error
   */
  void copy(long dst, long src, long length);

  /**
   * A staging buffer of {@code bytes} pinned host memory, made once and reused by one thread
   * (no allocation per transfer).
   *
   * @throws io.te4j.api.TransferException when it cannot be made
   */
  Staging staging(int bytes);

  /** A pinned host buffer and the copies between it and device memory. One thread's. */
  interface Staging extends AutoCloseable {
    /** The buffer: direct, its capacity the size asked for; position and limit are the user's. */
    ByteBuffer buffer();

    /**
     * Copies {@code length} bytes of device memory at {@code device} into the buffer's first
     * {@code length} bytes; returns once they are there.
     *
     * @throws io.te4j.api.TransferException TRANSFER_FAILED naming the device's error
     */
    void fromDevice(long device, int length);

    /** Copies the buffer's first {@code length} bytes to device memory at {@code device}. */
    void toDevice(long device, int length);

    /** Unpins and frees the buffer. */
    @Override
    void close();
  }
}
