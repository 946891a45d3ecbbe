// `npm run icons`: draws the raster icons in public/ from public/icon.svg (the one drawing):
// apple-touch-icon.png (180 px, on an opaque background as iOS expects) and favicon.ico (16, 32
// and 48 px PNGs in one file, for browsers and tools that ask for /favicon.ico). Run it after
// changing icon.svg and commit the results.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Resvg } from "@resvg/resvg-js";
import pngToIco from "png-to-ico";

const dir = path.join(import.meta.dirname, "..", "public");
const svg = readFileSync(path.join(dir, "icon.svg"));

function png(size: number, background?: string): Buffer {
  const r = new Resvg(svg, { fitTo: { mode: "width", value: size }, background });
  return Buffer.from(r.render().asPng());
}

writeFileSync(path.join(dir, "apple-touch-icon.png"), png(180, "#4338ca"));
writeFileSync(path.join(dir, "favicon.ico"), await pngToIco([png(16), png(32), png(48)]));
console.log("public/apple-touch-icon.png and public/favicon.ico written");
