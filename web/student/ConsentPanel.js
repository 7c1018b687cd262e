// Before a proctored test: what is recorded, who sees it, how long it is kept; the student
// agrees before the camera is switched on.
import { computed, defineComponent, ref } from "vue";

export default defineComponent({
  name: "ConsentPanel",
  props: {
    test: { type: Object, required: true },
    resuming: { type: Boolean, default: false },
  },
  emits: ["accept"],
  setup(props) {
    const agreed = ref(false);
    const camera = computed(() => Boolean(props.test.proctoring?.camera_required));
    const microphone = computed(() => Boolean(props.test.proctoring?.microphone_required));
    const minutes = computed(() => {
      const m = props.test.time_limit;
      return m >= 1 ? `${Math.round(m * 10) / 10} minutes` : `${Math.round(m * 60)} seconds`;
    });
    return { agreed, camera, microphone, minutes };
  },
  template: `
    <section class="card consent" aria-labelledby="consent-title">
      <p class="step-label">Step 1 of 2 · Proctoring</p>
      <h2 id="consent-title">Before you begin: how this test is supervised</h2>
      <p v-if="resuming" class="notice notice--info">
        You have this test in progress. Your saved answers come back and the timer has kept running.
      </p>
      <div class="consent__grid">
        <div class="consent__item">
          <h3>What is recorded</h3>
          <ul>
            <li>Your <strong>camera video</strong>{{ camera ? ' (required for this test)' : ' (if you allow it)' }}.</li>
            <li>Your <strong>microphone</strong>{{ microphone ? ' (required for this test)' : ' (if you allow it)' }}: the server listens for voices.</li>
            <li><strong>Browser events</strong>: leaving the tab or window, leaving full screen, copying or pasting, opening the context menu.</li>
          </ul>
        </div>
        <div class="consent__item">
          <h3>Who sees it</h3>
          <ul>
            <li>Your <strong>teacher</strong> can watch your camera live while you take the test.</li>
            <li>The server flags moments such as no face, another person, looking away or a voice. <strong>Auditors</strong> of your school review the flagged clips.</li>
          </ul>
        </div>
        <div class="consent__item">
          <h3>How long it is kept</h3>
          <ul>
            <li>Live video is not stored. The server holds the last half minute or so in memory and saves a short clip only around a flagged moment.</li>
            <li>Clips and the list of flagged events are kept <strong>until your school deletes them</strong>; when the school's clip storage is full, the oldest clips are removed first.</li>
          </ul>
        </div>
      </div>
      <p class="muted">The test lasts {{ minutes }} once started. Your answers save as you go.</p>
      <div class="consent__actions">
        <label class="checkbox" for="consent-agree">
          <input id="consent-agree" type="checkbox" v-model="agreed">
          <span>I understand what is recorded and agree to be proctored</span>
        </label>
        <div class="row">
          <router-link class="button button--secondary" :to="{ name: 'student-home' }">Not now</router-link>
          <button type="button" class="button" :disabled="!agreed" @click="$emit('accept')">Continue to device check</button>
        </div>
      </div>
    </section>`,
});
