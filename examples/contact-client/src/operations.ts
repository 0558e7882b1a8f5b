import { graphql } from "./gql/index.js";

/**
 * The operations this client may run. Each is a trusted document: `npm run codegen` lists it in
 * src/gql/persisted-documents.json under its sha256 hash, and the client sends only that hash.
 * A gateway started with TRUSTED_DOCUMENTS_FILE pointing at that manifest runs these and nothing else.
 */

/** A contact, its queue and agent, and its whole transfer history (one DescribeContact per contact of the chain). */
export const ContactWithTransferChain = graphql(`
  query ContactWithTransferChain($instanceId: ID!, $contactId: ID!) {
    contact(instanceId: $instanceId, contactId: $contactId) {
      id
      channel
      initiationMethod
      initiationTimestamp
      disconnectTimestamp
      queueInfo {
        id
        enqueueTimestamp
        queue {
          name
        }
      }
      agentInfo {
        id
        connectedToAgentTimestamp
      }
      transferChain {
        id
        channel
        initiationMethod
        initiationTimestamp
        disconnectTimestamp
      }
    }
  }
`);

/** One page of an instance's contacts in a time range, newest first, served from the search summaries. */
export const RecentContacts = graphql(`
  query RecentContacts($instanceId: ID!, $timeRange: ContactSearchTimeRangeInput!, $channels: [String!], $first: Int, $after: String) {
    searchContacts(instanceId: $instanceId, timeRange: $timeRange, criteria: { channels: $channels }, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        channel
        initiationMethod
        initiationTimestamp
        queueInfo {
          id
        }
        agentInfo {
          id
        }
      }
    }
  }
`);

/** Every contact event of an instance from now on, each with the contact as it was right after it. */
export const LiveContactEvents = graphql(`
  subscription LiveContactEvents($instanceId: ID!, $filter: ContactEventFilter) {
    contactEvents(instanceId: $instanceId, filter: $filter) {
      eventId
      eventType
      timestamp
      contactId
      contact {
        id
        channel
        initiationMethod
        disconnectTimestamp
        queueInfo {
          id
        }
        agentInfo {
          id
        }
      }
    }
  }
`);
