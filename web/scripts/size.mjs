// The initial download (index.html's scripts and styles, with what they preload), gzip-compressed:
// at most 250 KB. Printed on every build; the build fails above the limit.
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { join } from 'node:path'

const LIMIT = 250 * 1024
const dist = new URL('../dist/', import.meta.url).pathname
const html = readFileSync(join(dist, 'index.html'), 'utf8')
const files = [...html.matchAll(/(?:src|href)="\/?(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1])
let total = 0
for (const f of new Set(files)) {
  const size = gzipSync(readFileSync(join(dist, f)), { level: 9 }).length
  total += size
  console.log(`  ${f}  ${(size / 1024).toFixed(1)} KB gzip`)
}
console.log(`initial JS+CSS: ${(total / 1024).toFixed(1)} KB gzip (limit ${LIMIT / 1024} KB)`)
if (files.length === 0 || total > LIMIT) {
  console.error(files.length === 0 ? 'no assets found in dist/index.html' : 'initial download over the limit')
  process.exit(1)
}
