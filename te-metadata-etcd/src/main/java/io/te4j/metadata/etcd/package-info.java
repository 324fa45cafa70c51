/**
 * The etcd metadata store: segment descriptors and RPC locations under the WIRE.md keys, every key
 * under one kept-alive lease, watches that tell the engine when a peer's entry changes. Found by
 * {@link java.util.ServiceLoader} through {@link io.te4j.metadata.etcd.EtcdMetadataStoreProvider}.
 */
package io.te4j.metadata.etcd;
