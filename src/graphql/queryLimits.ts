import type { ApolloServerOptions, ApolloServerPlugin, GraphQLRequestListener } from "@apollo/server";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import {
  GraphQLError,
  Kind,
  getNamedType,
  isObjectType,
  type ASTVisitor,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type GraphQLObjectType,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from "graphql";
import type { Config } from "../config/config.js";
import { ErrorCode } from "../domain/errors.js";

type LimitsConfig = Pick<
  Config,
  | "MAX_QUERY_DEPTH"
  | "MAX_CONTACT_HOPS"
  | "MAX_CONTACT_IDS"
  | "MAX_RESULT_CONTACTS"
  | "MAX_ALIASES"
  | "MAX_TOKENS"
  | "MAX_DIRECTIVES"
  | "MAX_COST"
  | "GRAPHQL_INTROSPECTION"
>;

/** What `createQueryLimits` adds to Apollo Server's options. */
export type QueryLimits = Required<Pick<ApolloServerOptions<any>, "validationRules" | "parseOptions">> & {
  plugins: ApolloServerPlugin<any>[];
  /**
   * A validation error's message as Armor's `blockFieldSuggestion` plugin words it for Apollo (field
   * suggestions masked when introspection is off): for the subscription transports, which validate
   * outside Apollo.
   */
  maskSuggestions: (message: string) => string;
};

/** Armor's `blockFieldSuggestion` mask and pattern (@escape.tech/graphql-armor-block-field-suggestions). */
const SUGGESTION = { pattern: /Did you mean ".+"\?/g, mask: "[Suggestion hidden]" };

/**
 * The static limits every operation passes before it runs, so a rejected operation costs no
 * upstream call. Each refusal is HTTP 400 with `extensions.code` `QUERY_LIMIT_EXCEEDED` and
 * `extensions.limit` naming the setting:
 * - `MAX_TOKENS`: graphql-js's own parser limit (parsing stops at the limit, before validation);
 * - `MAX_QUERY_DEPTH`, `MAX_ALIASES`, `MAX_DIRECTIVES`, `MAX_COST`: GraphQL Armor's validation rules.
 *   Cost is Armor's: 1 per leaf field, 2 per field with a selection set, fragments counted where
 *   they are spread; the depth factor is 1 (not Armor's 1.5) so the cost grows with the size of
 *   the selection, not exponentially with its depth: a contact with every field and
 *   `previousContact` 10 levels deep costs about 7,000;
 * - `MAX_CONTACT_HOPS`: the gateway's rule (`maxContactHopsRule`);
 * - `MAX_RESULT_CONTACTS`: the gateway's rule (`maxResultContactsRule`).
 * Field suggestions ("Did you mean …") are removed from errors when introspection is off, so a
 * closed schema cannot be probed through them.
 */
export function createQueryLimits(config: LimitsConfig): QueryLimits {
  const resultLimits: ResultContactsLimits = { max: config.MAX_RESULT_CONTACTS, contactIds: config.MAX_CONTACT_IDS, chain: config.MAX_CONTACT_HOPS + 1 };
  const reject = (limit: string) => [(ctx: ValidationContext | null, error: GraphQLError) => ctx?.reportError(limitError(error.message, limit))];
  const armor = new ApolloArmor({
    maxTokens: { enabled: false }, // enforced by the parser below, which stops at the limit
    maxDepth: { n: config.MAX_QUERY_DEPTH, flattenFragments: true, propagateOnRejection: false, onReject: reject("MAX_QUERY_DEPTH") },
    maxAliases: { n: config.MAX_ALIASES, propagateOnRejection: false, onReject: reject("MAX_ALIASES") },
    maxDirectives: { n: config.MAX_DIRECTIVES, propagateOnRejection: false, onReject: reject("MAX_DIRECTIVES") },
    costLimit: {
      maxCost: config.MAX_COST,
      objectCost: 2,
      scalarCost: 1,
      depthCostFactor: 1,
      flattenFragments: true,
      propagateOnRejection: false,
      onReject: reject("MAX_COST"),
    },
    blockFieldSuggestion: { enabled: !config.GRAPHQL_INTROSPECTION },
  }).protect();
  return {
    parseOptions: { maxTokens: config.MAX_TOKENS },
    validationRules: [
      ...armor.validationRules,
      maxContactHopsRule(config.MAX_CONTACT_HOPS),
      maxResultContactsRule(resultLimits),
    ],
    // Armor's typings name the CommonJS build of @apollo/server; the plugins are plain objects.
    plugins: [...(armor.plugins as unknown as ApolloServerPlugin<any>[]), limitErrorCodes(config.MAX_TOKENS), entitiesResultContacts(resultLimits)],
    maskSuggestions: config.GRAPHQL_INTROSPECTION ? (message) => message : (message) => message.replace(SUGGESTION.pattern, SUGGESTION.mask).trim(),
  };
}

// Private: Armor prefixes its messages with "Syntax Error: "; they are limit errors, not syntax errors.
function limitError(message: string, limit: string): GraphQLError {
  return new GraphQLError(`${message.replace(/^Syntax Error: /, "")} (${limit})`, {
    extensions: { code: ErrorCode.QUERY_LIMIT_EXCEEDED, limit },
  });
}

/**
 * Apollo codes every validation error `GRAPHQL_VALIDATION_FAILED` and the parser's token limit
 * `GRAPHQL_PARSE_FAILED`; limit errors get `QUERY_LIMIT_EXCEEDED` instead, so clients can tell "too
 * big" from "wrong". The HTTP status stays 400.
 */
function limitErrorCodes(maxTokens: number): ApolloServerPlugin<any> {
  // One listener for every request: it keeps nothing of its own.
  const listener: GraphQLRequestListener<any> = {
    async didEncounterErrors({ errors }) {
      for (const error of errors) {
        if (error.extensions.code === "GRAPHQL_PARSE_FAILED" && /contains more tha[nt] \d+ tokens/.test(error.message)) {
          Object.assign(error, { message: `Document exceeds the token limit of ${maxTokens} (MAX_TOKENS)` });
          error.extensions.limit = "MAX_TOKENS";
        }
        const code = error.extensions.code;
        if ((code === "GRAPHQL_VALIDATION_FAILED" || code === "GRAPHQL_PARSE_FAILED") && typeof error.extensions.limit === "string") {
          error.extensions.code = ErrorCode.QUERY_LIMIT_EXCEEDED;
        }
      }
    },
  };
  return {
    async requestDidStart() {
      return listener;
    },
  };
}

/** The fields that read another contact: a field of `Contact` whose type is `Contact`. */
function isContactRelation(parent: GraphQLObjectType, fieldName: string): boolean {
  if (parent.name !== "Contact") return false;
  const field = parent.getFields()[fieldName];
  return field !== undefined && getNamedType(field.type).name === "Contact";
}

/**
 * Refuses an operation in which one path follows more than `max` contact relations
 * (`previousContact`, `initialContact`, `relatedContact`, counted together), fragments included.
 * Each hop can cost one DescribeContact per contact reached, so this bounds the fan-out before
 * anything runs; the upstream budget (`createUpstreamBudget`) bounds what runs. Each fragment is
 * measured once, so fragment bombs cost linear time; fragment cycles are left to graphql-js's own
 * `NoFragmentCycles` rule.
 */
export function maxContactHopsRule(max: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const schema = context.getSchema();

    const hopsIn = (selectionSet: SelectionSetNode, parent: GraphQLObjectType | undefined): number => {
      let deepest = 0;
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          if (!parent || !selection.selectionSet) continue;
          const field = parent.getFields()[selection.name.value];
          if (!field) continue;
          const child = getNamedType(field.type);
          const own = isContactRelation(parent, selection.name.value) ? 1 : 0;
          deepest = Math.max(deepest, own + hopsIn(selection.selectionSet, isObjectType(child) ? child : undefined));
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
          deepest = Math.max(deepest, hopsIn(selection.selectionSet, isObjectType(type) ? type : undefined));
        } else {
          deepest = Math.max(deepest, hopsInFragment(context.getFragment(selection.name.value)));
        }
      }
      return deepest;
    };

    const hopsInFragment = fragmentMeasure(schema, (selectionSet, type) => hopsIn(selectionSet, type));

    return {
      OperationDefinition(operation) {
        const root = schema.getRootType(operation.operation) ?? undefined;
        const hops = hopsIn(operation.selectionSet, root);
        if (hops > max) {
          context.reportError(
            limitError(`Contact relations limit of ${max} exceeded on one path, found ${hops}. Follow fewer previousContact, initialContact or relatedContact levels, or query the deeper contacts by id.`, "MAX_CONTACT_HOPS"),
          );
        }
      },
    };
  };
}

