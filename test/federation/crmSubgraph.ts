import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse, type DocumentNode } from "graphql";

/** A customer of the test CRM: a name and the ARNs of the Connect contacts it had. */
export interface CrmCustomer {
  readonly id: string;
  readonly name: string;
  readonly recentContactArns: readonly string[];
}

export interface CrmSubgraph {
  /** Its GraphQL endpoint on a loopback port. */
  readonly url: string;
  /** Its subgraph SDL, as composition takes it. */
  readonly typeDefs: DocumentNode;
  /** Replaces the customers it serves from the next request on. */
  setCustomers(customers: readonly CrmCustomer[]): void;
  close(): Promise<void>;
}

/**
 * The CRM's SDL: its own `CrmCustomer` (not `Customer`, which the gateway's schema already has as
 * a value type, and composition would merge the two) with references to the gateway's contacts.
 * `recentContacts` has nullable items, so a contact the caller may not read, or that Connect no
 * longer knows, is `null` at its index instead of nulling the whole customer.
 */
export const CRM_TYPE_DEFS = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.0", import: ["@key"])

  type Query {
    customers: [CrmCustomer!]!
  }

  type CrmCustomer @key(fields: "id") {
    id: ID!
    name: String!
    recentContactArns: [String!]!
    "The customer's recent Amazon Connect contacts, resolved by the contact gateway."
    recentContacts: [Contact]!
  }

  "A contact of the contact gateway; this subgraph only refers to it by its key."
  type Contact @key(fields: "arn", resolvable: false) {
    arn: String
  }
`);

/**
 * A second, small subgraph used only by the federation specs: a CRM that knows customers and the
 * contact ARNs of their recent contacts (references `{ arn }` the router resolves through the
 * gateway), built with `buildSubgraphSchema` and served by its own Apollo Server on a loopback port.
 */
export async function startCrmSubgraph(initial: readonly CrmCustomer[] = []): Promise<CrmSubgraph> {
  let customers = initial;
  const schema = buildSubgraphSchema({
    typeDefs: CRM_TYPE_DEFS,
    resolvers: {
      Query: { customers: () => customers },
      CrmCustomer: {
        __resolveReference: (reference: { id: string }) => customers.find((c) => c.id === reference.id) ?? null,
        recentContacts: (customer: CrmCustomer) => customer.recentContactArns.map((arn) => ({ __typename: "Contact", arn })),
      },
    },
  });
  // Quiet about its start ("Enabling inline tracing…"); warnings and errors still reach the console.
  const server = new ApolloServer({ schema, logger: { debug() {}, info() {}, warn: console.warn, error: console.error } });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: "127.0.0.1" } });
  return {
    url,
    typeDefs: CRM_TYPE_DEFS,
    setCustomers: (next) => {
      customers = next;
    },
    close: () => server.stop(),
  };
}
