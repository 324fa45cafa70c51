package io.te4j.core.memory;

import io.te4j.api.AddressRanges;
import io.te4j.api.ErrorCode;
import java.util.Arrays;

/**
 * A binary buddy allocator over one arena {@code [base, base + size)}: pure bookkeeping, it never
 * touches the memory. Blocks are powers of two from {@code minBlock} to {@code size}; a request is
 * rounded up to the smallest block that holds it, larger free blocks are split on the way, and a
 * freed block merges with its free buddy, repeatedly.
 *
 * <p>State lives in flat arrays indexed by min-block number: a tag at each block start (free or
 * allocated, and its order) and intrusive doubly-linked free lists, one per order. Allocation and
 * free are O(log(size / minBlock)) and allocate no objects. Every misuse of {@link #free} is
 * detected from the tags and leaves the state untouched.
 *
 * <p>Not thread-safe: the caller serializes access.
 */
public final class BuddyAllocator {
  /** {@link #free} succeeded. */
  public static final int OK = 0;

  /**
   * {@link #free} was given an address that is not the start of an allocated block (outside the
   * arena, misaligned, inside a block), or the start of one with a length that rounds to another
   * block size. Equal to {@link ErrorCode#INVALID_ARGUMENT}'s code.
   */
  public static final int INVALID = ErrorCode.INVALID_ARGUMENT.code();

  /**
   * {@link #free} was given an address in free space: a double free (or an address never handed
   * out). Not an {@link ErrorCode}; callers report it as {@link ErrorCode#INVALID_ARGUMENT}.
   */
  public static final int ALREADY_FREE = -1001;

  /** The most min-blocks one arena may have; bounds the bookkeeping to about 36 MiB. */
  public static final int MAX_BLOCKS = 1 << 22;

  private static final byte NONE = 0;
  private static final int FREE = 0x40;
  private static final int ALLOCATED = 0x80;
  private static final int ORDER_MASK = 0x3f;
  private static final int NIL = -1;

  private final long base;
  private final long size;
  private final int minShift;
  private final int maxOrder;

  /** Tag of the block starting at each min-block index; NONE inside blocks. */
  private final byte[] tags;

  private final int[] next;
  private final int[] prev;

  /** Head of each order's free list, or NIL. */
  private final int[] heads;

  private long used;

  /**
   * An allocator with the whole arena free.
   *
   * @param base first address of the arena (any value; blocks are aligned relative to it)
   * @param size bytes, a power of two
   * @param minBlock the smallest block, a power of two not above {@code size}, with {@code size /
   *     minBlock <= MAX_BLOCKS}
   * @throws IllegalArgumentException when a rule above is broken or the arena wraps past 2^64
   */
  public BuddyAllocator(long base, long size, long minBlock) {
    if (size <= 0 || Long.bitCount(size) != 1) {
      throw new IllegalArgumentException("size must be a power of two: " + size);
    }
    if (minBlock <= 0 || Long.bitCount(minBlock) != 1 || minBlock > size) {
      throw new IllegalArgumentException("minBlock must be a power of two <= size: " + minBlock);
    }
    if (size / minBlock > MAX_BLOCKS) {
      throw new IllegalArgumentException(
          "too many blocks: " + size + " / " + minBlock + " > " + MAX_BLOCKS);
    }
    if (!AddressRanges.fits(base, size)) {
      throw new IllegalArgumentException("arena wraps past 2^64");
    }
    this.base = base;
    this.size = size;
    this.minShift = Long.numberOfTrailingZeros(minBlock);
    this.maxOrder = Long.numberOfTrailingZeros(size) - minShift;
    int blocks = (int) (size >>> minShift);
    this.tags = new byte[blocks];
    this.next = new int[blocks];
    this.prev = new int[blocks];
    this.heads = new int[maxOrder + 1];
    Arrays.fill(heads, NIL);
    pushFree(0, maxOrder);
  }

