import { buildSubgraphSchema } from "@apollo/subgraph";
import { addResolversToSchema } from "@graphql-tools/schema";
import { Kind, parse, type ConstDirectiveNode, type DefinitionNode, type DocumentNode, type GraphQLSchema } from "graphql";
import { arnProblem, CONTACT_ID_MAX, contactArnArgument, idProblem, INSTANCE_ID_MAX, instanceArgument, type ContactRef, type Regions } from "../domain/contactRef.js";
import { badUserInput } from "../domain/errors.js";
import type { ResourceRef } from "../domain/resourceRef.js";
import type { ResolversParentTypes } from "../generated/graphql.js";
import type { GatewayContext } from "./context.js";
import { resolvers } from "./resolvers.js";

/**
 * The Federation version the subgraph links: v2.0, the lowest that has everything it uses (`@key`,
 * `@shareable`), so every Federation 2 router and composition accepts it.
 */
export const FEDERATION_SPEC_URL = "https://specs.apollo.dev/federation/v2.0";

/**
 * The entities and their keys (`@key(fields: …)`), one entry per key, the first preferred.
 * - `Contact`: `arn` (it carries region, account, instance and id, so a contact of any region
 *   resolves in its own region) and `instanceId id` (for subgraphs that store the two ids; the
 *   instance's region is `AWS_REGION` unless `instanceId` is an instance ARN).
 * - `Queue`: `queueArn`, the field DescribeQueue already returns: `Queue` has no `arn` field, and
 *   adding one to the federated variant only would make the two schemas differ beyond
 *   federation's own fields.
 * - `User`: `arn` (DescribeUser's own field).
 */
export const ENTITY_KEYS = {
  Contact: ["arn", "instanceId id"],
  Queue: ["queueArn"],
  User: ["arn"],
} as const satisfies Record<string, readonly string[]>;

export type EntityType = keyof typeof ENTITY_KEYS;

/** What a router sends in `_entities(representations:)`: the type and one key's fields, untrusted JSON. */
export type Representation = { readonly __typename: string } & Readonly<Record<string, unknown>>;

/**
 * Where a Contact representation points, from its key fields alone (a router may send more fields;
 * nothing else of a representation is ever read): `arn` when present, else `instanceId` and `id`;
 * with the account of the ARN (a contact ARN, or `instanceId` as an instance ARN), which the contact
 * loader holds the answer to. Throws BAD_USER_INPUT naming the field (under `argument`, the
 * representation's own name, `representations[i]`) for a malformed one, one in a region the gateway
 * may not call or one whose partition is not its region's, before any call.
 */
export function contactRepresentationRef(representation: Representation, regions: Regions, argument: string): ContactRef {
  const { arn, instanceId, id } = representation;
  if (arn !== undefined && arn !== null) {
    if (typeof arn !== "string") throw badUserInput(`${argument}.arn`, "must be a contact ARN: arn:aws:connect:{region}:{account}:instance/{instanceId}/contact/{contactId}");
    return contactArnArgument(`${argument}.arn`, arn, regions);
  }
  if (typeof instanceId !== "string" || typeof id !== "string") throw badUserInput(argument, "must carry a Contact key: `arn`, or `instanceId` and `id`");
  const instance = instanceArgument(`${argument}.instanceId`, instanceId, regions);
  const problem = idProblem(id, CONTACT_ID_MAX);
  if (problem) throw badUserInput(`${argument}.id`, problem);
  return { ...instance, contactId: id };
}

/**
 * Where a Queue (`queueArn`) or User (`arn`) representation points, from its key field alone, with
 * the ARN's account (which the loader holds the answer to). Throws BAD_USER_INPUT naming the field
 * for a malformed one, one in a region the gateway may not call or one whose partition is not its
 * region's, before any call.
 */
export function resourceRepresentationRef(representation: Representation, type: "Queue" | "User", argument: string, regions: Regions): ResourceRef {
  const field = ENTITY_KEYS[type][0];
  const kind = type === "Queue" ? "queue" : "agent";
  const value = representation[field];
  const parsed = typeof value === "string" ? parseResourceArn(value, kind) : null;
  if (!parsed) throw badUserInput(`${argument}.${field}`, `must be a ${type === "Queue" ? "queue" : "user"} ARN: arn:aws:connect:{region}:{account}:instance/{instanceId}/${kind}/{id}`);
  const problem = arnProblem(parsed.partition, parsed.region, regions);
  if (problem) throw badUserInput(`${argument}.${field}`, problem);
  return { region: parsed.region, instanceId: parsed.instanceId, id: parsed.id, accountId: parsed.accountId };
}

/**
 * The region and instance the representation at `argument` (`representations[i]`) points to, the
 * same way its `__resolveReference` reads it (so what is authorized is what is read). Throws
 * BAD_USER_INPUT naming it for anything that is not a representation of an entity (`ENTITY_KEYS`:
 * another type, a type the schema does not have, no `__typename`, not an object), which
 * `@apollo/subgraph` would otherwise fail as an internal error, and like `contactRepresentationRef`
 * for a malformed key.
 */
export function representationPlace(representation: unknown, regions: Regions, argument: string): { readonly region: string; readonly instanceId: string } {
  const typename = representation !== null && typeof representation === "object" && !Array.isArray(representation) ? (representation as Representation).__typename : undefined;
  switch (typename) {
    case "Contact":
      return contactRepresentationRef(representation as Representation, regions, argument);
    case "Queue":
    case "User":
      return resourceRepresentationRef(representation as Representation, typename, argument, regions);
    default:
      throw badUserInput(argument, `must be a representation of an entity: an object whose __typename is ${Object.keys(ENTITY_KEYS).join(", ")}`);
  }
}

