package io.te4j.transport.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CUDA probe: against the machine's real runtime (the build machines have the CUDA 13 runtime
 * and no driver, so it must say so in one line naming the error), and against a runtime stand-in
 * for the branches a build machine cannot reach.
 */
class CudaProbeTest {
  @Test
  void theRealRuntimeListsGpusOrSaysWhyNot() {
    CudaProbe.Result r = CudaProbe.probe();
    if (r.available()) {
      assertFalse(r.gpus().isEmpty());
      return;
    }
    if (JnaCudaRuntime.linkFailure() != null) {
      assertTrue(r.cause().contains("cannot be loaded"), r.cause());
      return;
    }
    assertEquals(JnaCudaRuntime.MAJOR, r.runtimeVersion() / 1000, "bound by explicit soname");
    assertTrue(r.cause().matches("cudaGetDeviceCount returned \\d+ \\(cudaError\\w+: .+\\).*")
        || r.cause().equals("no CUDA device"), r.cause());
    if (r.driverVersion() == 0) { // these build machines: a runtime, no driver
      assertEquals("cudaGetDeviceCount returned 35 (cudaErrorInsufficientDriver: CUDA driver "
          + "version is insufficient for CUDA runtime version): no NVIDIA driver is installed",
          r.cause());
    }
    assertEquals(List.of("cuda: unavailable: " + r.cause()), CudaProbe.describe(r));
  }

  /** A runtime in Java with fixed answers. */
  private static final class Answers implements CudaRuntime {
    int runtime = 13000;
    int driver = 13000;
    int countRc = 0;
    int count = 2;

    @Override
    public int runtimeGetVersion(int[] version) {
      version[0] = runtime;
      return 0;
    }

    @Override
    public int driverGetVersion(int[] version) {
      version[0] = driver;
      return 0;
    }

    @Override
    public int getDeviceCount(int[] out) {
      if (countRc == 0) {
        out[0] = count;
      }
      return countRc;
    }

    @Override
    public int deviceGetAttribute(int[] value, int attribute, int device) {
      value[0] = attribute == CudaProbe.ATTR_COMPUTE_MAJOR ? 9 : attribute == CudaProbe.ATTR_COMPUTE_MINOR ? 0 : 1;
      return 0;
    }

    @Override
    public int deviceGetPciBusId(byte[] busId, int length, int device) {
      byte[] id = ("0000:1" + device + ":00.0").getBytes(StandardCharsets.US_ASCII);
      System.arraycopy(id, 0, busId, 0, id.length);
      return 0;
    }

    @Override
    public String errorName(int error) {
      return error == 100 ? "cudaErrorNoDevice" : "cudaErrorInsufficientDriver";
    }

    @Override
    public String errorString(int error) {
      return "text " + error;
    }

    // The probe uses none of these.
    @Override
    public int malloc(long[] pointer, long bytes) {
      return CudaLayout.ERROR_INVALID_VALUE;
    }

    @Override
    public int free(long pointer) {
      return CudaLayout.ERROR_INVALID_VALUE;
    }

    @Override
    public int pointerGetAttributes(long out, long pointer) {
      return CudaLayout.ERROR_INVALID_VALUE;
    }

    @Override
    public int memcpyAsync(long dst, long src, long bytes, int kind, long stream) {
      return CudaLayout.ERROR_INVALID_VALUE;
    }

    @Override
    public int streamCreateWithFlags(long[] stream, int flags) {
      return CudaLayout.ERROR_INVALID_VALUE;
    }

    @Override
    public int streamDestroy(long stream) {
      return CudaLayout.ERROR_INVALID_VALUE;
    }

    @Override
    public int eventCreateWithFlags(long[] event, int flags) {
      return CudaLayout.ERROR_INVALID_VALUE;
    }

    @Override
    public int eventRecord(long event, long stream) {
      return CudaLayout.ERROR_INVALID_VALUE;
    }

    @Override
    public int eventQuery(long event) {
      return CudaLayout.ERROR_INVALID_VALUE;
    }

    @Override
    public int eventDestroy(long event) {
      return CudaLayout.ERROR_INVALID_VALUE;
    }

