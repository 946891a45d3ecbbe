// Where the data lives: PostgreSQL when DATABASE_URL is set, else an embedded
// PGlite in the data folder (KEYWARD_DATA_DIR, default ./.data).
import path from "node:path";
import { config } from "@/lib/config";

export type DatabaseTarget =
  | { kind: "postgres"; url: string }
  | { kind: "pglite"; dataDir: string };

export function dataDir(): string {
  return path.resolve(/*turbopackIgnore: true*/ config().KEYWARD_DATA_DIR);
}

export function databaseTarget(): DatabaseTarget {
  const url = config().DATABASE_URL;
  if (url) return { kind: "postgres", url };
  return { kind: "pglite", dataDir: dataDir() };
}
