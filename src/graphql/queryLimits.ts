import type { ApolloServerOptions, ApolloServerPlugin, GraphQLRequestListener } from "@apollo/server";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import {
  GraphQLError,
  Kind,
  getNamedType,
  isObjectType,
  type ASTVisitor,
  type FragmentDefinitionNode,
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
 * - `MAX_CONTACT_HOPS`: the gateway's rule (`maxContactHopsRule`).
 * Field suggestions ("Did you mean …") are removed from errors when introspection is off, so a
 * closed schema cannot be probed through them.
 */
export function createQueryLimits(config: LimitsConfig): QueryLimits {
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
    validationRules: [...armor.validationRules, maxContactHopsRule(config.MAX_CONTACT_HOPS)],
    // Armor's typings name the CommonJS build of @apollo/server; the plugins are plain objects.
    plugins: [...(armor.plugins as unknown as ApolloServerPlugin<any>[]), limitErrorCodes(config.MAX_TOKENS)],
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
    const fragmentHops = new Map<string, number>();

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

    const hopsInFragment = (fragment: FragmentDefinitionNode | null | undefined): number => {
      if (!fragment) return 0;
      const name = fragment.name.value;
      const known = fragmentHops.get(name);
      if (known !== undefined) return known;
      fragmentHops.set(name, 0); // a cycle counts as nothing here; NoFragmentCycles rejects it
      const type = schema.getType(fragment.typeCondition.name.value);
      const hops = hopsIn(fragment.selectionSet, isObjectType(type) ? type : undefined);
      fragmentHops.set(name, hops);
      return hops;
    };

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