  /**
   * Allocates a block of the smallest power-of-two size (at least {@code minBlock}) holding {@code
   * length} bytes.
   *
   * @return the block's address, or -1 when {@code length} is not positive, exceeds the arena, or
   *     no free block is large enough
   */
  public long allocate(long length) {
    if (length <= 0 || length > size) {
      return -1;
    }
    int order = orderOf(length);
    int k = order;
    while (k <= maxOrder && heads[k] == NIL) {
      k++;
    }
    if (k > maxOrder) {
      return -1;
    }
    int index = heads[k];
    unlink(index, k);
    // Split down to the wanted order; each upper half becomes a free buddy.
    while (k > order) {
      k--;
      pushFree(index + (1 << k), k);
    }
    tags[index] = (byte) (ALLOCATED | order);
    used += blockBytes(order);
    return base + ((long) index << minShift);
  }

  /**
   * Frees a block; {@code length} may be any length that rounds to the block's size (the length
   * given to {@link #allocate} does).
   *
   * @return {@link #OK}, {@link #INVALID} (not the start of an allocated block, or wrong length),
   *     or {@link #ALREADY_FREE} (the address lies in free space: double free); on an error nothing
   *     changes
   */
  public int free(long address, long length) {
    long offset = address - base;
    if (Long.compareUnsigned(offset, size) >= 0) {
      return INVALID;
    }
    int index = (int) (offset >>> minShift);
    int start = blockStartContaining(index);
    int tag = tags[start] & 0xff;
    if ((tag & FREE) != 0) {
      return ALREADY_FREE;
    }
    int order = tag & ORDER_MASK;
    if (start != index || (offset & ((1L << minShift) - 1)) != 0) {
      return INVALID;
    }
    if (length <= 0 || length > size || orderOf(length) != order) {
      return INVALID;
    }
    used -= blockBytes(order);
    tags[index] = NONE;
    while (order < maxOrder) {
      int buddy = index ^ (1 << order);
      if ((tags[buddy] & 0xff) != (FREE | order)) {
        break;
      }
      unlink(buddy, order);
      tags[buddy] = NONE;
      index = Math.min(index, buddy);
      order++;
    }
    pushFree(index, order);
    return OK;
  }

  /** The size of the block {@link #allocate} would hand out for {@code length} (1 to size). */
  public long blockSizeFor(long length) {
    if (length <= 0 || length > size) {
      throw new IllegalArgumentException("length out of range: " + length);
    }
    return blockBytes(orderOf(length));
  }

  /** True when nothing is allocated. */
  public boolean isEmpty() {
    return used == 0;
  }

  /** Bytes in allocated blocks (block sizes, not requested lengths). */
  public long used() {
    return used;
  }

  /** The arena's size in bytes. */
  public long size() {
    return size;
  }

  /** The arena's first address. */
  public long base() {
    return base;
  }

  /** The smallest block size. */
  public long minBlock() {
    return 1L << minShift;
  }

  private int orderOf(long length) {
    if (length <= (1L << minShift)) {
      return 0;
    }
    return 64 - Long.numberOfLeadingZeros(length - 1) - minShift;
  }

  private long blockBytes(int order) {
    return 1L << (order + minShift);
  }

  /**
   * The start of the block holding min-block {@code index}. Tags are set exactly at block starts,
   * so walking up the aligned candidates the first tagged one is the containing block.
   */
  private int blockStartContaining(int index) {
    for (int order = 0; order <= maxOrder; order++) {
      int start = index & -(1 << order);
      if (tags[start] != NONE) {
        return start;
      }
    }
    throw new IllegalStateException("corrupt buddy state at block " + index);
  }

  private void pushFree(int index, int order) {
    tags[index] = (byte) (FREE | order);
    int head = heads[order];
    next[index] = head;
    prev[index] = NIL;
    if (head != NIL) {
      prev[head] = index;
    }
    heads[order] = index;
  }

  private void unlink(int index, int order) {
    int n = next[index];
    int p = prev[index];
    if (p == NIL) {
      heads[order] = n;
    } else {
      next[p] = n;
    }
    if (n != NIL) {
      prev[n] = p;
    }
  }
}