    @Override
    public int ipcGetMemHandle(long out, long pointer) {
      return CudaLayout.ERROR_INVALID_VALUE;
    }

    @Override
    public int setDevice(int device) {
      return CudaLayout.ERROR_INVALID_VALUE;
    }

    @Override
    public int getDevice(int[] device) {
      return CudaLayout.ERROR_INVALID_VALUE;
    }

    @Override
    public int hostRegister(long pointer, long bytes, int flags) {
      return CudaLayout.ERROR_INVALID_VALUE;
    }

    @Override
    public int hostUnregister(long pointer) {
      return CudaLayout.ERROR_INVALID_VALUE;
    }

    @Override
    public int streamSynchronize(long stream) {
      return CudaLayout.ERROR_INVALID_VALUE;
    }

    @Override
    public int streamGetDevice(long stream, int[] device) {
      return CudaLayout.ERROR_INVALID_VALUE;
    }

    @Override
    public int ipcOpenMemHandle(long[] pointer, byte[] handle, int flags) {
      return CudaLayout.ERROR_INVALID_VALUE;
    }

    @Override
    public int ipcCloseMemHandle(long pointer) {
      return CudaLayout.ERROR_INVALID_VALUE;
    }

    @Override
    public int memGetAddressRange(long[] base, long[] size, long pointer) {
      return CudaLayout.ERROR_INVALID_VALUE;
    }

    @Override
    public int launchHostFunc(long stream, long token) {
      return CudaLayout.ERROR_INVALID_VALUE;
    }

    @Override
    public int memGetInfo(long[] free, long[] total) {
      return CudaLayout.ERROR_INVALID_VALUE;
    }
  }

  @Test
  void gpusComeWithTheirNumaNodeAndNearestNics(@TempDir Path sys) throws Exception {
    for (int d = 0; d < 2; d++) {
      Path pci = Files.createDirectories(sys.resolve("bus/pci/devices/0000:1" + d + ":00.0"));
      Files.writeString(pci.resolve("numa_node"), d + "\n");
    }
    for (String[] nic : new String[][] {{"mlx5_0", "0"}, {"mlx5_1", "1"}, {"mlx5_2", "1"}}) {
      Path dev = Files.createDirectories(sys.resolve("class/infiniband").resolve(nic[0])
          .resolve("device"));
      Files.writeString(dev.resolve("numa_node"), nic[1]);
    }
    CudaProbe.Result r = CudaProbe.probe(new Answers(), sys);
    assertNull(r.cause());
    assertEquals(List.of(
        new CudaProbe.Gpu(0, "0000:10:00.0", 0, 9, 0, true, List.of("mlx5_0")),
        new CudaProbe.Gpu(1, "0000:11:00.0", 1, 9, 0, true, List.of("mlx5_1", "mlx5_2"))),
        r.gpus());
    assertTrue(CudaProbe.describe(r).get(1).startsWith("cuda:1 pci 0000:11:00.0 numa 1 sm 9.0 "
        + "nearest NICs mlx5_1,mlx5_2"), CudaProbe.describe(r).get(1));
  }

  @Test
  void eachUnavailabilitySaysWhy(@TempDir Path sys) {
    Answers a = new Answers();
    a.runtime = 12080;
    assertEquals("the CUDA runtime is 12.8; te4j binds CUDA 13", CudaProbe.probe(a, sys).cause());
    a = new Answers();
    a.driver = 12020;
    a.countRc = 35;
    assertEquals("cudaGetDeviceCount returned 35 (cudaErrorInsufficientDriver: text 35): the "
        + "driver (12.2) is older than the runtime (13.0)", CudaProbe.probe(a, sys).cause());
    a = new Answers();
    a.countRc = 100;
    assertTrue(CudaProbe.probe(a, sys).cause().endsWith("the driver sees no GPU "
        + "(CUDA_VISIBLE_DEVICES?)"));
    a = new Answers();
    a.count = 0;
    assertEquals("no CUDA device", CudaProbe.probe(a, sys).cause());
  }
}
