package io.te4j.transport.cxl;

import io.te4j.core.Engine;
import io.te4j.testkit.contract.TargetMemory;

/**
 * Device memory for a contract target: consecutive ranges of the CXL device from offset 0, which
 * peers address by their device offset.
 */
public final class CxlTargetMemory implements TargetMemory {
  private long next;

  @Override
  public long reserve(Engine engine, long bytes) {
    long at = CxlFiles.base(engine) + next;
    next += bytes;
    return at;
  }

  @Override
  public long peerAddress(Engine engine, long local) {
    return local - CxlFiles.base(engine);
  }
}
