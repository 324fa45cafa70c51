/**
 * What a transport holds in flight ({@link io.te4j.api.spi.inflight.InFlightTable}) and the thread
 * that enforces its deadlines ({@link io.te4j.api.spi.inflight.Watchdog}): the parts every
 * transport needs and none should re-solve.
 */
package io.te4j.api.spi.inflight;
