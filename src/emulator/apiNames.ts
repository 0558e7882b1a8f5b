/** The Amazon Connect APIs the emulator serves (REST-JSON), in the order its accounting lists them. */
export const API_NAMES = ["DescribeContact", "DescribeQueue", "DescribeUser", "GetContactAttributes", "ListContactReferences", "SearchContacts"] as const;
export type ApiName = (typeof API_NAMES)[number];

/** A record with one entry per Connect API. */
export function perApi<T>(make: (api: ApiName) => T): Record<ApiName, T> {
  return Object.fromEntries(API_NAMES.map((api) => [api, make(api)])) as Record<ApiName, T>;
}

/** The Amazon SQS actions the emulator serves (AWS JSON 1.0), for the queue of contact events. */
export const SQS_ACTIONS = ["ReceiveMessage", "DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility", "GetQueueAttributes", "GetQueueUrl", "SendMessage"] as const;
export type SqsAction = (typeof SQS_ACTIONS)[number];
