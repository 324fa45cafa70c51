package io.te4j.testkit.contract;

/**
 * A target range the transport must refuse without touching it: {@code length} bytes at peer
 * address {@code address}; {@code checkAt} is a target address whose next 4 KiB must be unchanged
 * afterwards (its CRC is taken before and after), or -1 when there is no target memory to check.
 */
public record Rejection(String name, long address, long length, long checkAt) {}
