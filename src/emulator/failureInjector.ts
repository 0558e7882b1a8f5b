import { connectError, type Answer } from "./answer.js";
import type { ApiName } from "./apiNames.js";
import { Rng } from "./rng.js";

/**
 * Injected failures, decided in request arrival order by a PRNG seeded with `seed` (default 1),
 * so a run is reproducible. `status` defaults to 500 (InternalServiceException); `code`
 * overrides the `x-amzn-errortype`; `apis` limits injection to those APIs.
 */
export interface FailureOptions {
  rate: number;
  status?: number;
  code?: string;
  seed?: number;
  apis?: ApiName[];
}

/** Decides which Connect calls fail on purpose: the `failNext` queue first, then the seeded rate. */
export class FailureInjector {
  private options: FailureOptions | false | undefined;
  private random: Rng | undefined;
  private queue: { count: number; status: number; api?: ApiName | undefined }[] = [];

  constructor(options: FailureOptions | false | undefined) {
    this.set(options);
  }

  get current(): FailureOptions | false | undefined {
    return this.options;
  }

  /** Replaces the rate-based failures (the PRNG restarts from the seed). */
  set(options: FailureOptions | false | undefined): void {
    this.options = options;
    this.random = options ? new Rng(options.seed ?? 1) : undefined;
  }

  /** The next `count` calls (of `api`, if given) fail with `status`. */
  failNext(count: number, status: number, api?: ApiName): void {
    if (count > 0) this.queue.push({ count, status, api });
  }

  /** The failure to answer this call of `api` with, if it is to fail. */
  next(api: ApiName): Answer | undefined {
    const queued = this.queue.find((f) => f.api === undefined || f.api === api);
    if (queued) {
      queued.count--;
      if (queued.count <= 0) this.queue.splice(this.queue.indexOf(queued), 1);
      return connectError(queued.status, injectedErrorType(queued.status), "Injected failure");
    }
    const f = this.options;
    if (f && this.random && (!f.apis || f.apis.includes(api)) && this.random.next() < f.rate) {
      const status = f.status ?? 500;
      return connectError(status, f.code ?? injectedErrorType(status), "Injected failure");
    }
    return undefined;
  }
}

// Private: the error type Connect would send with `status`.
function injectedErrorType(status: number): string {
  switch (status) {
    case 400:
      return "InvalidRequestException";
    case 403:
      return "AccessDeniedException";
    case 404:
      return "ResourceNotFoundException";
    case 429:
      return "ThrottlingException";
    case 503:
      return "ServiceUnavailableException";
    default:
      return "InternalServiceException";
  }
}
