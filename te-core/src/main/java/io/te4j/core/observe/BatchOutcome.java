package io.te4j.core.observe;

import io.te4j.api.ErrorCode;
import io.te4j.api.TransferState;
import java.util.Map;

/**
 * One batch as an observer sees it when it ended.
 *
 * @param batchId the batch's id
 * @param peer the target segment's name
 * @param transport the transport that carried it, or "none" when it failed before one was chosen
 * @param opcode "read", "write", or "mixed" for a batch of both
 * @param entries its requests
 * @param bytes bytes its requests asked to move
 * @param nanos from submission to the end
 * @param state COMPLETED, FAILED or TIMEOUT
 * @param failedEntries failed requests by error code; empty when it completed
 */
public record BatchOutcome(long batchId, String peer, String transport, String opcode,
    int entries, long bytes, long nanos, TransferState state,
    Map<ErrorCode, Integer> failedEntries) {}