/**
 * Federation's own types (`_Service`, `_Entity`, `_Any`, `link__Import`, `federation__FieldSet`, …):
 * named with a leading `_` or a `__` namespace, which schema.graphql never uses.
 */
export function isFederationType(name: string): boolean {
  return name.startsWith("_") || name.includes("__");
}

/**
 * schema.graphql as a Federation 2 subgraph document: the federation `@link`, `@key` on each
 * entity (`ENTITY_KEYS`) and `@shareable` on every other object type except the root types, so a
 * value type another subgraph defines identically (a Relay `PageInfo`, say) composes with it.
 * Added here rather than written in schema.graphql, which stays the standalone schema's source.
 */
export function federatedTypeDefs(typeDefs: string): DocumentNode {
  const document = parse(typeDefs);
  const definitions = document.definitions.map((definition): DefinitionNode => {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION || ROOT_TYPES.has(definition.name.value)) return definition;
    const name = definition.name.value;
    const keys: readonly string[] | undefined = Object.hasOwn(ENTITY_KEYS, name) ? ENTITY_KEYS[name as EntityType] : undefined;
    const added = keys ? keys.map((fields) => directive(`@key(fields: ${JSON.stringify(fields)})`)) : [directive("@shareable")];
    return { ...definition, directives: [...(definition.directives ?? []), ...added] };
  });
  const link = parse(`extend schema @link(url: ${JSON.stringify(FEDERATION_SPEC_URL)}, import: ["@key", "@shareable"])`).definitions[0]!;
  return { ...document, definitions: [link, ...definitions] };
}

/**
 * The subgraph schema before `buildSchema`'s wrappers: `buildSubgraphSchema` over
 * `federatedTypeDefs` (which adds `_service`, `_entities` and their types) with the entities'
 * `__resolveReference`, then the gateway's resolver map added exactly as `makeExecutableSchema`
 * adds it to the standalone schema, so every field resolves the same way in both.
 */
export function federatedSchema(typeDefs: string): GraphQLSchema {
  const schema = buildSubgraphSchema({ typeDefs: federatedTypeDefs(typeDefs), resolvers: entityResolvers });
  return addResolversToSchema({ schema, resolvers, updateResolversInPlace: true });
}

type EntityResolvers = {
  readonly [T in EntityType]: {
    readonly __resolveReference: (representation: Representation, ctx: GatewayContext) => Promise<ResolversParentTypes[T]>;
  };
};

/**
 * Each entity is read through the request's loaders, like every other read: representations of one
 * `_entities` call are loaded in one tick, so they batch and de-duplicate with each other and with
 * the rest of the operation, and each read passes the loaders' instance check and upstream budget.
 * An entity keyed by an ARN is held to the ARN's account (`readContact`, `readResource`): never an
 * entity whose `arn` is not the key it was asked by.
 * `applyEntityAuthorization` has already refused, at its own index (`representations[i]`), every
 * representation `representationPlace` refuses, so these see only well-formed keys; they read them
 * with the same functions. `@apollo/subgraph` gives them no index, hence `REPRESENTATION` as the
 * name of a failure here. Async, so a failing representation fails its own entity, not the whole list.
 */
const entityResolvers: EntityResolvers = {
  Contact: {
    __resolveReference: async (representation, ctx) => detached(await ctx.loaders.readContact(contactRepresentationRef(representation, ctx.regions, REPRESENTATION))),
  },
  Queue: {
    __resolveReference: async (representation, ctx) => detached(await ctx.loaders.readResource("queue", resourceRepresentationRef(representation, "Queue", REPRESENTATION, ctx.regions))),
  },
  User: {
    __resolveReference: async (representation, ctx) => detached(await ctx.loaders.readResource("user", resourceRepresentationRef(representation, "User", REPRESENTATION, ctx.regions))),
  },
};

// Private: how `__resolveReference` names its representation, not knowing its index.
const REPRESENTATION = "representations";

// Private: root types are never entities nor shareable.
const ROOT_TYPES = new Set(["Query", "Mutation", "Subscription"]);

// Private: one directive node.
function directive(text: string): ConstDirectiveNode {
  const definition = parse(`scalar S ${text}`).definitions[0];
  if (definition?.kind !== Kind.SCALAR_TYPE_DEFINITION || !definition.directives?.[0]) throw new Error(`not a directive: ${text}`);
  return definition.directives[0];
}

/**
 * `@apollo/subgraph` marks each resolved entity with its `__typename`, on the object itself. Loaded
 * models are shared by every request while cached (see `loaders.ts`) and never mutated, so it gets
 * a fresh object whose prototype is the model: every member reads through, nothing is copied.
 */
function detached<T extends object>(model: T): T {
  return Object.create(model) as T;
}

const RESOURCE_ARN = /^arn:(aws[a-z-]*):connect:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):instance\/([^/]+)\/(queue|agent)\/([^/]+)$/;

/** `arn:{partition}:connect:{region}:{account}:instance/{instanceId}/{queue|agent}/{id}`, or `null`. */
function parseResourceArn(arn: string, kind: "queue" | "agent"): (ResourceRef & { readonly partition: string; readonly accountId: string }) | null {
  if (arn.length > 2048) return null;
  const match = RESOURCE_ARN.exec(arn);
  if (!match || match[5] !== kind) return null;
  const [, partition, region, accountId, instanceId, , id] = match as unknown as string[];
  if (idProblem(instanceId!, INSTANCE_ID_MAX) || idProblem(id!, CONTACT_ID_MAX)) return null;
  return { partition: partition!, region: region!, accountId: accountId!, instanceId: instanceId!, id: id! };
}
