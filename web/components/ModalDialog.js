// A modal panel on the native <dialog>: focus moves in, Escape asks to close, focus returns to
// where it was. A body (default slot) and an actions slot; ConfirmDialog is the common case.
import { defineComponent, nextTick, ref, watch } from "vue";

let serial = 0;

export default defineComponent({
  name: "ModalDialog",
  props: {
    open: { type: Boolean, required: true },
    title: { type: String, required: true },
    wide: { type: Boolean, default: false },
  },
  emits: ["close"],
  setup(props, { emit }) {
    const dialog = ref(null);
    const titleId = `dialog-title-${++serial}`;
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
      event.preventDefault(); // the owner decides whether Escape closes it
      emit("close");
    }
    return { dialog, titleId, onCancel };
  },
  template: `
    <dialog ref="dialog" :class="['dialog', { 'dialog--wide': wide }]" :aria-labelledby="titleId" @cancel="onCancel">
      <div class="dialog__body">
        <h2 :id="titleId">{{ title }}</h2>
        <slot></slot>
      </div>
      <div class="dialog__actions">
        <slot name="actions"></slot>
      </div>
    </dialog>`,
});
