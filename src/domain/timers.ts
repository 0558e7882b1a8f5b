/**
 * The longest delay Node's timers keep, ms: 2^31 − 1, about 24.8 days. `setTimeout`, `setInterval`
 * and what is built on them (socket timeouts, graphql-ws's keep-alive) run a longer delay after 1 ms
 * instead, with only a TimeoutOverflowWarning. Every setting in milliseconds is at most this.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
