import type { ContactModel } from "../domain/contactRef.js";

/**
 * What `searchContacts` resolves to, as codegen's mappers name it. Apart from the resolver module
 * so the generated types can refer to it without an import cycle.
 */

/** One contact of a search page. */
export interface ContactEdgeModel {
  readonly cursor: string;
  readonly node: ContactModel;
}

/** One `searchContacts` page as resolvers see it (gateway-shaped, camelCase). */
export interface ContactConnectionModel {
  readonly edges: ContactEdgeModel[];
  readonly nodes: ContactModel[];
  readonly pageInfo: PageInfoModel;
  readonly totalCount: number | null;
}

/** Relay's page info of one `searchContacts` page. */
export interface PageInfoModel {
  readonly hasNextPage: boolean;
  readonly hasPreviousPage: boolean;
  readonly startCursor?: string | null;
  readonly endCursor?: string | null;
}
