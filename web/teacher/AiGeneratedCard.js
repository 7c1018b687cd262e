// One question drafted from a material: its text, options and answer, the passage it came
// from, and what the teacher does with it (edit in place, refine with feedback, accept, reject).
// The question is already stored in the test; the page decides what happens on the server.
import { computed, defineComponent, ref, watch } from "vue";
import { questionTypeLabel as typeLabel } from "./words.js";

export default defineComponent({
  name: "AiGeneratedCard",
  props: {
    item: { type: Object, required: true }, // {question, source_passage, state, busy, changes}
    index: { type: Number, required: true },
    selected: { type: Boolean, default: false },
  },
  emits: ["select", "save", "refine", "accept", "reject"],
  setup(props, { emit }) {
    const editing = ref(false);
    const refining = ref(false);
    const feedback = ref("");
    const form = ref(null);
    const base = computed(() => `ai-question-${props.item.question.id}`);
    const decided = computed(() => props.item.state !== "pending");

    function startEdit() {
      const q = props.item.question;
      form.value = { question_text: q.question_text, options: [...q.options], correct_answer: q.correct_answer };
      editing.value = true;
      emit("select");
    }
    function submitEdit() {
      const value = form.value;
      const payload = { question_text: value.question_text.trim(), correct_answer: String(value.correct_answer).trim() };
      if (props.item.question.question_type === "mcq") payload.options = value.options.map((o) => o.trim());
      emit("save", payload, () => {
        editing.value = false;
      });
    }
    function submitRefine() {
      if (!feedback.value.trim()) return;
      emit("refine", feedback.value.trim(), () => {
        feedback.value = "";
        refining.value = false;
      });
    }
    watch(() => props.item.question.id, () => {
      editing.value = false;
      refining.value = false;
    });
    return { editing, refining, feedback, form, base, decided, typeLabel, startEdit, submitEdit, submitRefine };
  },
  template: `
    <article :class="['card', 'ai-card', 'ai-card--' + item.state, { 'ai-card--selected': selected }]" :aria-labelledby="base + '-heading'">
      <header class="ai-card__head">
        <h3 :id="base + '-heading'" class="ai-card__title">Question {{ index + 1 }}</h3>
        <span class="badge badge--info">{{ typeLabel(item.question.question_type) }}</span>
        <span v-if="item.state === 'accepted'" class="badge badge--success">Accepted</span>
        <span v-else-if="item.state === 'rejected'" class="badge badge--danger">Rejected</span>
        <span v-else class="badge badge--warning">To review</span>
      </header>

      <template v-if="item.state === 'rejected'">
        <p class="muted ai-card__struck">{{ item.question.question_text }}</p>
        <p class="field__hint">Removed from the test.</p>
      </template>

      <form v-else-if="editing" class="form ai-card__edit" @submit.prevent="submitEdit">
        <div class="field">
          <label :for="base + '-text'">Question text</label>
          <textarea :id="base + '-text'" v-model="form.question_text" rows="3" required></textarea>
        </div>
        <div v-if="item.question.question_type === 'mcq'" class="field">
          <span class="ai-card__label">Options</span>
          <input v-for="(option, i) in form.options" :key="i" v-model="form.options[i]" class="ai-card__option-input"
                 :aria-label="'Option ' + (i + 1)" required>
        </div>
        <div class="field">
          <label :for="base + '-answer'">Correct answer</label>
          <select v-if="item.question.question_type === 'mcq'" :id="base + '-answer'" v-model="form.correct_answer">
            <option v-for="(option, i) in form.options" :key="i" :value="option">{{ option }}</option>
          </select>
          <select v-else-if="item.question.question_type === 'true_false'" :id="base + '-answer'" v-model="form.correct_answer">
            <option value="true">True</option>
            <option value="false">False</option>
          </select>
          <input v-else :id="base + '-answer'" v-model="form.correct_answer" required>
        </div>
        <div class="row">
          <button type="submit" class="button button--small" :disabled="item.busy">Save question</button>
          <button type="button" class="button button--ghost button--small" :disabled="item.busy" @click="editing = false">Cancel</button>
        </div>
      </form>

      <template v-else>
        <p class="ai-card__text">{{ item.question.question_text }}</p>
        <ul v-if="item.question.options.length" class="ai-card__options">
          <li v-for="option in item.question.options" :key="option" :class="{ 'ai-card__option--right': option === item.question.correct_answer }">
            {{ option }}<span v-if="option === item.question.correct_answer" class="visually-hidden"> (correct answer)</span>
          </li>
        </ul>
        <p v-else class="ai-card__answer"><span class="muted">Answer:</span> <strong>{{ item.question.question_type === 'true_false' ? (item.question.correct_answer === 'true' ? 'True' : 'False') : item.question.correct_answer }}</strong></p>
      </template>

      <blockquote v-if="item.source_passage && item.state !== 'rejected'" class="ai-card__source">
        <span class="ai-card__label">From the material</span>
        <span class="ai-card__passage">{{ item.source_passage }}</span>
      </blockquote>
      <ul v-if="item.changes && item.changes.length" class="ai-card__changes" aria-label="What the refinement changed">
        <li v-for="change in item.changes" :key="change">{{ change }}</li>
      </ul>

      <form v-if="refining && item.state !== 'rejected'" class="form ai-card__refine" @submit.prevent="submitRefine">
        <div class="field">
          <label :for="base + '-feedback'">How should it change?</label>
          <textarea :id="base + '-feedback'" v-model="feedback" rows="2" placeholder="For example: make it harder, or add an explanation"></textarea>
        </div>
        <div class="row">
          <button type="submit" class="button button--small" :disabled="item.busy || !feedback.trim()">Refine question</button>
          <button type="button" class="button button--ghost button--small" :disabled="item.busy" @click="refining = false">Cancel</button>
        </div>
      </form>

      <div v-if="item.state !== 'rejected' && !editing && !refining" class="ai-card__actions">
        <button type="button" class="button button--ghost button--small" :aria-label="'Show source of question ' + (index + 1)" @click="$emit('select')">Show source</button>
        <button type="button" class="button button--ghost button--small" :disabled="item.busy" :aria-label="'Edit question ' + (index + 1)" @click="startEdit">Edit</button>
        <button type="button" class="button button--ghost button--small" :disabled="item.busy" :aria-label="'Refine question ' + (index + 1)" @click="refining = true">Refine</button>
        <span class="ai-card__spacer"></span>
        <button type="button" class="button button--danger button--small" :disabled="item.busy" :aria-label="'Reject question ' + (index + 1)" @click="$emit('reject')">Reject</button>
        <button v-if="item.state !== 'accepted'" type="button" class="button button--small" :disabled="item.busy" :aria-label="'Accept question ' + (index + 1)" @click="$emit('accept')">Accept</button>
      </div>
      <p v-if="item.busy" class="muted ai-card__busy" role="status">Working…</p>
    </article>`,
});
