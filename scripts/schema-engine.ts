import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { DiffTarget } from '@prisma/schema-engine-wasm';

/**
 * The SQL that takes a database from datamodel `from` (null: an empty database) to datamodel `to`.
 * Uses Prisma's schema engine as WebAssembly, which runs where the native engine cannot be downloaded.
 * The engine insists on reaching a database at start-up, though a datamodel diff never reads it.
 */
export async function datamodelDiff(databaseUrl: string, from: string | null, to: string): Promise<string> {
  // On Node 20 the package's own `.wasm` import fails, so it is instantiated by hand.
  const bgPath = createRequire(import.meta.url).resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  const bg = await import('@prisma/schema-engine-wasm/schema_engine_bg');
  const { instance } = await WebAssembly.instantiate(await fs.readFile(bgPath.replace(/\.js$/, '.wasm')), {
    './schema_engine_bg.js': bg,
  });
  (bg as unknown as { __wbg_set_wasm(exports: unknown): void }).__wbg_set_wasm(instance.exports);
  const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaPg({ connectionString: databaseUrl }, { schema: 'public' }));
  const engine = await bg.SchemaEngine.new({ datamodels: [['schema.prisma', to]] }, () => {}, adapter);
  const side = (datamodel: string | null): DiffTarget =>
    datamodel === null ? { tag: 'empty' } : { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: datamodel }] };
  const result = await engine.diff({
    from: side(from),
    to: side(to),
    script: true,
    exitCode: false,
    filters: { externalTables: [], externalEnums: [] },
  });
  return result.stdout ?? '';
}
