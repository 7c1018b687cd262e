// One question with its answer control: radio options (mcq, true/false) or a text field
// (short answer), and a "mark for review" toggle. The answer goes up as it changes.
import { computed, defineComponent } from "vue";

const TYPE_WORDS = { mcq: "Multiple choice", true_false: "True or false", short_answer: "Short answer" };

export default defineComponent({
  name: "QuestionCard",
  props: {
    question: { type: Object, required: true },
    number: { type: Number, required: true },
    total: { type: Number, required: true },
    answer: { type: String, default: null },
    marked: { type: Boolean, default: false },
    disabled: { type: Boolean, default: false },
  },
  emits: ["answer", "toggle-mark"],
  setup(props) {
    const base = computed(() => `q${props.question.id}`);
    const choices = computed(() => {
      if (props.question.question_type === "true_false") {
        return [
          { value: "true", label: "True" },
          { value: "false", label: "False" },
        ];
      }
      return (props.question.options || []).map((option) => ({ value: option, label: option }));
    });
    const points = computed(() => {
      const p = props.question.points;
      return `${p} ${p === 1 ? "point" : "points"}`;
    });
    return { base, choices, points, typeWord: computed(() => TYPE_WORDS[props.question.question_type] || "") };
  },
  template: `
    <article class="question-card card" :aria-labelledby="base + '-title'" :data-question-id="question.id">
      <header class="question-card__header">
        <p class="question-card__meta">
          <span>Question {{ number }} of {{ total }}</span>
          <span aria-hidden="true">·</span>
          <span>{{ typeWord }}</span>
          <span aria-hidden="true">·</span>
          <span>{{ points }}</span>
        </p>
        <button type="button" :class="['button', 'button--small', marked ? 'button--marked' : 'button--secondary']"
                :aria-pressed="marked ? 'true' : 'false'" @click="$emit('toggle-mark')">
          {{ marked ? '★ Marked for review' : '☆ Mark for review' }}
        </button>
      </header>
      <h2 :id="base + '-title'" class="question-card__text">{{ question.question_text }}</h2>
      <fieldset v-if="question.question_type !== 'short_answer'" class="choice-list" :disabled="disabled">
        <legend class="visually-hidden">Answer to question {{ number }}</legend>
        <label v-for="(choice, index) in choices" :key="choice.value"
               :class="['choice', { 'choice--chosen': answer === choice.value }]" :for="base + '-' + index">
          <input type="radio" :id="base + '-' + index" :name="base" :value="choice.value"
                 :checked="answer === choice.value" @change="$emit('answer', choice.value)">
          <span>{{ choice.label }}</span>
        </label>
      </fieldset>
      <div v-else class="field">
        <label :for="base + '-text'">Your answer to question {{ number }}</label>
        <input type="text" :id="base + '-text'" :value="answer || ''" autocomplete="off" spellcheck="false"
               :disabled="disabled" maxlength="10000" @input="$emit('answer', $event.target.value)">
      </div>
    </article>`,
});
