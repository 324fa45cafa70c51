/**
 * The RDMA transport: verbs NICs, wire-compatible with the reference's RDMA peers (RDMA.md). The
 * {@link io.te4j.transport.rdma.verbs} package is the seam to the verbs themselves.
 */
package io.te4j.transport.rdma;
