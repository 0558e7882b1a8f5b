import { ContactSearchSummary$, type ContactSearchSummary } from "@aws-sdk/client-connect";
import { defaultFieldResolver, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from "graphql";
import type { ContactModel, ContactRef } from "../domain/contactRef.js";
import { graphqlModel } from "../domain/graphqlModel.js";
import type { GatewayContext } from "./context.js";

/**
 * The fields SearchContacts' `ContactSearchSummary` answers, per GraphQL type, including the
 * gateway's own fields that need nothing beyond it (the ref, relations by id, joins by id). Any
 * other field of a search result reads the full contact with DescribeContact.
 *
 * Left out on purpose: `segmentAttributes` (the summary carries only string and map values, so a
 * summary answer could silently miss entries) and `wisdomInfo` (the summary has the AI agents but
 * not the session ARN). `attributes` follows its own rule (DescribeContact first), so it reads the
 * full contact too.
 */
export const SUMMARY_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  Contact: new Set([
    "id",
    "arn",
    "instanceId",
    "region",
    "initialContactId",
    "initialContact",
    "previousContactId",
    "previousContact",
    "transferChain",
    "initiationMethod",
    "channel",
    "queueInfo",
    "agentInfo",
    "initiationTimestamp",
    "disconnectTimestamp",
    "scheduledTimestamp",
    "name",
    "routingCriteria",
    "tags",
    "globalResiliencyMetadata",
    "references",
  ]),
  AgentInfo: new Set(["id", "connectedToAgentTimestamp", "agent"]),
};

/** Marks an object built from a search summary: which contact, and where in it the object sits. */
const PARTIAL: unique symbol = Symbol("partial");

interface PartialOf {
  readonly ref: ContactRef;
  /** The contact's field this object stands for (`agentInfo`), or undefined for the contact itself. */
  readonly member?: "agentInfo";
}

type MaybePartial = { [PARTIAL]?: PartialOf; $ref?: ContactRef };

/**
 * A search result as a `ContactModel` that holds only what the summary holds. Its fields outside
 * `SUMMARY_FIELDS` resolve against the full contact, read through the request's contact loader the
 * first time one of them is selected (see `serveSearchSummaries`); a query that stays inside the
 * summary costs no DescribeContact.
 */
export function toSummaryContact(summary: ContactSearchSummary, ref: ContactRef): ContactModel {
  const { aiAgentInfo: _aiAgents, segmentAttributes: _segments, agentInfo, queueInfo, ...fields } = summaryShape(summary) as Record<string, unknown>;
  const contact: Record<string, unknown> & MaybePartial = { ...fields, $ref: ref, [PARTIAL]: { ref } };
  if (queueInfo) contact.queueInfo = { ...(queueInfo as object), $ref: ref };
  if (agentInfo) contact.agentInfo = { ...(agentInfo as object), $ref: ref, [PARTIAL]: { ref, member: "agentInfo" } };
  return contact as unknown as ContactModel;
}

const summaryShape = graphqlModel(ContactSearchSummary$);

/**
 * Makes the types of `SUMMARY_FIELDS` serve summary-backed objects: a field outside the summary
 * runs its own resolver against the full object instead (the contact from the request's loader, or
 * its member), so every resolver keeps seeing the SDK shape it expects. Objects that are not
 * summary-backed pass straight through. Wraps resolvers in place; call after every resolver is set.
 */
export function serveSearchSummaries(schema: GraphQLSchema): GraphQLSchema {
  for (const [typeName, summaryFields] of Object.entries(SUMMARY_FIELDS)) {
    const type = schema.getType(typeName);
    if (!isObjectType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      if (summaryFields.has(field.name)) continue;
      field.resolve = fullSourceResolver(field.resolve ?? defaultFieldResolver);
    }
  }
  return schema;
}

// Private: runs `resolve` against the full object when the source is summary-backed.
function fullSourceResolver(resolve: GraphQLFieldResolver<unknown, GatewayContext>): GraphQLFieldResolver<unknown, GatewayContext> {
  return (source, args, ctx, info) => {
    const partial = (source as MaybePartial | null)?.[PARTIAL];
    if (!partial) return resolve(source, args, ctx, info);
    return ctx.loaders.contact.load(partial.ref).then((contact) => {
      if (!partial.member) return resolve(contact, args, ctx, info);
      const member = contact[partial.member];
      return member ? resolve(member, args, ctx, info) : null;
    });
  };
}
