export * from "./common";
export * from "./issues";
export * from "./keys";
export * from "./usage";
export { z } from "./zod";
