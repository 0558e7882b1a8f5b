import { DateTimeResolver, SafeIntResolver } from "graphql-scalars";
import { GraphQLScalarType } from "graphql";
import {
  CONTACT_ID_MAX,
  contactArnArgument,
  idProblem,
  instanceArgument,
  relatedRef,
  type ContactModel,
  type ContactRef,
} from "../domain/contactRef.js";
import { referenceTypeOf, referenceTypesArgument } from "./referenceTypes.js";
import type { GatewayContext } from "./context.js";
import { badUserInput } from "../domain/errors.js";
import type { ContactEventDelivery } from "../events/contactEventHub.js";
import type { Resolvers } from "../generated/graphql.js";
import { ReferenceSummary$ } from "@aws-sdk/client-connect";
import { graphqlModel } from "../domain/graphqlModel.js";
import { resourceRefOf, type ResourceModel } from "../domain/resourceRef.js";
import { subscribeContactEvents } from "./contactEventsSubscription.js";
import { searchContacts } from "./searchContacts.js";
import { transferChain } from "./transferChain.js";

/**
 * The resolver map. Only fields that are not a plain member of Connect's answer have a resolver
 * here: relations, joins, attributes (with their fallback), references, and values the gateway knows
 * but DescribeContact does not return. Every other field is read off the model by graphql-js's
 * default resolver: models are built in the GraphQL shape once per answer (`graphqlModel`).
 */
export const resolvers: Resolvers = {
  // Models carry timestamps as the ISO strings this scalar would make of Dates (`graphqlModel`): they
  // are served as they are. Anything else (a Date, another string, a number) goes through
  // graphql-scalars' DateTime, which validates it as before. Inputs are parsed by it too.
  DateTime: new GraphQLScalarType({
    ...DateTimeResolver.toConfig(),
    serialize: (value) => (typeof value === "string" && ISO_TIMESTAMP.test(value) ? value : DateTimeResolver.serialize(value)),
  }),
  // 64-bit integers as JSON numbers, exact up to 2^53 - 1; larger values are refused, not rounded.
  Long: new GraphQLScalarType({ ...SafeIntResolver.toConfig(), name: "Long" }),

  Subscription: {
    contactEvents: {
      subscribe: (_, args, ctx) => subscribeContactEvents(args, ctx),
      // Each event is the root value of its own execution (see `subscribePerEvent`).
      resolve: (delivery: ContactEventDelivery) => delivery,
    },
  },

  ContactEvent: {
    eventId: ({ event }) => event.eventId,
    eventType: ({ event }) => event.eventType,
    timestamp: ({ event }) => event.timestamp,
    contactId: ({ event }) => event.ref.contactId,
    instanceId: ({ event }) => event.ref.instanceId,
    // The event's context was primed with this contact: no read, however many subscribers.
    contact: ({ event, contact }, _, ctx) => (contact ? ctx.loaders.contact.load(event.ref) : null),
  },

  Query: {
    // An instance ARN's account comes along (`accountId`): the loader holds the contact to it.
    contact: (_, args, ctx) => {
      const { region, instanceId, accountId } = instanceArgument("instanceId", args.instanceId, ctx.regions);
      const contactId = checkId("contactId", args.contactId, CONTACT_ID_MAX);
      return ctx.loaders.readContact({ region, instanceId, contactId, accountId });
    },

    contacts: (_, args, ctx) => {
      const { region, instanceId, accountId } = instanceArgument("instanceId", args.instanceId, ctx.regions);
      // Connect has no batch read: each id is one call, so the list length is bounded (MAX_CONTACT_IDS).
      if (args.contactIds.length > ctx.maxContactIds) {
        throw badUserInput("contactIds", `may name at most ${ctx.maxContactIds} contacts (got ${args.contactIds.length})`);
      }
      const refs = args.contactIds.map((contactId, i) => ({
        region,
        instanceId,
        contactId: checkId(`contactIds[${i}]`, contactId, CONTACT_ID_MAX),
        accountId,
      }));
      // One promise per index, loaded in one tick so they batch: a contact that fails becomes `null`
      // at its index with an error at its path, and the other contacts are unaffected.
      return refs.map((ref) => ctx.loaders.readContact(ref));
    },

    contactByArn: (_, { arn }, ctx) => {
      return ctx.loaders.readContact(contactArnArgument("arn", arn, ctx.regions));
    },

    searchContacts: (_, args, ctx) => searchContacts(args, ctx),
  },

  Contact: {
    instanceId: (contact) => contact.$ref.instanceId,
    region: (contact) => contact.$ref.region,
    transferChain: (contact, _, ctx) => transferChain(contact, ctx.loaders.contact, ctx.maxContactHops),
    previousContact: (contact, _, ctx) => loadRelated(contact, contact.previousContactId, ctx),
    initialContact: (contact, _, ctx) => loadRelated(contact, contact.initialContactId, ctx),
    relatedContact: (contact, _, ctx) => loadRelated(contact, contact.relatedContactId, ctx),
    // DescribeContact's own attributes when it returned them; otherwise GetContactAttributes of
    // the chain's initial contact, which every contact of the chain shares (one call per chain).
    attributes: (contact, _, ctx) => {
      if (contact.attributes) return contact.attributes;
      const initial = relatedRef(contact.$ref, contact.initialContactId ?? contact.id ?? contact.$ref.contactId)!;
      return ctx.loaders.contactAttributes.load(initial).then(entries);
    },
    references: (contact, args, ctx) =>
      ctx.loaders.contactReferences.load({ ref: contact.$ref, types: referenceTypesArgument(args.referenceTypes) }).then((list) => list.map(referenceModel)),
  },

  QueueInfo: {
    queue: (info, _, ctx) => {
      const ref = resourceRefOf(info.$ref, info.id);
      return ref && ctx.loaders.queue.load(ref);
    },
  },

  AgentInfo: {
    agent: (info, _, ctx) => {
      const ref = resourceRefOf(info.$ref, info.id);
      return ref && ctx.loaders.user.load(ref);
    },
  },

  ReferenceSummary: {
    type: (reference) => referenceTypeOf(reference),
  },
};

// Private: a related contact of the same instance (at once when cached: `Loaders.readContact`), or
// null without an upstream call when unset.
function loadRelated(
  contact: ContactModel,
  contactId: string | undefined,
  ctx: GatewayContext,
): ContactModel | Promise<ContactModel> | null {
  const ref: ContactRef | null = relatedRef(contact.$ref, contactId);
  return ref && ctx.loaders.readContact(ref);
}

// Private: what `Date#toISOString` makes (a year of four digits).
const ISO_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

// Private: a string-keyed map as `{ key, value }` entries, in the order upstream sent them.
function entries<V>(map: Record<string, V>): Array<{ key: string; value: V }> {
  return Object.entries(map).map(([key, value]) => ({ key, value }));
}

// Private: ListContactReferences' summaries are not cached; each is shaped when served.
const referenceModel = graphqlModel(ReferenceSummary$) as (summary: unknown) => ResourceModel;

// Private: the id if it is well-formed; otherwise BAD_USER_INPUT naming the argument, before any call.
function checkId(argument: string, value: string, max: number): string {
  const problem = idProblem(value, max);
  if (problem) throw badUserInput(argument, problem);
  return value;
}
