// The test's proctoring: camera and microphone, how often the server looks, when an attempt
// ends by itself, and each server rule's thresholds, grouped and explained in words.
import { computed, defineComponent } from "vue";
import { RULE_DEFAULTS, RULE_GROUPS, fallbackLabel } from "./proctoringFields.js";
import { useTestDraftStore } from "./testDraftStore.js";

export default defineComponent({
  name: "ProctoringForm",
  setup() {
    const draft = useTestDraftStore();
    const known = new Set(RULE_GROUPS.flatMap((group) => group.fields.map((field) => field.name)));
    // Thresholds the server sends that these pages have no words for yet still get a control.
    const others = computed(() =>
      Object.keys(draft.proctoring.rules)
        .filter((name) => !known.has(name))
        .map((name) => ({ name, label: fallbackLabel(name), kind: typeof draft.proctoring.rules[name] }))
    );
    const changed = computed(() =>
      Object.entries(RULE_DEFAULTS).filter(([name, value]) => Number(draft.proctoring.rules[name]) !== value).length
    );
    const terminates = computed({
      get: () => draft.proctoring.auto_terminate_after_critical !== null,
      set: (on) => {
        draft.proctoring.auto_terminate_after_critical = on ? 3 : null;
      },
    });
    function resetRules() {
      Object.assign(draft.proctoring.rules, RULE_DEFAULTS);
    }
    return { draft, groups: RULE_GROUPS, others, changed, terminates, resetRules };
  },
  template: `
    <section class="card teacher-section" aria-labelledby="proctoring-heading">
      <h2 id="proctoring-heading">Proctoring</h2>
      <p class="muted">The student's camera streams to the server, which watches for the problems below and
        shows them to you live and in the results. Nothing is decided in the student's browser.</p>
      <p v-if="draft.fieldErrors.proctoring" class="notice notice--error" role="alert">{{ draft.fieldErrors.proctoring }}</p>
      <div class="teacher-proctoring__basics">
        <fieldset>
          <legend>What students need</legend>
          <label class="checkbox" for="proctoring-camera">
            <input id="proctoring-camera" type="checkbox" v-model="draft.proctoring.camera_required">
            Camera required
          </label>
          <label class="checkbox" for="proctoring-microphone">
            <input id="proctoring-microphone" type="checkbox" v-model="draft.proctoring.microphone_required">
            Microphone required
          </label>
          <p class="field__hint">Without a camera, only browser events (leaving the tab, copying) are recorded.</p>
        </fieldset>
        <fieldset>
          <legend>Analysis</legend>
          <div class="field">
            <label for="proctoring-fps">Pictures analysed per second</label>
            <input id="proctoring-fps" type="number" min="0.1" max="30" step="0.5" v-model.number="draft.proctoring.analysis_fps"
                   aria-describedby="proctoring-fps-hint" :aria-invalid="draft.fieldErrors['proctoring.analysis_fps'] ? 'true' : 'false'">
          </div>
          <p id="proctoring-fps-hint" class="field__hint">2 suits most tests; more notices brief events sooner and costs the server more.</p>
        </fieldset>
        <fieldset>
          <legend>Ending attempts</legend>
          <label class="checkbox" for="proctoring-terminate">
            <input id="proctoring-terminate" type="checkbox" v-model="terminates">
            End the attempt after repeated critical violations
          </label>
          <div v-if="terminates" class="field teacher-inline-field">
            <label for="proctoring-terminate-after">Number of critical violations that ends it</label>
            <input id="proctoring-terminate-after" type="number" min="1" max="100" step="1"
                   v-model.number="draft.proctoring.auto_terminate_after_critical">
          </div>
          <p v-else class="field__hint">Off: you decide, from what was recorded.</p>
        </fieldset>
      </div>

      <details class="teacher-rules">
        <summary>
          <span class="teacher-rules__title">Rule thresholds</span>
          <span class="muted">{{ changed ? changed + ' changed from the recommended values' : 'Recommended values' }}</span>
        </summary>
        <div class="teacher-rules__groups">
          <fieldset v-for="group in groups" :key="group.id" class="teacher-rules__group">
            <legend>{{ group.title }}</legend>
            <p class="field__hint">{{ group.hint }}</p>
            <div v-for="field in group.fields" :key="field.name" class="field teacher-threshold">
              <label :for="'rule-' + field.name">{{ field.label }}<span class="visually-hidden"> ({{ field.unit }})</span></label>
              <div class="teacher-threshold__input">
                <input :id="'rule-' + field.name" type="number" :min="field.min" :max="field.max" :step="field.step"
                       v-model.number="draft.proctoring.rules[field.name]" :aria-describedby="'rule-' + field.name + '-hint'"
                       :aria-invalid="draft.fieldErrors['proctoring.rules.' + field.name] ? 'true' : 'false'">
                <span class="teacher-threshold__unit" aria-hidden="true">{{ field.unit }}</span>
              </div>
              <p :id="'rule-' + field.name + '-hint'" class="field__hint">{{ field.hint }}</p>
            </div>
          </fieldset>
          <fieldset v-if="others.length" class="teacher-rules__group">
            <legend>Other rules</legend>
            <div v-for="field in others" :key="field.name" class="field teacher-threshold">
              <label v-if="field.kind === 'boolean'" class="checkbox" :for="'rule-' + field.name">
                <input :id="'rule-' + field.name" type="checkbox" v-model="draft.proctoring.rules[field.name]">
                {{ field.label }}
              </label>
              <template v-else>
                <label :for="'rule-' + field.name">{{ field.label }}</label>
                <input :id="'rule-' + field.name" type="number" v-model.number="draft.proctoring.rules[field.name]">
              </template>
            </div>
          </fieldset>
        </div>
        <button type="button" class="button button--secondary button--small" :disabled="!changed" @click="resetRules">
          Back to the recommended values
        </button>
      </details>
    </section>`,
});
