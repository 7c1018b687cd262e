// Writing a test: its settings, proctoring and questions (written, taken from the bank or
// imported), saving, publishing, exporting. Unsaved changes are never lost without a warning;
// while a save runs the form is disabled, since the server's answer replaces the draft.
import { computed, defineComponent, nextTick, onBeforeUnmount, onMounted, ref, watch } from "vue";
import { useRouter } from "vue-router";
import { api } from "../api/client.js";
import ConfirmDialog from "../components/ConfirmDialog.js";
import LoadingSpinner from "../components/LoadingSpinner.js";
import { useAuthStore } from "../stores/auth.js";
import { useNoticesStore } from "../stores/notices.js";
import ImportQuestionsDialog from "./ImportQuestionsDialog.js";
import ProctoringForm from "./ProctoringForm.js";
import QuestionBankDialog from "./QuestionBankDialog.js";
import QuestionEditor from "./QuestionEditor.js";
import TestDetailsForm from "./TestDetailsForm.js";
import { useTestDraftStore } from "./testDraftStore.js";
import { QUESTION_TYPES, formatNumber } from "./words.js";

const EXPORT_FORMATS = [
  { value: "moodle-xml", label: "Moodle XML", extension: "xml" },
  { value: "gift", label: "GIFT", extension: "gift" },
  { value: "csv", label: "CSV", extension: "csv" },
];

