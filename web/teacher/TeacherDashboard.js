// The teacher's tests, a page at a time: status, questions, attempts and average score of each,
// and what to do next (edit, results, publish or unpublish, a new test).
import { defineComponent, onMounted, ref } from "vue";
import { api } from "../api/client.js";
import LoadingSpinner from "../components/LoadingSpinner.js";
import { useAuthStore } from "../stores/auth.js";
import { useNoticesStore } from "../stores/notices.js";
import { average, formatDateTime, formatNumber, formatPercent } from "./words.js";

const PAGE_SIZE = 12;

export default defineComponent({
  name: "TeacherDashboard",
  components: { LoadingSpinner },
  setup() {
    const auth = useAuthStore();
    const notices = useNoticesStore();
    const page = ref(null);
    const pageNumber = ref(1);
    const stats = ref({}); // test id → {attempts, average, inProgress} or null while loading
    const busy = ref(0);

    // Attempts and averages come from each test's results (one request per test on the page).
    async function loadStats(tests) {
      stats.value = Object.fromEntries(tests.map((test) => [test.id, null]));
      await Promise.all(
        tests.map(async (test) => {
          try {
            const rows = await api.get(`/api/results/${test.id}`);
            stats.value[test.id] = {
              attempts: rows.length,
              inProgress: rows.filter((row) => row.status === "in_progress").length,
              average: average(rows.map((row) => row.percent)),
            };
          } catch {
            stats.value[test.id] = { attempts: null, inProgress: 0, average: null };
          }
        })
      );
    }

    async function load(number = pageNumber.value) {
      try {
        const answer = await api.get(`/api/tests?page=${number}&page_size=${PAGE_SIZE}`);
        if (!answer.items.length && number > 1) return load(number - 1);
        page.value = answer;
        pageNumber.value = number;
        loadStats(answer.items);
      } catch (error) {
        page.value = page.value || { items: [], total: 0 };
        notices.error(error, { title: "Your tests could not be loaded" });
      }
    }

    async function togglePublish(test) {
      busy.value = test.id;
      try {
        const updated = await api.put(`/api/tests/${test.id}`, { is_published: !test.is_published });
        test.is_published = updated.is_published;
        notices.success(updated.is_published ? `“${test.title}” is published.` : `“${test.title}” is back to draft.`);
      } catch (error) {
        notices.error(error, { title: test.is_published ? "Not unpublished" : "Not published" });
      } finally {
        busy.value = 0;
      }
    }

    const pages = () => Math.max(1, Math.ceil((page.value?.total || 0) / PAGE_SIZE));

    onMounted(() => load(1));
    return { auth, page, pageNumber, stats, busy, pages, load, togglePublish, formatDateTime, formatNumber, formatPercent };
  },
  template: `
    <header class="page-header">
      <div>
        <h1>My tests</h1>
        <p>Write tests, publish them to your students and follow their results.</p>
      </div>
      <router-link class="button" :to="{ name: 'test-new' }">+ New test</router-link>
    </header>

    <loading-spinner v-if="page === null" block label="Loading your tests…"></loading-spinner>

    <section v-else-if="!page.items.length" class="card teacher-empty" aria-labelledby="empty-heading">
      <h2 id="empty-heading">Welcome, {{ auth.user.name }}. You have no test yet.</h2>
      <ol class="teacher-empty__steps">
        <li><strong>Create a test</strong> with a title, a time limit and its proctoring settings.</li>
        <li><strong>Add questions</strong>: multiple choice, true or false, short answer — or import a Moodle XML, GIFT or CSV file.</li>
        <li><strong>Publish it</strong>: your students see it on their page and can start.</li>
      </ol>
      <router-link class="button button--large" :to="{ name: 'test-new' }">Create your first test</router-link>
    </section>

    <template v-else>
      <p class="muted teacher-dashboard__count" role="status">{{ page.total }} {{ page.total === 1 ? "test" : "tests" }}</p>
      <ul class="teacher-tests" aria-label="Your tests">
        <li v-for="test in page.items" :key="test.id" class="card teacher-test">
          <div class="teacher-test__top">
            <span :class="['badge', test.is_published ? 'badge--success' : 'badge--warning']">{{ test.is_published ? "Published" : "Draft" }}</span>
            <span v-if="test.subject" class="teacher-test__subject">{{ test.subject }}</span>
          </div>
          <h2 class="teacher-test__title">
            <router-link :to="{ name: 'test-edit', params: { testId: String(test.id) } }">{{ test.title }}</router-link>
          </h2>
          <dl class="teacher-test__facts">
            <div><dt>Questions</dt><dd>{{ test.question_count }}</dd></div>
            <div><dt>Time</dt><dd>{{ formatNumber(test.time_limit, 1) }} min</dd></div>
            <div><dt>Attempts</dt><dd>
              <template v-if="stats[test.id]">{{ stats[test.id].attempts ?? "—" }}</template>
              <span v-else class="muted">…</span>
            </dd></div>
            <div><dt>Average</dt><dd>
              <template v-if="stats[test.id]">{{ formatPercent(stats[test.id].average) }}</template>
              <span v-else class="muted">…</span>
            </dd></div>
          </dl>
          <p v-if="stats[test.id] && stats[test.id].inProgress" class="teacher-test__live">
            {{ stats[test.id].inProgress }} taking it now
          </p>
          <div class="teacher-test__actions">
            <router-link class="button button--secondary button--small" :to="{ name: 'test-edit', params: { testId: String(test.id) } }"
                         :aria-label="'Edit ' + test.title">Edit</router-link>
            <router-link class="button button--secondary button--small" :to="{ name: 'test-results', params: { testId: String(test.id) } }"
                         :aria-label="'Results of ' + test.title">Results</router-link>
            <router-link v-if="test.is_published" class="button button--secondary button--small" :to="{ name: 'live-monitor', params: { testId: String(test.id) } }"
                         :aria-label="'Watch live: ' + test.title">Watch live</router-link>
            <button type="button" class="button button--ghost button--small" :disabled="busy === test.id"
                    :aria-label="(test.is_published ? 'Unpublish ' : 'Publish ') + test.title" @click="togglePublish(test)">
              {{ test.is_published ? "Unpublish" : "Publish" }}
            </button>
          </div>
        </li>
      </ul>
      <nav v-if="pages() > 1" class="teacher-pager" aria-label="Pages of tests">
        <button type="button" class="button button--secondary button--small" :disabled="pageNumber <= 1" @click="load(pageNumber - 1)">Previous</button>
        <span>Page {{ pageNumber }} of {{ pages() }}</span>
        <button type="button" class="button button--secondary button--small" :disabled="pageNumber >= pages()" @click="load(pageNumber + 1)">Next</button>
      </nav>
    </template>`,
});
