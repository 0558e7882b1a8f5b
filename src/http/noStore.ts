import type { ApolloServerPlugin, GraphQLRequestListener } from "@apollo/server";

// Private: one listener for every request (it keeps nothing of its own), not one made per request.
const setNoStore: GraphQLRequestListener<object> = {
  async willSendResponse({ response }) {
    response.http.headers.set("cache-control", "no-store");
  },
};

/** Every GraphQL response says `Cache-Control: no-store`: contact data must not stay in browsers or proxies. */
export const noStore: ApolloServerPlugin = {
  async requestDidStart() {
    return setNoStore;
  },
};
