package io.te4j.transport.rdma;

/**
 * A registered region's memory regions, one per NIC in NIC order: what the RDMA transport keeps
 * with the region ({@code MemoryRegion#attachment}).
 */
final class RegionKeys {
  final long[] mrs;
  final int[] lkeys;
  final int[] rkeys;

  RegionKeys(int nics) {
    mrs = new long[nics];
    lkeys = new int[nics];
    rkeys = new int[nics];
  }
}
