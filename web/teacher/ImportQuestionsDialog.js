// Importing questions from a Moodle XML, GIFT or CSV file: the server reads the file once
// without storing anything (a preview of what comes in and what is skipped, and why), then
// for real when the teacher confirms.
import { computed, defineComponent, ref, watch } from "vue";
import { api } from "../api/client.js";
import LoadingSpinner from "../components/LoadingSpinner.js";
import { useNoticesStore } from "../stores/notices.js";
import ModalDialog from "../components/ModalDialog.js";
import { formatPoints, questionTypeLabel } from "./words.js";

export default defineComponent({
  name: "ImportQuestionsDialog",
  components: { LoadingSpinner, ModalDialog },
  props: {
    open: { type: Boolean, required: true },
    testId: { type: Number, default: null },
  },
  emits: ["close", "imported"],
  setup(props, { emit }) {
    const notices = useNoticesStore();
    const file = ref(null);
    const input = ref(null);
    const preview = ref(null);
    const busy = ref(false);
    const problem = ref("");

    watch(
      () => props.open,
      (open) => {
        if (open) reset();
      }
    );

    function reset() {
      file.value = null;
      preview.value = null;
      problem.value = "";
      if (input.value) input.value.value = "";
    }

    function choose(event) {
      file.value = event.target.files[0] || null;
      preview.value = null;
      problem.value = "";
    }

    async function send(dryRun) {
      busy.value = true;
      problem.value = "";
      try {
        return await api.upload(`/api/tests/${props.testId}/import`, { file: file.value, dry_run: dryRun ? "true" : "false" });
      } catch (error) {
        problem.value = error.message;
        notices.error(error, { title: "The file was not imported" });
        return null;
      } finally {
        busy.value = false;
      }
    }

    async function check() {
      preview.value = await send(true);
    }

    async function confirm() {
      const result = await send(false);
      if (!result) return;
      emit("imported", result.imported);
      const skipped = result.skipped.length ? `; ${result.skipped.length} skipped` : "";
      notices.success(`${result.imported.length} questions imported${skipped}.`);
      emit("close");
    }

    const count = computed(() => preview.value?.imported.length || 0);
    const formatName = computed(() => ({ "moodle-xml": "Moodle XML", gift: "GIFT", csv: "CSV" })[preview.value?.format] || "");

    const shown = (question) => (question.question_type === "true_false" ? (question.correct_answer === "true" ? "True" : "False") : question.correct_answer);
    return { shown, file, input, preview, busy, problem, count, formatName, choose, check, confirm, reset, questionTypeLabel, formatPoints };
  },
  template: `
    <modal-dialog class="teacher-dialog" :open="open" title="Import questions" wide @close="$emit('close')">
      <div class="form">
        <div class="field">
          <label for="import-file">Question file</label>
          <input id="import-file" ref="input" type="file" accept=".xml,.gift,.txt,.csv,text/xml,text/csv,text/plain"
                 aria-describedby="import-file-hint" @change="choose">
          <p id="import-file-hint" class="field__hint">
            Moodle XML (.xml), GIFT (.gift or .txt) or CSV with a header row (.csv); up to 2 MB and 500 questions.
            Nothing is added until you confirm.
          </p>
        </div>
      </div>
      <loading-spinner v-if="busy" :label="preview ? 'Importing…' : 'Reading the file…'"></loading-spinner>
      <p v-if="problem" class="notice notice--error" role="alert">{{ problem }}</p>

      <section v-if="preview" class="teacher-import__preview" aria-labelledby="import-preview-heading">
        <h3 id="import-preview-heading" role="status">
          {{ count }} {{ count === 1 ? "question" : "questions" }} to import<template v-if="preview.skipped.length">, {{ preview.skipped.length }} skipped</template>
          <span class="muted" v-if="formatName"> · read as {{ formatName }}</span>
        </h3>
        <ol v-if="count" class="teacher-import__list" aria-label="Questions to import">
          <li v-for="(question, position) in preview.imported" :key="position">
            <span class="badge badge--info">{{ questionTypeLabel(question.question_type) }}</span>
            <span class="teacher-import__text">{{ question.question_text }}</span>
            <span class="teacher-import__answer">Answer: {{ shown(question) }} · {{ formatPoints(question.points) }}</span>
          </li>
        </ol>
        <div v-if="preview.skipped.length" class="notice notice--warning teacher-import__skipped">
          <h4>Skipped, and why</h4>
          <ul aria-label="Skipped items">
            <li v-for="(entry, position) in preview.skipped" :key="position">
              <strong>{{ entry.item }}</strong> — {{ entry.reason }}
            </li>
          </ul>
        </div>
      </section>

      <template #actions>
        <button type="button" class="button button--secondary" :disabled="busy" @click="$emit('close')">Cancel</button>
        <button v-if="!preview" type="button" class="button" :disabled="busy || !file" @click="check">Check the file</button>
        <button v-else type="button" class="button" :disabled="busy || !count" @click="confirm">
          Import {{ count }} {{ count === 1 ? "question" : "questions" }}
        </button>
      </template>
    </modal-dialog>`,
});
