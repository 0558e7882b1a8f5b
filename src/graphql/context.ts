import type { Logger } from "pino";
import type { Principal } from "../domain/principal.js";
import type { Loaders } from "./loaders.js";
import type { OperationScope } from "../upstream/operationScope.js";
import type { Redaction } from "./redaction.js";

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
  /** The caller: its scopes and readable instances (`FULL_ACCESS` when `AUTH_MODE=none`). */
  readonly auth: Principal;
  /** Which personal fields this operation masked (for `extensions.redacted`). */
  readonly redaction: Redaction;
  /** Most ids one `contacts(contactIds:)` field may name (`MAX_CONTACT_IDS`). */
  readonly maxContactIds: number;
  /** Most transfers `Contact.transferChain` follows back (`MAX_CONTACT_HOPS`). */
  readonly maxContactHops: number;
  /** What this request cost upstream (its log line's `upstreamCalls`); the loaders pass it down with every read. */
  readonly operationScope: OperationScope;
}