/** The largest page of `searchContacts` (`first`), and its default. */
const SEARCH_PAGE = { max: 100, default: 25 } as const;

/** What `resultContacts` counts against: `MAX_RESULT_CONTACTS` and the lists' largest sizes. */
export interface ResultContactsLimits {
  max: number;
  /** `MAX_CONTACT_IDS`. */
  contactIds: number;
  /** The longest transfer chain: `MAX_CONTACT_HOPS` + 1. */
  chain: number;
}

/**
 * The most contacts the result of `operation` could hold: each field returning a `Contact` adds as
 * many as it can return, times the lists above it. The lists of contacts and their largest sizes:
 * `contacts` its `contactIds` (a literal list's length, else MAX_CONTACT_IDS, which its resolver
 * enforces), `searchContacts` its `first` (a literal from 1 to 100, else 100; its `nodes` and
 * `edges` are that many), `Contact.transferChain` MAX_CONTACT_HOPS + 1, federation's `_entities`
 * its `representations` (a literal list's length, else the variable's when `variables` are given,
 * else MAX_CONTACT_IDS). A single relation (`previousContact`) multiplies by one. Stops counting
 * past `limits.max`. Each fragment is counted once (the count is linear in the multiplier), so
 * fragment bombs cost linear time; a fragment cycle counts as nothing (graphql-js refuses it).
 */
