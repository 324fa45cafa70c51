package io.te4j.transport.rdma.verbs;

import io.te4j.nativelib.NativeMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Native memory the Java side lays out as verbs structs: a direct buffer in the machine's byte
 * order (absolute gets and puts, no allocation) and its address for the native call.
 */
abstract class NativeArray {
  final ByteBuffer bytes;
  final long address;

  NativeArray(int size) {
    bytes = ByteBuffer.allocateDirect(size).order(ByteOrder.nativeOrder());
    address = NativeMemory.addressOf(bytes);
  }

  /** Where the array starts. */
  public long address() {
    return address;
  }

  /** The array's bytes (shared; absolute access only). */
  public ByteBuffer bytes() {
    return bytes;
  }
}
