// The configuration module: one reader of the environment, readable one-line errors that
// name the variable (and never echo a URL, which may hold a password).
import { describe, expect, it } from "vitest";
import { ConfigError, frameworkEnv, parseConfig } from "@/lib/config";

function errorOf(env: Record<string, string>): string {
  try {
    parseConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("expected a configuration error");
}

describe("configuration", () => {
  it("defaults: the embedded database, port 3000 on loopback, telemetry off", () => {
    const c = parseConfig({});
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.PORT).toBe(3000);
    expect(c.HOST).toBe("127.0.0.1");
    expect(c.KEYWARD_DATA_DIR).toBe(".data");
    expect(c.KEYWARD_LEAN_LANE).toBe(true);
    expect(c.KEYWARD_TRUST_PROXY).toBe(false);
    expect(frameworkEnv(c).NEXT_TELEMETRY_DISABLED).toBe("1");
    expect(frameworkEnv(c).NEXT_MANUAL_SIG_HANDLE).toBe("true");
  });

  it("reads values, and an empty one counts as unset", () => {
    const c = parseConfig({
      PORT: " 8080 ",
      DATABASE_URL: "",
      REDIS_URL: "rediss://r.example:6380",
      KEYWARD_TRUST_PROXY: "1",
      KEYWARD_LEAN_LANE: "0",
      RATE_LIMIT_STORE: "Postgres",
    });
    expect(c.PORT).toBe(8080);
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.REDIS_URL).toBe("rediss://r.example:6380");
    expect(c.KEYWARD_TRUST_PROXY).toBe(true);
    expect(c.KEYWARD_LEAN_LANE).toBe(false);
    expect(c.RATE_LIMIT_STORE).toBe("postgres");
    expect(parseConfig({ DATABASE_URL: "postgres://u:p@db/keyward" }).DATABASE_URL).toBe(
      "postgres://u:p@db/keyward",
    );
  });

  it("a bad PORT is one line naming PORT and what was given", () => {
    for (const port of ["abc", "0", "65536", "80.5", "-1"]) {
      const m = errorOf({ PORT: port });
      expect(m.split("\n")).toHaveLength(1);
      expect(m).toBe(`configuration: PORT must be a port number from 1 to 65535 (got "${port}")`);
    }
  });

  it("a DATABASE_URL that is not postgresql:// names the variable and never echoes the URL", () => {
    for (const url of ["mysql://root:hunter2@db/keyward", "hunter2", "file:./dev.db"]) {
      const m = errorOf({ DATABASE_URL: url });
      expect(m).toBe("configuration: DATABASE_URL must be a postgresql:// URL");
      expect(m).not.toContain("hunter2");
    }
  });

  it("every bad variable is named, on one line", () => {
    const m = errorOf({
      PORT: "http",
      REDIS_URL: "http://r:6379",
      KEYWARD_TRUST_PROXY: "yes",
      LOG_LEVEL: "loud",
    });
    expect(m.split("\n")).toHaveLength(1);
    expect(m).toContain("PORT must be");
    expect(m).toContain("REDIS_URL must be a redis:// or rediss:// URL");
    expect(m).toContain('KEYWARD_TRUST_PROXY must be 1 or 0 (got "yes")');
    expect(m).toContain("LOG_LEVEL must be");
    expect(errorOf({ RATE_LIMIT_STORE: "redis" })).toBe(
      "configuration: RATE_LIMIT_STORE is redis, which needs REDIS_URL",
    );
    expect(errorOf({ RATE_LIMIT_STORE: "etcd" })).toContain(
      'RATE_LIMIT_STORE must be memory, postgres or redis (got "etcd")',
    );
  });

  it("NEXT_TELEMETRY_DISABLED=0 turns Next's telemetry back on", () => {
    expect(
      frameworkEnv(parseConfig({ NEXT_TELEMETRY_DISABLED: "0" })).NEXT_TELEMETRY_DISABLED,
    ).toBeUndefined();
    expect(
      frameworkEnv(parseConfig({ NEXT_TELEMETRY_DISABLED: "1" })).NEXT_TELEMETRY_DISABLED,
    ).toBe("1");
  });
});
