// The repositories: the only code that queries. Each function takes the client or a transaction.
export * from "./api-key-repository";
export * from "./audit-repository";
export * from "./membership-repository";
export * from "./organization-repository";
export * from "./shared";
export * from "./usage-repository";
export * from "./user-repository";
