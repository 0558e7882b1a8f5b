import type { CodegenConfig } from "@graphql-codegen/cli";

/**
 * GraphQL Code Generator's client preset over the gateway's schema: typed documents for the
 * operations in src/operations.ts, and (persistedDocuments) the manifest of those documents by
 * their sha256 hash, src/gql/persisted-documents.json, which the gateway loads with
 * TRUSTED_DOCUMENTS_FILE. Each generated document carries its hash (`__meta__.hash`), which the
 * client sends instead of the document.
 */
const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: ["src/**/*.ts", "!src/gql/**/*"],
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: {
        // `true` is { mode: "embedHashInDocument", hashAlgorithm: "sha256" }: ids are "sha256:<hex>".
        persistedDocuments: true,
        fragmentMasking: false,
      },
      config: {
        useTypeImports: true,
        emitLegacyCommonJSImports: false,
        enumsAsTypes: true,
        scalars: { ID: "string", DateTime: "string", Long: "number" },
      },
    },
  },
};
export default config;
