#!/usr/bin/env python3
"""The CuPy side of the GPU check's IPC exchange (CUDA.md section 5, G6): a C++/Python peer opens
te4j's handles and te4j opens theirs.

  ipc_peer.py open HEX SIZE   opens a 128-hex-character handle, prints the CRC32 of SIZE bytes
  ipc_peer.py export SIZE F   exports a filled allocation: prints EXPORT HEX CRC SIZE, waits for file F
"""
import json
import os
import sys
import time
import zlib

import cupy
import numpy


def main():
    rt = cupy.cuda.runtime
    if sys.argv[1] == "open":
        n = int(sys.argv[3])
        try:
            ptr = rt.ipcOpenMemHandle(bytes.fromhex(sys.argv[2]))
        except Exception as e:  # the error is the result
            print(json.dumps({"check": "cupy_ipc_open", "error": str(e)}))
            return
        host = numpy.empty(n, dtype=numpy.uint8)
        rt.memcpy(host.ctypes.data, ptr, n, rt.memcpyDeviceToHost)
        print(json.dumps({"check": "cupy_ipc_open", "rc": 0, "crc": zlib.crc32(host.tobytes())}))
        rt.ipcCloseMemHandle(ptr)
    else:
        n = int(sys.argv[2])
        data = numpy.random.default_rng(2).integers(0, 256, n, dtype=numpy.uint8)
        device = cupy.asarray(data)
        handle = rt.ipcGetMemHandle(device.data.ptr)
        print("EXPORT", bytes(handle).hex().upper(), zlib.crc32(data.tobytes()), n, flush=True)
        deadline = time.time() + 120
        while not os.path.exists(sys.argv[3]) and time.time() < deadline:
            time.sleep(0.05)


main()
