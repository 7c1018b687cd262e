import { defineComponent } from "vue";

export default defineComponent({
  name: "LoadingSpinner",
  props: {
    label: { type: String, default: "Loading…" },
    block: { type: Boolean, default: false },
  },
  template: `
    <div :class="['spinner', { 'spinner--block': block }]" role="status" aria-live="polite">
      <span class="spinner__wheel" aria-hidden="true"></span>
      <span>{{ label }}</span>
    </div>`,
});
