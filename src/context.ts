import type { Logger } from "pino";
import type { Loaders } from "./loaders.js";

/**
 * What every resolver gets for one GraphQL request. Made fresh per request by the server's context
 * function, so the loaders' memoization never outlives the request.
 */
export interface GatewayContext {
  readonly loaders: Loaders;
  /** The region of ids given without an ARN (`AWS_REGION`, or the emulator's). */
  readonly defaultRegion: string;
  /** Correlates the operation's log lines; taken from `x-request-id` or generated. */
  readonly requestId: string;
  readonly logger: Logger;
}
