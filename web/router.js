// Every route of the app, each with the roles allowed on it; pages load when first visited.
import { createRouter, createWebHistory } from "vue-router";
import { useAuthStore } from "./stores/auth.js";
import { useNoticesStore } from "./stores/notices.js";

const STUDENT = ["student"];
const AUTHORS = ["teacher", "admin"];
const ANYONE = ["student", "teacher", "admin", "auditor"];

const routes = [
  { path: "/", name: "landing", component: () => import("./pages/LandingPage.js"), meta: { title: "Exams you can trust", guest: true } },
  { path: "/login", name: "login", component: () => import("./pages/LoginPage.js"), meta: { title: "Sign in", guest: true } },
  { path: "/register", name: "register", component: () => import("./pages/RegisterPage.js"), meta: { title: "Create an account", guest: true } },
  { path: "/profile", name: "profile", component: () => import("./pages/ProfilePage.js"), meta: { title: "Your profile", roles: ANYONE } },
  { path: "/overview", name: "staff-home", component: () => import("./pages/StaffHome.js"), meta: { title: "Overview", roles: ["admin", "auditor"] } },

  { path: "/student", name: "student-home", component: () => import("./student/StudentDashboard.js"), meta: { title: "My tests", roles: STUDENT } },
  { path: "/student/tests/:testId(\\d+)", name: "take-test", component: () => import("./student/TakeTest.js"), props: true, meta: { title: "Test", roles: STUDENT, focused: true } },
  { path: "/student/attempts/:attemptId(\\d+)", name: "attempt-result", component: () => import("./student/AttemptResult.js"), props: true, meta: { title: "Result", roles: STUDENT } },

  { path: "/teacher", name: "teacher-home", component: () => import("./teacher/TeacherDashboard.js"), meta: { title: "My tests", roles: AUTHORS } },
  { path: "/teacher/tests/new", name: "test-new", component: () => import("./teacher/TestEditor.js"), meta: { title: "New test", roles: AUTHORS } },
  { path: "/teacher/tests/:testId(\\d+)", name: "test-edit", component: () => import("./teacher/TestEditor.js"), props: true, meta: { title: "Edit test", roles: AUTHORS } },
  { path: "/teacher/tests/:testId(\\d+)/ai", name: "ai-authoring", component: () => import("./teacher/AiAuthoring.js"), props: true, meta: { title: "Draft questions with AI", roles: AUTHORS } },
  { path: "/teacher/tests/:testId(\\d+)/results", name: "test-results", component: () => import("./teacher/TestResults.js"), props: true, meta: { title: "Results", roles: AUTHORS } },
  { path: "/teacher/tests/:testId(\\d+)/live", name: "live-monitor", component: () => import("./monitor/LiveMonitor.js"), props: true, meta: { title: "Live monitor", roles: AUTHORS } },
  { path: "/teacher/attempts/:attemptId(\\d+)", name: "attempt-review", component: () => import("./teacher/AttemptReview.js"), props: true, meta: { title: "Attempt", roles: AUTHORS } },

  { path: "/review", name: "review-queue", component: () => import("./review/ReviewQueue.js"), meta: { title: "Review queue", roles: ["auditor", "admin", "teacher"] } },
  { path: "/review/attempts/:attemptId(\\d+)", name: "review-attempt", component: () => import("./review/ReviewAttempt.js"), props: true, meta: { title: "Review attempt", roles: ["auditor", "admin", "teacher"] } },

  { path: "/admin", name: "admin-home", component: () => import("./admin/AdminHome.js"), meta: { title: "Platform overview", roles: ["admin"] } },
  { path: "/admin/users", name: "admin-users", component: () => import("./admin/AdminUsers.js"), meta: { title: "Users", roles: ["admin"] } },
  { path: "/admin/audit", name: "admin-audit", component: () => import("./admin/AdminAudit.js"), meta: { title: "Audit log", roles: ["admin"] } },

  { path: "/:unknown(.*)*", name: "not-found", component: () => import("./pages/NotFoundPage.js"), meta: { title: "Page not found" } },
];

export const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior: (_to, _from, saved) => saved || { top: 0 },
});

router.beforeEach((to) => {
  const auth = useAuthStore();
  if (to.meta.guest && auth.signedIn && to.name !== "landing") return auth.homeRoute;
  if (to.name === "landing" && auth.signedIn) return auth.homeRoute;
  if (!to.meta.roles) return true;
  if (!auth.signedIn) return { name: "login", query: { next: to.fullPath } };
  if (!to.meta.roles.includes(auth.role)) {
    useNoticesStore().warning(`That page is not for the ${auth.role} role.`);
    return auth.homeRoute;
  }
  return true;
});

router.afterEach((to) => {
  document.title = to.meta.title ? `${to.meta.title} · ProtoLearn` : "ProtoLearn";
});

router.onError((error) => {
  useNoticesStore().error("The page could not be loaded. Check your connection and try again.");
  console.error(error);
});
