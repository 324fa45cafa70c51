/**
 * The {@code zk://h1:p1,h2:p2[/root]} metadata store: segment descriptors and RPC locations as
 * ephemeral znodes in a ZooKeeper ensemble, through Apache Curator.
 *
 * <p>Keys map verbatim to paths below the root ({@code mooncake/ram/x} is {@code /mooncake/ram/x},
 * or {@code /myroot/mooncake/ram/x}); values are the JSON strings' UTF-8 bytes. See {@link
 * io.te4j.metadata.zk.ZkLocation} for the mapping and {@link io.te4j.metadata.zk.ZkConfig} for the
 * settings {@code te4j.zk.sessionTimeoutMs} (default 10000) and {@code te4j.zk.connectionTimeoutMs}
 * (default 5000, or the session timeout when shorter).
 */
package io.te4j.metadata.zk;
