package io.te4j.transport.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Memory;
import org.junit.jupiter.api.Test;

/**
 * The binding against the machine's {@code libcudart.so.13}: every symbol resolves (direct
 * mapping binds them all when the class loads), and the calls behave as CUDA.md 1.1 measured.
 * Without a driver (these build machines) every call answers 35 and writes nothing; with one (a GPU
 * machine) memory, streams, events and IPC handles work.
 */
class JnaCudaRuntimeTest {
  private final JnaCudaRuntime cuda = new JnaCudaRuntime();

  @Test
  void everyCallIsBoundAndAnswersAsTheRuntimeDoes() {
    assertNull(JnaCudaRuntime.linkFailure(), "libcudart.so.13 binds with every symbol");
    int[] count = {-1};
    int rc = cuda.getDeviceCount(count);
    Memory attributes = new Memory(CudaLayout.POINTER_ATTRIBUTES_BUFFER);
    attributes.clear();
    long[] pointer = {-1};
    long[] stream = {-1};
    long[] event = {-1};
    if (rc == CudaLayout.ERROR_INSUFFICIENT_DRIVER) {
      assertEquals(-1, count[0], "the count is left untouched on error");
      assertEquals(rc, cuda.malloc(pointer, 4096));
      assertEquals(-1, pointer[0]);
      assertEquals(rc, cuda.streamCreateWithFlags(stream, CudaLayout.STREAM_NON_BLOCKING));
      assertEquals(rc, cuda.eventCreateWithFlags(event, CudaLayout.EVENT_DISABLE_TIMING));
      assertEquals(rc, cuda.pointerGetAttributes(Memory.nativeValue(attributes), 4096));
      for (int i = 0; i < CudaLayout.POINTER_ATTRIBUTES_BUFFER; i++) {
        assertEquals(0, attributes.getByte(i), "nothing written at byte " + i);
      }
      return;
    }
    if (rc != 0) { // a driver but no usable GPU (100, 800, ...): nothing to allocate
      assertEquals(-1, count[0], cuda.errorName(rc));
      assertTrue(cuda.malloc(pointer, 4096) != 0);
      return;
    }
    assertTrue(count[0] > 0);
    assertEquals(0, cuda.malloc(pointer, 1 << 20));
    assertEquals(0, cuda.pointerGetAttributes(Memory.nativeValue(attributes), pointer[0] + 64));
    assertEquals(CudaLayout.MEMORY_DEVICE, attributes.getInt(CudaLayout.PA_TYPE));
    Memory handle = new Memory(CudaLayout.IPC_HANDLE_BYTES);
    assertEquals(0, cuda.ipcGetMemHandle(Memory.nativeValue(handle), pointer[0]));
    assertEquals(0, cuda.streamCreateWithFlags(stream, CudaLayout.STREAM_NON_BLOCKING));
    assertEquals(0, cuda.eventCreateWithFlags(event, CudaLayout.EVENT_DISABLE_TIMING));
    assertEquals(0, cuda.memcpyAsync(pointer[0] + 4096, pointer[0], 4096,
        CudaLayout.MEMCPY_DEFAULT, stream[0]));
    assertEquals(0, cuda.eventRecord(event[0], stream[0]));
    int q;
    while ((q = cuda.eventQuery(event[0])) == CudaLayout.ERROR_NOT_READY) {
      Thread.onSpinWait();
    }
    assertEquals(0, q);
    assertEquals(0, cuda.eventDestroy(event[0]));
    assertEquals(0, cuda.streamDestroy(stream[0]));
    assertEquals(0, cuda.free(pointer[0]));
  }
}