export function resultContacts(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragment: (name: string) => FragmentDefinitionNode | null | undefined,
  limits: ResultContactsLimits,
  variables?: Readonly<Record<string, unknown>>,
): number {
  const roots = new Set([schema.getQueryType(), schema.getSubscriptionType()]);

  // A list argument's length: a literal's, or a given variable's.
  const lengthOf = (field: FieldNode, name: string): number | undefined => {
    const value = field.arguments?.find((a) => a.name.value === name)?.value;
    if (value?.kind === Kind.LIST) return value.values.length;
    if (value?.kind === Kind.VARIABLE && variables) {
      const given = variables[value.name.value];
      return Array.isArray(given) ? given.length : undefined;
    }
    return undefined;
  };

  // The most contacts `field` of `parent` returns per instance of `parent`, when it returns contacts
  // (or, for `searchContacts`, a connection of that many), else 1.
  const listBound = (parent: GraphQLObjectType, field: FieldNode): number => {
    const name = field.name.value;
    if (parent.name === "Contact") return name === "transferChain" ? limits.chain : 1;
    if (!roots.has(parent)) return 1;
    if (name === "contacts") return Math.min(lengthOf(field, "contactIds") ?? limits.contactIds, limits.contactIds);
    if (name === "_entities") return lengthOf(field, "representations") ?? limits.contactIds;
    if (name === "searchContacts") {
      const first = field.arguments?.find((a) => a.name.value === "first")?.value;
      if (first === undefined) return SEARCH_PAGE.default;
      // A literal the resolver refuses (0, negative, over 100) counts as the largest page: a refused
      // field must not lower the count of the fields beside it.
      const value = first.kind === Kind.INT ? Number(first.value) : NaN;
      return value >= 1 && value <= SEARCH_PAGE.max ? value : SEARCH_PAGE.max;
    }
    return 1;
  };

  const contactsIn = (selectionSet: SelectionSetNode, parent: GraphQLObjectType | undefined): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (!parent) continue;
        const field = parent.getFields()[selection.name.value];
        if (!field) continue;
        const child = getNamedType(field.type);
        const times = listBound(parent, selection);
        // An `_Entity` is a union: its contacts are counted in the `... on Contact` fragments.
        if (child.name === "Contact") total += times;
        if (selection.selectionSet) total += times * contactsIn(selection.selectionSet, isObjectType(child) ? child : undefined);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        // Under a union (`_Entity`: no object type above), the contact is counted where it is named.
        const named = !parent && type?.name === "Contact" ? 1 : 0;
        total += named + contactsIn(selection.selectionSet, isObjectType(type) ? type : undefined);
      } else {
        const definition = fragment(selection.name.value);
        // As an inline fragment: under a union, the contact is counted where a fragment names it.
        const named = !parent && definition?.typeCondition.name.value === "Contact" ? 1 : 0;
        total += named + contactsInFragment(definition);
      }
      if (total > limits.max) return total;
    }
    return total;
  };

  const contactsInFragment = fragmentMeasure(schema, (selectionSet, type) => contactsIn(selectionSet, type));

  return contactsIn(operation.selectionSet, schema.getRootType(operation.operation) ?? undefined);
}

