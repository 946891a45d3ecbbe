// Where the data lives: PostgreSQL when DATABASE_URL is set, else an embedded
// PGlite in the data folder (KEYWARD_DATA_DIR, default ./.data).
import path from "node:path";

export type DatabaseTarget =
  | { kind: "postgres"; url: string }
  | { kind: "pglite"; dataDir: string };

export function dataDir(): string {
  return path.resolve(/*turbopackIgnore: true*/ process.env.KEYWARD_DATA_DIR || ".data");
}

export function databaseTarget(): DatabaseTarget {
  const url = process.env.DATABASE_URL?.trim();
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      throw new Error("DATABASE_URL must be a postgresql:// URL");
    }
    return { kind: "postgres", url };
  }
  return { kind: "pglite", dataDir: dataDir() };
}