export default defineComponent({
  name: "TestEditor",
  components: { ConfirmDialog, ImportQuestionsDialog, LoadingSpinner, ProctoringForm, QuestionBankDialog, QuestionEditor, TestDetailsForm },
  props: {
    testId: { type: String, default: "" },
  },
  setup(props) {
    const draft = useTestDraftStore();
    const auth = useAuthStore();
    const notices = useNoticesStore();
    const router = useRouter();
    const missing = ref("");
    const deleting = ref(null); // the question waiting for the delete confirmation
    const bankOpen = ref(false);
    const importOpen = ref(false);
    const exporting = ref("");
    const leaving = ref(null); // {resolve} while the unsaved-changes question is open
    let justCreated = null; // the id of the test this page has just created, before its route changes

    const isNew = computed(() => !props.testId);
    const numericId = computed(() => (props.testId ? Number(props.testId) : null));
    const totalPoints = computed(() => draft.questions.reduce((sum, question) => sum + (Number(question.points) || 0), 0));
    const saveState = computed(() => {
      if (draft.saving) return "Saving…";
      if (draft.dirty) return isNew.value ? "Not saved yet" : "Unsaved changes";
      return isNew.value ? "Nothing to save yet" : "All changes saved";
    });

    async function open() {
      missing.value = "";
      if (isNew.value) {
        draft.startNew();
        return;
      }
      if (justCreated === numericId.value) {
        justCreated = null; // the answer to the create is the test as saved: nothing to fetch
        return;
      }
      try {
        await draft.load(numericId.value);
      } catch (error) {
        missing.value = error.message;
        notices.error(error, { title: "The test could not be opened" });
      }
    }
    watch(() => props.testId, open, { immediate: true });

    // Brings the first field the server or the page refused into view, else the message.
    async function revealProblem() {
      await nextTick();
      const target = document.querySelector('.teacher-editor [aria-invalid="true"], .teacher-question .notice--error') || document.querySelector(".teacher-editor__problem");
      target?.scrollIntoView({ block: "center" });
      if (target?.matches("input, select, textarea")) target.focus({ preventScroll: true });
    }

    async function save() {
      const problem = draft.check();
      if (problem) {
        draft.problem = problem;
        notices.error(problem, { title: "Some fields need your attention" });
        revealProblem();
        return false;
      }
      const wasNew = isNew.value;
      try {
        const id = await draft.save();
        notices.success(wasNew ? (draft.questions.length ? "Test created. Publish it when it is ready." : "Test created. Add questions, then publish it.") : "Changes saved.");
        if (wasNew) {
          justCreated = id;
          await router.replace({ name: "test-edit", params: { testId: String(id) } });
        }
        return true;
      } catch (error) {
        notices.error(error, { title: "The test was not saved" });
        revealProblem();
        return false;
      }
    }

    async function togglePublish() {
      const publish = !draft.isPublished;
      if (publish && draft.dirty && !(await save())) return;
      try {
        await draft.setPublished(publish);
        notices.success(publish ? "Published: your students can see and take it now." : "Unpublished: students no longer see it.");
      } catch (error) {
        notices.error(error, { title: publish ? "The test was not published" : "The test was not unpublished" });
      }
    }

    function addQuestion(type) {
      const question = draft.addQuestion(type);
      focusQuestion(question.key);
    }

    function addFromBank(source) {
      draft.addCopy(source);
      notices.info("Question added at the end. Save to keep it.", { seconds: 3 });
    }

    function focusQuestion(key) {
      requestAnimationFrame(() => document.getElementById(`${key}-text`)?.focus());
    }

    function moveQuestion(index, delta) {
      draft.move(index, delta);
      const key = draft.questions[index + delta]?.key;
      // Keep the keyboard on the button that was pressed, now on the moved question.
      requestAnimationFrame(() => {
        const article = document.querySelector(`[aria-labelledby="${key}-heading"]`);
        const label = delta < 0 ? "up" : "down";
        const button = article?.querySelector(`button[aria-label$=" ${label}"]:not(:disabled)`) || article?.querySelector("button:not(:disabled)");
        button?.focus();
      });
    }

    function confirmDelete() {
      if (draft.saving) return; // the save in flight decides what the server keeps
      const question = deleting.value;
      deleting.value = null;
      draft.remove(question.key);
      notices.info(question.id ? "Question removed. Save to make it final." : "Question removed.");
    }

    function imported(questions) {
      draft.addSaved(questions.filter((question) => question.id !== null));
    }

    async function exportAs(format) {
      exporting.value = format.value;
      try {
        await api.download(`/api/tests/${draft.testId}/export?format=${format.value}`, `test-${draft.testId}.${format.extension}`);
        notices.success(`Questions exported as ${format.label}.`);
      } catch (error) {
        notices.error(error, { title: "The export failed" });
      } finally {
        exporting.value = "";
      }
    }

    // Leaving with unsaved changes asks first: inside the app with a dialog, and when the tab
    // closes or reloads with the browser's own question. While a save runs the page stays (the
    // save ends on it), unless the login is gone.
    const removeGuard = router.beforeEach((to, from) => {
      if (from.name === to.name && to.params.testId === from.params.testId) return true;
      if (draft.saving && auth.signedIn) {
        notices.info("The test is being saved. Leave once it is done.", { seconds: 3 });
        return false;
      }
      if (!draft.dirty) return true;
      if (from.name === "test-new" && to.name === "test-edit" && draft.testId === Number(to.params.testId)) return true;
      return new Promise((resolve) => {
        leaving.value = { resolve };
      });
    });
    function answerLeave(leave) {
      leaving.value?.resolve(leave);
      leaving.value = null;
    }
    function beforeUnload(event) {
      if (!draft.dirty && !draft.saving) return;
      event.preventDefault();
      event.returnValue = "";
    }
    onMounted(() => window.addEventListener("beforeunload", beforeUnload));
    onBeforeUnmount(() => {
      removeGuard();
      window.removeEventListener("beforeunload", beforeUnload);
    });

    return {
      draft, isNew, missing, totalPoints, saveState, deleting, bankOpen, importOpen, exporting, leaving,
      types: QUESTION_TYPES, formats: EXPORT_FORMATS, formatNumber,
      save, togglePublish, addQuestion, addFromBank, moveQuestion, confirmDelete, imported, exportAs, answerLeave,
    };
  },
  template: `
    <div class="teacher-editor">
      <header class="page-header">
        <div>
          <p class="teacher-crumbs"><router-link :to="{ name: 'teacher-home' }">My tests</router-link><span aria-hidden="true">/</span></p>
          <h1>{{ isNew ? "New test" : "Edit test" }}</h1>
          <p v-if="!isNew && !draft.loading && !missing" class="teacher-editor__status">
            <span :class="['badge', draft.isPublished ? 'badge--success' : 'badge--warning']">{{ draft.isPublished ? "Published" : "Draft" }}</span>
            <span>{{ draft.questions.length }} {{ draft.questions.length === 1 ? "question" : "questions" }} · {{ formatNumber(totalPoints, 2) }} points</span>
          </p>
          <p v-else-if="isNew">Set the test up, add its questions, then publish it to your students.</p>
        </div>
        <div class="row" v-if="!isNew && !missing">
          <router-link v-if="!draft.isPublished" class="button button--secondary" :to="{ name: 'ai-authoring', params: { testId } }">Draft questions with AI</router-link>
          <router-link class="button button--secondary" :to="{ name: 'test-results', params: { testId } }">Results</router-link>
          <button type="button" :class="['button', draft.isPublished ? 'button--secondary' : '']" :disabled="draft.saving || draft.loading"
                  @click="togglePublish">{{ draft.isPublished ? "Unpublish" : "Publish" }}</button>
        </div>
      </header>

      <div v-if="missing" class="card">
        <p class="notice notice--error" role="alert">{{ missing }}</p>
        <router-link :to="{ name: 'teacher-home' }">Back to my tests</router-link>
      </div>
      <loading-spinner v-else-if="draft.loading" block label="Opening the test…"></loading-spinner>

      <form v-else class="teacher-editor__form" novalidate @submit.prevent="save">
        <fieldset class="teacher-editor__fields" :disabled="draft.saving">
          <p v-if="draft.problem" class="notice notice--error teacher-editor__problem" role="alert">{{ draft.problem }}</p>
          <test-details-form></test-details-form>
          <proctoring-form></proctoring-form>

          <section class="card teacher-section" aria-labelledby="questions-heading">
            <div class="teacher-section__header">
              <h2 id="questions-heading">Questions <span class="badge">{{ draft.questions.length }}</span></h2>
              <div class="teacher-exchange" v-if="!isNew">
                <button type="button" class="button button--secondary button--small" @click="importOpen = true">Import questions</button>
                <div class="teacher-exchange__export" role="group" aria-labelledby="export-label">
                  <span id="export-label" class="teacher-exchange__label">Export</span>
                  <button v-for="format in formats" :key="format.value" type="button" class="button button--ghost button--small"
                          :disabled="draft.dirty || !draft.questions.length || exporting !== ''"
                          :aria-label="'Export as ' + format.label" @click="exportAs(format)">{{ format.label }}</button>
                </div>
              </div>
            </div>
            <p v-if="!isNew && draft.dirty && draft.questions.length" class="field__hint teacher-exchange__hint">Save your changes to export them.</p>
            <p v-if="isNew" class="field__hint">Import and export become available once the test is saved.</p>

            <div v-if="!draft.questions.length" class="empty-state teacher-questions__empty">
              <p><strong>No questions yet.</strong></p>
              <p>Write one below, take one from your question bank{{ isNew ? "" : ", or import a Moodle XML, GIFT or CSV file" }}.</p>
            </div>
            <div class="teacher-questions">
              <question-editor v-for="(question, index) in draft.questions" :key="question.key"
                               :question-key="question.key" :index="index" :count="draft.questions.length"
                               @move="moveQuestion(index, $event)" @delete="deleting = question"></question-editor>
            </div>

            <div class="teacher-add" role="group" aria-labelledby="add-label">
              <span id="add-label" class="teacher-add__label">Add a question</span>
              <button v-for="type in types" :key="type.value" type="button" class="button button--secondary button--small"
                      @click="addQuestion(type.value)">+ {{ type.label }}</button>
              <button type="button" class="button button--ghost button--small" @click="bankOpen = true">From the question bank…</button>
            </div>
          </section>

          <div class="teacher-savebar">
            <p class="teacher-savebar__state" role="status">
              <span :class="['teacher-dot', { 'teacher-dot--dirty': draft.dirty }]" aria-hidden="true"></span>{{ saveState }}
            </p>
            <router-link class="button button--ghost" :to="{ name: 'teacher-home' }">Close</router-link>
            <button type="submit" class="button" :disabled="draft.saving || (!draft.dirty && !isNew)">
              {{ isNew ? "Create test" : "Save changes" }}
            </button>
          </div>
        </fieldset>
      </form>

      <confirm-dialog :open="deleting !== null" title="Delete this question?" confirm-label="Delete question" danger
                      :busy="draft.saving" @confirm="confirmDelete" @cancel="deleting = null">
        <p v-if="deleting">“{{ deleting.question_text || "Untitled question" }}” will be removed from this test.</p>
      </confirm-dialog>
      <confirm-dialog :open="leaving !== null" title="Leave without saving?" confirm-label="Leave and discard changes"
                      cancel-label="Stay on this page" danger @confirm="answerLeave(true)" @cancel="answerLeave(false)">
        <p>This test has changes that are not saved yet. If you leave now, they are lost.</p>
      </confirm-dialog>
      <question-bank-dialog :open="bankOpen" :test-id="draft.testId" @close="bankOpen = false" @pick="addFromBank"></question-bank-dialog>
      <import-questions-dialog :open="importOpen" :test-id="draft.testId" @close="importOpen = false" @imported="imported"></import-questions-dialog>
    </div>`,
});
