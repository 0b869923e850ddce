import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { DiffTarget, SchemaEngine } from '@prisma/schema-engine-wasm';

type Bindings = typeof import('@prisma/schema-engine-wasm/schema_engine_bg');

let bindings: Promise<Bindings> | undefined;

// On Node 20 the package's own `.wasm` import fails, so it is instantiated by hand. Once per process:
// the bindings cache a view of the wasm memory, so a second instance would be fed the first one's memory.
function loadBindings(): Promise<Bindings> {
  bindings ??= (async () => {
    const bgPath = createRequire(import.meta.url).resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const bg = await import('@prisma/schema-engine-wasm/schema_engine_bg');
    const { instance } = await WebAssembly.instantiate(await fs.readFile(bgPath.replace(/\.js$/, '.wasm')), {
      './schema_engine_bg.js': bg,
    });
    (bg as unknown as { __wbg_set_wasm(exports: unknown): void }).__wbg_set_wasm(instance.exports);
    return bg;
  })();
  return bindings;
}

/**
 * Prisma's schema engine as WebAssembly, which runs where the native engine cannot be downloaded.
 * It insists on reaching a database at start-up, even for commands that never read it.
 */
async function openSchemaEngine(databaseUrl: string, datamodel: string): Promise<SchemaEngine> {
  const bg = await loadBindings();
  const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaPg({ connectionString: databaseUrl }, { schema: 'public' }));
  return bg.SchemaEngine.new({ datamodels: [['schema.prisma', datamodel]] }, () => {}, adapter);
}

/** The SQL that takes a database from datamodel `from` (null: an empty database) to datamodel `to`. */
export async function datamodelDiff(databaseUrl: string, from: string | null, to: string): Promise<string> {
  const engine = await openSchemaEngine(databaseUrl, to);
  const side = (datamodel: string | null): DiffTarget =>
    datamodel === null ? { tag: 'empty' } : { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: datamodel }] };
  try {
    const result = await engine.diff({
      from: side(from),
      to: side(to),
      script: true,
      exitCode: false,
      filters: { externalTables: [], externalEnums: [] },
    });
    return result.stdout ?? '';
  } finally {
    engine.free();
  }
}

/** Whether a diff script changes nothing (the engine then writes only a comment saying so). */
export function isEmptyDiff(sql: string): boolean {
  return !sql.trim() || /^-- This is an empty migration/.test(sql.trim());
}
