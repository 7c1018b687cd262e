import { defineComponent } from "vue";
import { useNoticesStore } from "../stores/notices.js";

export default defineComponent({
  name: "ToastStack",
  setup() {
    return { notices: useNoticesStore() };
  },
  template: `
    <div class="toasts" aria-live="polite" aria-relevant="additions">
      <div v-for="notice in notices.notices" :key="notice.id" :class="['toast', 'toast--' + notice.kind]"
           :role="notice.kind === 'error' ? 'alert' : 'status'" data-testid="toast">
        <p class="toast__text">
          <span v-if="notice.title" class="toast__title">{{ notice.title }}</span>
          {{ notice.text }}
        </p>
        <button type="button" class="button button--ghost button--small" @click="notices.dismiss(notice.id)"
                aria-label="Dismiss message">✕</button>
      </div>
    </div>`,
});
