// A modal question on the native <dialog>: focus moves in, Escape cancels, focus returns after.
import { defineComponent, nextTick, ref, watch } from "vue";

export default defineComponent({
  name: "ConfirmDialog",
  props: {
    open: { type: Boolean, required: true },
    title: { type: String, required: true },
    confirmLabel: { type: String, default: "Confirm" },
    cancelLabel: { type: String, default: "Cancel" },
    danger: { type: Boolean, default: false },
    busy: { type: Boolean, default: false },
    hideCancel: { type: Boolean, default: false },
  },
  emits: ["confirm", "cancel"],
  setup(props, { emit }) {
    const dialog = ref(null);
    const titleId = `dialog-title-${Math.random().toString(36).slice(2, 9)}`;
    watch(
      () => props.open,
      async (open) => {
        await nextTick();
        const element = dialog.value;
        if (!element) return;
        if (open && !element.open) element.showModal();
        if (!open && element.open) element.close();
      },
      { immediate: true }
    );
    function onCancel(event) {
      event.preventDefault();
      if (!props.hideCancel) emit("cancel");
    }
    return { dialog, titleId, onCancel };
  },
  template: `
    <dialog ref="dialog" class="dialog" :aria-labelledby="titleId" @cancel="onCancel">
      <div class="dialog__body">
        <h2 :id="titleId">{{ title }}</h2>
        <slot></slot>
      </div>
      <div class="dialog__actions">
        <button v-if="!hideCancel" type="button" class="button button--secondary" @click="$emit('cancel')" :disabled="busy">{{ cancelLabel }}</button>
        <button type="button" :class="['button', { 'button--danger': danger }]" @click="$emit('confirm')" :disabled="busy">{{ confirmLabel }}</button>
      </div>
    </dialog>`,
});
