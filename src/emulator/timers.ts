/**
 * The longest delay Node's timers keep, ms: 2^31 − 1, about 24.8 days; a longer one runs after 1 ms
 * instead, with only a TimeoutOverflowWarning. The emulator's latency is at most this. (The gateway
 * has its own copy, `src/domain/timers.ts`: the emulator imports nothing of the gateway.)
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
