// Keyward's key material: format, generation, hashing and verification. node:crypto only.
export * from "./checksum";
export * from "./format";
export * from "./generate";
export * from "./hash";
export * from "./status";
