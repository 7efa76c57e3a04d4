import { createRouter, createWebHistory } from 'vue-router'
import { currentSession, setOnUnauthenticated, storeSession } from './api/client'
import { loadMe, store } from './store'

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/signin', component: () => import('./pages/SignIn.vue'), meta: { public: true, title: '登录' } },
    { path: '/licence', component: () => import('./pages/Licence.vue'), meta: { title: '材料补充' } },
    { path: '/', component: () => import('./pages/Home.vue'), meta: { title: '跨省大件运输并联许可' } },
    { path: '/notice', component: () => import('./pages/Notice.vue'), meta: { title: '许可须知' } },
    { path: '/apply/:id', component: () => import('./pages/Apply.vue'), meta: { title: '新申请填报' } },
    { path: '/progress', component: () => import('./pages/Progress.vue'), meta: { title: '进度查询与变更' } },
    { path: '/progress/:id', component: () => import('./pages/Detail.vue'), meta: { title: '申请详情' } },
    { path: '/permits/:id', component: () => import('./pages/Certificate.vue'), meta: { title: '电子通行证' } },
    { path: '/messages', component: () => import('./pages/Messages.vue'), meta: { title: '消息' } },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

setOnUnauthenticated(() => {
  storeSession(null)
  store.me = null
  if (router.currentRoute.value.path !== '/signin') router.replace('/signin')
})

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  if (!currentSession()) return { path: '/signin', query: { next: to.fullPath } }
  if (!store.me) {
    try {
      await loadMe()
    } catch {
      return { path: '/signin' }
    }
  }
  // A new user reaches the service only once the business licence is approved (ID-5).
  const onboarding = store.me?.onboarding
  if (onboarding && onboarding !== 'ONBOARDING_STATE_ACTIVE' && to.path !== '/licence') return '/licence'
  return true
})

router.afterEach((to) => {
  document.title = `${(to.meta.title as string) ?? ''} - 掌上办`
})
