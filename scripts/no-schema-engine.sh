#!/bin/sh
echo "keyward: the native Prisma schema engine is not available; use 'npm run db:migrate' / 'npm run db:migration:create' (wasm engine)" >&2
exit 1
