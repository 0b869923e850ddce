import type { CodegenConfig } from '@graphql-codegen/cli';

const config = {
  emitLegacyCommonJSImports: false,
  useTypeImports: true,
  enumsAsTypes: true,
  scalars: { Date: 'string', DateTime: 'string', BigInt: 'string', ID: 'string' },
};

// Typed documents, each with its trusted-document manifest (persisted-documents.json, README "Trusted
// documents"): write operations with `graphql(...)`, run `npm run codegen`, get typed results and
// variables, and each document's id (`document.__meta__.hash`, "sha256:<hex>").
const codegen: CodegenConfig = {
  schema: 'schema.graphql',
  ignoreNoDocuments: true,
  generates: {
    // The tests' and benchmarks' documents: an example for front-end teams.
    'test/generated/': {
      documents: ['test/**/*.ts', 'bench/**/*.ts', '!test/generated/**'],
      preset: 'client',
      config,
      presetConfig: { fragmentMasking: false, persistedDocuments: true },
    },
    // The stream overlays' document: the server always trusts this manifest, and the page sends only
    // the id, so the overlays keep working where only trusted documents run.
    'src/generated/overlay/': {
      documents: ['src/overlay/**/*.graphql'],
      preset: 'client',
      config,
      presetConfig: { fragmentMasking: false, persistedDocuments: { mode: 'replaceDocumentWithHash' } },
    },
  },
};

export default codegen;
