import { createApp } from 'vue'
import 'vant/es/dialog/style'
import App from './App.vue'
import { router } from './router'
import './app.css'

createApp(App).use(router).mount('#app')
