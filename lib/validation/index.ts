export * from "./accounts";
export * from "./common";
export * from "./issues";
export * from "./keys";
export * from "./rules";
export * from "./text";
export * from "./usage";
export { z } from "./zod";
