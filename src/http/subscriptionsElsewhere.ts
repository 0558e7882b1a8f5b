import type { ApolloServerPlugin, GraphQLRequestListener } from "@apollo/server";
import { GraphQLError } from "graphql";
import { ErrorCode } from "../domain/errors.js";

/** Where subscriptions are served, for the refusal's message and the docs. */
const WHERE = "subscriptions are served over WebSocket (graphql-transport-ws) at /graphql and as an event stream at /graphql/stream";

// Private: one listener for every request (it keeps nothing of its own).
const refuseSubscriptions: GraphQLRequestListener<object> = {
  async didResolveOperation({ operation }) {
    if (operation?.operation !== "subscription") return;
    throw new GraphQLError(`A subscription cannot run over a plain HTTP request: ${WHERE}.`, {
      extensions: { code: ErrorCode.BAD_REQUEST, http: { status: 400 } },
    });
  },
};

/**
 * Refuses a subscription operation sent as an ordinary `POST`/`GET /graphql` request with 400
 * `BAD_REQUEST`, before it runs, pointing at the two transports that serve subscriptions. Without
 * it Apollo executed the subscription as a query: its non-null root field resolved to nothing, and
 * the caller got 200 with `INTERNAL_SERVER_ERROR` and the log an error line, for a request that was
 * only sent to the wrong place. (The WebSocket and SSE transports do not go through Apollo's
 * request pipeline, so this never sees them.)
 */
export const subscriptionsElsewhere: ApolloServerPlugin = {
  async requestDidStart() {
    return refuseSubscriptions;
  },
};
