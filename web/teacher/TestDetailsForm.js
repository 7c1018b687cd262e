// The test's own settings: title, subject, description, time, pass mark, attempts, what
// students see afterwards, shuffling.
import { defineComponent } from "vue";
import { useTestDraftStore } from "./testDraftStore.js";
import { REVIEW_MODES } from "./words.js";

export default defineComponent({
  name: "TestDetailsForm",
  setup() {
    return { draft: useTestDraftStore(), reviewModes: REVIEW_MODES };
  },
  template: `
    <section class="card teacher-section" aria-labelledby="details-heading">
      <h2 id="details-heading">About the test</h2>
      <div class="form">
        <div class="field">
          <label for="test-title">Title</label>
          <input id="test-title" type="text" maxlength="200" v-model="draft.settings.title"
                 :aria-invalid="draft.fieldErrors.title ? 'true' : 'false'" :aria-describedby="draft.fieldErrors.title ? 'test-title-error' : null">
          <p id="test-title-error" v-if="draft.fieldErrors.title" class="field__error">{{ draft.fieldErrors.title }}</p>
        </div>
        <div class="form-grid teacher-details__grid">
          <div class="field">
            <label for="test-subject">Subject <span class="muted">(optional)</span></label>
            <input id="test-subject" type="text" maxlength="100" v-model="draft.settings.subject" placeholder="e.g. Chemistry">
          </div>
          <div class="field">
            <label for="test-time-limit">Time limit (minutes)</label>
            <input id="test-time-limit" type="number" min="1" max="1440" step="1" v-model.number="draft.settings.time_limit"
                   :aria-invalid="draft.fieldErrors.time_limit ? 'true' : 'false'" aria-describedby="test-time-limit-hint">
            <p id="test-time-limit-hint" :class="draft.fieldErrors.time_limit ? 'field__error' : 'field__hint'">
              {{ draft.fieldErrors.time_limit || "The server keeps the clock; answers save as students go." }}
            </p>
          </div>
          <div class="field">
            <label for="test-passing-score">Pass mark (percent)</label>
            <input id="test-passing-score" type="number" min="0" max="100" step="1" v-model.number="draft.settings.passing_score"
                   :aria-invalid="draft.fieldErrors.passing_score ? 'true' : 'false'" aria-describedby="test-passing-score-hint">
            <p id="test-passing-score-hint" :class="draft.fieldErrors.passing_score ? 'field__error' : 'field__hint'">
              {{ draft.fieldErrors.passing_score || "A score at or above it passes." }}
            </p>
          </div>
          <div class="field">
            <label for="test-max-attempts">Attempts allowed</label>
            <input id="test-max-attempts" type="number" min="1" max="100" step="1" v-model.number="draft.settings.max_attempts"
                   :aria-invalid="draft.fieldErrors.max_attempts ? 'true' : 'false'" aria-describedby="test-max-attempts-hint">
            <p id="test-max-attempts-hint" :class="draft.fieldErrors.max_attempts ? 'field__error' : 'field__hint'">
              {{ draft.fieldErrors.max_attempts || "Per student." }}
            </p>
          </div>
        </div>
        <div class="field">
          <label for="test-description">Instructions for students <span class="muted">(optional)</span></label>
          <textarea id="test-description" rows="3" v-model="draft.settings.description"
                    placeholder="What students should know before they start: allowed materials, calculators…"></textarea>
        </div>
        <div class="form-grid">
          <div class="field">
            <label for="test-review-mode">After submitting, students see</label>
            <select id="test-review-mode" v-model="draft.settings.review_mode">
              <option v-for="mode in reviewModes" :key="mode.value" :value="mode.value">{{ mode.label }}</option>
            </select>
          </div>
          <div class="field teacher-field--check">
            <label class="checkbox" for="test-shuffle">
              <input id="test-shuffle" type="checkbox" v-model="draft.settings.shuffle_questions">
              Shuffle the questions for each student
            </label>
          </div>
        </div>
      </div>
    </section>`,
});
