package io.te4j.transport.cuda;

/**
 * The {@code shm_name} of an nvlink buffer (CUDA.md 2.2, 2.6): a 64-byte IPC handle as hex, two
 * characters a byte, upper case as the reference writes it; either case is read. Anything else
 * (odd length, a non-hex character, another length) is refused with null, where the reference
 * would throw out of its relocation path.
 */
final class IpcHandleHex {
  private static final char[] DIGITS = "0123456789ABCDEF".toCharArray();

  private IpcHandleHex() {}

  static String encode(byte[] handle) {
    char[] out = new char[handle.length * 2];
    for (int i = 0; i < handle.length; i++) {
      out[2 * i] = DIGITS[(handle[i] >> 4) & 0xF];
      out[2 * i + 1] = DIGITS[handle[i] & 0xF];
    }
    return new String(out);
  }

  /** The 64 handle bytes of {@code hex}, or null unless it is exactly 128 hex characters. */
  static byte[] decode(Object hex) {
    if (!(hex instanceof String) || ((String) hex).length() != 2 * CudaLayout.IPC_HANDLE_BYTES) {
      return null;
    }
    String s = (String) hex;
    byte[] out = new byte[CudaLayout.IPC_HANDLE_BYTES];
    for (int i = 0; i < out.length; i++) {
      int hi = Character.digit(s.charAt(2 * i), 16);
      int lo = Character.digit(s.charAt(2 * i + 1), 16);
      if (hi < 0 || lo < 0) {
        return null;
      }
      out[i] = (byte) (hi << 4 | lo);
    }
    return out;
  }
}
