// The one zod instance that knows `.openapi()`: every schema in lib/validation imports z from here,
// so the metadata the OpenAPI document needs is written beside the field it describes.
import { extendZodWithOpenApi } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";

extendZodWithOpenApi(z);

export { z };
