// Every question as a numbered button: answered, unanswered, or marked for review.
import { defineComponent } from "vue";

export default defineComponent({
  name: "QuestionPalette",
  props: {
    questions: { type: Array, required: true },
    answers: { type: Object, required: true },
    marked: { type: Object, required: true },
    current: { type: Number, default: -1 },
  },
  emits: ["go"],
  setup(props) {
    const answered = (id) => {
      const value = props.answers[id];
      return value !== undefined && value !== null && String(value).trim() !== "";
    };
    const state = (question) => (props.marked[question.id] ? "marked" : answered(question.id) ? "answered" : "unanswered");
    const words = { marked: "marked for review", answered: "answered", unanswered: "not answered" };
    return { state, words };
  },
  template: `
    <nav class="palette" aria-label="Questions">
      <h2 class="palette__title">Questions</h2>
      <ol class="palette__grid">
        <li v-for="(question, index) in questions" :key="question.id">
          <button type="button" :class="['palette__item', 'palette__item--' + state(question), { 'palette__item--current': index === current }]"
                  :aria-current="index === current ? 'step' : undefined"
                  :aria-label="'Question ' + (index + 1) + ', ' + words[state(question)]" @click="$emit('go', index)">
            {{ index + 1 }}
          </button>
        </li>
      </ol>
      <ul class="palette__legend">
        <li><span class="palette__swatch palette__item--answered" aria-hidden="true"></span>Answered</li>
        <li><span class="palette__swatch palette__item--unanswered" aria-hidden="true"></span>Not answered</li>
        <li><span class="palette__swatch palette__item--marked" aria-hidden="true"></span>Marked for review</li>
      </ul>
    </nav>`,
});
