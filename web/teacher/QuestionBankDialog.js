// The teacher's question bank (every question of their tests), searched by its text; a question
// picked here is copied into the test being edited.
import { defineComponent, ref, watch } from "vue";
import { api } from "../api/client.js";
import LoadingSpinner from "../components/LoadingSpinner.js";
import { useNoticesStore } from "../stores/notices.js";
import ModalDialog from "../components/ModalDialog.js";
import { formatPoints, questionTypeLabel } from "./words.js";

export default defineComponent({
  name: "QuestionBankDialog",
  components: { LoadingSpinner, ModalDialog },
  props: {
    open: { type: Boolean, required: true },
    testId: { type: Number, default: null },
  },
  emits: ["close", "pick"],
  setup(props, { emit }) {
    const notices = useNoticesStore();
    const query = ref("");
    const results = ref(null);
    const total = ref(0);
    const searching = ref(false);
    const added = ref(new Set());
    const testTitles = ref({});

    async function loadTitles() {
      try {
        const page = await api.get("/api/tests?page_size=100");
        testTitles.value = Object.fromEntries(page.items.map((test) => [test.id, test.title]));
      } catch {
        testTitles.value = {}; // titles are a nicety; the questions still show
      }
    }

    async function search() {
      searching.value = true;
      try {
        const params = new URLSearchParams({ page_size: "30" });
        if (query.value.trim()) params.set("search", query.value.trim());
        const page = await api.get(`/api/questions?${params}`);
        results.value = page.items.filter((question) => question.test_id !== props.testId);
        total.value = page.total;
      } catch (error) {
        results.value = [];
        notices.error(error, { title: "The question bank could not be searched" });
      } finally {
        searching.value = false;
      }
    }

    watch(
      () => props.open,
      (open) => {
        if (!open) return;
        added.value = new Set();
        loadTitles();
        search();
      }
    );

    function pick(question) {
      emit("pick", question);
      added.value = new Set([...added.value, question.id]);
    }

    return { query, results, total, searching, added, testTitles, search, pick, questionTypeLabel, formatPoints };
  },
  template: `
    <modal-dialog class="teacher-dialog" :open="open" title="Add from your question bank" wide @close="$emit('close')">
      <p class="muted">Every question of your tests is in the bank. A question you add is copied: changing it here leaves the original as it is.</p>
      <form class="teacher-bank__search" role="search" @submit.prevent="search">
        <label for="bank-search" class="visually-hidden">Search your questions</label>
        <input id="bank-search" type="search" v-model="query" placeholder="Search your questions by their text">
        <button type="submit" class="button" :disabled="searching">Search</button>
      </form>
      <loading-spinner v-if="searching" label="Searching your questions…"></loading-spinner>
      <p v-else-if="results" class="visually-hidden" role="status">{{ results.length }} questions found</p>
      <p v-if="results && !searching && !results.length" class="empty-state">
        No question matches. Questions you write in any of your tests appear here.
      </p>
      <ul v-if="results && results.length" class="teacher-bank__list" aria-label="Questions found">
        <li v-for="question in results" :key="question.id" class="teacher-bank__item">
          <div class="teacher-bank__text">
            <p class="teacher-bank__question">{{ question.question_text }}</p>
            <p class="teacher-bank__meta">
              <span class="badge badge--info">{{ questionTypeLabel(question.question_type) }}</span>
              <span>{{ formatPoints(question.points) }}</span>
              <span>Answer: <strong>{{ question.correct_answer }}</strong></span>
              <span v-if="testTitles[question.test_id]">From “{{ testTitles[question.test_id] }}”</span>
            </p>
          </div>
          <button type="button" class="button button--secondary button--small" :disabled="added.has(question.id)"
                  :aria-label="(added.has(question.id) ? 'Added: ' : 'Add to this test: ') + question.question_text"
                  @click="pick(question)">{{ added.has(question.id) ? "Added" : "Add" }}</button>
        </li>
      </ul>
      <template #actions>
        <button type="button" class="button" @click="$emit('close')">Done</button>
      </template>
    </modal-dialog>`,
});
