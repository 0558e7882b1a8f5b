/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
/**
 * Conditions on contact events, combined with AND. Each list matches an event whose value is one of
 * its entries; an absent list matches everything.
 */
export type ContactEventFilter = {
  /** Only contacts with these agents (user ids; the event's agent, else the contact's). */
  agentIds?: Array<string> | null | undefined;
  /** Only contacts of these channels (VOICE, CHAT, TASK, EMAIL, …). */
  channels?: Array<string> | null | undefined;
  /** Only these contacts. */
  contactIds?: Array<string> | null | undefined;
  /** Only these event types (INITIATED, CONNECTED_TO_SYSTEM, QUEUED, CONNECTED_TO_AGENT, DISCONNECTED, CONTACT_DATA_UPDATED, COMPLETED, …). */
  eventTypes?: Array<string> | null | undefined;
  /** Only contacts in these queues (the event's queue, else the contact's). */
  queueIds?: Array<string> | null | undefined;
};

/** A structure of time range that you want to search results. */
export type ContactSearchTimeRangeInput = {
  /** The end time of the time range (not before `startTime`). */
  endTime: string;
  /** The start time of the time range. */
  startTime: string;
  /**
   * The type of timestamp to search. Known values: CONNECTED_TO_AGENT_TIMESTAMP, DISCONNECT_TIMESTAMP,
   * ENQUEUE_TIMESTAMP, INITIATION_TIMESTAMP, SCHEDULED_TIMESTAMP.
   */
  type?: string;
};

export type ContactWithTransferChainQueryVariables = Exact<{
  instanceId: string;
  contactId: string;
}>;


export type ContactWithTransferChainQuery = { contact: { id: string, channel: string | null, initiationMethod: string | null, initiationTimestamp: string | null, disconnectTimestamp: string | null, queueInfo: { id: string | null, enqueueTimestamp: string | null, queue: { name: string | null } | null } | null, agentInfo: { id: string | null, connectedToAgentTimestamp: string | null } | null, transferChain: Array<{ id: string, channel: string | null, initiationMethod: string | null, initiationTimestamp: string | null, disconnectTimestamp: string | null }> } | null };

export type RecentContactsQueryVariables = Exact<{
  instanceId: string;
  timeRange: ContactSearchTimeRangeInput;
  channels?: Array<string> | string | null | undefined;
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type RecentContactsQuery = { searchContacts: { totalCount: number | null, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ id: string, channel: string | null, initiationMethod: string | null, initiationTimestamp: string | null, queueInfo: { id: string | null } | null, agentInfo: { id: string | null } | null }> } | null };

export type LiveContactEventsSubscriptionVariables = Exact<{
  instanceId: string;
  filter?: ContactEventFilter | null | undefined;
}>;


export type LiveContactEventsSubscription = { contactEvents: { eventId: string, eventType: string, timestamp: string, contactId: string, contact: { id: string, channel: string | null, initiationMethod: string | null, disconnectTimestamp: string | null, queueInfo: { id: string | null } | null, agentInfo: { id: string | null } | null } | null } };


export const ContactWithTransferChainDocument = {"__meta__":{"hash":"sha256:b3ac6ed696c309ff6cb64302900565c8a41c44f9c8f48a830c55f9cc874ef4f9"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ContactWithTransferChain"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"instanceId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"contactId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"contact"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"instanceId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"instanceId"}}},{"kind":"Argument","name":{"kind":"Name","value":"contactId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"contactId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"channel"}},{"kind":"Field","name":{"kind":"Name","value":"initiationMethod"}},{"kind":"Field","name":{"kind":"Name","value":"initiationTimestamp"}},{"kind":"Field","name":{"kind":"Name","value":"disconnectTimestamp"}},{"kind":"Field","name":{"kind":"Name","value":"queueInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"enqueueTimestamp"}},{"kind":"Field","name":{"kind":"Name","value":"queue"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"agentInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"connectedToAgentTimestamp"}}]}},{"kind":"Field","name":{"kind":"Name","value":"transferChain"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"channel"}},{"kind":"Field","name":{"kind":"Name","value":"initiationMethod"}},{"kind":"Field","name":{"kind":"Name","value":"initiationTimestamp"}},{"kind":"Field","name":{"kind":"Name","value":"disconnectTimestamp"}}]}}]}}]}}]} as unknown as DocumentNode<ContactWithTransferChainQuery, ContactWithTransferChainQueryVariables>;
export const RecentContactsDocument = {"__meta__":{"hash":"sha256:9879ce0a803d08a037992207808a340f180be73d4fac797f6233b7a35936acb4"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"RecentContacts"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"instanceId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"timeRange"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ContactSearchTimeRangeInput"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"channels"}},"type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"searchContacts"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"instanceId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"instanceId"}}},{"kind":"Argument","name":{"kind":"Name","value":"timeRange"},"value":{"kind":"Variable","name":{"kind":"Name","value":"timeRange"}}},{"kind":"Argument","name":{"kind":"Name","value":"criteria"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"channels"},"value":{"kind":"Variable","name":{"kind":"Name","value":"channels"}}}]}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"channel"}},{"kind":"Field","name":{"kind":"Name","value":"initiationMethod"}},{"kind":"Field","name":{"kind":"Name","value":"initiationTimestamp"}},{"kind":"Field","name":{"kind":"Name","value":"queueInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}}]}},{"kind":"Field","name":{"kind":"Name","value":"agentInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}}]}}]}}]}}]}}]} as unknown as DocumentNode<RecentContactsQuery, RecentContactsQueryVariables>;
export const LiveContactEventsDocument = {"__meta__":{"hash":"sha256:9e6d7d02cde2a4506701af1c9c9604c11a18b81920e4dcb7a6638d0605d2ece4"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"LiveContactEvents"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"instanceId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"filter"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ContactEventFilter"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"contactEvents"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"instanceId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"instanceId"}}},{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"eventId"}},{"kind":"Field","name":{"kind":"Name","value":"eventType"}},{"kind":"Field","name":{"kind":"Name","value":"timestamp"}},{"kind":"Field","name":{"kind":"Name","value":"contactId"}},{"kind":"Field","name":{"kind":"Name","value":"contact"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"channel"}},{"kind":"Field","name":{"kind":"Name","value":"initiationMethod"}},{"kind":"Field","name":{"kind":"Name","value":"disconnectTimestamp"}},{"kind":"Field","name":{"kind":"Name","value":"queueInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}}]}},{"kind":"Field","name":{"kind":"Name","value":"agentInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}}]}}]}}]}}]}}]} as unknown as DocumentNode<LiveContactEventsSubscription, LiveContactEventsSubscriptionVariables>;