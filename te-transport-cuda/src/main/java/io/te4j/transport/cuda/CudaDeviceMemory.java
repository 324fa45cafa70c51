package io.te4j.transport.cuda;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.te4j.api.ErrorCode;
import io.te4j.api.TransferException;
import io.te4j.api.spi.DeviceMemoryAccess;
import java.nio.ByteBuffer;

/**
 * GPU memory reached through host memory, for transports that move bytes with the CPU (TCP): each
 * of their threads gets a staging buffer, pinned once, and a non-blocking stream of its own; a
 * copy is one {@code cudaMemcpyAsync} and a wait on that stream, never the legacy default stream
 * (CUDA.md 2.1 (d): the reference's synchronous {@code cudaMemcpy} there can deadlock behind a
 * caller's host function).
 */
public final class CudaDeviceMemory extends CudaService implements DeviceMemoryAccess {
  /** Streams for {@link #copy}, made on first use on the first caller's GPU. */
  private final StreamPool copyStreams;

  /** For {@link java.util.ServiceLoader}: the machine's runtime. */
  public CudaDeviceMemory() {
    this(new JnaCudaRuntime());
  }

  CudaDeviceMemory(CudaRuntime cuda) {
    super(cuda);
    this.copyStreams = new StreamPool(cuda, -1, 4);
  }

  @Override
  public void copy(long dst, long src, long length) {
    long stream;
    try {
      stream = copyStreams.next();
    } catch (CudaException e) {
      throw new TransferException(ErrorCode.TRANSFER_FAILED, e.getMessage(), e);
    }
    copyAndWait(dst, src, length, stream, "copying");
  }

  /** One copy on {@code stream}, waited for; a failure names what it was doing. */
  private void copyAndWait(long dst, long src, long length, long stream, String what) {
    int rc = cuda.memcpyAsync(dst, src, length, CudaLayout.MEMCPY_DEFAULT, stream);
    if (rc == 0) {
      rc = cuda.streamSynchronize(stream);
    }
    if (rc != 0) {
      throw new TransferException(ErrorCode.TRANSFER_FAILED, what + " " + length + " bytes from 0x"
          + Long.toHexString(src) + " to 0x" + Long.toHexString(dst) + " (GPU and host memory): "
          + CudaErrors.describe(cuda, rc));
    }
  }

  @Override
  public Staging staging(int bytes) {
    long[] stream = {0};
    int rc = cuda.streamCreateWithFlags(stream, CudaLayout.STREAM_NON_BLOCKING);
    if (rc != 0) {
      throw new TransferException(ErrorCode.TRANSFER_FAILED,
          "cudaStreamCreateWithFlags: " + CudaErrors.describe(cuda, rc));
    }
    ByteBuffer buffer = ByteBuffer.allocateDirect(bytes);
    long address = Pointer.nativeValue(Native.getDirectBufferPointer(buffer));
    boolean pinned = cuda.hostRegister(address, bytes, 0) == 0;
    return new CudaStaging(buffer, address, pinned, stream[0]);
  }

  private final class CudaStaging implements Staging {
    private final ByteBuffer buffer;
    private final long address;
    private final boolean pinned;
    private final long stream;

    CudaStaging(ByteBuffer buffer, long address, boolean pinned, long stream) {
      this.buffer = buffer;
      this.address = address;
      this.pinned = pinned;
      this.stream = stream;
    }

    @Override
    public ByteBuffer buffer() {
      return buffer;
    }

    @Override
    public void fromDevice(long device, int length) {
      copy(address, device, length, "from");
    }

    @Override
    public void toDevice(long device, int length) {
      copy(device, address, length, "to");
    }

    private void copy(long dst, long src, int length, String direction) {
      if (length < 0 || length > buffer.capacity()) {
        throw new IllegalArgumentException(length + " bytes do not fit the staging buffer");
      }
      copyAndWait(dst, src, length, stream, "staging " + direction + " GPU memory:");
    }

    @Override
    public void close() {
      cuda.streamDestroy(stream);
      if (pinned) {
        cuda.hostUnregister(address);
      }
    }
  }
}
