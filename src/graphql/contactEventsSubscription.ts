import { GraphQLError } from "graphql";
import { CONTACT_ID_MAX, idProblem, instanceArgument } from "../domain/contactRef.js";
import { badUserInput, ErrorCode } from "../domain/errors.js";
import type { ContactEventDelivery, ContactEventFilter } from "../events/contactEventHub.js";
import type { ContactEventFilter as FilterInput, SubscriptionContactEventsArgs } from "../generated/graphql.js";
import type { GatewayContext } from "./context.js";

/** Most entries one filter list may hold. */
export const MAX_FILTER_ENTRIES = 100;

/**
 * Subscribes to `Subscription.contactEvents`: checks the arguments (a bad one is BAD_USER_INPUT and
 * opens nothing) and registers the subscription with this replica's hub. The instance has already
 * been authorized on the schema (`applyInstanceAuthorization`). Instance ids are unique across
 * regions, so an instance ARN filters by its id, and by its account: a subscription to an instance
 * ARN of another account than the events' receives none of them.
 */
export function subscribeContactEvents(args: SubscriptionContactEventsArgs, ctx: GatewayContext): AsyncIterable<ContactEventDelivery> {
  const { instanceId, accountId } = instanceArgument("instanceId", args.instanceId, ctx.regions);
  const filter: ContactEventFilter = { instanceId, accountId, ...filterOf(args.filter) };
  const live = ctx.live;
  if (!live?.hub) {
    throw new GraphQLError("Live contact events are not configured on this gateway: set CONTACT_EVENTS_QUEUE_URL (the SQS queue your EventBridge rule feeds).", {
      extensions: { code: ErrorCode.EVENTS_NOT_CONFIGURED },
    });
  }
  return live.hub.subscribe(filter, live.onOverflow);
}

// Private: the filter's lists as sets; an empty or absent list matches everything.
function filterOf(input: FilterInput | null | undefined): Omit<ContactEventFilter, "instanceId"> {
  if (!input) return {};
  const set = (name: keyof FilterInput, values: readonly string[] | null | undefined, max?: number) => {
    if (!values || values.length === 0) return undefined;
    if (values.length > MAX_FILTER_ENTRIES) throw badUserInput(`filter.${name}`, `may hold at most ${MAX_FILTER_ENTRIES} entries (got ${values.length})`);
    values.forEach((value, i) => {
      const problem = idProblem(value, max ?? 256);
      if (problem) throw badUserInput(`filter.${name}[${i}]`, problem);
    });
    return new Set(values);
  };
  return {
    contactIds: set("contactIds", input.contactIds, CONTACT_ID_MAX),
    channels: set("channels", input.channels),
    queueIds: set("queueIds", input.queueIds),
    agentIds: set("agentIds", input.agentIds),
    eventTypes: set("eventTypes", input.eventTypes),
  };
}
