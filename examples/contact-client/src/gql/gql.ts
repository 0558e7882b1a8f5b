/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query ContactWithTransferChain($instanceId: ID!, $contactId: ID!) {\n    contact(instanceId: $instanceId, contactId: $contactId) {\n      id\n      channel\n      initiationMethod\n      initiationTimestamp\n      disconnectTimestamp\n      queueInfo {\n        id\n        enqueueTimestamp\n        queue {\n          name\n        }\n      }\n      agentInfo {\n        id\n        connectedToAgentTimestamp\n      }\n      transferChain {\n        id\n        channel\n        initiationMethod\n        initiationTimestamp\n        disconnectTimestamp\n      }\n    }\n  }\n": typeof types.ContactWithTransferChainDocument,
    "\n  query RecentContacts($instanceId: ID!, $timeRange: ContactSearchTimeRangeInput!, $channels: [String!], $first: Int, $after: String) {\n    searchContacts(instanceId: $instanceId, timeRange: $timeRange, criteria: { channels: $channels }, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      nodes {\n        id\n        channel\n        initiationMethod\n        initiationTimestamp\n        queueInfo {\n          id\n        }\n        agentInfo {\n          id\n        }\n      }\n    }\n  }\n": typeof types.RecentContactsDocument,
    "\n  subscription LiveContactEvents($instanceId: ID!, $filter: ContactEventFilter) {\n    contactEvents(instanceId: $instanceId, filter: $filter) {\n      eventId\n      eventType\n      timestamp\n      contactId\n      contact {\n        id\n        channel\n        initiationMethod\n        disconnectTimestamp\n        queueInfo {\n          id\n        }\n        agentInfo {\n          id\n        }\n      }\n    }\n  }\n": typeof types.LiveContactEventsDocument,
};
const documents: Documents = {
    "\n  query ContactWithTransferChain($instanceId: ID!, $contactId: ID!) {\n    contact(instanceId: $instanceId, contactId: $contactId) {\n      id\n      channel\n      initiationMethod\n      initiationTimestamp\n      disconnectTimestamp\n      queueInfo {\n        id\n        enqueueTimestamp\n        queue {\n          name\n        }\n      }\n      agentInfo {\n        id\n        connectedToAgentTimestamp\n      }\n      transferChain {\n        id\n        channel\n        initiationMethod\n        initiationTimestamp\n        disconnectTimestamp\n      }\n    }\n  }\n": types.ContactWithTransferChainDocument,
    "\n  query RecentContacts($instanceId: ID!, $timeRange: ContactSearchTimeRangeInput!, $channels: [String!], $first: Int, $after: String) {\n    searchContacts(instanceId: $instanceId, timeRange: $timeRange, criteria: { channels: $channels }, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      nodes {\n        id\n        channel\n        initiationMethod\n        initiationTimestamp\n        queueInfo {\n          id\n        }\n        agentInfo {\n          id\n        }\n      }\n    }\n  }\n": types.RecentContactsDocument,
    "\n  subscription LiveContactEvents($instanceId: ID!, $filter: ContactEventFilter) {\n    contactEvents(instanceId: $instanceId, filter: $filter) {\n      eventId\n      eventType\n      timestamp\n      contactId\n      contact {\n        id\n        channel\n        initiationMethod\n        disconnectTimestamp\n        queueInfo {\n          id\n        }\n        agentInfo {\n          id\n        }\n      }\n    }\n  }\n": types.LiveContactEventsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ContactWithTransferChain($instanceId: ID!, $contactId: ID!) {\n    contact(instanceId: $instanceId, contactId: $contactId) {\n      id\n      channel\n      initiationMethod\n      initiationTimestamp\n      disconnectTimestamp\n      queueInfo {\n        id\n        enqueueTimestamp\n        queue {\n          name\n        }\n      }\n      agentInfo {\n        id\n        connectedToAgentTimestamp\n      }\n      transferChain {\n        id\n        channel\n        initiationMethod\n        initiationTimestamp\n        disconnectTimestamp\n      }\n    }\n  }\n"): (typeof documents)["\n  query ContactWithTransferChain($instanceId: ID!, $contactId: ID!) {\n    contact(instanceId: $instanceId, contactId: $contactId) {\n      id\n      channel\n      initiationMethod\n      initiationTimestamp\n      disconnectTimestamp\n      queueInfo {\n        id\n        enqueueTimestamp\n        queue {\n          name\n        }\n      }\n      agentInfo {\n        id\n        connectedToAgentTimestamp\n      }\n      transferChain {\n        id\n        channel\n        initiationMethod\n        initiationTimestamp\n        disconnectTimestamp\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RecentContacts($instanceId: ID!, $timeRange: ContactSearchTimeRangeInput!, $channels: [String!], $first: Int, $after: String) {\n    searchContacts(instanceId: $instanceId, timeRange: $timeRange, criteria: { channels: $channels }, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      nodes {\n        id\n        channel\n        initiationMethod\n        initiationTimestamp\n        queueInfo {\n          id\n        }\n        agentInfo {\n          id\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query RecentContacts($instanceId: ID!, $timeRange: ContactSearchTimeRangeInput!, $channels: [String!], $first: Int, $after: String) {\n    searchContacts(instanceId: $instanceId, timeRange: $timeRange, criteria: { channels: $channels }, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      nodes {\n        id\n        channel\n        initiationMethod\n        initiationTimestamp\n        queueInfo {\n          id\n        }\n        agentInfo {\n          id\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription LiveContactEvents($instanceId: ID!, $filter: ContactEventFilter) {\n    contactEvents(instanceId: $instanceId, filter: $filter) {\n      eventId\n      eventType\n      timestamp\n      contactId\n      contact {\n        id\n        channel\n        initiationMethod\n        disconnectTimestamp\n        queueInfo {\n          id\n        }\n        agentInfo {\n          id\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription LiveContactEvents($instanceId: ID!, $filter: ContactEventFilter) {\n    contactEvents(instanceId: $instanceId, filter: $filter) {\n      eventId\n      eventType\n      timestamp\n      contactId\n      contact {\n        id\n        channel\n        initiationMethod\n        disconnectTimestamp\n        queueInfo {\n          id\n        }\n        agentInfo {\n          id\n        }\n      }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;