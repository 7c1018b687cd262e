// Drafting a test's questions from course material: upload a file (with its upload and text
// extraction progress), read what was extracted, generate questions offline or with the
// configured model, and review each beside the passage it came from. Generated questions are
// stored in the test straight away; accepting keeps one, rejecting deletes it.
import { computed, defineComponent, nextTick, onBeforeUnmount, onMounted, ref } from "vue";
import { api } from "../api/client.js";
import LoadingSpinner from "../components/LoadingSpinner.js";
import { useNoticesStore } from "../stores/notices.js";
import AiGeneratedCard from "./AiGeneratedCard.js";
import MaterialSource from "./MaterialSource.js";
import { QUESTION_TYPES } from "./words.js";

const ACCEPTED_FILES = ".pdf,.png,.jpg,.jpeg,.docx,application/pdf,image/png,image/jpeg,application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const POLL_MS = 1000;

export default defineComponent({
  name: "AiAuthoring",
  components: { AiGeneratedCard, LoadingSpinner, MaterialSource },
  props: {
    testId: { type: String, required: true },
  },
  setup(props) {
    const notices = useNoticesStore();
    const test = ref(null);
    const loadFailed = ref("");
    const file = ref(null);
    const title = ref("");
    const uploading = ref(false);
    const uploadProgress = ref(0);
    const material = ref(null);
    const generating = ref(false);
    const settings = ref({ count: 5, types: QUESTION_TYPES.map((t) => t.value), difficulty: "medium" });
    const result = ref(null); // the last generation: {dropped, generation_time, model, provider, requested}
    const items = ref([]);
    const selectedId = ref(null);
    let pollTimer = null;

    async function loadTest() {
      try {
        test.value = await api.get(`/api/tests/${props.testId}`);
      } catch (error) {
        loadFailed.value = error.message;
      }
    }
    onMounted(loadTest);
    onBeforeUnmount(() => clearTimeout(pollTimer));

    function pickFile(event) {
      file.value = event.target.files?.[0] || null;
      if (file.value && !title.value) title.value = file.value.name.replace(/\.[^.]+$/, "");
    }

    async function upload() {
      if (!file.value) return;
      uploading.value = true;
      uploadProgress.value = 0;
      material.value = null;
      try {
        const fields = { file: file.value, subject: test.value?.subject || "" };
        if (title.value.trim()) fields.title = title.value.trim();
        material.value = await api.uploadWithProgress("/api/ai/upload-material", fields, (fraction) => {
          uploadProgress.value = fraction;
        });
        if (material.value.status === "processing") poll();
        else announceMaterial();
      } catch (error) {
        notices.error(error, { title: "The file was not uploaded" });
      } finally {
        uploading.value = false;
      }
    }

    function poll() {
      clearTimeout(pollTimer);
      pollTimer = setTimeout(async () => {
        try {
          material.value = await api.get(`/api/ai/materials/${material.value.material_id}`);
        } catch (error) {
          notices.error(error, { title: "The material could not be checked" });
          return;
        }
        if (material.value.status === "processing") poll();
        else announceMaterial();
      }, POLL_MS);
    }

    function announceMaterial() {
      if (material.value.status === "ready") notices.success("The text of your file is ready. Generate questions from it.");
    }

    const materialReady = computed(() => material.value?.status === "ready");
    const confidence = computed(() => {
      const value = material.value?.ocr_confidence;
      return value == null ? null : Math.round(value * 100);
    });

    async function generate() {
      if (!materialReady.value || !settings.value.types.length) return;
      generating.value = true;
      try {
        const answer = await api.post("/api/ai/generate-questions", {
          material_id: material.value.material_id,
          num_questions: Number(settings.value.count),
          question_types: settings.value.types,
          difficulty: settings.value.difficulty,
          test_id: Number(props.testId),
        });
        result.value = answer;
        items.value = [
          ...items.value,
          ...answer.questions.map((question) => ({ question, source_passage: question.source_passage, state: "pending", busy: false, changes: [] })),
        ];
        const count = answer.questions.length;
        notices.success(`${count} ${count === 1 ? "question" : "questions"} drafted and added to the test. Review each one.`);
      } catch (error) {
        notices.error(error, { title: "No questions were generated" });
      } finally {
        generating.value = false;
      }
    }

    function find(id) {
      return items.value.find((item) => item.question.id === id);
    }

    async function save(item, payload, done) {
      item.busy = true;
      try {
        item.question = await api.put(`/api/questions/${item.question.id}`, payload);
        done();
        notices.success("Question saved.");
      } catch (error) {
        notices.error(error, { title: "The question was not saved" });
      } finally {
        item.busy = false;
      }
    }

    async function refine(item, feedback, done) {
      item.busy = true;
      try {
        const answer = await api.post("/api/ai/refine-question", { question_id: item.question.id, feedback });
        item.question = answer.refined_question;
        item.changes = answer.changes;
        if (answer.source_passage) item.source_passage = answer.source_passage;
        done();
        notices.success("Question refined.");
      } catch (error) {
        notices.error(error, { title: "The question was not refined" });
      } finally {
        item.busy = false;
      }
    }

    function accept(item) {
      item.state = "accepted";
    }

    async function reject(item) {
      item.busy = true;
      try {
        await api.del(`/api/questions/${item.question.id}`);
        item.state = "rejected";
        if (selectedId.value === item.question.id) selectedId.value = null;
        notices.info("Question rejected and removed from the test.", { seconds: 3 });
      } catch (error) {
        notices.error(error, { title: "The question was not removed" });
      } finally {
        item.busy = false;
      }
    }

    function acceptAll() {
      for (const item of items.value) if (item.state === "pending") item.state = "accepted";
      notices.success("Every remaining question is accepted.");
    }

    async function select(item) {
      selectedId.value = item.question.id;
      await nextTick();
      document.querySelector(".ai-material .ai-mark--active")?.scrollIntoView({ block: "center", behavior: "smooth" });
    }

    const pending = computed(() => items.value.filter((item) => item.state === "pending").length);
    const accepted = computed(() => items.value.filter((item) => item.state === "accepted").length);

    // The passages the questions still in play came from, numbered as the cards are.
    const passages = computed(() => items.value
      .map((item, index) => ({ id: item.question.id, number: index + 1, text: item.source_passage, state: item.state }))
      .filter((p) => p.state !== "rejected" && p.text));

    return {
      test, loadFailed, file, title, uploading, uploadProgress, material, materialReady, confidence,
      generating, settings, result, items, selectedId, pending, accepted, passages, types: QUESTION_TYPES, accept: ACCEPTED_FILES,
      pickFile, upload, generate, save, refine, acceptOne: accept, reject, acceptAll, select, find,
    };
  },
  template: `
    <div class="ai-authoring">
      <header class="page-header">
        <div>
          <p class="teacher-crumbs">
            <router-link :to="{ name: 'teacher-home' }">My tests</router-link><span aria-hidden="true">/</span>
            <router-link :to="{ name: 'test-edit', params: { testId } }">{{ test ? test.title : 'Test' }}</router-link><span aria-hidden="true">/</span>
          </p>
          <h1>Draft questions with AI</h1>
          <p class="muted">Upload your course material, generate questions from it, then keep only the ones you would have written.</p>
        </div>
        <div class="row">
          <router-link class="button button--secondary" :to="{ name: 'test-edit', params: { testId } }">Back to the test</router-link>
        </div>
      </header>

      <div v-if="loadFailed" class="card">
        <p class="notice notice--error" role="alert">{{ loadFailed }}</p>
      </div>
      <loading-spinner v-else-if="!test" block label="Opening the test…"></loading-spinner>
      <div v-else-if="test.is_published" class="card">
        <p class="notice notice--warning" role="alert">This test is published. Unpublish it to add generated questions.</p>
      </div>

      <template v-else>
        <section class="card ai-step" aria-labelledby="ai-upload-heading">
          <h2 id="ai-upload-heading"><span class="ai-step__number" aria-hidden="true">1</span>Upload material</h2>
          <form class="ai-upload" @submit.prevent="upload">
            <div class="field">
              <label for="ai-file">File (PDF, PNG, JPEG or Word)</label>
              <input id="ai-file" class="ai-upload__file" type="file" :accept="accept" :disabled="uploading" @change="pickFile">
            </div>
            <div class="field">
              <label for="ai-title">Title</label>
              <input id="ai-title" v-model="title" type="text" maxlength="200" :disabled="uploading">
            </div>
            <button type="submit" class="button" :disabled="!file || uploading">Upload</button>
          </form>
          <div v-if="uploading" class="ai-progress">
            <label for="ai-upload-progress">Uploading {{ Math.round(uploadProgress * 100) }}%</label>
            <progress id="ai-upload-progress" max="1" :value="uploadProgress"></progress>
          </div>
          <div v-if="material" class="ai-material-status" role="status">
            <template v-if="material.status === 'processing'">
              <label for="ai-extract-progress">Reading the text of “{{ material.title }}”… {{ Math.round(material.progress * 100) }}%</label>
              <progress id="ai-extract-progress" max="1" :value="material.progress"></progress>
            </template>
            <p v-else-if="material.status === 'failed'" class="notice notice--error">The text could not be read: {{ material.error }}</p>
            <p v-else class="notice notice--success">
              Text extracted from “{{ material.title }}”: {{ material.page_count }} {{ material.page_count === 1 ? 'page' : 'pages' }},
              {{ material.text_chars.toLocaleString() }} characters<span v-if="material.ocr_pages">, {{ material.ocr_pages }} read by OCR</span>.
              <span v-if="confidence !== null"> OCR confidence {{ confidence }}%.</span>
            </p>
          </div>
        </section>

        <section v-if="materialReady" class="card ai-step" aria-labelledby="ai-generate-heading">
          <h2 id="ai-generate-heading"><span class="ai-step__number" aria-hidden="true">2</span>Generate questions</h2>
          <form class="ai-generate" @submit.prevent="generate">
            <div class="field">
              <label for="ai-count">Number of questions</label>
              <input id="ai-count" v-model.number="settings.count" type="number" min="1" max="50" required>
            </div>
            <fieldset class="ai-generate__types">
              <legend>Question types</legend>
              <label v-for="type in types" :key="type.value" class="checkbox">
                <input type="checkbox" :value="type.value" v-model="settings.types"> {{ type.label }}
              </label>
            </fieldset>
            <div class="field">
              <label for="ai-difficulty">Difficulty</label>
              <select id="ai-difficulty" v-model="settings.difficulty">
                <option value="easy">Easy</option>
                <option value="medium">Medium</option>
                <option value="hard">Hard</option>
              </select>
            </div>
            <button type="submit" class="button" :disabled="generating || !settings.types.length">Generate questions</button>
          </form>
          <loading-spinner v-if="generating" label="Drafting questions from your material…"></loading-spinner>
          <div v-if="result && !generating" class="ai-result-facts" role="status">
            <p>{{ result.questions.length }} of {{ result.requested }} asked for, in {{ result.generation_time.toFixed(1) }} s by {{ result.model }}.</p>
            <details v-if="result.dropped.length" class="ai-dropped" open>
              <summary>{{ result.dropped.length }} {{ result.dropped.length === 1 ? 'draft was' : 'drafts were' }} dropped</summary>
              <ul>
                <li v-for="(drop, i) in result.dropped" :key="i"><span v-if="drop.question_text">“{{ drop.question_text }}”: </span><span class="muted">{{ drop.reason }}</span></li>
              </ul>
            </details>
          </div>
        </section>

        <section v-if="material && material.status === 'ready'" class="ai-review" aria-labelledby="ai-review-heading">
          <div class="ai-review__header">
            <h2 id="ai-review-heading"><span class="ai-step__number" aria-hidden="true">3</span>Review</h2>
            <p v-if="items.length" class="muted" role="status">{{ accepted }} accepted · {{ pending }} to review</p>
            <button v-if="pending" type="button" class="button button--secondary button--small" @click="acceptAll">Accept all</button>
            <router-link v-if="items.length && !pending" class="button button--small" :to="{ name: 'test-edit', params: { testId } }">Done: back to the test</router-link>
          </div>
          <div class="ai-review__columns">
            <div class="ai-review__questions">
              <p v-if="!items.length" class="card empty-state">Generated questions appear here, each beside the passage it came from.</p>
              <p v-else class="field__hint">Generated questions are already in the test as drafts; rejecting one deletes it.</p>
              <ai-generated-card v-for="(item, index) in items" :key="item.question.id" :item="item" :index="index"
                                 :selected="selectedId === item.question.id"
                                 @select="select(item)" @save="(payload, done) => save(item, payload, done)"
                                 @refine="(feedback, done) => refine(item, feedback, done)"
                                 @accept="acceptOne(item)" @reject="reject(item)"></ai-generated-card>
            </div>
            <material-source :material="material" :passages="passages" :selected-id="selectedId"></material-source>
          </div>
        </section>
      </template>
    </div>`,
});