/** The refusal of an operation whose result could hold more than `max` contacts. */
function tooManyContacts(max: number): GraphQLError {
  return limitError(
    `The result could hold more than ${max} contacts (lists of contacts multiply along a path: transferChain inside transferChain, or in every contact of a list). Select fewer nested lists of contacts, or fewer ids.`,
    "MAX_RESULT_CONTACTS",
  );
}

/**
 * Refuses an operation whose result could hold more than `limits.max` contacts, counted before it
 * runs (`resultContacts`, without variables: each list at its largest).
 *
 * Why: `MAX_CONTACT_HOPS` bounds the relations on a path, and `MAX_UPSTREAM_READS` the reads, but
 * neither the result: `transferChain` nested in `transferChain` twelve levels deep, in a query of
 * 371 bytes, made a 149 MB answer from twelve cached contacts, with no upstream call, and blocked
 * the process for 27 s.
 */
export function maxResultContactsRule(limits: ResultContactsLimits): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation) {
      if (resultContacts(context.getSchema(), operation, (name) => context.getFragment(name), limits) > limits.max) context.reportError(tooManyContacts(limits.max));
    },
  });
}

/**
 * Counts again, with its variables, an operation that selects federation's `_entities`: a router
 * sends its representations as a variable, of any length (more than MAX_CONTACT_IDS is legitimate),
 * which validation, before variables, can only guess. Refused as validation refuses (400,
 * `QUERY_LIMIT_EXCEEDED`), before anything runs. Operations without `_entities` pay one look at
 * their root fields (through fragments at the root too: `... on Query { _entities }` is counted
 * as `_entities` is).
 */
function entitiesResultContacts(limits: ResultContactsLimits): ApolloServerPlugin<any> {
  const listener: GraphQLRequestListener<any> = {
    async didResolveOperation({ operation, document, schema, request }) {
      if (!operation) return;
      const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
      if (!selectsRootField(operation.selectionSet, "_entities", (name) => fragments.get(name))) return;
      if (resultContacts(schema, operation, (name) => fragments.get(name), limits, request.variables ?? {}) > limits.max) {
        const error = tooManyContacts(limits.max);
        error.extensions.http = { status: 400 };
        throw error;
      }
    },
  };
  return {
    async requestDidStart() {
      return listener;
    },
  };
}

/**
 * Whether `selectionSet` selects the field `name` at its own level: directly, or through inline
 * fragments and fragment spreads (`... on Query { _entities }`, `...Q`), each fragment looked at once.
 */
function selectsRootField(selectionSet: SelectionSetNode, name: string, fragment: (name: string) => FragmentDefinitionNode | undefined, seen = new Set<string>()): boolean {
  return selectionSet.selections.some((selection) => {
    if (selection.kind === Kind.FIELD) return selection.name.value === name;
    if (selection.kind === Kind.INLINE_FRAGMENT) return selectsRootField(selection.selectionSet, name, fragment, seen);
    if (seen.has(selection.name.value)) return false;
    seen.add(selection.name.value);
    const definition = fragment(selection.name.value);
    return definition !== undefined && selectsRootField(definition.selectionSet, name, fragment, seen);
  });
}

/**
 * A fragment's measure by `measure` (over its selection and its type condition), each fragment
 * measured once however often it is spread, so fragment bombs cost linear time; a fragment met
 * again while it is being measured (a cycle) measures 0, and graphql-js's `NoFragmentCycles` rule
 * refuses the operation.
 */
function fragmentMeasure(
  schema: GraphQLSchema,
  measure: (selectionSet: SelectionSetNode, type: GraphQLObjectType | undefined) => number,
): (fragment: FragmentDefinitionNode | null | undefined) => number {
  const measured = new Map<string, number>();
  return (fragment) => {
    if (!fragment) return 0;
    const name = fragment.name.value;
    const known = measured.get(name);
    if (known !== undefined) return known;
    measured.set(name, 0);
    const type = schema.getType(fragment.typeCondition.name.value);
    const value = measure(fragment.selectionSet, isObjectType(type) ? type : undefined);
    measured.set(name, value);
    return value;
  };
}
