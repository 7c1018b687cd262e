// One question of the test being edited: its type, text, answer, points and explanation; the
// options of a multiple-choice question (add, remove, reorder, choose the correct one).
import { computed, defineComponent } from "vue";
import { useTestDraftStore } from "./testDraftStore.js";
import { QUESTION_TYPES, localKey } from "./words.js";

export default defineComponent({
  name: "QuestionEditor",
  props: {
    questionKey: { type: String, required: true },
    index: { type: Number, required: true },
    count: { type: Number, required: true },
  },
  emits: ["move", "delete"],
  setup(props) {
    const draft = useTestDraftStore();
    const question = computed(() => draft.questions.find((entry) => entry.key === props.questionKey));
    const number = computed(() => props.index + 1);
    const id = (part) => `${props.questionKey}-${part}`;

    function changeType(type) {
      const current = question.value;
      if (current.question_type === "mcq") current.correctOption = current.correct;
      current.question_type = type;
      if (type === "mcq") {
        if (current.options.length < 2) current.options = [0, 1, 2, 3].map(() => ({ key: localKey("option"), text: "" }));
        // Back to the option the teacher chose before, if it is still there; else none until they choose.
        const chosen = current.options.some((option) => option.key === current.correctOption);
        current.correct = chosen ? current.correctOption : "";
      } else if (type === "true_false") {
        current.correct = "true";
      } else {
        current.correct = "";
      }
      current.error = "";
    }
    function addOption() {
      question.value.options.push({ key: localKey("option"), text: "" });
    }
    function removeOption(key) {
      const current = question.value;
      current.options = current.options.filter((option) => option.key !== key);
      if (current.correct === key) current.correct = ""; // the teacher chooses again
    }
    function moveOption(position, delta) {
      const options = [...question.value.options];
      const target = position + delta;
      if (target < 0 || target >= options.length) return;
      [options[position], options[target]] = [options[target], options[position]];
      question.value.options = options;
    }
    return { question, number, id, types: QUESTION_TYPES, changeType, addOption, removeOption, moveOption };
  },
  template: `
    <article v-if="question" class="teacher-question" :aria-labelledby="id('heading')" :data-question-id="question.id || ''">
      <header class="teacher-question__header">
        <h3 :id="id('heading')">Question {{ number }}</h3>
        <span v-if="!question.id" class="badge badge--warning">Not saved yet</span>
        <span v-if="question.ai_generated" class="badge">Drafted with AI</span>
        <div class="teacher-question__tools">
          <button type="button" class="button button--ghost button--small" :disabled="index === 0"
                  :aria-label="'Move question ' + number + ' up'" @click="$emit('move', -1)">
            <span aria-hidden="true">↑</span> Up
          </button>
          <button type="button" class="button button--ghost button--small" :disabled="index === count - 1"
                  :aria-label="'Move question ' + number + ' down'" @click="$emit('move', 1)">
            <span aria-hidden="true">↓</span> Down
          </button>
          <button type="button" class="button button--ghost button--small teacher-danger-text"
                  :aria-label="'Delete question ' + number" @click="$emit('delete')">Delete</button>
        </div>
      </header>

      <div class="teacher-question__body">
        <div class="teacher-question__meta">
          <div class="field">
            <label :for="id('type')">Type</label>
            <select :id="id('type')" :value="question.question_type" @change="changeType($event.target.value)">
              <option v-for="type in types" :key="type.value" :value="type.value">{{ type.label }}</option>
            </select>
          </div>
          <div class="field">
            <label :for="id('points')">Points</label>
            <input :id="id('points')" type="number" min="0" max="1000" step="0.5" v-model.number="question.points">
          </div>
        </div>

        <div class="field">
          <label :for="id('text')">Question</label>
          <textarea :id="id('text')" rows="2" v-model="question.question_text"
                    placeholder="What do you want to ask?"></textarea>
        </div>

        <fieldset v-if="question.question_type === 'mcq'" class="teacher-options">
          <legend>Options <span class="muted">— mark the correct one</span></legend>
          <ol class="teacher-options__list">
            <li v-for="(option, position) in question.options" :key="option.key" class="teacher-option"
                :class="{ 'teacher-option--correct': question.correct === option.key }">
              <input type="radio" :name="id('correct')" :value="option.key" v-model="question.correct"
                     :id="id('correct-' + option.key)" :aria-label="'Option ' + (position + 1) + ' is the correct answer'">
              <input type="text" v-model="option.text" :aria-label="'Option ' + (position + 1)"
                     :placeholder="'Option ' + (position + 1)">
              <span v-if="question.correct === option.key" class="teacher-option__tag" aria-hidden="true">Correct</span>
              <span class="teacher-option__tools">
                <button type="button" class="button button--ghost button--small" :disabled="position === 0"
                        :aria-label="'Move option ' + (position + 1) + ' up'" @click="moveOption(position, -1)">↑</button>
                <button type="button" class="button button--ghost button--small" :disabled="position === question.options.length - 1"
                        :aria-label="'Move option ' + (position + 1) + ' down'" @click="moveOption(position, 1)">↓</button>
                <button type="button" class="button button--ghost button--small" :disabled="question.options.length <= 2"
                        :aria-label="'Remove option ' + (position + 1)" @click="removeOption(option.key)">✕</button>
              </span>
            </li>
          </ol>
          <button type="button" class="button button--secondary button--small" :disabled="question.options.length >= 20"
                  @click="addOption">Add an option</button>
        </fieldset>

        <fieldset v-else-if="question.question_type === 'true_false'" class="teacher-options">
          <legend>Correct answer</legend>
          <div class="row">
            <label class="checkbox"><input type="radio" :name="id('truth')" value="true" v-model="question.correct"> True</label>
            <label class="checkbox"><input type="radio" :name="id('truth')" value="false" v-model="question.correct"> False</label>
          </div>
        </fieldset>

        <div v-else class="field">
          <label :for="id('answer')">Accepted answer</label>
          <input :id="id('answer')" type="text" v-model="question.correct" :aria-describedby="id('answer-hint')">
          <p :id="id('answer-hint')" class="field__hint">Capitals, punctuation and extra spaces are ignored; numbers match when they are equal.</p>
        </div>

        <div class="field">
          <label :for="id('explanation')">Explanation <span class="muted">(optional)</span></label>
          <textarea :id="id('explanation')" rows="2" v-model="question.explanation" :aria-describedby="id('explanation-hint')"></textarea>
          <p :id="id('explanation-hint')" class="field__hint">Shown to students with the correct answer, when the test lets them see answers.</p>
        </div>

        <p v-if="question.error" class="notice notice--error" role="alert">{{ question.error }}</p>
      </div>
    </article>`,
});
