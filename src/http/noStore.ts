import type { ApolloServerPlugin } from "@apollo/server";

/** Every GraphQL response says `Cache-Control: no-store`: contact data must not stay in browsers or proxies. */
export const noStore: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        response.http.headers.set("cache-control", "no-store");
      },
    };
  },
};
