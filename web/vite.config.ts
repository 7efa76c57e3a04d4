import { defineConfig } from "vitest/config"
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { VantResolver } from '@vant/auto-import-resolver'

// Vant components are imported on demand (only what the pages use, with their CSS).
export default defineConfig({
  plugins: [vue(), Components({ resolvers: [VantResolver()], dts: false })],
  server: { proxy: { '/v1': 'http://127.0.0.1:8080', '/dev': 'http://127.0.0.1:8080' } },
  build: { target: 'es2020', chunkSizeWarningLimit: 400 },
  test: { environment: 'jsdom', include: ['src/**/*.test.ts'] },
})
